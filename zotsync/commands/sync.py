"""``zotsync sync``: one pass under the vault lock, then what follows a pass (papers, plan
boxes, index notes, write-back). Returns a :class:`SyncReport`; only the CLI prints."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from zotsync.config import Config
from zotsync.errors import ConfigError, ConflictError, NoteError, SourceUnavailable
from zotsync.library.tag_kinds import record_tag_kinds
from zotsync.model import Library
from zotsync.refs.factory import is_offline, make_ref_resolver
from zotsync.refs.resolve import RefGraph
from zotsync.sources import Source
from zotsync.sources.factory import make_source
from zotsync.state.ref_index import pending_reasons
from zotsync.sync.engine import Engine, SyncOptions, SyncResult
from zotsync.vault.lock import VaultLock
from zotsync.workspace import (
    SourceOptions,
    check_source_inputs,
    check_vault,
    configure,
    forget_fresh_state,
    open_state,
    record_after_success,
    state_dir,
)


@dataclass
class SyncReport:
    """A sync pass and what followed it (indexes, plan boxes)."""

    result: SyncResult
    index_written: int = 0
    plan_updates: int = 0
    refs_pending: int = 0
    refs_reasons: dict[str, int] = field(default_factory=dict)
    graph: RefGraph | None = None
    writeback: list[str] = field(default_factory=list)


def sync(
    vault: Path,
    *,
    config_path: Path | None = None,
    source_options: SourceOptions | None = None,
    options: SyncOptions | None = None,
    refs: bool = True,
    progress: Callable[[int, int], None] | None = None,
    hold_lock: bool = True,
    source: Source | None = None,
    stop: threading.Event | None = None,
    refresh_refs: bool = False,
    fetch_refs: bool = True,
) -> SyncReport:
    """One sync pass (PRODUCT: ``zotsync sync``).

    ``fetch_refs=False`` (``sync --no-refs``) fetches nothing now but keeps what the notes
    show: reference lists and arXiv fields come from the caches alone. ``refs=False`` leaves
    references out entirely (the in-memory test passes).
    """
    vault = check_vault(vault, existing=options is not None and options.dry_run)
    options = options or SyncOptions()
    # a dry run creates nothing, not even the lock; the config is checked before any write
    config = configure(vault, config_path, source_options, record=False)
    if source is None:
        check_source_inputs(config)
    fresh = not state_dir(vault).exists()
    lock = VaultLock(vault, command="sync") if hold_lock and not options.dry_run else None
    try:
        if lock is not None:
            lock.acquire()
        report = _sync_locked(
            vault, config, source, options, refs, progress, stop, refresh_refs, fetch_refs
        )
        if not options.dry_run:
            record_after_success(vault, config_path, source_options)
        return report
    except (SourceUnavailable, ConfigError):
        if lock is not None:
            lock.release()
        if fresh and not options.dry_run:
            forget_fresh_state(vault)
        raise
    finally:
        if lock is not None:
            lock.release()


def _sync_locked(
    vault: Path,
    config: Config,
    source: Source | None,
    options: SyncOptions,
    refs: bool,
    progress: Callable[[int, int], None] | None,
    stop: threading.Event | None = None,
    refresh_refs: bool = False,
    fetch_refs: bool = True,
) -> SyncReport:
    from zotsync.index.build import write_indexes
    from zotsync.library_notes import record_library
    from zotsync.plan.boxes import status_updates_from_plans, sync_plan_boxes

    state = open_state(vault, readonly=options.dry_run)
    try:
        source = source or make_source(config, vault)
        if refs and config.refs.enabled and config.source != "demo" and not is_offline():
            from zotsync.arxiv_api import ArxivClient
            from zotsync.sources.enriched import enriched

            source = enriched(source, state.conn, ArxivClient(), fetch=fetch_refs)
        resolver = (
            make_ref_resolver(config, state, offline=not fetch_refs, refresh=refresh_refs)
            if refs
            else None
        )
        graph_box: dict[str, RefGraph | None] = {}

        def resolve(library: Library) -> RefGraph | None:
            graph_box["graph"] = resolver(library) if resolver else None
            return graph_box["graph"]

        if not options.dry_run:
            options.status_updates = {
                **status_updates_from_plans(vault, config, state),
                **options.status_updates,
            }
        engine = Engine(
            vault, config, state, source, progress=progress, stop=stop,
            # no resolver: the pass may be incremental (reference lists need the whole library)
            resolve_refs=resolve if resolver is not None else None,
            ref_delta=resolver.delta if resolver is not None else None,
        )  # fmt: skip
        result = engine.run(options)
        # a conflict left by an earlier pass still needs the user: the sync says so (exit 4)
        result.conflicts_open = state.count_conflicts()
        report = SyncReport(result)
        graph = graph_box.get("graph")
        if graph is not None or (resolver is not None and result.incremental):
            report.graph = graph
            # what is pending after this pass: the whole library's rows (an incremental pass
            # resolved only its work set, and recorded it)
            reasons = (
                dict(Counter(i.why for i in graph.idents.values() if i.why))
                if options.dry_run and graph is not None
                else pending_reasons(state, config.library)
            )
            report.refs_pending = sum(reasons.values())
            report.refs_reasons = reasons
            state.set_meta("refs_pending", str(report.refs_pending))
            state.set_meta("refs_reasons", json.dumps(reasons, sort_keys=True))
        if not options.dry_run and not result.short_circuit and result.library is not None:
            if not result.incremental:  # an incremental pass recorded its own rows
                record_library(
                    state, config.library, result.library, graph, result.written_frontmatter
                )
                record_tag_kinds(state, result.library)
            # free the library before indexes are built: at 40,000 items it is most of the memory
            result.library = None
            result.written_frontmatter = {}
            if result.interrupted:  # stopping (SIGTERM): leave plans and indexes to the next run
                return report
            report.plan_updates = sync_plan_boxes(vault, config, state)
            if (
                config.index.enabled
                and (result.acted or options.full)
                and not result.index_unchanged
            ):
                try:
                    report.index_written = write_indexes(
                        vault, config, state, scope=result.index_scope
                    )
                    state.set_meta("index_stale", None)  # see sync/incremental.py
                except NoteError as exc:  # the notes are synced; report the index as partial
                    result.failed += 1
                    result.errors.append(exc.message + (f" (fix: {exc.fix})" if exc.fix else ""))
                except ConflictError as exc:  # text typed in an index region: kept (exit 4)
                    paths = [p for p, _ in getattr(exc, "paths", [])]
                    result.conflicts += len(paths) or 1
                    result.conflict_paths += paths
            if config.writeback:
                from zotsync.sync.writeback import write_back

                report.writeback = write_back(vault, config, state).written
        return report
    finally:
        state.close()
