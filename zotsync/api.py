"""The library facade: what the CLI and the daemon call.

Each function takes a vault path and plain options, does its work under the vault lock where it
writes, and returns a typed result; none of them prints. Errors are
:class:`~zotsync.errors.ZotsyncError` subclasses that the CLI maps to exit codes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zotsync.config import CONFIG_NAME, Config, load_config, parse_config, set_config_keys
from zotsync.errors import ConfigError, NoteError, SourceUnavailable
from zotsync.model import Library
from zotsync.refs.cache import RefCache
from zotsync.refs.resolve import RefGraph, resolve_references
from zotsync.render.templates import packaged_vault_template
from zotsync.sources import Source
from zotsync.state.db import StateDB
from zotsync.sync.engine import Engine, SyncOptions, SyncResult
from zotsync.vault.atomic import file_sig, write_atomic
from zotsync.vault.lock import VaultLock

STATE_DIR = ".zotsync"


@dataclass
class SourceOptions:
    """Source choices from the command line; recorded in zotsync.yaml when given."""

    source: str | None = None
    zotero_db: str | None = None
    bbt_json: str | None = None
    library: str | None = None
    collections: list[str] = field(default_factory=list)

    def updates(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.source:
            out["source"] = self.source
        if self.zotero_db:
            out["zotero_db"] = str(Path(self.zotero_db).expanduser().resolve())
            out.setdefault("source", "sqlite")
        if self.bbt_json:
            out["bbt_json"] = str(Path(self.bbt_json).expanduser().resolve())
            out.setdefault("source", "bbt-json")
        if self.library:
            out["library"] = self.library
        if self.collections:
            out["collections"] = list(self.collections)
        return out


def state_dir(vault: Path) -> Path:
    return vault / STATE_DIR


def open_state(vault: Path) -> StateDB:
    return StateDB(state_dir(vault) / "state.sqlite")


def check_vault(vault: Path) -> Path:
    """The vault must exist and be a folder; say how to create one otherwise."""
    if not vault.exists():
        raise ConfigError([f"vault {vault} does not exist; create it with `zotsync init {vault}`"])
    if not vault.is_dir():
        raise ConfigError([f"vault {vault} is not a folder"])
    return vault.resolve()


def configure(
    vault: Path, config_path: Path | None, opts: SourceOptions | None, *, record: bool = True
) -> Config:
    """Load the config, recording source options given on the command line.

    PRODUCT: the source given to ``init`` or ``sync`` is recorded in ``zotsync.yaml``, so later
    runs need only ``--vault``. The file is rewritten only when a value differs, and only the
    lines of those keys (comments and everything else are kept). ``record=False`` (a dry run,
    which writes nothing) applies the options for this run only.
    """
    updates = opts.updates() if opts else {}
    if not updates:
        return load_config(vault, config_path)
    path = config_path or vault / CONFIG_NAME
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    keyed = {}
    for key, value in updates.items():
        snake_used = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE) is not None
        keyed[key if snake_used else key.replace("_", "-")] = value
    new_text = set_config_keys(text, keyed)
    config = parse_config(new_text, path=str(path))
    if new_text != text and record:
        write_atomic(path, new_text.encode("utf-8"), expect=file_sig(path))
    return config


def make_source(config: Config, vault: Path) -> Source:
    """Build the configured source."""
    kind = config.source
    cache = state_dir(vault) / "cache"
    if kind == "demo":
        from zotsync.sources.demo import DemoSource

        return DemoSource()
    if kind == "sqlite":
        from zotsync.sources.datadir import find_zotero_db
        from zotsync.sources.sqlite import SqliteSource

        db = Path(config.zotero_db).expanduser() if config.zotero_db else find_zotero_db()
        if db is None:
            raise SourceUnavailable(
                "no Zotero database found (looked in ~/Zotero and the Zotero profile's data dir)",
                fix="pass --zotero-db /path/to/zotero.sqlite, or choose another --source",
            )
        return SqliteSource(db, library=_library_ref(config.library))
    if kind == "bbt-json":
        from zotsync.sources.bbt_json import BbtJsonSource

        if not config.bbt_json:
            raise ConfigError(["bbt-json: the source bbt-json needs --bbt-json PATH"])
        return BbtJsonSource(Path(config.bbt_json).expanduser())
    if kind == "web":
        from zotsync.sources.credentials import api_key
        from zotsync.sources.web import WebSource

        return WebSource(config.library, api_key=api_key(), cache_dir=cache / "web")
    if kind == "local":
        from zotsync.sources.local import LocalSource

        return LocalSource(cache / "local", library=config.library)
    raise ConfigError([f"source: unknown source {kind!r}"])


def _library_ref(label: str) -> Any:
    from zotsync.model import LibraryRef

    if label.startswith("group:"):
        return LibraryRef("group", int(label.split(":", 1)[1]))
    return None


def demo_references() -> list[Any]:
    from zotsync.sources.demo import load_demo_references

    return load_demo_references()


def _offline() -> bool:
    return os.environ.get("ZOTSYNC_OFFLINE") == "1"


def make_ref_resolver(
    config: Config, state: StateDB, *, offline: bool = False, refresh: bool = False
) -> Callable[[Library], RefGraph | None]:
    """A function that resolves the library's references within the configured budget."""
    if not config.refs.enabled:
        return lambda library: None
    cache = RefCache(state.conn)
    recorded = demo_references() if config.source == "demo" else None
    client = None
    if recorded is None and not offline and not _offline():
        from zotsync.refs.s2 import S2Client

        client = S2Client()

    def resolve(library: Library) -> RefGraph | None:
        graph = resolve_references(
            library.items,
            cache,
            client=client,
            recorded=recorded,
            deadline_s=config.refs.budget_seconds,
            refresh=refresh,
            max_age_days=config.refs.max_age_days,
        )
        if client is None:
            # offline on purpose: nothing to retry until the network is allowed again (the
            # items still show as pending in `zotsync status`)
            graph.deferred.clear()
        return graph

    return resolve


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
) -> SyncReport:
    """One sync pass (PRODUCT: ``zotsync sync``)."""
    vault = check_vault(vault)
    options = options or SyncOptions()
    lock = VaultLock(vault, command="sync") if hold_lock else None
    if lock is not None:
        lock.acquire()  # before recording the source: zotsync.yaml is the vault's file too
    try:
        config = configure(vault, config_path, source_options, record=not options.dry_run)
        return _sync_locked(vault, config, source, options, refs, progress, stop, refresh_refs)
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
) -> SyncReport:
    from zotsync import planning

    state = open_state(vault)
    try:
        source = source or make_source(config, vault)
        if refs and config.refs.enabled and config.source != "demo" and not _offline():
            from zotsync.arxiv_api import ArxivClient
            from zotsync.sources.enriched import EnrichedSource

            source = EnrichedSource(source, state.conn, ArxivClient())
        resolver = make_ref_resolver(config, state, refresh=refresh_refs) if refs else None
        graph_box: dict[str, RefGraph | None] = {}

        def resolve(library: Library) -> RefGraph | None:
            graph_box["graph"] = resolver(library) if resolver else None
            return graph_box["graph"]

        if not options.dry_run:
            options.status_updates = {
                **planning.status_updates_from_plans(vault, config, state),
                **options.status_updates,
            }
        engine = Engine(
            vault, config, state, source, progress=progress, stop=stop,
            # no resolver: the pass may be incremental (reference lists need the whole library)
            resolve_refs=resolve if resolver is not None and config.refs.enabled else None,
        )  # fmt: skip
        result = engine.run(options)
        report = SyncReport(result)
        graph = graph_box.get("graph")
        if graph is not None:
            report.graph = graph
            reasons: dict[str, int] = {}
            for refs_of in graph.items.values():
                if refs_of.status not in ("ok", "no-ids"):
                    why = (refs_of.reason or refs_of.status).removeprefix("failed: ")
                    reasons[why] = reasons.get(why, 0) + 1
            report.refs_pending = sum(reasons.values())
            report.refs_reasons = reasons
            state.set_meta("refs_pending", str(report.refs_pending))
            state.set_meta("refs_reasons", json.dumps(reasons, sort_keys=True))
        if not options.dry_run and not result.short_circuit and result.library is not None:
            if not result.incremental:  # an incremental pass recorded its own rows
                planning.record_library(
                    state, config.library, result.library, graph, result.written_frontmatter
                )
            # free the library before indexes are built: at 40,000 items it is most of the memory
            result.library = None
            result.written_frontmatter = {}
            if result.interrupted:  # stopping (SIGTERM): leave plans and indexes to the next run
                return report
            report.plan_updates = planning.sync_plan_boxes(vault, config, state)
            if (
                config.index.enabled
                and (result.acted or options.full)
                and not result.index_unchanged
            ):
                try:
                    report.index_written = planning.write_indexes(vault, config, state)
                    state.set_meta("index_stale", None)  # see sync/incremental.py
                except NoteError as exc:  # the notes are synced; report the index as partial
                    result.failed += 1
                    result.errors.append(exc.message + (f" (fix: {exc.fix})" if exc.fix else ""))
            if config.writeback:
                from zotsync.writeback_runner import write_back

                report.writeback = write_back(vault, config, state).written
        return report
    finally:
        state.close()


