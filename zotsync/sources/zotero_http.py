"""HTTP and cache plumbing shared by the ``web`` and ``local`` sources (Zotero API v3).

Why requests do not go through pyzotero's methods: pyzotero raises on a 304, keeps
per-request state on the instance (``zot.request``, ``zot.links``), which rules out 4-way
concurrency, and its 429 handling gives up without a ``Retry-After``. So :class:`ApiClient`
sends the API's headers (``Zotero-API-Version: 3``, ``Authorization: Bearer``) through
zotsync's own httpx client (:mod:`zotsync.http`: the one retry policy for
``Backoff``/``Retry-After``/429/503 with exponential backoff from 1 s), adding conditional
requests, ``Link`` pagination and the concurrency limit. The API key lives only in the
``Authorization`` header: never in URLs, the cache, logs or exception messages.

:class:`ObjectCache` keeps the objects' JSON per library partition in SQLite, and
:class:`SyncPass` collects one pass's changes so they are committed only if every response
reported the same library version (else :class:`VersionMoved`, and the pass restarts).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pyzotero import zotero

from zotsync.errors import SourceUnavailable
from zotsync.http import Pacer, RetryPolicy, make_client, send
from zotsync.sources.zotero_json import JsonObj
from zotsync.state.object_cache import ObjectCache

__all__ = [
    "BATCH",
    "MAX_CONCURRENCY",
    "MAX_RETRIES",
    "ApiClient",
    "ApiResponse",
    "ObjectCache",
    "SyncPass",
    "VersionMoved",
    "envelope_data",
    "until_stable",
]

T = TypeVar("T")
BATCH = 50
MAX_CONCURRENCY = 4
MAX_RETRIES = 5
#: the Zotero API's rate limits: 429/503, ``Retry-After`` or 1, 2, 4 … s
ZOTERO_RETRY = RetryPolicy(statuses=frozenset({429, 503}), max_retries=MAX_RETRIES)


@dataclass
class ApiResponse:
    status: int
    headers: httpx.Headers
    body: Any = None

    @property
    def version(self) -> int | None:
        raw = self.headers.get("Last-Modified-Version")
        return int(raw) if raw and raw.isdigit() else None


class VersionMoved(Exception):
    """The library version changed during a sync pass; the pass must restart."""


def until_stable(sync_pass: Callable[[], T], attempts: int) -> T:
    """Run ``sync_pass`` again while the library version moves under it, ``attempts`` times."""
    for _ in range(attempts):
        try:
            return sync_pass()
        except VersionMoved:
            continue
    raise SourceUnavailable(
        "the library kept changing during the sync", fix="run zotsync sync again"
    )


class ApiClient:
    """HTTP for the Zotero API v3 (web or local): retries, backoff, pagination, concurrency."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        local: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        max_workers: int = MAX_CONCURRENCY,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.local = local
        self._api_key = api_key
        headers = {"Zotero-API-Version": "3"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.extra_headers: dict[str, str] = {}
        self._http = make_client(headers=headers, loopback=local)
        self._pacer = Pacer(sleep=sleep)
        self._max_workers = max_workers

    @functools.cached_property
    def zot(self) -> zotero.Zotero:
        """pyzotero, for the local API's write authorisation only (it opens its own client)."""
        zot = zotero.Zotero(0, "user", api_key=self._api_key, local=self.local)
        zot.endpoint = self.base_url
        return zot

    def close(self) -> None:
        self._http.close()
        zot = self.__dict__.get("zot")  # only when it was made
        if zot is not None and zot.client is not None:
            zot.client.close()

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        ok: Iterable[int] = (200, 204, 304),
    ) -> ApiResponse:
        """One request with 429/503 retries; other failures → :class:`SourceUnavailable`."""
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        sent = {**self.extra_headers, **(headers or {})}
        try:
            resp = send(
                self._http, method, url, policy=ZOTERO_RETRY, pacer=self._pacer,
                params=params, headers=sent, json=json_body,
            )  # fmt: skip
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if resp.status_code in set(ok):
            body = None
            if resp.status_code == 200 and resp.content:
                is_json = "json" in resp.headers.get("Content-Type", "json")
                body = resp.json() if is_json else resp.text
            return ApiResponse(resp.status_code, resp.headers, body)
        raise self.http_error(resp.status_code, resp.text, path)

    def get(self, path: str, params: dict[str, str] | None = None, **kw: Any) -> ApiResponse:
        return self.request("GET", path, params, **kw)

    def get_all(self, path: str, params: dict[str, str]) -> Iterator[ApiResponse]:
        """Every page of a multi-object GET, following ``Link: <…>; rel="next"``."""
        response = self.get(path, params)
        yield response
        while (nxt := _next_link(response.headers.get("Link", ""))) is not None:
            parts = urlsplit(nxt)
            # like pyzotero, only path+query of the link count; they are re-joined to the base
            base_path = urlsplit(self.base_url).path.rstrip("/")
            tail = parts.path[len(base_path) :] if parts.path.startswith(base_path) else parts.path
            response = self.get(f"{tail}?{parts.query}" if parts.query else tail)
            yield response

    def get_batches(
        self, path: str, keys: list[str], key_param: str, params: dict[str, str]
    ) -> list[ApiResponse]:
        """Objects by key, ``BATCH`` keys per request, at most ``max_workers`` in flight."""
        batches = [keys[i : i + BATCH] for i in range(0, len(keys), BATCH)]

        def fetch(batch: list[str]) -> list[ApiResponse]:
            query = {**params, key_param: ",".join(batch), "limit": str(BATCH)}
            return list(self.get_all(path, query))

        if len(batches) <= 1:
            return [r for b in batches for r in fetch(b)]
        with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
            return [r for rs in pool.map(fetch, batches) for r in rs]

    def _unreachable(self, exc: Exception) -> SourceUnavailable:
        if self.local:
            return SourceUnavailable(
                f"Zotero is not answering at {self.base_url} ({type(exc).__name__})",
                fix="start Zotero (7 or later) on this computer, then run zotsync again",
            )
        return SourceUnavailable(
            f"cannot reach the Zotero web API at {self.base_url} ({type(exc).__name__})",
            fix="check the network connection or ZOTSYNC_ZOTERO_API_URL",
        )

    def http_error(self, status: int, text: str, path: str) -> SourceUnavailable:
        """An HTTP failure as a user error with its fix (the key is never part of it)."""
        where = path.split("?", 1)[0]
        if self.local and status == 403:
            return SourceUnavailable(
                "Zotero's local API is switched off (403 Local API is not enabled)",
                fix="in Zotero open Settings → Advanced and tick 'Allow other applications on "
                "this computer to communicate with Zotero'",
            )
        if status in (401, 403):
            return SourceUnavailable(
                f"the Zotero API refused access to {where} ({status}): the API key is invalid "
                "or lacks permission for this library",
                fix="create a key with read access at https://www.zotero.org/settings/keys and "
                "put it in ZOTERO_API_KEY (or the OS keyring)",
            )
        if status == 404:
            return SourceUnavailable(
                f"{where} does not exist ({status})",
                fix="check --library (user, user:ID or group:ID) and the group id",
            )
        return SourceUnavailable(
            f"the Zotero API answered {status} for {where}: {text[:200]}",
            fix="try again later; if it persists, run `zotsync doctor`",
        )


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        match = re.search(r'<([^>]*)>\s*;\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


def envelope_data(objs: Iterable[Any]) -> Iterator[JsonObj]:
    for obj in objs:
        if isinstance(obj, dict):
            yield dict(obj["data"]) if isinstance(obj.get("data"), dict) else obj


@dataclass
class SyncPass:
    """What one sync pass fetched, committed only if every response agreed on ``version``."""

    version: int
    upserts: list[tuple[str, JsonObj]] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)
    name: str | None = None

    def check(self, response: ApiResponse) -> None:
        seen = response.version
        if seen is not None and seen != self.version:
            raise VersionMoved(f"{self.version} -> {seen}")

    def take(self, kind: str, responses: Iterable[ApiResponse]) -> None:
        for response in responses:
            self.check(response)
            for obj in response.body or []:
                if isinstance(obj, dict) and isinstance(obj.get("library"), dict):
                    self.name = self.name or obj["library"].get("name")
            self.upserts.extend((kind, d) for d in envelope_data(response.body or []))

    def fetch_changed(
        self,
        client: ApiClient,
        cache: ObjectCache,
        part: str,
        prefix: str,
        listed: tuple[dict[str, int], dict[str, int]],
    ) -> tuple[dict[str, int], dict[str, int], list[ApiResponse]]:
        """Fetch the listed items and collections whose version the cache does not hold.

        ``listed`` is (item key → version, collection key → version) as the server listed
        them; returns the cache's versions of both kinds and the item responses.
        """
        have = cache.versions(part, "item")
        have_c = cache.versions(part, "collection")
        changed = sorted(k for k, v in listed[0].items() if have.get(k) != v)
        changed_c = sorted(k for k, v in listed[1].items() if have_c.get(k) != v)
        responses = client.get_batches(f"{prefix}/items", changed, "itemKey",
                                       {"includeTrashed": "1"})  # fmt: skip
        self.take("item", responses)
        self.take("collection", client.get_batches(f"{prefix}/collections", changed_c,
                                                   "collectionKey", {}))  # fmt: skip
        return have, have_c, responses
