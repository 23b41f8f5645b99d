"""Create items through the Zotero web API when the desktop is not running.

Writes follow the web API v3 rules (see docs): ``POST /<library>/items`` with a JSON array
and a ``Zotero-Write-Token`` (32 random hex characters). The token makes a retry safe: if
the first attempt reached the server but the answer was lost, the retry with the *same* token
gets ``412 Precondition Failed`` instead of creating a second copy — zotsync then looks the
item up instead of failing. 429/5xx and lost connections are retried after ``Retry-After``
(or 1, 2, 4 s), by the one retry policy of :mod:`zotsync.http`.

httpx is used rather than pyzotero's ``create_items`` because pyzotero makes a new write
token per call, which would turn a retried request into a duplicate item. The API key goes
in the ``Zotero-API-Key`` header and never into a message or log line.

Children follow in a second request: the arXiv comment as a note, and the PDF as a
``linked_url`` attachment (the web API cannot fetch a file for us, and uploading files is a
separate protocol; a linked URL is what Zotero itself makes for "Attach Link to URI").
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from zotsync.errors import RemoteError
from zotsync.http import Pacer, RetryPolicy, make_client, send

DEFAULT_API_URL = "https://api.zotero.org"
MAX_ATTEMPTS = 4
#: a write carries its token, so repeating it after a lost connection is safe
WRITE_RETRY = RetryPolicy(
    statuses=frozenset({429, 500, 502, 503, 504}),
    max_retries=MAX_ATTEMPTS - 1,
    transport_errors=True,
)


@dataclass(frozen=True, slots=True)
class WebTarget:
    """Where to write: API root, library, key.

    ``library`` is a prefix (``users/123``, ``groups/456``) or a config label (``user:123``,
    ``group:456``, or plain ``user``: the key's own library, its id read from
    ``/keys/current`` by the writer the first time it needs it — never when the desktop
    took the add).
    """

    library: str
    api_key: str
    base_url: str = ""

    @property
    def root(self) -> str:
        url = self.base_url or os.environ.get("ZOTSYNC_ZOTERO_API_URL") or DEFAULT_API_URL
        return url.rstrip("/")

    def __repr__(self) -> str:  # never show the key
        return f"WebTarget(library={self.library!r}, base_url={self.root!r})"


def write_token() -> str:
    """A fresh ``Zotero-Write-Token``: 32 hex characters."""
    return secrets.token_hex(16)


class WebWriter:
    """Item creation in one library; ``sleep`` is injectable so tests never wait."""

    def __init__(
        self,
        target: WebTarget,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self.target = target
        self._pacer = Pacer(sleep=sleep)
        self._prefix: str | None = None
        self._http = make_client(
            timeout=timeout,
            headers={"Zotero-API-Version": "3", "Zotero-API-Key": target.api_key},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WebWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def library_prefix(self) -> str:
        """``users/ID`` or ``groups/ID``; a plain ``user`` costs one ``/keys/current``."""
        if self._prefix is None:
            label = self.target.library
            if label.startswith(("users/", "groups/")):
                self._prefix = label
            elif label.startswith("group:"):
                self._prefix = f"groups/{label.split(':', 1)[1]}"
            elif label.startswith("user:"):
                self._prefix = f"users/{label.split(':', 1)[1]}"
            else:
                self._prefix = f"users/{self._own_user_id()}"
        return self._prefix

    def _own_user_id(self) -> int:
        fix = "check ZOTERO_API_KEY, or set library: user:ID in zotsync.yaml"
        try:
            response = self._http.get(f"{self.target.root}/keys/current")
        except httpx.HTTPError as err:
            raise RemoteError(
                f"Zotero web API unreachable ({type(err).__name__})", fix=fix
            ) from None
        try:
            response.raise_for_status()
            user_id = int(response.json()["userID"])
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            raise RemoteError(
                f"could not read the user id of the API key (HTTP {response.status_code})",
                fix=fix,
            ) from None
        return user_id

    def _url(self, path: str) -> str:
        return f"{self.target.root}/{self.library_prefix()}/{path}"

    def _post_items(self, objects: Sequence[dict[str, Any]]) -> httpx.Response | None:
        """POST with one write token across retries; None means 412 (already written)."""
        token = write_token()
        body = json.dumps(list(objects)).encode("utf-8")
        try:
            response = send(
                self._http, "POST", self._url("items"), policy=WRITE_RETRY, pacer=self._pacer,
                content=body,
                headers={"Content-Type": "application/json", "Zotero-Write-Token": token},
            )  # fmt: skip
        except httpx.TransportError as err:
            raise RemoteError(f"Zotero web API unreachable: {err}") from err
        if response.status_code == 412:
            return None
        if response.status_code == 403:
            raise RemoteError(
                "the Zotero API key may not write to this library",
                fix="create a key with write access at https://www.zotero.org/settings/keys",
            )
        if response.status_code != 200:
            raise RemoteError(
                f"Zotero web API refused the write: HTTP {response.status_code} "
                f"{response.text[:200]}"
            )
        return response

    def create(self, objects: Sequence[dict[str, Any]]) -> list[str | None]:
        """Create objects; their new keys in order (None where one failed or is unknown)."""
        response = self._post_items(objects)
        if response is None:
            return [None] * len(objects)
        result = response.json()
        success = result.get("success", {}) if isinstance(result, dict) else {}
        failed = result.get("failed", {}) if isinstance(result, dict) else {}
        if failed and not success:
            first = next(iter(failed.values()))
            raise RemoteError(f"Zotero rejected the item: {first.get('message', first)}")
        return [success.get(str(i)) for i in range(len(objects))]

    def find_existing(self, arxiv_id: str, title: str) -> str | None:
        """Key of a top-level item for this arXiv id (after a 412 on a retried create)."""
        response = self._http.get(
            self._url("items/top"),
            params={"q": title, "qmode": "titleCreatorYear", "format": "json", "limit": 25},
        )
        if response.status_code != 200:
            return None
        for entry in response.json():
            data = entry.get("data", {}) if isinstance(entry, dict) else {}
            text = " ".join(str(data.get(f, "")) for f in ("archiveID", "DOI", "extra", "url"))
            if arxiv_id.lower() in text.lower():
                return str(entry.get("key") or data.get("key"))
        return None

    def collection_key(self, collection: str) -> str | None:
        """The key of a collection given by key, name or ``Parent/Child`` path."""
        collections: list[dict[str, Any]] = []
        start = 0
        while True:
            response = self._http.get(
                self._url("collections"), params={"limit": 100, "start": start, "format": "json"}
            )
            if response.status_code != 200:
                raise RemoteError(f"listing collections failed: HTTP {response.status_code}")
            page = response.json()
            collections += [c.get("data", c) for c in page if isinstance(c, dict)]
            total = int(response.headers.get("Total-Results", len(collections)))
            start += len(page)
            if not page or start >= total:
                break
        by_key = {str(c.get("key")): c for c in collections}
        if collection in by_key:
            return collection

        def path(c: dict[str, Any]) -> str:
            names, seen = [], set()
            while c and c.get("key") not in seen:
                seen.add(c.get("key"))
                names.append(str(c.get("name", "")))
                c = by_key.get(str(c.get("parentCollection") or ""), {})
            return "/".join(reversed(names))

        wanted = collection.strip().strip("/")
        for c in collections:
            if path(c) == wanted:
                return str(c["key"])
        named = [str(c["key"]) for c in collections if c.get("name") == wanted]
        return named[0] if len(named) == 1 else None


def child_objects(
    parent_key: str, notes: Sequence[str], pdf_url: str, pdf_title: str = "Preprint PDF"
) -> list[dict[str, Any]]:
    """Web API JSON for an item's children: HTML notes and a linked-URL PDF attachment."""
    children: list[dict[str, Any]] = [
        {"itemType": "note", "parentItem": parent_key, "note": note, "tags": [], "relations": {}}
        for note in notes
    ]
    if pdf_url:
        children.append(
            {
                "itemType": "attachment",
                "parentItem": parent_key,
                "linkMode": "linked_url",
                "title": pdf_title,
                "url": pdf_url,
                "contentType": "application/pdf",
                "accessDate": "",
                "note": "",
                "tags": [],
                "relations": {},
            }
        )
    return children
