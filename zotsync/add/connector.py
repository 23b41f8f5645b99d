"""A client for the Zotero desktop's connector server (the browser button's protocol).

Saving through the running desktop is the best path for ``zotsync add``: no API key, the item
lands in the collection the user has selected, and Zotero itself stores the PDF. The
protocol (``server_connector.js``, see docs): ``GET /connector/ping`` answers when Zotero
runs; ``POST /connector/saveItems`` with a *fresh* ``sessionID`` per save (a reused one is
``409 SESSION_EXISTS``); from Zotero 7.0.20 (connector API 3, ``supportsAttachmentUpload`` in
the ping prefs) attachments in ``saveItems`` are ignored and each file is uploaded with
``POST /connector/saveAttachment`` (raw bytes, ``X-Metadata`` JSON naming the parent).

No ``X-Zotero-Connector-API-Version`` header is sent: an outdated one makes Zotero 7.0.20+
refuse ``saveItems`` with ``CONNECTOR_VERSION_OUTDATED`` and pop up a dialog, and a
non-browser client does not need it. The connector listens on the local API's host and port
(``ZOTSYNC_ZOTERO_LOCAL_URL``, default ``http://127.0.0.1:23119/api``) at ``/connector/…``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from zotsync.errors import RemoteError

DEFAULT_LOCAL_URL = "http://127.0.0.1:23119/api"
USER_AGENT = "zotsync/0.1 (+https://github.com/zotsync)"


class SessionExists(RemoteError):
    """``saveItems`` said ``SESSION_EXISTS``: the session id was used before."""


def connector_base(local_url: str | None = None) -> str:
    """``http://host:port`` of the connector, from the local API URL (its path dropped)."""
    url = local_url or os.environ.get("ZOTSYNC_ZOTERO_LOCAL_URL") or DEFAULT_LOCAL_URL
    parts = urlsplit(url)
    return urlunsplit((parts.scheme or "http", parts.netloc, "", "", ""))


