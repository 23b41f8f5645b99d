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

With references on, :class:`zotsync.refs.delta.RefDelta` adds to the work set the items whose
reference or cited-by lists the changes touch (read in the same snapshot, through the source's
``expand`` hook), and resolves the work set's lists from what the last pass recorded.

When any input of the plan besides the items moved — the templates or the config (``global``
fingerprint), a forced option, a collection filter, the library's collections or another
library — the pass is a full one. So is the first pass, the one after a pass that failed or
was interrupted (the token is stored only when every action of a pass succeeded), a pass whose
reference fetches are due for a retry, the first pass of each day with references on (it
refreshes stale cached lists), and one whose change involves an identifier two items share.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from zotsync.config import CITEKEY_SOURCES, Config
from zotsync.index.scope import index_scope
from zotsync.library_notes import read_papers
from zotsync.model import Library
from zotsync.refs.delta import NeedsFullPass
from zotsync.refs.resolve import RefGraph
from zotsync.sources import ChangeHooks, Delta, IncrementalSource
from zotsync.sources.standalone import prepare as prepare_standalone
from zotsync.state.db import ItemState
from zotsync.state.links import LinkIndex
from zotsync.state.papers import save_papers
from zotsync.state.ref_index import save_idents
from zotsync.sync.actions import PassInputs
from zotsync.sync.adopt_step import find_adoptions
from zotsync.sync.apply import NoteWriter, has_user_text
from zotsync.sync.context import Placement, input_hash, link_contexts, link_targets, place_notes
from zotsync.sync.former import carry_over
from zotsync.sync.journal import planned_renames
from zotsync.sync.planner import NoteSeen, plan_actions
from zotsync.sync.results import SyncOptions, SyncResult
from zotsync.sync.snapshot import files_fingerprint

if TYPE_CHECKING:
    from zotsync.sync.engine import Engine
    from zotsync.vault.scan import NoteFile

log = logging.getLogger(__name__)
TOKEN = "source_token"
INDEX_STALE = "index_stale"  # set while the index notes may lag the papers (api clears it)
REFS_FULL_AT = "refs_full_at"  # when a full pass last resolved the whole library's references
REFS_FULL_EVERY = 86400.0


def applicable(engine: Engine, options: SyncOptions, global_fp: str) -> bool:
    """Whether this pass may be incremental (see the module docstring for why not)."""
    return (
        isinstance(engine.source, IncrementalSource)
        and (engine.resolve_refs is None or _refs_allow(engine))
        and not engine.config.collections
        and not (options.dry_run or options.full or options.recreate)
        and not (options.overwrite_conflicts or options.status_updates)
        and engine.state.get_meta("global_fp") == global_fp
    )


