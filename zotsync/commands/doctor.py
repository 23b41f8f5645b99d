"""``zotsync doctor``: every check a user would otherwise do by hand, each with its fix.

Checks never raise: a failing check is a line with ``ok=False`` and the command that fixes it,
so one run shows every problem at once.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import httpx

from zotsync.config import CONFIG_NAME, Config, load_config
from zotsync.errors import ZotsyncError
from zotsync.http import make_client
from zotsync.sources.factory import make_source
from zotsync.sources.probe import Check, probe_source
from zotsync.vault.layout import STATE_DIR
from zotsync.workspace import is_vault, open_state


def _vault_checks(vault: Path) -> tuple[list[Check], Config | None]:
    checks: list[Check] = []
    if not vault.is_dir():
        return [Check("vault", False, f"{vault} does not exist", f"zotsync init {vault}")], None
    if not is_vault(vault):
        return [
            Check(
                "vault",
                False,
                f"{vault} is not a zotsync vault (no {CONFIG_NAME})",
                f"zotsync init {vault}",
            )
        ], None
    checks += _state_checks(vault)
    try:
        with tempfile.NamedTemporaryFile(dir=vault, prefix=".zotsync-doctor-"):
            pass
        checks.append(Check("vault writable", True, str(vault)))
    except OSError as exc:
        checks.append(Check("vault writable", False, str(exc), "check the folder's permissions"))
    config = None
    try:
        config = load_config(vault)
        present = (vault / CONFIG_NAME).exists()
        checks.append(
            Check("config", True, CONFIG_NAME if present else "defaults (no zotsync.yaml)")
        )
    except ZotsyncError as exc:
        checks.append(Check("config", False, exc.message, f"edit {vault / CONFIG_NAME}"))
    from zotsync.vault.lock import read_lock_info

    info = read_lock_info(vault)
    if info:
        checks.append(
            Check(
                "lock",
                True,
                f"held by pid {info.get('pid')} ({info.get('command')}) since "
                f"{info.get('started')}",
            )
        )
    else:
        checks.append(Check("lock", True, "free"))
    return checks, config


def _state_checks(vault: Path) -> list[Check]:
    """Confinement of ``.zotsync/`` and the state database's health (read-only: moves nothing)."""
    from zotsync.state.health import state_db_problem
    from zotsync.vault.confine import is_inside

    folder = vault / STATE_DIR
    if not is_inside(vault, folder):
        return [
            Check(
                "state folder",
                False,
                f"{folder} leads outside the vault (to {os.path.realpath(folder)})",
                f"replace the symlink {folder} with a real folder (move its content back)",
            )
        ]
    path = folder / "state.sqlite"
    problem = state_db_problem(path)
    if problem:
        return [
            Check(
                "state database",
                False,
                f"{path}: {problem}",
                "run `zotsync sync`: it moves the damaged file aside (state.corrupt-<time>.sqlite) "
                "and rebuilds the state from the notes' zotero-key",
            )
        ]
    return [Check("state database", True, "ok" if path.exists() else "not created yet")]


def _sqlite_checks(config: Config) -> list[Check]:
    from zotsync.sources.datadir import find_zotero_db, zotero_version
    from zotsync.sources.sqlite import snapshot

    db = Path(config.zotero_db).expanduser() if config.zotero_db else find_zotero_db()
    if db is None or not db.exists():
        return [
            Check(
                "zotero data dir",
                False,
                f"no zotero.sqlite at {db}" if db else "no Zotero data directory found",
                "pass --zotero-db /path/to/zotero.sqlite (Zotero: Settings → Advanced → Files "
                "and Folders → Data Directory Location)",
            )
        ]
    checks = [Check("zotero data dir", True, str(db.parent))]
    wal = db.with_name(db.name + "-wal")
    journal = db.with_name(db.name + "-journal")
    try:
        checks.append(Check("zotero version", True, zotero_version(db)))
    except Exception as exc:
        checks.append(Check("zotero version", False, str(exc), "is this a Zotero database?"))
    running = journal.exists() or wal.exists()
    with tempfile.TemporaryDirectory(prefix="zotsync-doctor-") as tmp:
        try:
            copy = snapshot(db, Path(tmp))
            # our own copy: read-write, so SQLite may build the WAL index it needs to open it
            conn = sqlite3.connect(copy.as_uri() + "?mode=rw", uri=True)
            try:
                items = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
                journal_mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            finally:
                conn.close()
            # WAL is recognised by the -wal file and the journal mode, not by the version
            mode = "WAL" if wal.exists() or journal_mode == "wal" else "rollback journal"
            if running:
                mode += "; Zotero seems to be running (it locks the database; zotsync reads a copy)"
            checks.append(Check("database readable", True, f"{items} rows in items; {mode}"))
        except (ZotsyncError, sqlite3.Error, OSError) as exc:
            message = exc.message if isinstance(exc, ZotsyncError) else str(exc)
            checks.append(
                Check(
                    "database readable",
                    False,
                    message,
                    "close Zotero and try again; if it persists, restore zotero.sqlite.bak",
                )
            )
    return checks


