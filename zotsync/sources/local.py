"""The ``local`` source: the Zotero desktop's local HTTP API (``/api`` on port 23119).

The local API looks like the web API but differs where it hurts a sync:

* it is **off by default** — a 403 becomes a message saying where to switch it on;
* it has **no ``/deleted``** — permanent deletions are found by diffing key sets. The
  ``format=versions`` listing (no limit on the local API) gives every key with its version
  in one response, so one request yields both the changes and the deletions;
* **Zotero 10** sends ``Zotero-Server-ID`` and keeps *local* versions. Its versions are
  meaningful only for that id, so the cache is partitioned by it: a new id (another
  database, a restored backup) starts a full resync in a fresh partition and never mixes
  state. Each request repeats the known id, so a different database answers 412 instead
  of a wrong 304; a mismatch drops the condition and resyncs;
* **Zotero 7–9** report the *synced* server versions, which do not move on local edits (and
  ``If-Modified-Since-Version`` would always say 304). There every read fetches the full JSON
  and compares per-item content hashes with the cache; an item whose hash changed gets a
  version one above its last one, so the sync engine still sees a moving version.

pyzotero is used as for the web source (client, endpoint, ``local=True`` semantics); see
:mod:`zotsync.sources.web` for why the requests go through its client directly.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from zotsync.model import Library, LibraryRef
from zotsync.sources import NO_HOOKS, ChangeHooks, Delta
from zotsync.sources.api_changes import read_cached_changes
from zotsync.sources.selection import restrict_to_collections
from zotsync.sources.web import (
    MAX_RESTARTS,
    ApiClient,
    ApiResponse,
    ObjectCache,
    SyncPass,
    envelope_data,
    parse_library,
)
from zotsync.sources.zotero_http import until_stable
from zotsync.sources.zotero_json import JsonObj, data_of, library_from_objects, tree_place

DEFAULT_LOCAL_URL = "http://127.0.0.1:23119/api"
LEGACY = "legacy"  # partition of Zotero 7–9, which sends no server id
#: model attributes the local API cannot give (``<level>.<attribute>``): none. On Zotero 7–9
#: ``item.version`` is the synced version until a local edit, then a local counter above it.
UNKNOWN_TO_SOURCE: frozenset[str] = frozenset()


def content_hash(data: JsonObj) -> str:
    """Hash of an object's data without its version (which lies on Zotero 7–9)."""
    body = {k: v for k, v in data.items() if k != "version"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class LocalSource:
    """The running Zotero desktop, read through its local API."""

    name = "local"

    def __init__(
        self,
        cache_dir: Path,
        base_url: str | None = None,
        library: str = "user",
        *,
        sleep: Callable[[float], None] = time.sleep,
        collections: Iterable[str] = (),
    ) -> None:
        self.library = library
        self.collections = list(collections)
        kind, lib_id = parse_library(library)
        self.prefix = f"{kind}/{lib_id if lib_id is not None else 0}"
        self.base_url = base_url or os.environ.get("ZOTSYNC_ZOTERO_LOCAL_URL") or DEFAULT_LOCAL_URL
        self.cache = ObjectCache(Path(cache_dir) / "local-cache.sqlite", tree_place)
        self._sleep = sleep
        self.server_id: str | None = None

    def watch_paths(self) -> list[Path]:
        return []

    def client(self) -> ApiClient:
        return ApiClient(self.base_url, local=True, sleep=self._sleep)

    def _fetch(self) -> str:
        """Bring the cache up to date; the partition (server id and library) read."""
        client = self.client()
        try:
            return until_stable(lambda: self._sync(client), MAX_RESTARTS)
        finally:
            client.close()

    def read(self) -> Library:
        return self._build(self._fetch())

    def read_changes(self, token: str | None, hooks: ChangeHooks = NO_HOOKS) -> Delta:
        """The items whose tree moved since ``token`` (:mod:`zotsync.sources.api_changes`);
        a token of another desktop database (another server id) answers the whole library."""
        part = self._fetch()
        return read_cached_changes(
            self.cache,
            part,
            json.dumps(["local", part, self.collections]),
            lambda keys: self._build(part, keys),
            None if self.collections else token,
            hooks,
        )

    def _first(self, client: ApiClient) -> tuple[str, ApiResponse]:
        """The versions listing, conditional on the last partition's version when safe."""
        last = self.cache.meta("local", f"last-server:{self.prefix}")
        query = {"format": "versions", "includeTrashed": "1"}
        headers: dict[str, str] = {}
        if last and last != LEGACY:
            version = self.cache.meta(f"{last}|{self.prefix}", "version")
            headers["Zotero-Server-ID"] = last
            if version:
                headers["If-Modified-Since-Version"] = version
        path = f"{self.prefix}/items"
        response = client.get(path, query, headers=headers, ok=(200, 304, 412))
        if response.status == 412:  # another database answers now: ask without the old id
            response = client.get(path, query)
        server_id = response.headers.get("Zotero-Server-ID") or LEGACY
        if response.status == 304 and server_id != last:  # never trust a 304 across databases
            response = client.get(path, query)
        self.server_id = None if server_id == LEGACY else server_id
        return server_id, response

    def _sync(self, client: ApiClient) -> str:
        server_id, first = self._first(client)
        part = f"{server_id}|{self.prefix}"
        self.cache.commit("local", meta={f"last-server:{self.prefix}": server_id})
        if server_id == LEGACY:
            self._sync_by_hash(client, part)
            return part
        client.extra_headers["Zotero-Server-ID"] = server_id
        if first.status == 304:
            return part
        run = SyncPass(first.version or 0)
        listed: dict[str, int] = first.body or {}
        colls = client.get(f"{self.prefix}/collections", {"format": "versions"})
        run.check(colls)
        listed_c: dict[str, int] = colls.body or {}
        have, have_c, responses = run.fetch_changed(
            client, self.cache, part, self.prefix, (listed, listed_c)
        )
        run.deletes += [("item", k) for k in have if k not in listed]
        run.deletes += [("collection", k) for k in have_c if k not in listed_c]
        meta = {"version": str(run.version), **self._library_meta(responses)}
        self.cache.commit(part, upserts=run.upserts, deletes=run.deletes, meta=meta)
        return part

    def _sync_by_hash(self, client: ApiClient, part: str) -> None:
        """Zotero 7–9: full read, versions derived from content hashes (see module doc)."""
        pages = list(client.get_all(f"{self.prefix}/items", {"includeTrashed": "1"}))
        coll_pages = list(client.get_all(f"{self.prefix}/collections", {}))
        old = {d["key"]: d for d in self.cache.objects(part, "item")}
        counter = int(self.cache.meta(part, "version") or 0)
        upserts: list[tuple[str, JsonObj]] = []
        for data in (d for p in pages for d in envelope_data(p.body or [])):
            digest = content_hash(data)
            previous = old.get(data["key"])
            version = int(data.get("version") or 0)
            if previous is not None and previous.get("_hash") == digest:
                version = int(previous["version"])
            elif previous is not None:
                version = max(version, int(previous["version"]) + 1)
            counter = max(counter, version)
            upserts.append(("item", {**data, "version": version, "_hash": digest}))
        upserts += [("collection", d) for p in coll_pages for d in envelope_data(p.body or [])]
        meta = {"version": str(counter), **self._library_meta(pages)}
        self.cache.commit(part, upserts=upserts, meta=meta, replace=True)

    @staticmethod
    def _library_meta(responses: list[ApiResponse]) -> dict[str, str]:
        for response in responses:
            for obj in response.body or []:
                lib = obj.get("library") if isinstance(obj, dict) else None
                if isinstance(lib, dict):
                    return {"library_id": str(lib.get("id", 0)), "name": str(lib.get("name", ""))}
        return {}

    def _build(self, part: str, keys: list[str] | None = None) -> Library:
        """The library from the cache; with ``keys``, only the trees of those objects."""
        kind, raw_id = self.prefix.split("/")
        lib_id = int(self.cache.meta(part, "library_id") or raw_id)
        ref = LibraryRef("user" if kind == "users" else "group", lib_id)
        objects = (
            self.cache.objects(part, "item")
            if keys is None
            else self.cache.objects_with_keys(part, "item", keys)
        )
        items = [data_of(d) for d in objects]
        for d in items:
            d.pop("_hash", None)
        version = self.cache.meta(part, "version")
        name = self.cache.meta(part, "name") if ref.type == "group" else None
        library = library_from_objects(
            items,
            self.cache.objects(part, "collection"),
            ref=ref,
            version=int(version) if version else None,
            name=name or ("My Library" if ref.type == "user" else f"Group {ref.id}"),
        )
        return restrict_to_collections(library, self.collections)
