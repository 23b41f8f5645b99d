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
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zotsync.config import CONFIG_NAME, Config, load_config, parse_config, set_config_keys
from zotsync.errors import ConfigError, ConflictError, NoteError, SourceUnavailable, ZotsyncError
from zotsync.model import Library
from zotsync.refs.cache import RefCache
from zotsync.refs.resolve import RefGraph, resolve_references
from zotsync.render.templates import packaged_vault_template
from zotsync.sources import Source
from zotsync.state.db import StateDB
from zotsync.sync.engine import Engine, SyncOptions, SyncResult
from zotsync.vault.atomic import file_sig, write_atomic
from zotsync.vault.confine import confine, user_named
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
    bibtex: str | None = None
    csl_json: str | None = None

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
        for key, kind in (("bibtex", "bibtex"), ("csl_json", "csl-json")):
            value = getattr(self, key)
            if value:
                out[key] = str(Path(value).expanduser().resolve())
                out.setdefault("source", kind)
        if self.library:
            out["library"] = self.library
        if self.collections:
            out["collections"] = list(self.collections)
        return out


def state_dir(vault: Path) -> Path:
    return vault / STATE_DIR


def open_state(vault: Path, *, readonly: bool = False) -> StateDB:
    """The vault's state DB, confined to the vault; ``readonly``: an in-memory copy (status,
    dry runs), so a read-only command creates no file."""
    path = state_dir(vault) / "state.sqlite"
    confine(vault, path, action="read" if readonly else "write")
    return StateDB(path, readonly=readonly)


def is_vault(vault: Path) -> bool:
    """A zotsync vault holds ``zotsync.yaml`` or the ``.zotsync/`` state folder."""
    return (vault / CONFIG_NAME).is_file() or (vault / STATE_DIR).is_dir()


def check_vault(vault: Path, *, existing: bool = False) -> Path:
    """The vault must exist and be a folder; say how to create one otherwise.

    ``existing``: it must already be a zotsync vault (read-only commands, which must not
    create one by looking at a folder).
    """
    if not vault.exists():
        raise ConfigError([f"vault {vault} does not exist; create it with `zotsync init {vault}`"])
    if not vault.is_dir():
        raise ConfigError([f"vault {vault} is not a folder"])
    if existing and not is_vault(vault):
        raise ConfigError(
            [
                f"{vault} is not a zotsync vault (no {CONFIG_NAME}); create one with "
                f"`zotsync init {vault}` or pass --vault PATH"
            ]
        )
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
    text = load_config_text(path)
    keyed = {}
    for key, value in updates.items():
        snake_used = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE) is not None
        keyed[key if snake_used else key.replace("_", "-")] = value
    new_text = set_config_keys(text, keyed)
    config = parse_config(new_text, path=str(path))
    if new_text != text and record:
        record_config(path, text, new_text)
    return config


def load_config_text(path: Path) -> str:
    """The config file's text ("" when absent); a clear error when it cannot be read."""
    if not path.exists():
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path} cannot be read: {exc}"], path=str(path)) from None


def record_config(path: Path, old_text: str, new_text: str) -> None:
    """Write the recorded source options, unless the file changed since it was read."""
    if load_config_text(path) != old_text:
        return  # the user edited it meanwhile: theirs wins, the options apply to this run only
    with user_named(path):  # `--config PATH` may lie outside the vault (PRODUCT: allowed)
        write_atomic(path, new_text.encode("utf-8"), expect=file_sig(path))


def _record_after_success(
    vault: Path, config_path: Path | None, opts: SourceOptions | None
) -> None:
    """PRODUCT: the source options are recorded only after a run that succeeded with them."""
    if opts is not None and opts.updates():
        configure(vault, config_path, opts, record=True)


# sources read from a file the user names: (config attribute, option, what it is)
SOURCE_FILES = {
    "sqlite": ("zotero_db", "--zotero-db", "Zotero database"),
    "bbt-json": ("bbt_json", "--bbt-json", "Better BibTeX export"),
}


def check_source_inputs(config: Config) -> None:
    """Refuse an unusable source input before anything is opened or written.

    A folder, FIFO or device named as the database or export would give a raw OS error or
    block forever on read; an API key that is not printable ASCII would fail deep inside the
    HTTP client. Each gets one line with the fix instead.
    """
    spec = SOURCE_FILES.get(config.source)
    value = getattr(config, spec[0], None) if spec else None
    if spec and value:
        _check_input_file(Path(value).expanduser(), spec[1], spec[2])
    if config.source == "web":
        from zotsync.sources.credentials import api_key

        _check_api_key(api_key())


def _check_input_file(path: Path, option: str, what: str) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SourceUnavailable(
            f"{what} not found: {path}", fix=f"check the path given to {option} (or zotsync.yaml)"
        ) from None
    except OSError as exc:
        raise SourceUnavailable(
            f"cannot read the {what} {path}: {exc.strerror}",
            fix="check the path and its permissions",
        ) from None
    if not stat.S_ISREG(mode):
        raise SourceUnavailable(
            f"the {what} {path} is not a file (a folder, FIFO or device)",
            fix=f"give {option} the path of the file itself",
        )
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise SourceUnavailable(
            f"cannot read the {what} {path}: {exc.strerror or exc}",
            fix="check the file's permissions (zotsync needs to read it)",
        ) from None


