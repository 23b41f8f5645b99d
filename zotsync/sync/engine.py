"""One sync pass: snapshot both sides, plan every action, then carry them out one by one.

Order of work and why:

1. If the source's files, the templates, the config and every note are byte-for-byte what the
   last pass left, stop: nothing can have changed (content hashes, not timestamps, decide).
2. Read the source (a consistent snapshot) and scan the vault for ``zotero-key`` claims.
3. Resolve reference lists (cache first, network within a time budget).
4. Settle every note's name, then every note's link context, then hash each item's render
   input; only items whose hash or note changed are rendered.
5. Plan (pure, see :mod:`zotsync.sync.planner`), print the plan for ``--dry-run``, else execute.
   Each action commits its own state row after its file operation; a failure rolls back only
   that row and the run goes on (exit 1 at the end).
6. Rewrite links to renamed notes everywhere in the vault, outside code.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from zotsync.config import Config
from zotsync.errors import ConflictError, NoteError, TemplateError, ZotsyncError
from zotsync.model import Item, Library
from zotsync.plan.status import frontmatter_meta
from zotsync.refs.resolve import RefGraph
from zotsync.render.images import copy_annotation_images, note_image_paths
from zotsync.render.note import render_note
from zotsync.render.templates import Templates
from zotsync.sources import Source
from zotsync.state.db import ItemState, StateDB
from zotsync.sync.apply import NoteWriter, Outcome
from zotsync.sync.context import Placement, input_hash, link_contexts, place_notes
from zotsync.sync.links import rewrite_renamed_links
from zotsync.sync.planner import Action, NoteSeen, mass_deletion, plan_actions
from zotsync.sync.results import BATCH_SIZE, REFS_RETRY_SECONDS, SyncOptions, SyncResult
from zotsync.sync.snapshot import config_fingerprint, files_fingerprint, filter_collections
from zotsync.vault.atomic import BatchCreate, FileSig, cleanup_temp_files
from zotsync.vault.scan import scan_notes

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
RefResolver = Callable[[Library], RefGraph | None]


class Engine:
    """Runs sync passes for one vault; the caller holds the vault lock."""

    def __init__(
        self,
        vault: Path,
        config: Config,
        state: StateDB,
        source: Source,
        *,
        resolve_refs: RefResolver | None = None,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.stop = stop
        self._batch = BatchCreate()
        self._data_dir: str | None = None
        self._staged: list[tuple[ItemState, Path, Outcome]] = []
        self._staged_fm: dict[str, dict[str, Any]] = {}
        self.vault = vault
        self.config = config
        self.state = state
        self.source = source
        self.resolve_refs = resolve_refs
        self.progress = progress
        self.templates = Templates(vault)

    def _global_fp(self) -> str:
        return f"{self.templates.fingerprint()}:{config_fingerprint(self.config)}"

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
        states = self.state.load_items(library_label)
        known = {
            s.path: (FileSig(*s.sig), s.key, library_label)
            for s in states.values()
            if s.path and s.sig is not None
        }
        notes = scan_notes(self.vault, known=known)
        source_fp = files_fingerprint(self.source.watch_paths())
        global_fp = self._global_fp()
        if self._nothing_changed(options, notes, states, source_fp, global_fp):
            result.short_circuit = True
            result.items = sum(1 for s in states.values() if s.path and not s.deleted)
            result.unchanged = result.items
            return result
        library = filter_collections(self.source.read(), self.config.collections)
        self._data_dir = library.data_dir
        result.library = library
        result.items = len(library.items)
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
                    NoteSeen(note.path.as_posix(), (note.sig.mtime_ns, note.sig.size, note.sig.ino))
                )
        graph = self.resolve_refs(library) if self.resolve_refs else None
        single = {k: v[0].path for k, v in claims.items() if len(v) == 1}
        folder = self.vault / self.config.papers_folder
        others = {}
        if folder.is_dir():
            claimed = {v[0].path for v in claims.values()}
            for entry in os.scandir(folder):
                rel = f"{self.config.papers_folder.strip('/')}/{entry.name}"
                if entry.name.endswith(".md") and rel not in claimed:
                    others[entry.name[:-3].casefold()] = rel
        placements = place_notes(library, single, states, others, self.config)
        result.placements = placements
        contexts = link_contexts(library, placements, graph, self.config)
        hashes = {
            item.key: input_hash(item, contexts[item.key], global_fp) for item in library.items
        }
        for key in options.status_updates:
            hashes[key] = f"forced:{hashes.get(key)}"
        actions = plan_actions(
            source_keys=[i.key for i in library.items],
            input_hashes=hashes,
            states=states,
            notes=claims,
            recreate=options.recreate,
            overwrite_conflicts=options.overwrite_conflicts,
        )
        actions = [
            replace(a, kind="update")
            if a.kind == "unchanged" and a.key in placements and placements[a.key].renamed
            else a
            for a in actions
        ]
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
        writer = NoteWriter(self.vault, dry_run=options.dry_run)
        items = {i.key: i for i in library.items}
        total = len(actions)
        if self.progress:
            self.progress(0, total)  # the actions are decided (the daemon's "plan" stage)
        for n, action in enumerate(actions, 1):
            if self.stop is not None and self.stop.is_set():
                result.errors.append("stopped before the end; the next sync continues")
                result.interrupted = True
                break
            if self.progress and (n % 200 == 0 or n == total):
                self.progress(n, total)
            self._execute(
                action, items, states, placements, contexts, hashes, writer, options, result
            )
            if len(self._batch) >= BATCH_SIZE:
                self._flush(result)
        self._flush(result)
        if not options.dry_run:
            renames = [*self._pending_renames(), *result.renames]
            if renames:
                touched = rewrite_renamed_links(self.vault, renames, self.state, library_label)
                log.info("rewrote links in %d files", touched)
            self.state.set_meta("pending_renames", None)
        if not options.dry_run:
            fp_after = files_fingerprint(self.source.watch_paths())
            clean = not result.interrupted and result.failed == 0 and fp_after == source_fp
            self.state.set_meta("source_fp", source_fp if clean else None)
            # deferred reference lists are retried by a full pass, but not on every pass: a
            # daemon whose network is down would otherwise re-read the library each time
            retry = time.time() + options.refs_retry_seconds if graph and graph.deferred else None
            self.state.set_meta("refs_retry_at", None if retry is None else str(retry))
            self.state.set_meta("global_fp", global_fp)
            self.state.record_run("sync", result.counts(), result.errors)
        return result

    def _pending_renames(self) -> list[tuple[str, str]]:
        """Renames an earlier, interrupted run made but did not rewrite links for."""
        raw = self.state.get_meta("pending_renames")
        if not raw:
            return []
        return [(str(old), str(new)) for old, new in json.loads(raw)]

    def _nothing_changed(
        self,
        options: SyncOptions,
        notes: list,
        states: dict[str, ItemState],
        source_fp: str | None,
        global_fp: str,
    ) -> bool:
        if self.state.get_meta("pending_renames"):
            return False
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
            s = live.get(note.path.as_posix())
            if (
                s is None
                or s.key != note.key
                or s.sig != (note.sig.mtime_ns, note.sig.size, note.sig.ino)
            ):
                return False
            seen += 1
        return seen == len(live)

    def _execute(
        self,
        action: Action,
        items: dict,
        states: dict[str, ItemState],
        placements: dict[str, Placement],
        contexts: dict,
        hashes: dict[str, str],
        writer: NoteWriter,
        options: SyncOptions,
        result: SyncResult,
    ) -> None:
        label = self.config.library
        kind = action.kind
        if kind in ("unchanged", "skip"):
            result.unchanged += kind == "unchanged"
            return
        if kind == "duplicate":
            result.failed += 1
            result.errors.append(
                f"{action.key}: several notes claim this item ({', '.join(action.paths)}); "
                "remove or rename the extra copies' zotero-key"
            )
            return
        old = states.get(action.key)
        state = replace(old) if old else ItemState(library=label, key=action.key)
        try:
            outcome: Outcome | None = None
            if kind == "forget":
                if not options.dry_run:
                    self.state.delete_item(label, action.key)
                return
            if kind == "tombstone":
                state.tombstone = True
                state.path = None
                outcome = Outcome("unchanged", None)
            elif kind == "delete":
                outcome = writer.delete(
                    state, action.path or "", archive=self.config.archive_folder
                )
            else:
                item = items[action.key]
                placement = placements[action.key]
                links = contexts[action.key]
                if (
                    self.config.source != "demo"
                    and item.library
                    and self.vault
                    and not options.dry_run
                ):
                    links.image_paths = self._images(item)
                rendered = render_note(
                    item,
                    links,
                    self.templates,
                    callouts=self.config.callouts,
                    with_ref_links=self.config.refs.frontmatter_links,
                )
                state.title = item.title
                forced = None
                if action.key in options.status_updates:
                    forced = {"status": options.status_updates[action.key]}
                if kind == "create":
                    outcome = writer.create(state, rendered, placement.target, self._batch)
                    if not options.dry_run:
                        state.input_hash = hashes[action.key].removeprefix("forced:")
                        self._staged.append((state, self.vault / placement.target, outcome))
                        self._staged_fm[action.key] = rendered.frontmatter
                        self._count(outcome, result, action)
                        return
                else:
                    outcome = writer.update(
                        state,
                        rendered,
                        action.path or placement.target,
                        placement.target,
                        forced=forced,
                        adopt=kind == "adopt",
                        overwrite_conflicts=options.overwrite_conflicts,
                    )
                state.input_hash = hashes[action.key].removeprefix("forced:").removeprefix("None")
            self._count(outcome, result, action)
            if not options.dry_run:
                with self.state.transaction():
                    self.state.put_item(state)
                    if outcome is not None and outcome.kind == "renamed":
                        # remembered with the row: a run killed before its link pass leaves
                        # the rewrite to the next run (see _run)
                        self.state.set_meta("pending_renames", json.dumps(result.renames))
        except TemplateError:
            raise  # the template is broken for every note: stop with its file and line (exit 2)
        except (ZotsyncError, OSError) as exc:
            result.failed += 1
            message = exc.message if isinstance(exc, ZotsyncError) else str(exc)
            result.errors.append(f"{action.path or action.key}: {message}")
            log.warning("%s: %s", action.path or action.key, message)
            if isinstance(exc, NoteError) and exc.fix:
                result.errors[-1] += f" (fix: {exc.fix})"

    def _flush(self, result: SyncResult) -> None:
        """Land the staged new notes and record their state rows in one transaction."""
        if not self._staged:
            return
        staged, self._staged = self._staged, []
        try:
            landed = self._batch.commit()
        except OSError as exc:
            self._batch.abort()
            landed = {path: exc for _, path, _ in staged}
        with self.state.transaction():
            for state, path, outcome in staged:
                sig = landed.get(path)
                if isinstance(sig, FileSig):
                    state.mtime_ns, state.size, state.ino = sig.mtime_ns, sig.size, sig.ino
                    self.state.put_item(state)
                    result.written_frontmatter[state.key] = (
                        f"{sig.mtime_ns}:{sig.size}:{sig.ino}",
                        json.dumps(frontmatter_meta(self._staged_fm.pop(state.key, {}))),
                    )
                    continue
                result.created -= 1
                result.failed += 1
                message = sig.message if isinstance(sig, ZotsyncError) else str(sig)
                result.errors.append(f"{outcome.path}: {message}")

    def _images(self, item: Item) -> dict[str, str]:
        """Copy the item's image/ink annotation renders and note images into the vault.

        Returns annotation or attachment key -> vault path, for the callouts' and the
        converted notes' embeds. A failed copy is logged; the note then says the image is
        missing, and the next sync tries again.
        """
        data_dir = self.source_data_dir()
        if data_dir is None:
            return {}
        paths: dict[str, str] = {}
        try:
            paths.update(
                copy_annotation_images(
                    item, data_dir=data_dir, vault=self.vault, folder=self.config.attachments_folder
                )
            )
            if any("data-attachment-key" in note.html for note in item.notes):
                paths.update(
                    note_image_paths(
                        item,
                        data_dir=data_dir,
                        vault=self.vault,
                        folder=self.config.attachments_folder,
                    )
                )
        except (OSError, ZotsyncError) as exc:
            log.warning("%s: could not copy images: %s", item.key, exc)
        return paths

    def source_data_dir(self) -> Path | None:
        """Zotero's data folder when the source knows it (sqlite; bbt-json from its paths)."""
        return Path(self._data_dir) if self._data_dir else None

    @staticmethod
    def _count(outcome: Outcome | None, result: SyncResult, action: Action) -> None:
        if outcome is None:
            return
        kind = outcome.kind
        if kind == "created":
            result.created += 1
        elif kind == "updated":
            result.updated += 1
        elif kind == "renamed":
            result.renamed += 1
            result.renames.append((outcome.detail, outcome.path or ""))
        elif kind in ("trashed", "marked-deleted"):
            result.trashed += 1
        else:
            result.unchanged += 1
        if outcome.conflicts:
            result.conflicts += 1
            result.conflict_paths.append(outcome.path or action.key)


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
