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

HTTP details (pyzotero's client, retries, ``Backoff``, pagination, the SQLite object cache)
live in :mod:`zotsync.sources.zotero_http`; the API key lives only in the ``Authorization``
header: never in URLs, the cache, logs or exception messages.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from zotsync.errors import ConfigError, SourceUnavailable
from zotsync.model import Library, LibraryRef
from zotsync.sources import NO_HOOKS, ChangeHooks, Delta
from zotsync.sources.api_changes import read_cached_changes
from zotsync.sources.credentials import api_key as find_api_key
from zotsync.sources.credentials import fingerprint
from zotsync.sources.selection import restrict_to_collections
from zotsync.sources.zotero_http import (
    BATCH,
    MAX_CONCURRENCY,
    MAX_RETRIES,
    ApiClient,
    ApiResponse,
    ObjectCache,
    SyncPass,
    VersionMoved,
    envelope_data,
    until_stable,
)
from zotsync.sources.zotero_json import library_from_objects, tree_place

__all__ = [
    "BATCH",
    "DEFAULT_API_URL",
    "MAX_CONCURRENCY",
    "MAX_RESTARTS",
    "MAX_RETRIES",
    "UNKNOWN_TO_SOURCE",
    "ApiClient",
    "ApiResponse",
    "ObjectCache",
    "SyncPass",
    "VersionMoved",
    "WebSource",
    "envelope_data",
    "parse_library",
]

DEFAULT_API_URL = "https://api.zotero.org"
MAX_RESTARTS = 4
#: model attributes (``<level>.<attribute>``, as the source contract names them) that this
#: source cannot know: none — the web API carries everything the model holds (``data_dir``,
#: which only the desktop has, is not part of the comparison)
UNKNOWN_TO_SOURCE: frozenset[str] = frozenset()


def parse_library(spec: str) -> tuple[str, int | None]:
    """``user`` → (users, None: ask /keys/current), ``user:ID``, ``group:ID`` → (kind, id)."""
    match = re.fullmatch(r"(user|group)(?::(\d+))?", spec.strip())
    if not match or (match.group(1) == "group" and not match.group(2)):
        raise ConfigError([f"library {spec!r} is not 'user', 'user:ID' or 'group:ID'"])
    kind = "users" if match.group(1) == "user" else "groups"
    return kind, int(match.group(2)) if match.group(2) else None


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
        self.cache = ObjectCache(Path(cache_dir) / "web-cache.sqlite", tree_place)
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

    def _fetch(self) -> tuple[str, LibraryRef]:
        """Bring the cache up to date; the library's partition and reference."""
        client = self.client()
        try:
            lib_id = self._id if self._id is not None else self._resolve_user(client)
            prefix = f"{self._kind}/{lib_id}"
            until_stable(lambda: self._sync(client, prefix), MAX_RESTARTS)
        finally:
            client.close()
        return prefix, LibraryRef("user" if self._kind == "users" else "group", lib_id)

    def read_changes(self, token: str | None, hooks: ChangeHooks = NO_HOOKS) -> Delta:
        """The items whose tree moved since ``token`` (:mod:`zotsync.sources.api_changes`)."""
        prefix, ref = self._fetch()
        return read_cached_changes(
            self.cache,
            prefix,
            json.dumps(["web", prefix, self.collections]),
            lambda keys: self._build(prefix, ref, keys),
            None if self.collections else token,  # a filtered library: always whole
            hooks,
        )

    def read(self) -> Library:
        prefix, ref = self._fetch()
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
        run = SyncPass(first.version)
        item_versions: dict[str, int] = first.body or {}
        colls = client.get(f"{prefix}/collections", {k: v for k, v in query.items()
                                                      if k != "includeTrashed"})  # fmt: skip
        run.check(colls)
        coll_versions: dict[str, int] = colls.body or {}
        have_items, have_colls, _ = run.fetch_changed(
            client, self.cache, prefix, prefix, (item_versions, coll_versions)
        )
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

    def _build(self, prefix: str, ref: LibraryRef, keys: list[str] | None = None) -> Library:
        """The library from the cache; with ``keys``, only the trees of those objects."""
        raw = self.cache.meta(prefix, "version")
        group_name = self.cache.meta(prefix, "name") if ref.type == "group" else None
        library = library_from_objects(
            self.cache.objects(prefix, "item")
            if keys is None
            else self.cache.objects_with_keys(prefix, "item", keys),
            self.cache.objects(prefix, "collection"),
            ref=ref,
            version=int(raw) if raw else None,
            name=group_name or ("My Library" if ref.type == "user" else f"Group {ref.id}"),
        )
        return restrict_to_collections(library, self.collections)
