"""The incremental pass: work proportional to what changed, not to the library.

After a clean pass the state holds the source's *token* (``meta.source_token``: for the sqlite
source, a signature per item from Zotero's own counters, see
:mod:`zotsync.sources.sqlite_changes`). The next pass asks the source what changed since then
(:meth:`~zotsync.sources.IncrementalSource.read_changes`) and works on a *work set* only:

1. keys whose note changed in the vault: signature or path differs from the state, the note
   is gone, a second note claims the key, or an unknown note claims one;
2. items the source reports changed or new, and keys that left the library;
3. items whose note *names* one of those (the link index, table ``links``), because a renamed,
   new or deleted note changes the links they render.

Every other item keeps its note, its name and its state row untouched, which is exactly what a
full pass would do with them: its inputs did not move. Names of work-set notes are settled
against every other file of the papers folder; link contexts use the recorded paths of the
notes outside the work set. The same planner and the same action code as a full pass run on
the work set, so decisions are the same by construction (``tests/test_incremental_equivalence``
compares whole vaults).

When any input of the plan besides the items moved — the templates or the config (``global``
fingerprint), a forced option, reference lists (which are resolved over the whole library),
a collection filter, the library's collections or another library — the pass is a full one. So
is the first pass, and the one after a pass that failed or was interrupted: the token is
stored only when every action of a pass succeeded.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from zotsync.config import CITEKEY_SOURCES
from zotsync.library_notes import read_papers
from zotsync.model import Item, Library
from zotsync.sources import Delta, IncrementalSource
from zotsync.sources.standalone import prepare as prepare_standalone
from zotsync.state.db import ItemState, StateDB
from zotsync.sync.adopt_step import find_adoptions
from zotsync.sync.apply import NoteWriter
from zotsync.sync.context import Placement, input_hash, link_contexts, link_targets, place_notes
from zotsync.sync.former import carry_over
from zotsync.sync.journal import planned_renames
from zotsync.sync.planner import NoteSeen, plan_actions
from zotsync.sync.results import BATCH_SIZE, SyncOptions, SyncResult
from zotsync.sync.snapshot import files_fingerprint

if TYPE_CHECKING:
    from zotsync.sync.engine import Engine
    from zotsync.vault.scan import NoteFile

log = logging.getLogger(__name__)
TOKEN = "source_token"
INDEX_STALE = "index_stale"  # set while the index notes may lag the papers (api clears it)


def applicable(engine: Engine, options: SyncOptions, global_fp: str) -> bool:
    """Whether this pass may be incremental (see the module docstring for why not)."""
    return (
        isinstance(engine.source, IncrementalSource)
        and engine.resolve_refs is None
        and not engine.config.collections
        and not (options.dry_run or options.full or options.recreate)
        and not (options.overwrite_conflicts or options.status_updates)
        and engine.state.get_meta("global_fp") == global_fp
    )


def run(
    engine: Engine,
    options: SyncOptions,
    result: SyncResult,
    notes: list[NoteFile],
    states: dict[str, ItemState],
    source_fp: str | None,
) -> SyncResult | Delta | None:
    """An incremental pass; else the complete :class:`Delta` the source answered with, or None
    when the pass must be a full one after all (the caller then reads the whole library)."""
    source = engine.source
    assert isinstance(source, IncrementalSource)
    label = engine.config.library
    claims: dict[str, list[NoteSeen]] = {}
    note_errors = 0
    for note in notes:
        if note.error:
            note_errors += 1
            result.failed += 1
            result.errors.append(f"{note.path}: {note.error}")
        if note.key:
            claims.setdefault(note.key, []).append(
                NoteSeen(note.path.as_posix(), (note.sig.mtime_ns, note.sig.size, note.sig.ino))
            )
    vault_side = _vault_changes(claims, states)
    links = LinkIndex(engine.state, label)
    token = engine.state.get_meta(TOKEN)
    delta = source.read_changes(token, also=vault_side, dependents=links.sources_of)
    if delta.complete:
        result.failed, result.errors = 0, []  # the full pass reports the notes again
        return delta
    library = prepare_standalone(delta.library, standalone=engine.config.standalone)
    live = delta.live
    if _needs_full_pass(engine, library, live, notes, states, claims, options):
        result.failed, result.errors = 0, []
        return None
    work = {i.key for i in library.items} | delta.deleted | vault_side
    if not live and any(s.path and not s.deleted and not s.tombstone for s in states.values()):
        result.failed, result.errors = 0, []
        return None  # an emptied library: the full pass's mass-deletion check decides
    states = {**states, **engine.state.load_items(label, keys=work)}  # full rows, work set
    # the index notes may be left as they are only if they were up to date before this pass
    # (a pass that acted and was not followed by an index build leaves the flag set) and no
    # paper changes as they see it; the user's own edits always rebuild them
    index_was_fresh = engine.state.get_meta(INDEX_STALE) is None and not vault_side
    index_before = read_papers(engine.vault, engine.config, engine.state, keys=work)
    engine.state.set_meta(INDEX_STALE, "1")
    single = {k: v[0].path for k, v in claims.items() if len(v) == 1 and k in work}
    folder = engine.config.papers_folder.strip("/")
    mine = {v[0].path for k, v in claims.items() if k in work}
    others: dict[str, str] = {}
    if (engine.vault / folder).is_dir():
        for entry in os.scandir(engine.vault / folder):
            rel = f"{folder}/{entry.name}"
            if entry.name.endswith(".md") and rel not in mine:
                others[entry.name[:-3].casefold()] = rel
    placements = place_notes(library, single, states, others, engine.config)
    # notes outside the work set keep their names; a target without one (a note the user
    # deleted, whose name a full pass would compute) makes this pass a full one
    outside: dict[str, Placement] = {}
    for item in library.items:
        for key in link_targets(item):
            if key in placements or key not in live:
                continue
            state = states.get(key)
            if state is None or not state.path or state.deleted:
                result.failed, result.errors = 0, []
                return None
            outside[key] = Placement(key, state.path, state.path)
    engine._data_dir = library.data_dir
    result.library = library
    result.incremental = True
    result.items = len(live)
    contexts = link_contexts(library, {**outside, **placements}, None, engine.config)
    global_fp = engine._global_fp()
    hashes = {i.key: input_hash(i, contexts[i.key], global_fp) for i in library.items}
    in_source = [i.key for i in library.items]
    actions = plan_actions(
        source_keys=in_source,
        input_hashes=hashes,
        states={k: s for k, s in states.items() if k in work},
        notes={k: v for k, v in claims.items() if k in work},
    )
    actions = [
        replace(a, kind="update")
        if a.kind == "unchanged" and a.key in placements and placements[a.key].renamed
        else a
        for a in actions
    ]
    result.placements = placements
    result.acted = sum(1 for a in actions if a.kind not in ("unchanged", "skip"))
    writer = NoteWriter(engine.vault, dry_run=False)
    engine.state.journal_renames(label, planned_renames(actions, placements))
    items = {i.key: i for i in library.items}
    for n, action in enumerate(actions, 1):
        if engine.stop is not None and engine.stop.is_set():
            result.errors.append("stopped before the end; the next sync continues")
            result.interrupted = True
            break
        if engine.progress and n == len(actions):
            engine.progress(n, len(actions))
        engine._execute(
            action, items, states, placements, contexts, hashes, writer, options, result
        )
        if len(engine._batch) >= BATCH_SIZE:
            engine._flush(result)
    engine._flush(result)
    result.unchanged += len(live) - len(set(in_source))
    renames = result.renames
    engine._finish_renames()  # the rename journal's link rewrite, as in a full pass
    # a broken note is reported on every pass until fixed; it does not make the source's
    # changes unrecorded, so it does not cost the next pass its token
    done = not result.interrupted and result.failed == note_errors
    with engine.state.transaction():
        links.replace({i.key: link_targets(i) for i in library.items}, delta.deleted)
        record_papers(engine.state, label, library.items, delta.deleted,
                      result.written_frontmatter)  # fmt: skip
    index_after = read_papers(engine.vault, engine.config, engine.state, keys=work)
    result.index_unchanged = (
        done and index_was_fresh and index_before == index_after and not renames
    )
    if result.index_unchanged:
        engine.state.set_meta(INDEX_STALE, None)
    finish(engine, result, source_fp, delta.token if done else None)
    log.info("incremental pass: %d of %d items in the work set", len(work), len(live))
    return result


def _needs_full_pass(
    engine: Engine,
    library: Library,
    live: set[str],
    notes: list[NoteFile],
    states: dict[str, ItemState],
    claims: dict[str, list[NoteSeen]],
    options: SyncOptions,
) -> bool:
    """Whether a new item is adopted, takes over a former standalone note, or is ambiguous.

    Those decisions move state rows and claims across keys, which the full pass makes; the
    common case, a new paper with no file standing for it yet, stays incremental. Both checks
    run on copies: nothing is decided here.
    """
    if not any(item.key not in states for item in library.items):
        return False
    if carry_over(library, dict(states), {k: list(v) for k, v in claims.items()}, live):
        return True
    key_field = "citekey" if engine.config.source in CITEKEY_SOURCES else "zotero-key"
    plan = find_adoptions(engine.vault, library, notes, states, claims, options.recreate, key_field)
    return bool(plan.matches or plan.ambiguous)


def finish(engine: Engine, result: SyncResult, source_fp: str | None, token: str | None) -> None:
    """Record the watermarks of a pass (full or incremental) and the run itself."""
    fp_after = files_fingerprint(engine.source.watch_paths())
    clean = not result.interrupted and result.failed == 0 and fp_after == source_fp
    engine.state.set_meta("source_fp", source_fp if clean else None)
    engine.state.set_meta(TOKEN, token)
    engine.state.set_meta("global_fp", engine._global_fp())
    engine.state.record_run("sync", result.counts(), result.errors)


def read_all(engine: Engine, delta: Delta | None) -> Library:
    """The whole library for a full pass, keeping the token for the next incremental one."""
    if delta is None and isinstance(engine.source, IncrementalSource):
        delta = engine.source.read_changes(None)
    engine._token = delta.token if delta is not None else None
    return delta.library if delta is not None else engine.source.read()


def record_full(
    engine: Engine, library: Library, token: str | None, result: SyncResult, note_errors: int = 0
) -> None:
    """After a full pass: the token (only when every action succeeded) and the whole link index."""
    done = not result.interrupted and result.failed == note_errors
    engine.state.set_meta(TOKEN, token if done else None)
    with engine.state.transaction():
        LinkIndex(engine.state, engine.config.library).replace(
            {i.key: link_targets(i) for i in library.items}, set(), full=True
        )


def _vault_changes(claims: dict[str, list[NoteSeen]], states: dict[str, ItemState]) -> set[str]:
    """Keys whose notes differ from what the state recorded (one stat per note, no reads)."""
    out = {k for k, seen in claims.items() if len(seen) > 1}
    for key, seen in claims.items():
        state = states.get(key)
        if state is None or state.path != seen[0].path or state.sig != seen[0].sig:
            out.add(key)
    for key, state in states.items():
        if state.path and not state.tombstone and key not in claims:
            out.add(key)  # its note is gone (deleted or its key edited away)
    return out


class LinkIndex:
    """The ``links`` table: which notes name which items."""

    def __init__(self, state: StateDB, label: str) -> None:
        self.state = state
        self.label = label

    def sources_of(self, keys: set[str]) -> set[str]:
        """Keys of the items whose notes link to any of ``keys``."""
        out: set[str] = set()
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            out.update(
                r[0]
                for r in self.state.conn.execute(
                    f"SELECT src FROM links WHERE library = ? AND dst IN "
                    f"({','.join('?' * len(chunk))})",
                    (self.label, *chunk),
                )
            )
        return out

    def replace(self, targets: dict[str, set[str]], gone: set[str], *, full: bool = False) -> None:
        """Record ``targets`` (src -> dsts); drop rows of ``gone`` sources (all, when ``full``)."""
        conn = self.state.conn
        if full:
            conn.execute("DELETE FROM links WHERE library = ?", (self.label,))
        else:
            conn.executemany(
                "DELETE FROM links WHERE library = ? AND src = ?",
                [(self.label, k) for k in [*targets, *gone]],
            )
        conn.executemany(
            "INSERT OR IGNORE INTO links (library, src, dst) VALUES (?, ?, ?)",
            [(self.label, src, dst) for src, dsts in targets.items() for dst in sorted(dsts)],
        )


def record_papers(
    state: StateDB,
    label: str,
    items: list[Item],
    gone: set[str],
    written: dict[str, tuple[str, str]],
) -> None:
    """The ``papers`` rows of the work set (what :func:`library_notes.record_library` does for a
    whole library): date added, no in-library references (reference lists need a full pass)."""
    conn = state.conn
    conn.executemany("DELETE FROM papers WHERE library = ? AND key = ?", [(label, k) for k in gone])
    conn.executemany(
        "INSERT INTO papers (library, key, date_added, refs) VALUES (?, ?, ?, '[]') "
        "ON CONFLICT(library, key) DO UPDATE SET date_added = excluded.date_added, refs = '[]'",
        [(label, i.key, i.date_added) for i in items],
    )
    conn.executemany(
        "UPDATE papers SET note_sig = ?, note_meta = ? WHERE library = ? AND key = ?",
        [(sig, meta, label, key) for key, (sig, meta) in written.items()],
    )


def stem(path: str) -> str:
    return PurePosixPath(path).stem
