"""One sync pass: snapshot both sides, plan every action, then carry them out one by one.

Order of work and why:

1. If the source's files, the templates, the config and every note are byte-for-byte what the
   last pass left, stop: nothing can have changed (content hashes, not timestamps, decide).
2. Read the source (a consistent snapshot) and scan the vault for ``zotero-key`` claims.
   Items without a note are matched with files that already stand for them (adoption, see
   :mod:`zotsync.sync.adopt_step`); ambiguous ones are held back and reported (exit 4).
3. Resolve reference lists (cache first, network within a time budget).
4. Settle every note's name, then every note's link context, then hash each item's render
   input; only items whose hash or note changed are rendered.
5. Plan (pure, see :mod:`zotsync.sync.planner`), print the plan for ``--dry-run``, else execute.
   Each action commits its own state row after its file operation; a failure rolls back only
   that row and the run goes on (exit 1 at the end).
6. Rewrite links to renamed notes everywhere in the vault, outside code. Every rename the
   plan holds is journalled in the state DB before the first one is made, and the journal is
   cleared only once the link rewrite is complete: a pass killed in between leaves the rewrite
   to the next start, which replays it (rewriting is idempotent).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zotsync.config import CITEKEY_SOURCES, Config
from zotsync.errors import ConflictError
from zotsync.model import Library
from zotsync.refs.delta import RefDelta
from zotsync.refs.resolve import RefGraph
from zotsync.render.templates import Templates
from zotsync.sources import Source
from zotsync.sources.standalone import prepare as prepare_standalone
from zotsync.state.db import ItemState, StateDB
from zotsync.sync import incremental
from zotsync.sync.actions import ActionRunner, PassInputs
from zotsync.sync.adopt_step import claim_adopted, find_adoptions
from zotsync.sync.apply import NoteWriter, Outcome
from zotsync.sync.context import Placement, input_hash, link_contexts, place_notes
from zotsync.sync.former import carry_over
from zotsync.sync.journal import (
    finish_renames,
    planned_renames,
)
from zotsync.sync.planner import NoteSeen, mass_deletion, plan_actions
from zotsync.sync.results import BATCH_SIZE, REFS_RETRY_SECONDS, SyncOptions, SyncResult
from zotsync.sync.snapshot import config_fingerprint, files_fingerprint, filter_collections
from zotsync.vault.atomic import BatchCreate, FileSig, cleanup_temp_files
from zotsync.vault.scan import scan_notes

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
RefResolver = Callable[[Library], RefGraph | None]


class Engine(ActionRunner):
    """Runs sync passes for one vault; the caller holds the vault lock."""

    def __init__(
        self,
        vault: Path,
        config: Config,
        state: StateDB,
        source: Source,
        *,
        resolve_refs: RefResolver | None = None,
        ref_delta: Callable[[], RefDelta | None] | None = None,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.stop = stop
        self._batch = BatchCreate()
        self._data_dir: str | None = None
        self._token: str | None = None
        self._staged: list[tuple[ItemState, Path, Outcome]] = []
        self._staged_fm: dict[str, dict[str, Any]] = {}
        self._adopted: set[str] = set()
        self._retired: dict[str, str] = {}  # retired key -> the key that adopted its note
        self._landed: set[str] = set()
        self._pending_writes: dict[str, dict[str, str]] = {}
        self._logged: set[str] = set()
        self.vault = vault
        self.config = config
        self.state = state
        self.source = source
        self.resolve_refs = resolve_refs
        self.ref_delta = ref_delta
        self.progress = progress
        self.templates = Templates(vault)

    def _global_fp(self) -> str:
        # whether references are resolved at all changes every note's inputs
        refs = "refs" if self.resolve_refs is not None else "no-refs"
        return f"{self.templates.fingerprint()}:{config_fingerprint(self.config)}:{refs}"

    def run(self, options: SyncOptions | None = None) -> SyncResult:
        """One pass (see the module docstring).

        The cyclic garbage collector is paused meanwhile: a pass builds hundreds of thousands
        of small acyclic objects, and collecting over them repeatedly tripled the time of a
        first sync; everything is freed normally by reference counting.
        """
        was_enabled = gc.isenabled()
        gc.disable()
        dry_run = bool(options and options.dry_run)
        if not dry_run:
            if self.state.get_meta("run_in_progress") == "1":
                # the last run was killed: remove its hidden temp files (notes are all whole)
                removed = cleanup_temp_files(self.vault, recursive=True)
                log.info("removed %d temp files left by an interrupted run", removed)
            self.state.set_meta("run_in_progress", "1")
        try:
            result = self._run(options)
            if not dry_run:
                self.state.set_meta("run_in_progress", None)
            return result
        finally:
            self._batch.abort()
            if was_enabled:
                gc.enable()

    def _run(self, options: SyncOptions | None = None) -> SyncResult:
        options = options or SyncOptions()
        result = SyncResult()
        library_label = self.config.library
        replayed = False if options.dry_run else self._finish_renames()
        self._pending_writes = (
            {} if options.dry_run else self.state.load_pending_writes(library_label)
        )
        # light rows: enough to tell whether anything changed; full rows once work is known
        states = self.state.load_items(library_label, light=True)
        known = {
            s.path: (FileSig(*s.sig), s.key, library_label)
            for s in states.values()
            if s.path and s.sig is not None
        }
        # notes of a library read from a .bib/CSL-JSON file are known by their citekey
        key_field = "citekey" if self.config.source in CITEKEY_SOURCES else "zotero-key"
        notes = scan_notes(self.vault, known=known, key_field=key_field)
        source_fp = files_fingerprint(self.source.watch_paths())
        global_fp = self._global_fp()
        if not replayed and self._nothing_changed(options, notes, states, source_fp, global_fp):
            result.short_circuit = True
            # every item the last pass saw in Zotero: a note, or a tombstone (note deleted)
            result.items = sum(1 for s in states.values() if not s.deleted)
            result.tombstoned = sum(1 for s in states.values() if s.tombstone and not s.deleted)
            result.unchanged = result.items - result.tombstoned
            return result
        delta = None
        if incremental.applicable(self, options, global_fp):
            done = incremental.run(self, options, result, notes, states, source_fp)
            if isinstance(done, SyncResult):
                return done
            delta = done  # the source answered with everything: carry on with a full pass
        states = self.state.load_items(library_label)
        library = filter_collections(incremental.read_all(self, delta), self.config.collections)
        library = prepare_standalone(library, standalone=self.config.standalone)
        self._data_dir = library.data_dir
        result.library = library
        result.items = len(library.items)
        result.failed += len(library.problems)  # entries the source could not read
        result.errors.extend(library.problems)
        doomed = mass_deletion(len(library.items), states)
        if doomed and not options.force_delete:
            raise ConflictError(
                f"the source returned no items, but {doomed} notes are synced from it",
                fix="check that Zotero's data directory/database is the right one (zotsync doctor); "
                "if you really emptied the library, run `zotsync sync --force-delete`",
            )
        claims: dict[str, list[NoteSeen]] = {}
        for note in notes:
            if note.error:
                result.failed += 1
                result.errors.append(f"{note.path}: {note.error}")
            if note.key:
                claims.setdefault(note.key, []).append(
                    NoteSeen(note.rel, (note.sig.mtime_ns, note.sig.size, note.sig.ino))
                )
        moves = carry_over(library, states, claims, {i.key for i in library.items})
        for old_key, new_key in moves if not options.dry_run else ():
            self.state.rekey_item(library_label, old_key, new_key)
        adoption = find_adoptions(
            self.vault, library, notes, states, claims, options.recreate, key_field
        )
        self._retired = claim_adopted(adoption, claims, states, notes, library)
        self._adopted = set(adoption.matches)
        result.ambiguous = [a.as_dict() for a in adoption.ambiguous]
        graph = self.resolve_refs(library) if self.resolve_refs else None
        single = {k: v[0].path for k, v in claims.items() if len(v) == 1}
        folder = self.vault / self.config.papers_folder
        others = {}
        if folder.is_dir():
            claimed = {v[0].path for v in claims.values()}
            # the note of an item gone from Zotero keeps its name when it stays (marked
            # deleted): a new note must not be placed there (found by the state machine)
            in_library = {i.key for i in library.items}
            staying = incremental.staying_notes(self.vault, self.config, claims, states, in_library)
            for entry in os.scandir(folder):
                rel = f"{self.config.papers_folder.strip('/')}/{entry.name}"
                if entry.name.endswith(".md") and (rel not in claimed or rel in staying):
                    others[entry.name[:-3].casefold()] = rel
        placements = place_notes(library, single, states, others, self.config)
        result.placements = placements
        contexts = link_contexts(library, placements, graph, self.config)
        hashes = {
            item.key: input_hash(item, contexts[item.key], global_fp) for item in library.items
        }
        actions = plan_actions(
            source_keys=[i.key for i in library.items],
            input_hashes=hashes,
            states=states,
            notes=claims,
            recreate=options.recreate,
            overwrite_conflicts=options.overwrite_conflicts,
            renamed={k for k, p in placements.items() if p.renamed},
            forced=options.status_updates.keys(),
            unreadable=library.unreadable,  # unreadable now, not deleted: notes left alone
            retired=self._retired,
            ambiguous=adoption.ambiguous_keys,
        )
        acting = [a for a in actions if a.kind not in ("unchanged", "skip")]
        result.acted = len(acting)
        if options.dry_run:  # the plan of actions is printed only for --dry-run
            result.actions = [
                {
                    "action": a.kind,
                    "key": a.key,
                    "path": a.path or placements.get(a.key, _NOPL).target,
                }
                for a in acting
            ]
        if acting and not options.dry_run:  # cleared once the index notes are rebuilt
            self.state.set_meta(incremental.INDEX_STALE, "1")
        writer = NoteWriter(self.vault, dry_run=options.dry_run)
        if not options.dry_run:
            self.state.journal_renames(library_label, planned_renames(actions, placements))
        items = {i.key: i for i in library.items}
        inputs = PassInputs(items, states, placements, contexts, hashes, writer)
        self.run_actions(actions, inputs, options, result)
        if not options.dry_run:
            self._finish_renames()
            fp_after = files_fingerprint(self.source.watch_paths())
            clean = (
                not result.interrupted
                and result.failed == 0
                and not result.ambiguous
                and fp_after == source_fp
            )
            self.state.set_meta("source_fp", source_fp if clean else None)
            # deferred reference lists are retried by a full pass, but not on every pass: a
            # daemon whose network is down would otherwise re-read the library each time
            retry = time.time() + options.refs_retry_seconds if graph and graph.deferred else None
            self.state.set_meta("refs_retry_at", None if retry is None else str(retry))
            if graph is not None:
                self.state.set_meta(incremental.REFS_FULL_AT, str(time.time()))
            self.state.set_meta("global_fp", global_fp)
            errors = sum(1 for n in notes if n.error)
            incremental.record_full(self, library, self._token, result, errors, graph)
            notes_for_user = [str(a["message"]) for a in result.ambiguous]
            self.state.record_run("sync", result.counts(), result.errors + notes_for_user)
        return result

    def _finish_renames(self) -> bool:
        """Replay the rename journal's link rewrite (see :func:`finish_renames`)."""
        return finish_renames(self.vault, self.state, self.config.library)

    def _nothing_changed(
        self,
        options: SyncOptions,
        notes: list,
        states: dict[str, ItemState],
        source_fp: str | None,
        global_fp: str,
    ) -> bool:
        retry_at = self.state.get_meta("refs_retry_at")
        if retry_at is not None and time.time() >= float(retry_at):
            return False
        if (
            options.full
            or options.status_updates
            or options.recreate
            or options.overwrite_conflicts
            or source_fp is None
        ):
            return False
        if self.state.get_meta("source_fp") != source_fp:
            return False
        if self.state.get_meta("global_fp") != global_fp:
            return False
        live = {s.path: s for s in states.values() if s.path}
        seen = 0
        for note in notes:
            if note.error:
                return False  # a broken note is reported on every run until it is fixed
            if note.key is None:
                continue
            s = live.get(note.rel)
            if (
                s is None
                or s.key != note.key
                or s.sig != (note.sig.mtime_ns, note.sig.size, note.sig.ino)
            ):
                return False
            seen += 1
        return seen == len(live)


_NOPL = Placement("", None, "")
__all__ = [
    "BATCH_SIZE",
    "REFS_RETRY_SECONDS",
    "Engine",
    "SyncOptions",
    "SyncResult",
    "config_fingerprint",
    "files_fingerprint",
    "filter_collections",
]
