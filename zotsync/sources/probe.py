"""``zotsync doctor`` checks for the HTTP and export sources.

Each probe returns a list of :class:`Check` — what was looked at, whether it is fine, what
was found, and the fix — and never raises for an expected problem, so doctor can show every
problem at once. Probes make as few requests as they can and never print the API key (every
detail passes through :func:`~zotsync.sources.credentials.redact`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zotsync.errors import ZotsyncError
from zotsync.sources.credentials import api_key as find_api_key
from zotsync.sources.credentials import redact
from zotsync.sources.local import DEFAULT_LOCAL_URL
from zotsync.sources.web import DEFAULT_API_URL, ApiClient, parse_library


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str | None = None


def _failed(name: str, exc: ZotsyncError, *secrets: str | None) -> Check:
    fix = redact(exc.fix, *secrets) if exc.fix else None
    return Check(name, False, redact(exc.message, *secrets), fix)


def probe_web(
    library: str = "user",
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    writeback: bool = False,
) -> list[Check]:
    """Key present and valid, its permissions, access to the library (and write if needed)."""
    key = find_api_key(api_key)
    if not key:
        return [Check("web: API key", False, "no key in ZOTERO_API_KEY or the OS keyring",
                      "create one at https://www.zotero.org/settings/keys and export "
                      "ZOTERO_API_KEY=…")]  # fmt: skip
    checks = [Check("web: API key", True, "found")]
    url = base_url or os.environ.get("ZOTSYNC_ZOTERO_API_URL") or DEFAULT_API_URL
    client = ApiClient(url, api_key=key)
    try:
        try:
            info: dict[str, Any] = client.get("keys/current").body or {}
        except ZotsyncError as exc:
            return [*checks, _failed("web: key valid", exc, key)]
        user_id = info.get("userID")
        checks.append(Check("web: key valid", True, f"user {user_id} ({info.get('username')})"))
        kind, ident = parse_library(library)
        access = info.get("access") or {}
        if kind == "users":
            scope = access.get("user") or {}
            ident = user_id if ident is None else ident
        else:
            groups = access.get("groups") or {}
            scope = groups.get(str(ident)) or groups.get("all") or {}
        label = library if ident is None else f"{kind}/{ident}"
        can_read = bool(scope.get("library"))
        checks.append(
            Check(f"web: read access to {label}", can_read,
                  "library access granted" if can_read else "the key cannot read this library",
                  None if can_read else "edit the key at https://www.zotero.org/settings/keys "
                  "and allow library (or group) read access")
        )  # fmt: skip
        if writeback:
            can_write = bool(scope.get("write"))
            checks.append(
                Check("web: write access (writeback: true)", can_write,
                      "write allowed" if can_write else "read-only key",
                      None if can_write else "allow write access for the key, or set "
                      "writeback: false")
            )  # fmt: skip
        try:
            top = client.get(f"{kind}/{ident}/items/top", {"limit": "1", "format": "keys"})
            checks.append(Check(f"web: {label} reachable", True,
                                f"library version {top.version}"))  # fmt: skip
        except ZotsyncError as exc:
            checks.append(_failed(f"web: {label} reachable", exc, key))
    finally:
        client.close()
    return checks


def probe_local(base_url: str | None = None, library: str = "user") -> list[Check]:
    """Zotero running, local API enabled, and which local-API generation answers."""
    url = base_url or os.environ.get("ZOTSYNC_ZOTERO_LOCAL_URL") or DEFAULT_LOCAL_URL
    kind, ident = parse_library(library)
    client = ApiClient(url, local=True)
    try:
        response = client.get(f"{kind}/{ident or 0}/items/top", {"limit": "1", "format": "keys"})
    except ZotsyncError as exc:
        return [_failed("local: API enabled and reachable", exc)]
    finally:
        client.close()
    server_id = response.headers.get("Zotero-Server-ID")
    version = response.headers.get("X-Zotero-Version", "")
    generation = (
        f"Zotero 10+ (server id {server_id}): incremental sync, write-back possible"
        if server_id
        else "Zotero 7–9: full reads compared by content hash, no write-back"
    )
    return [
        Check("local: API enabled and reachable", True, f"{url} answers {version}".strip()),
        Check("local: Zotero version", True, generation),
    ]


def probe_bbt(
    path: Path,
    *,
    zotero_db: Path | None = None,
    max_age_days: float = 30.0,
    now: float | None = None,
) -> list[Check]:
    """The export exists, is a BBT JSON export, and is not older than the library."""
    path = Path(path)
    if not path.is_file():
        return [Check("bbt-json: export file", False, f"{path} does not exist",
                      "in Zotero: File → Export Library…, 'Better BibTeX JSON', tick 'Keep "
                      "updated'")]  # fmt: skip
    try:
        export = json.loads(path.read_text(encoding="utf-8"))
        items = export["items"]
        label = str((export.get("config") or {}).get("label", ""))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return [Check("bbt-json: export file", False, f"{path} is not a BBT JSON export",
                      "export with the 'Better BibTeX JSON' format")]  # fmt: skip
    checks = [Check("bbt-json: export file", True, f"{len(items)} entries ({label or 'BBT'})")]
    mtime = path.stat().st_mtime
    age_days = ((now if now is not None else time.time()) - mtime) / 86400
    if zotero_db is not None and zotero_db.exists() and zotero_db.stat().st_mtime > mtime + 60:
        checks.append(Check("bbt-json: export fresh", False,
                            "Zotero's database changed after the export was written",
                            "tick 'Keep updated' when exporting (Better BibTeX → Automatic "
                            "export)"))  # fmt: skip
    elif age_days > max_age_days:
        checks.append(Check("bbt-json: export fresh", False, f"{age_days:.0f} days old",
                            "re-export, or enable 'Keep updated'"))  # fmt: skip
    else:
        checks.append(Check("bbt-json: export fresh", True, f"written {age_days:.1f} days ago"))
    return checks


def probe_source(kind: str, **options: Any) -> list[Check]:
    """Dispatch by ``--source`` name; unknown kinds (sqlite, demo) are not probed here."""
    if kind == "web":
        return probe_web(**options)
    if kind == "local":
        return probe_local(**options)
    if kind == "bbt-json":
        return probe_bbt(**options)
    return []