def _refs_allow(engine: Engine) -> bool:
    """Reference lists may be resolved incrementally: the resolver can, no deferred fetch is
    due for a retry, and the whole library was resolved within :data:`REFS_FULL_EVERY` (a
    full pass refreshes stale cached lists and picks up arXiv fills left for later)."""
    if engine.ref_delta is None:
        return False
    now = time.time()
    retry_at = engine.state.get_meta("refs_retry_at")
    if retry_at is not None and now >= float(retry_at):
        return False
    full_at = engine.state.get_meta(REFS_FULL_AT)
    return full_at is not None and now - float(full_at) < REFS_FULL_EVERY


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
                NoteSeen(note.rel, (note.sig.mtime_ns, note.sig.size, note.sig.ino))
            )
    vault_side = _vault_changes(claims, states)
    links = LinkIndex(engine.state, label)
    token = engine.state.get_meta(TOKEN)
    refs = engine.ref_delta() if engine.ref_delta is not None else None
    if engine.resolve_refs is not None and refs is None:
        return None
    expand = None
    if refs is not None:
        standalone = engine.config.standalone

        def expand(changed: Library, gone: set[str]) -> set[str]:
            assert refs is not None
            return refs.expand(prepare_standalone(changed, standalone=standalone).items, gone)

    try:
        delta = source.read_changes(
            token, ChangeHooks(also=vault_side, dependents=links.sources_of, expand=expand)
        )
    except NeedsFullPass as why:
        log.info("full pass: %s", why)
        result.failed, result.errors = 0, []
        return None
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
    # a note that stays although its item left keeps its name: a new note must not take it
    staying = staying_notes(
        engine.vault, engine.config, {k: v for k, v in claims.items() if k in work}, states, live
    )
    mine = {v[0].path for k, v in claims.items() if k in work} - staying
    others: dict[str, str] = {}
    if (engine.vault / folder).is_dir():
        for entry in os.scandir(engine.vault / folder):
            rel = f"{folder}/{entry.name}"
            if entry.name.endswith(".md") and rel not in mine:
                others[entry.name[:-3].casefold()] = rel
    placements = place_notes(library, single, states, others, engine.config)
    # notes outside the work set keep their names; a target without one (a note the user
    # deleted, whose name a full pass would compute) makes this pass a full one
    graph = refs.graph(library.items) if refs is not None else None
    outside: dict[str, Placement] = {}
    for item in library.items:
        targets = link_targets(item)
        if graph is not None:
            targets |= {*graph.refs(item.key).in_library, *graph.citers(item.key)}
        for key in targets:
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
    contexts = link_contexts(library, {**outside, **placements}, graph, engine.config)
    global_fp = engine._global_fp()
    hashes = {i.key: input_hash(i, contexts[i.key], global_fp) for i in library.items}
    in_source = [i.key for i in library.items]
    actions = plan_actions(
        source_keys=in_source,
        input_hashes=hashes,
        states={k: s for k, s in states.items() if k in work},
        notes={k: v for k, v in claims.items() if k in work},
        renamed={k for k, p in placements.items() if p.renamed},
    )
    result.placements = placements
    result.acted = sum(1 for a in actions if a.kind not in ("unchanged", "skip"))
    writer = NoteWriter(engine.vault, dry_run=False)
    engine.state.journal_renames(label, planned_renames(actions, placements))
    items = {i.key: i for i in library.items}
    inputs = PassInputs(items, states, placements, contexts, hashes, writer)
    engine.run_actions(actions, inputs, options, result)
    result.unchanged += len(live) - len(set(in_source))
    renames = result.renames
    engine._finish_renames()  # the rename journal's link rewrite, as in a full pass
    # a broken note is reported on every pass until fixed; it does not make the source's
    # changes unrecorded, so it does not cost the next pass its token
    done = not result.interrupted and result.failed == note_errors
    with engine.state.transaction():
        links.replace({i.key: link_targets(i) for i in library.items}, delta.deleted)
        save_papers(
            engine.state,
            label,
            upserts=[
                (i.key, i.date_added, json.dumps(graph.refs(i.key).in_library if graph else []))
                for i in library.items
            ],
            deletes=delta.deleted,
            notes=result.written_frontmatter,
        )
        if graph is not None:
            save_idents(engine.state, label, graph.idents.values(), delta.deleted)
            if graph.deferred:  # retried by a full pass, as after a full pass
                retry = time.time() + options.refs_retry_seconds
                engine.state.set_meta("refs_retry_at", str(retry))
    index_after = read_papers(engine.vault, engine.config, engine.state, keys=work)
    result.index_unchanged = (
        done and index_was_fresh and index_before == index_after and not renames
    )
    if result.index_unchanged:
        engine.state.set_meta(INDEX_STALE, None)
    elif done and index_was_fresh:  # only the notes of what changed need a new rendering
        result.index_scope = index_scope(index_before, index_after)
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
    engine: Engine,
    library: Library,
    token: str | None,
    result: SyncResult,
    note_errors: int = 0,
    graph: RefGraph | None = None,
) -> None:
    """After a full pass: the token (only when every action succeeded), the whole link index
    and, with references, every item's reference identity."""
    # an ambiguous adoption is decided again by the next full pass, not skipped by a delta
    done = not result.interrupted and result.failed == note_errors and not result.ambiguous
    engine.state.set_meta(TOKEN, token if done else None)
    with engine.state.transaction():
        if graph is not None:
            save_idents(engine.state, engine.config.library, graph.idents.values(), full=True)
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


def stem(path: str) -> str:
    return PurePosixPath(path).stem


def staying_notes(
    vault: Path,
    config: Config,
    claims: dict[str, list[NoteSeen]],
    states: dict[str, ItemState],
    in_library: set[str],
) -> set[str]:
    """Paths of the notes of items gone from the library that stay where they are (marked
    deleted, or holding user text with no archive folder): their names stay taken."""
    return {
        seen[0].path
        for key, seen in claims.items()
        if key not in in_library
        and (
            (key in states and states[key].deleted and states[key].path == seen[0].path)
            or _stays(vault, seen[0].path, config)
        )
    }


def _stays(vault: Path, rel: str, config: Config) -> bool:
    """Whether a deleted item's note stays where it is (it holds user text, no archive)."""
    if config.archive_folder:
        return False
    try:
        return has_user_text((vault / rel).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return True