def _s2_check() -> Check:
    if os.environ.get("ZOTSYNC_OFFLINE") == "1":
        return Check("semantic scholar", True, "skipped (ZOTSYNC_OFFLINE=1)")
    base = os.environ.get("ZOTSYNC_S2_URL", "https://api.semanticscholar.org/graph/v1")
    try:
        key = os.environ.get("S2_API_KEY", "")
        with make_client(headers={"x-api-key": key} if key else {}, timeout=5) as http:
            response = http.get(
                f"{base.rstrip('/')}/paper/ARXIV:1706.03762", params={"fields": "title"}
            )
    except httpx.HTTPError as exc:
        return Check(
            "semantic scholar",
            False,
            f"unreachable: {exc}",
            "references will be fetched on a later run; check the network or ZOTSYNC_S2_URL",
        )
    if response.status_code == 429:
        return Check(
            "semantic scholar", True, "reachable, rate-limited right now (set S2_API_KEY for more)"
        )
    if response.status_code in (401, 403):
        return Check(
            "semantic scholar",
            False,
            f"HTTP {response.status_code}",
            "check S2_API_KEY (a wrong key gets 403), or unset it to use the shared pool",
        )
    if response.status_code >= 500:
        return Check(
            "semantic scholar",
            False,
            f"HTTP {response.status_code}: the service is having trouble",
            "nothing to do: references are fetched on a later run",
        )
    return Check("semantic scholar", True, "reachable")


def run_doctor(vault: Path) -> list[Check]:
    """All checks for ``vault`` and its configured source."""
    checks, config = _vault_checks(vault)
    if config is None:
        return checks
    try:
        if config.source == "sqlite":
            checks += _sqlite_checks(config)
        elif config.source == "web":
            from zotsync.sources.credentials import api_key

            checks += probe_source(
                "web", library=config.library, api_key=api_key(), writeback=config.writeback
            )
        elif config.source == "local":
            checks += probe_source("local", library=config.library)
        elif config.source == "bbt-json":
            if config.bbt_json:
                checks += probe_source("bbt-json", path=Path(config.bbt_json).expanduser())
            else:
                checks.append(
                    Check(
                        "bbt-json",
                        False,
                        "no export file configured",
                        "zotsync sync --bbt-json /path/to/export.json",
                    )
                )
        elif config.source in ("bibtex", "csl-json"):
            checks.append(_file_source_check(config, vault))
        else:
            checks.append(Check("source", True, f"{config.source} (bundled, nothing to check)"))
    except ZotsyncError as exc:
        checks.append(Check(f"source {config.source}", False, exc.message, exc.fix))
    if config.refs.enabled and config.source != "demo":
        checks.append(_s2_check())
    checks += _tag_checks(vault, config)
    return checks


def _file_source_check(config: Config, vault: Path) -> Check:
    """A .bib or CSL-JSON file: readable, how many entries, and the first unreadable one."""
    library = make_source(config, vault).read()
    count = f"{len(library.items)} entries"
    if library.problems:
        more = f" (and {len(library.problems) - 1} more)" if len(library.problems) > 1 else ""
        return Check(
            config.source,
            False,
            f"{count} read; {library.problems[0]}{more}",
            "fix the entry in the file; the other entries sync meanwhile",
        )
    return Check(config.source, True, count)


def _tag_checks(vault: Path, config: Config) -> list[Check]:
    """Advice when the library's only tags are automatic ones, which are left out by default."""
    from zotsync.library.tag_kinds import automatic_tags_hint
    from zotsync.state.health import state_db_problem

    path = vault / STATE_DIR / "state.sqlite"
    if not path.exists() or state_db_problem(path):
        return []  # doctor creates and moves no file; nothing known (a damage is reported above)
    state = open_state(vault, readonly=True)
    try:
        hint = automatic_tags_hint(state, config)
    finally:
        state.close()
    return [Check("tags", True, hint)] if hint else []


__all__ = ["Check", "run_doctor"]