@dataclass
class InitResult:
    vault: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def init_vault(vault: Path, source_options: SourceOptions | None = None) -> InitResult:
    """Create a vault from the packaged template; never overwrite an existing file."""
    vault = vault.expanduser()
    vault.mkdir(parents=True, exist_ok=True)
    result = InitResult(vault.resolve())
    template = packaged_vault_template()
    for src in sorted(template.rglob("*")):
        rel = src.relative_to(template)
        if "__pycache__" in rel.parts:
            continue
        dest = vault / rel
        if src.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        if rel.name == "zotsync.example.yaml":
            dest = vault / CONFIG_NAME
        if dest.exists():
            result.kept.append(str(dest.relative_to(vault)))
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        result.created.append(str(dest.relative_to(vault)))
    state_dir(vault).mkdir(exist_ok=True)
    config = configure(vault, None, source_options)
    # the starter folders (git keeps no empty folders, so the template cannot carry them)
    for folder in (
        config.papers_folder,
        config.plan.folder,
        config.index.tags_folder,
        config.index.collections_folder,
        config.discover.folder,
        config.attachments_folder,
    ):
        target = vault / folder
        if not target.exists():
            target.mkdir(parents=True, exist_ok=True)
            result.created.append(folder.rstrip("/") + "/")
    return result
