"""The ``web`` source: the Zotero web API v3, incremental, through pyzotero's client.

Algorithm of one :meth:`WebSource.read` (the Zotero client's own sync recipe):

1. ``GET /items?since=V&format=versions&includeTrashed=1`` with ``If-Modified-Since-Version: V``
   (V = the cached library version). ``304`` → nothing changed: the library is rebuilt from
   the cache after exactly one request. Otherwise the response's ``Last-Modified-Version`` is
   the target version V'.
2. ``GET /collections?since=V&format=versions``; changed items and collections are fetched
   in ``itemKey``/``collectionKey`` batches of 50, at most 4 requests at a time.
3. ``GET /deleted?since=V`` lists permanent deletions (trash arrives as ``deleted: 1`` and
   is kept in the cache but never in the Library).
4. Every response must report V'. If one reports more, the library moved mid-sync: nothing
   is committed and the pass restarts from V, so the cache never mixes two versions.
5. The changes and V' are committed to the cache in one SQLite transaction.

Why requests go through ``zot.client`` rather than pyzotero's methods: pyzotero raises on a
304, keeps per-request state on the instance (``zot.request``, ``zot.links``), which rules out
4-way concurrency, and its 429 handling gives up without a ``Retry-After``. So pyzotero builds
the client, endpoint and auth headers (``zot.default_headers()``), and :class:`ApiClient`
adds conditional requests, ``Backoff``/``Retry-After``/503 handling with exponential backoff
from 1 s, ``Link`` pagination and the concurrency limit. The API key lives only in the
``Authorization`` header: never in URLs, the cache, logs or exception messages.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
from pyzotero import zotero

from zotsync.errors import ConfigError, SourceUnavailable
from zotsync.model import Library, LibraryRef
from zotsync.sources.credentials import api_key as find_api_key
from zotsync.sources.credentials import fingerprint
from zotsync.sources.zotero_json import JsonObj, library_from_objects, restrict_to_collections

DEFAULT_API_URL = "https://api.zotero.org"
BATCH = 50
MAX_CONCURRENCY = 4
MAX_RETRIES = 5
MAX_RESTARTS = 4
#: model attributes (``<level>.<attribute>``, as the source contract names them) that this
#: source cannot know: none — the web API carries everything the model holds (``data_dir``,
#: which only the desktop has, is not part of the comparison)
UNKNOWN_TO_SOURCE: frozenset[str] = frozenset()


@dataclass
class ApiResponse:
    status: int
    headers: httpx2.Headers
    body: Any = None

    @property
    def version(self) -> int | None:
        raw = self.headers.get("Last-Modified-Version")
        return int(raw) if raw and raw.isdigit() else None


class VersionMoved(Exception):
    """The library version changed during a sync pass; the pass must restart."""


def parse_library(spec: str) -> tuple[str, int | None]:
    """``user`` → (users, None: ask /keys/current), ``user:ID``, ``group:ID`` → (kind, id)."""
    match = re.fullmatch(r"(user|group)(?::(\d+))?", spec.strip())
    if not match or (match.group(1) == "group" and not match.group(2)):
        raise ConfigError([f"library {spec!r} is not 'user', 'user:ID' or 'group:ID'"])
    kind = "users" if match.group(1) == "user" else "groups"
    return kind, int(match.group(2)) if match.group(2) else None


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
        self.zot = zotero.Zotero(0, "user", api_key=api_key, local=local)
        self.zot.endpoint = base_url.rstrip("/")
        self.local = local
        self.extra_headers: dict[str, str] = {}
        self._sleep = sleep
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._not_before = 0.0

    @property
    def base_url(self) -> str:
        return str(self.zot.endpoint)

    def close(self) -> None:
        if self.zot.client is not None:
            self.zot.client.close()

    def _pause_until(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def _wait_for_backoff(self) -> None:
        with self._lock:
            target = self._not_before
        remaining = target - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)
            with self._lock:  # served: later requests need not wait for it again
                if self._not_before == target:
                    self._not_before = 0.0

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
        sent = {**self.zot.default_headers(), **self.extra_headers, **(headers or {})}
        assert self.zot.client is not None
        for attempt in range(MAX_RETRIES + 1):
            self._wait_for_backoff()
            try:
                resp = self.zot.client.request(
                    method, url, params=params, headers=sent, json=json_body
                )
            except httpx2.TransportError as exc:
                raise self._unreachable(exc) from None
            backoff = _seconds(resp.headers.get("Backoff"))
            if backoff:
                self._pause_until(backoff)
            if resp.status_code in (429, 503) and attempt < MAX_RETRIES:
                delay = _seconds(resp.headers.get("Retry-After")) or float(2**attempt)
                self._pause_until(delay)
                continue
            if resp.status_code in set(ok):
                body = None
                if resp.status_code == 200 and resp.content:
                    is_json = "json" in resp.headers.get("Content-Type", "json")
                    body = resp.json() if is_json else resp.text
                return ApiResponse(resp.status_code, resp.headers, body)
            raise self.http_error(resp.status_code, resp.text, path)
        raise SourceUnavailable(  # pragma: no cover - the loop always returns or raises
            "the Zotero API kept refusing requests (rate limited)", fix="try again later"
        )

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


def _seconds(raw: str | None) -> float:
    try:
        return max(0.0, float(raw)) if raw else 0.0
    except ValueError:
        return 0.0


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        match = re.search(r'<([^>]*)>\s*;\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


class ObjectCache:
    """Items' and collections' JSON per partition (library), plus small metadata, in SQLite.

    SQLite gives the atomic commit for free: a crash mid-write leaves the previous state.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db, db:
            db.executescript(
                "CREATE TABLE IF NOT EXISTS objects (part TEXT, kind TEXT, key TEXT,"
                " version INT, data TEXT, PRIMARY KEY (part, kind, key));"
                "CREATE TABLE IF NOT EXISTS meta (part TEXT, name TEXT, value TEXT,"
                " PRIMARY KEY (part, name));"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def meta(self, part: str, name: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT value FROM meta WHERE part=? AND name=?", (part, name)
            ).fetchone()
        return row[0] if row else None

    def versions(self, part: str, kind: str) -> dict[str, int]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT key, version FROM objects WHERE part=? AND kind=?", (part, kind)
            ).fetchall()
        return dict(rows)

    def objects(self, part: str, kind: str) -> list[JsonObj]:
        import json

        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT data FROM objects WHERE part=? AND kind=?", (part, kind)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def commit(
        self,
        part: str,
        *,
        upserts: Iterable[tuple[str, JsonObj]] = (),
        deletes: Iterable[tuple[str, str]] = (),
        meta: dict[str, str] | None = None,
        replace: bool = False,
    ) -> None:
        """Apply one sync pass atomically (``replace`` first empties the partition)."""
        import json

        with closing(self._connect()) as db, db:
            if replace:
                db.execute("DELETE FROM objects WHERE part=?", (part,))
            db.executemany(
                "INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?)",
                [(part, kind, d["key"], int(d.get("version") or 0), json.dumps(d))
                 for kind, d in upserts],
            )  # fmt: skip
            db.executemany(
                "DELETE FROM objects WHERE part=? AND kind=? AND key=?",
                [(part, kind, key) for kind, key in deletes],
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?,?,?)",
                [(part, k, v) for k, v in (meta or {}).items()],
            )