def _check_api_key(key: str | None) -> None:
    where = "https://www.zotero.org/settings/keys"
    if not key:
        raise ZotsyncError(
            "no Zotero API key for the web source",
            fix=f"set ZOTERO_API_KEY (create a key at {where}), or store it in the OS keyring",
        )
    if not re.fullmatch(r"[\x21-\x7e]+", key):
        raise ZotsyncError(
            "ZOTERO_API_KEY is not a valid Zotero API key (it holds spaces, control or non-ASCII "
            "characters)",
            fix=f"copy the key again from {where} into ZOTERO_API_KEY",
        )


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
        return SqliteSource(
            db, library=_library_ref(config.library), collections=config.collections
        )
    if kind == "bbt-json":
        from zotsync.sources.bbt_json import BbtJsonSource

        if not config.bbt_json:
            raise ConfigError(["bbt-json: the source bbt-json needs --bbt-json PATH"])
        return BbtJsonSource(Path(config.bbt_json).expanduser())
    if kind in ("bibtex", "csl-json"):
        option = "bibtex" if kind == "bibtex" else "csl_json"
        path = getattr(config, option)
        if not path:
            flag = option.replace("_", "-")
            raise ConfigError([f"{flag}: the source {kind} needs --{flag} PATH"])
        if kind == "bibtex":
            try:
                from zotsync.sources.bibtex import BibtexSource
            except ImportError:  # bibtexparser 1 (pyzotero's pin) instead of 2
                raise SourceUnavailable(
                    "the bibtex source needs bibtexparser 2",
                    fix="pip install --no-deps 'bibtexparser>=2.0,<3'",
                ) from None
            return BibtexSource(Path(path).expanduser())
        from zotsync.sources.csl_json import CslJsonSource

        return CslJsonSource(Path(path).expanduser())
    if kind == "web":
        from zotsync.sources.credentials import api_key
        from zotsync.sources.web import WebSource

        return WebSource(
            config.library,
            api_key=api_key(),
            cache_dir=cache / "web",
            collections=config.collections,
        )
    if kind == "local":
        from zotsync.sources.local import LocalSource

        return LocalSource(cache / "local", library=config.library, collections=config.collections)
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
            _record_after_success(vault, config_path, source_options)
        return report
    except (SourceUnavailable, ConfigError):
        if lock is not None:
            lock.release()
        if fresh and not options.dry_run:
            _forget_fresh_state(vault)
        raise
    finally:
        if lock is not None:
            lock.release()


def _forget_fresh_state(vault: Path) -> None:
    """A first run that failed before writing a note leaves no ``.zotsync/`` behind.

    Only when it holds nothing but what this run created (lock, state DB, caches): backups
    or trash mean notes were touched, and those are kept.
    """
    folder = state_dir(vault)
    ours = {"lock", "lock.json", "state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "cache"}
    try:
        names = {entry.name for entry in os.scandir(folder)}
    except OSError:
        return
    if names <= ours and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)


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
    from zotsync import planning

    state = open_state(vault, readonly=options.dry_run)
    try:
        source = source or make_source(config, vault)
        if refs and config.refs.enabled and config.source != "demo" and not _offline():
            from zotsync.arxiv_api import ArxivClient
            from zotsync.sources.enriched import EnrichedSource

            source = EnrichedSource(source, state.conn, ArxivClient(), fetch=fetch_refs)
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
                from zotsync.tag_kinds import record_tag_kinds

                record_tag_kinds(state, result.library)
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
                except ConflictError as exc:  # text typed in an index region: kept (exit 4)
                    paths = [p for p, _ in getattr(exc, "paths", [])]
                    result.conflicts += len(paths) or 1
                    result.conflict_paths += paths
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
    """Create a vault from the packaged template; never overwrite an existing file.

    Every file and folder is checked by the confinement rule first, so a folder of an
    existing vault that links elsewhere is refused instead of filled.
    """
    vault = vault.expanduser()
    if vault.exists() and not vault.is_dir():
        raise ConfigError(
            [f"{vault} exists and is not a folder; choose a new or existing folder for the vault"]
        )
    updates = source_options.updates() if source_options else {}
    if updates:  # a bad option is refused before anything is created
        parse_config(set_config_keys("", updates))
    try:
        vault.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError([f"cannot create the vault folder {vault}: {exc.strerror}"]) from None
    result = InitResult(vault.resolve())
    template = packaged_vault_template()
    for src in sorted(template.rglob("*")):
        rel = src.relative_to(template)
        if "__pycache__" in rel.parts:
            continue
        dest = vault / rel
        if src.is_dir():
            confine(vault, dest)
            dest.mkdir(parents=True, exist_ok=True)
            continue
        if rel.name == "zotsync.example.yaml":
            dest = vault / CONFIG_NAME
        if os.path.lexists(dest):
            result.kept.append(str(dest.relative_to(vault)))
            continue
        confine(vault, dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, src.read_bytes(), expect=None)
        result.created.append(str(dest.relative_to(vault)))
    confine(vault, state_dir(vault))
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
            confine(vault, target)
            target.mkdir(parents=True, exist_ok=True)
            result.created.append(folder.rstrip("/") + "/")
    return result