class ConnectorClient:
    """Talks to ``<base>/connector/…``; every call is one request with a short timeout."""

    def __init__(self, base_url: str | None = None, *, timeout: float = 10.0) -> None:
        self.base_url = (base_url or connector_base()).rstrip("/")
        self._http = httpx.Client(
            timeout=timeout,
            trust_env=False,  # loopback: never through a proxy
            headers={"User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ConnectorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _url(self, endpoint: str) -> str:
        return f"{self.base_url}/connector/{endpoint}"

    def _post_json(self, endpoint: str, body: object, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.post(
                self._url(endpoint),
                content=json.dumps(body).encode("utf-8"),
                headers={"Content-Type": "application/json"},
                **kwargs,
            )
        except httpx.HTTPError as err:
            raise RemoteError(
                f"Zotero connector at {self.base_url} did not answer: {err}",
                fix="start Zotero, or set ZOTSYNC_ZOTERO_LOCAL_URL",
            ) from err

    def ping(self) -> bool:
        """True when a Zotero desktop answers ``GET /connector/ping``."""
        try:
            response = self._http.get(self._url("ping"), timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def prefs(self) -> dict[str, Any]:
        """The ``prefs`` object of ``POST /connector/ping`` (empty if Zotero sends none)."""
        response = self._post_json("ping", {})
        if response.status_code != 200:
            return {}
        try:
            body = response.json()
        except ValueError:
            return {}
        prefs = body.get("prefs") if isinstance(body, dict) else None
        return prefs if isinstance(prefs, dict) else {}

    def supports_attachment_upload(self) -> bool:
        """Zotero 7.0.20+ wants files via ``saveAttachment`` (it ignores them in saveItems)."""
        return bool(self.prefs().get("supportsAttachmentUpload"))

    def save_items(
        self, session_id: str, items: Sequence[dict[str, Any]], uri: str = ""
    ) -> dict[str, Any] | None:
        """``saveItems``; the parsed body (older Zotero) or None (7.0.20+ sends none).

        Raises :class:`SessionExists` on 409, :class:`RemoteError` on anything but 201.
        """
        body = {"sessionID": session_id, "uri": uri, "items": list(items)}
        response = self._post_json("saveItems", body, timeout=60.0)
        if response.status_code == 409:
            raise SessionExists(f"connector session {session_id} already exists")
        if response.status_code == 500 and "libraryEditable" in response.text:
            raise RemoteError(
                "the library selected in Zotero is read-only",
                fix="select an editable library or collection in Zotero and try again",
            )
        if response.status_code != 201:
            raise RemoteError(
                f"Zotero refused saveItems: HTTP {response.status_code} {response.text[:200]}",
                fix="update Zotero, or add with the web API (ZOTERO_API_KEY)",
            )
        if not response.content.strip():
            return None
        try:
            parsed = response.json()
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def save_attachment(
        self,
        session_id: str,
        parent_item_id: str,
        content: bytes,
        *,
        title: str = "Preprint PDF",
        url: str = "",
        content_type: str = "application/pdf",
    ) -> None:
        """Upload one file for an item of this session (``saveAttachment``)."""
        metadata = {
            "sessionID": session_id,
            "parentItemID": parent_item_id,
            "title": title,
            "url": url,
        }
        try:
            response = self._http.post(
                self._url("saveAttachment"),
                params={"sessionID": session_id},
                content=content,
                headers={"Content-Type": content_type, "X-Metadata": json.dumps(metadata)},
                timeout=120.0,
            )
        except httpx.HTTPError as err:
            raise RemoteError(f"uploading {title} to Zotero failed: {err}") from err
        if response.status_code not in (200, 201):
            raise RemoteError(
                f"Zotero refused the attachment: HTTP {response.status_code} {response.text[:200]}"
            )

    def targets(self) -> list[dict[str, Any]]:
        """Editable libraries and collections (``getSelectedCollection`` ``targets``)."""
        response = self._post_json("getSelectedCollection", {})
        if response.status_code != 200:
            return []
        try:
            targets = response.json().get("targets", [])
        except (ValueError, AttributeError):
            return []
        return [t for t in targets if isinstance(t, dict)]

    def selected_target(self) -> str | None:
        """The tree-view id (``C12``/``L1``) of what is selected in the Zotero window.

        ``getSelectedCollection`` reports the collection's number as ``id`` (null when a
        library is selected, then ``libraryID`` names it); ``updateSession`` wants ``C``/``L``
        ids, and answers 500 without one, so this is what an add with no ``--collection``
        sends: the paper stays where the user is looking.
        """
        response = self._post_json("getSelectedCollection", {})
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        ident, library = body.get("id"), body.get("libraryID")
        if isinstance(ident, int) and not isinstance(ident, bool):
            return f"C{ident}"
        if isinstance(library, int) and not isinstance(library, bool):
            return f"L{library}"
        return None

    def update_session(self, session_id: str, target: str, tags: Sequence[str]) -> None:
        """Move the session's items to ``target`` (``C12``/``L1``) and add manual tags.

        The desktop needs ``target`` and reads ``tags`` as one comma-separated string; tags
        given here become manual tags (those inside ``saveItems`` are made automatic).
        """
        body: dict[str, Any] = {"sessionID": session_id, "target": target, "tags": ", ".join(tags)}
        response = self._post_json("updateSession", body)
        if response.status_code not in (200, 201, 204):
            raise RemoteError(
                f"Zotero refused updateSession: HTTP {response.status_code} {response.text[:200]}"
            )


def find_target(targets: Sequence[dict[str, Any]], collection: str) -> str | None:
    """The target id (``C12``) of a collection given by name or ``Parent/Child`` path.

    ``targets`` come in tree order with ``level``; a path is rebuilt from the levels. A bare
    name matches only when exactly one collection has it.
    """
    wanted = collection.strip().strip("/")
    stack: list[str] = []
    by_path: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    for target in targets:
        tid, name, level = (
            str(target.get("id", "")),
            str(target.get("name", "")),
            target.get("level", 0),
        )
        level = level if isinstance(level, int) else 0
        del stack[level:]
        stack.append(name)
        if not tid.startswith("C"):
            continue
        by_path["/".join(stack[1:])] = tid
        by_name.setdefault(name, []).append(tid)
    if wanted in by_path:
        return by_path[wanted]
    matches = by_name.get(wanted, [])
    return matches[0] if len(matches) == 1 else None