def envelope_data(objs: Iterable[Any]) -> Iterator[JsonObj]:
    for obj in objs:
        if isinstance(obj, dict):
            yield dict(obj["data"]) if isinstance(obj.get("data"), dict) else obj


@dataclass
class _Pass:
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


class WebSource:
    """A user or group library on zotero.org (or ``ZOTSYNC_ZOTERO_API_URL``)."""

    name = "web"

    def __init__(
        self,
        library: str = "user",
        *,
        api_key: str | None,
        cache_dir: Path,
        base_url: str | None = None,
        collections: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import os

        self.library = library
        self._kind, self._id = parse_library(library)
        self.__key = find_api_key(api_key)
        self.base_url = base_url or os.environ.get("ZOTSYNC_ZOTERO_API_URL") or DEFAULT_API_URL
        self.cache = ObjectCache(Path(cache_dir) / "web-cache.sqlite")
        self.collections = list(collections)
        self._sleep = sleep
        self._memo: tuple[tuple[str, str | None], Library] | None = None

    def __repr__(self) -> str:  # never show the key
        return f"WebSource(library={self.library!r}, base_url={self.base_url!r})"

    def watch_paths(self) -> list[Path]:
        return []

    def client(self) -> ApiClient:
        return ApiClient(self.base_url, api_key=self.__key, sleep=self._sleep)

    def _resolve_user(self, client: ApiClient) -> int:
        """The key's own user id: cached per key fingerprint, else ``GET /keys/current``."""
        if not self.__key:
            raise SourceUnavailable(
                "no Zotero API key for the web source",
                fix="set ZOTERO_API_KEY (or store the key in the OS keyring)",
            )
        tag = "keyuser:" + fingerprint(self.__key)
        cached = self.cache.meta("keys", tag)
        if cached:
            return int(cached)
        info = client.get("keys/current").body or {}
        user_id = int(info.get("userID") or 0)
        self.cache.commit("keys", meta={tag: str(user_id)})
        return user_id

    def read(self) -> Library:
        client = self.client()
        try:
            lib_id = self._id if self._id is not None else self._resolve_user(client)
            prefix = f"{self._kind}/{lib_id}"
            for _ in range(MAX_RESTARTS):
                try:
                    self._sync(client, prefix)
                    break
                except VersionMoved:
                    continue
            else:
                raise SourceUnavailable(
                    "the library kept changing during the sync", fix="run zotsync sync again"
                )
        finally:
            client.close()
        ref = LibraryRef("user" if self._kind == "users" else "group", lib_id)
        version = self.cache.meta(prefix, "version")
        if self._memo is not None and self._memo[0] == (prefix, version):
            return self._memo[1]  # unchanged (304): a daemon skips re-parsing the cache
        library = self._build(prefix, ref)
        self._memo = ((prefix, version), library)
        return library

    def _sync(self, client: ApiClient, prefix: str) -> None:
        raw = self.cache.meta(prefix, "version")
        since = int(raw) if raw else None
        query = {"format": "versions", "includeTrashed": "1"}
        cond: dict[str, str] = {}
        if since is not None:
            query["since"] = str(since)
            cond = {"If-Modified-Since-Version": str(since)}
        first = client.get(f"{prefix}/items", query, headers=cond)
        if first.status == 304:
            return
        if first.version is None:
            raise SourceUnavailable("the Zotero API sent no Last-Modified-Version")
        run = _Pass(first.version)
        item_versions: dict[str, int] = first.body or {}
        colls = client.get(f"{prefix}/collections", {k: v for k, v in query.items()
                                                      if k != "includeTrashed"})  # fmt: skip
        run.check(colls)
        coll_versions: dict[str, int] = colls.body or {}
        have_items = self.cache.versions(prefix, "item")
        have_colls = self.cache.versions(prefix, "collection")
        changed = sorted(k for k, v in item_versions.items() if have_items.get(k) != v)
        changed_c = sorted(k for k, v in coll_versions.items() if have_colls.get(k) != v)
        run.take("item", client.get_batches(f"{prefix}/items", changed, "itemKey",
                                            {"includeTrashed": "1"}))  # fmt: skip
        run.take("collection", client.get_batches(f"{prefix}/collections", changed_c,
                                                  "collectionKey", {}))  # fmt: skip
        if since is not None:
            gone = client.get(f"{prefix}/deleted", {"since": str(since)})
            run.check(gone)
            body = gone.body or {}
            run.deletes += [("item", k) for k in body.get("items", [])]
            run.deletes += [("collection", k) for k in body.get("collections", [])]
        else:  # a full pass: whatever the cache holds beyond the listing is gone
            run.deletes += [("item", k) for k in have_items if k not in item_versions]
            run.deletes += [("collection", k) for k in have_colls if k not in coll_versions]
        meta = {"version": str(run.version)}
        if run.name:
            meta["name"] = run.name
        self.cache.commit(prefix, upserts=run.upserts, deletes=run.deletes, meta=meta)

    def _build(self, prefix: str, ref: LibraryRef) -> Library:
        raw = self.cache.meta(prefix, "version")
        group_name = self.cache.meta(prefix, "name") if ref.type == "group" else None
        library = library_from_objects(
            self.cache.objects(prefix, "item"),
            self.cache.objects(prefix, "collection"),
            ref=ref,
            version=int(raw) if raw else None,
            name=group_name or ("My Library" if ref.type == "user" else f"Group {ref.id}"),
        )
        if not self.collections:
            return library
        try:
            return restrict_to_collections(library, self.collections)
        except KeyError as exc:
            known = ", ".join(sorted(c.name for c in library.collections.values()))
            raise ConfigError([f"no collection named {exc.args[0]!r} (have: {known})"]) from None
