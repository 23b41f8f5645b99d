"""Status write-back: a paper marked ``read`` in its note gets the Zotero tag ``read``.

Opt-in (``writeback: true``) and deliberately narrow: the only thing zotsync ever writes to
Zotero is an item's ``tags``, and only the reading-status tags within them (``to-read``,
``reading``, ``read``): the new status tag is added, the other two removed, every other tag
kept as it was (with its type). The request is a ``PATCH`` whose body holds ``tags`` alone,
so no other field can be touched even if our copy of the item were stale.

Concurrency: the PATCH carries ``If-Unmodified-Since-Version`` = the item version just read.
If the user edited the item in between, the server answers 412; the item is read again and
the write retried once with the fresh version and tags (the user's new tags are kept).

Targets: the web API (key with write access), and the Zotero 10 local API, which needs the
``Zotero-Server-ID`` header and a local key from ``POST /api/local/authorize`` (pyzotero's
``authorize_local``, which makes Zotero ask the user). Zotero 7–9's local API is read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from pyzotero import errors as pz_errors

from zotsync.errors import RemoteError, SourceUnavailable
from zotsync.library.status import STATUS_TAGS
from zotsync.sources.credentials import api_key as find_api_key
from zotsync.sources.local import DEFAULT_LOCAL_URL
from zotsync.sources.web import DEFAULT_API_URL, ApiClient, parse_library

APP_NAME = "zotsync"


@dataclass(frozen=True)
class WritebackResult:
    key: str
    changed: bool
    version: int | None
    tags: list[str]


def status_tags(tags: list[dict[str, Any]], status: str) -> list[dict[str, Any]] | None:
    """The item's tags with ``status`` set, or None when they already say so (pure)."""
    if status not in STATUS_TAGS:
        raise ValueError(f"status must be one of {', '.join(STATUS_TAGS)}, not {status!r}")
    names = [t.get("tag") for t in tags]
    others = [s for s in STATUS_TAGS if s != status]
    if status in names and not any(s in names for s in others):
        return None
    kept = [t for t in tags if t.get("tag") not in others]
    if status not in names:
        kept.append({"tag": status})
    return kept


def _web_client(library: str, api_key: str | None, base_url: str | None) -> tuple[ApiClient, str]:
    key = find_api_key(api_key)
    if not key:
        raise SourceUnavailable(
            "write-back to the web API needs an API key with write access",
            fix="set ZOTERO_API_KEY to a key with 'Allow write access'",
        )
    url = base_url or os.environ.get("ZOTSYNC_ZOTERO_API_URL") or DEFAULT_API_URL
    client = ApiClient(url, api_key=key)
    kind, ident = parse_library(library)
    if ident is None:
        ident = int((client.get("keys/current").body or {}).get("userID") or 0)
    return client, f"{kind}/{ident}"


def _local_client(
    library: str, base_url: str | None, local_key: str | None
) -> tuple[ApiClient, str]:
    url = base_url or os.environ.get("ZOTSYNC_ZOTERO_LOCAL_URL") or DEFAULT_LOCAL_URL
    client = ApiClient(url, local=True)
    kind, ident = parse_library(library)
    prefix = f"{kind}/{ident if ident is not None else 0}"
    probe = client.get(f"{prefix}/items/top", {"limit": "1", "format": "keys"})
    server_id = probe.headers.get("Zotero-Server-ID")
    if not server_id:
        raise SourceUnavailable(
            "this Zotero's local API is read-only (Zotero 7–9)",
            fix="update to Zotero 10, or use the web source for write-back",
        )
    client.zot.server_id = server_id
    if not local_key:
        try:
            local_key = str(client.zot.authorize_local(APP_NAME)["key"])
        except pz_errors.PyZoteroError as exc:
            raise SourceUnavailable(
                f"Zotero did not authorise zotsync to write ({type(exc).__name__})",
                fix="answer 'Always Allow' in the Zotero dialog, then sync again",
            ) from None
    client.extra_headers.update({"Zotero-Server-ID": server_id, "Zotero-API-Key": local_key})
    return client, prefix


def set_read_status(
    source_kind: Literal["web", "local"],
    key: str,
    status: str = "read",
    *,
    library: str = "user",
    api_key: str | None = None,
    base_url: str | None = None,
    local_api_key: str | None = None,
) -> WritebackResult:
    """Set the item's reading-status tag; only ``tags`` is written (see module doc)."""
    if source_kind == "web":
        client, prefix = _web_client(library, api_key, base_url)
    elif source_kind == "local":
        client, prefix = _local_client(library, base_url, local_api_key)
    else:
        raise ValueError(f"write-back works with the web or local source, not {source_kind!r}")
    try:
        for _attempt in range(2):
            current = client.get(f"{prefix}/items/{key}").body or {}
            data = current.get("data", current)
            new_tags = status_tags(list(data.get("tags") or []), status)
            if new_tags is None:
                return WritebackResult(key, False, data.get("version"), _names(data["tags"]))
            response = client.request(
                "PATCH",
                f"{prefix}/items/{key}",
                headers={"If-Unmodified-Since-Version": str(data.get("version", 0))},
                json_body={"tags": new_tags},
                ok=(200, 204, 412),
            )
            if response.status != 412:
                return WritebackResult(key, True, response.version, _names(new_tags))
        raise RemoteError(
            f"item {key} kept changing while zotsync set its status tag",
            fix="run zotsync sync again",
        )
    finally:
        client.close()


def _names(tags: list[dict[str, Any]]) -> list[str]:
    return [str(t.get("tag")) for t in tags]
