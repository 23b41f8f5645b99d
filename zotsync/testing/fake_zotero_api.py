"""A loopback server speaking the Zotero web API v3 (or the desktop's local API) for tests.

It serves :class:`~zotsync.model.Library` objects as API JSON with real version bookkeeping:
every edit, addition, trashing or permanent deletion bumps the library version and stamps the
touched objects, and permanent deletions are logged for ``/deleted?since=``. Supported:
``since``, ``format=json|keys|versions``, ``itemKey``/``collectionKey``, ``includeTrashed``,
``limit``/``start`` with ``Link`` (``rel="next"``) and ``Total-Results``, ``/items/top``,
single objects, ``/deleted``, ``/keys/current``, ``/users/ID/groups``, ``PATCH`` with
``If-Unmodified-Since-Version`` (412/428), ``If-Modified-Since-Version`` (304).

Local mode (``mode="local"``) mimics the desktop: paths under ``/api``, no auth, no
``/deleted``, no default limit, empty fields omitted, 403 when the API is switched off; with
``zotero_version=10`` it sends ``Zotero-Server-ID`` (412 on a mismatching request header),
accepts writes with a key from ``POST /api/local/authorize``; with ``zotero_version=7`` the
versions never move on edits (the real pitfall) and writes are refused.

Every request is recorded (``requests``); ``faults`` inject statuses or headers (429 with or
without ``Retry-After``, 503, ``Backoff``) and ``hooks`` run before a request is handled (to
move the library version mid-sync).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from zotsync.model import Item, Library, LibraryRef
from zotsync.sources.zotero_json_out import children_to_data, item_to_data
from zotsync.testing.fake_zotero_state import Fault, JsonObj, Recorded, ServedLibrary

__all__ = ["FakeZoteroApi", "Fault", "Recorded", "ServedLibrary"]


class FakeZoteroApi:
    """Start with ``with FakeZoteroApi(sample_library()) as api: ...`` and use ``api.url``."""

    def __init__(
        self,
        library: Library | None = None,
        *,
        mode: Literal["web", "local"] = "web",
        api_key: str = "fake-key-0123456789abcdef",
        user_id: int | None = None,
        groups: dict[int, Library] | None = None,
        trashed: Sequence[Item] = (),
        zotero_version: int = 10,
        server_id: str = "server-A",
        page_limit: int = 100,
        can_write: bool = True,
        local_enabled: bool = True,
    ) -> None:
        self.mode = mode
        self.api_key = api_key
        lib = library or Library()
        self.user_id = user_id if user_id is not None else lib.ref.id
        style: Literal["web", "local"] = "local" if mode == "local" else "web"
        self.libraries: dict[str, ServedLibrary] = {
            f"users/{self.user_id}": ServedLibrary(lib, style, trashed)
        }
        for gid, glib in (groups or {}).items():
            self.libraries[f"groups/{gid}"] = ServedLibrary(glib, style)
        self.zotero_version = zotero_version
        self.server_id = server_id
        self.page_limit = page_limit
        self.can_write = can_write
        self.local_enabled = local_enabled
        self.requests: list[Recorded] = []
        self.writes: list[tuple[str, Any]] = []
        self.faults: list[Fault] = []
        self.hooks: list[Callable[[Recorded], None]] = []
        self.local_keys: set[str] = set()
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeZoteroApi:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeZoteroApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        root = f"http://127.0.0.1:{self._server.server_address[1]}"
        return root + "/api" if self.mode == "local" else root

    # --- inspection ------------------------------------------------------------------------
    def count(self, path_part: str = "", method: str | None = None) -> int:
        with self.lock:
            return sum(
                1
                for r in self.requests
                if path_part in r.path and (method is None or r.method == method)
            )

    def reset_requests(self) -> None:
        with self.lock:
            self.requests.clear()
            self.writes.clear()

    def lib(self, spec: str = "user") -> ServedLibrary:
        if spec == "user":
            return self.libraries[f"users/{self.user_id}"]
        return self.libraries[f"groups/{spec.split(':', 1)[1]}"]

    # --- mutations (each is one library version step) --------------------------------------
    def _stamp(self, lib: ServedLibrary, *datas: JsonObj) -> int:
        lib.version += 1
        if not (self.mode == "local" and self.zotero_version < 10):
            for data in datas:  # Zotero 7–9 local: synced versions never move on local edits
                data["version"] = lib.version
        return lib.version

    def edit(self, key: str, library: str = "user", kind: str = "item", **changes: Any) -> int:
        """Change data keys of one object (``title="New"``); returns the new library version."""
        with self.lock:
            lib = self.lib(library)
            data = lib.objects[kind][key]
            data.update(changes)
            return self._stamp(lib, data)

    def add_item(self, item: Item, library: str = "user") -> int:
        with self.lock:
            lib = self.lib(library)
            style: Literal["web", "local"] = "local" if self.mode == "local" else "web"
            datas = [item_to_data(item, style), *children_to_data(item, style)]
            for data in datas:
                lib.objects["item"][data["key"]] = data
            return self._stamp(lib, *datas)

    def trash(self, key: str, library: str = "user") -> int:
        return self.edit(key, library, deleted=True if self.mode == "local" else 1)

    def delete(self, key: str, library: str = "user", kind: str = "item") -> int:
        """Delete permanently (with children), logged for ``/deleted``."""
        with self.lock:
            lib = self.lib(library)
            doomed = {key}
            grew = True
            while grew:
                more = {k for k, d in lib.objects[kind].items() if d.get("parentItem") in doomed}
                grew = not more <= doomed
                doomed |= more
            version = self._stamp(lib)
            for k in doomed:
                lib.objects[kind].pop(k, None)
                lib.deleted.append((version, kind, k))
            return version

    # --- request handling ------------------------------------------------------------------
    def handle(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        for hook in list(self.hooks):
            hook(rec)
        with self.lock:
            self.requests.append(rec)
            extra: dict[str, str] = {}
            for fault in self.faults:
                if fault.times > 0 and fault.method == rec.method and fault.path in rec.path:
                    fault.times -= 1
                    if fault.status is not None:
                        return fault.status, dict(fault.headers), fault.body.encode()
                    extra.update(fault.headers)
                    break
            status, headers, body = self._route(rec)
            headers.update(extra)
            if self.mode == "local" and self.zotero_version >= 10:
                headers["Zotero-Server-ID"] = self.server_id
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            if isinstance(body, str):
                raw = body.encode()
            return status, headers, raw

    def _route(self, rec: Recorded) -> tuple[int, dict[str, str], Any]:
        path = rec.path
        if self.mode == "local":
            if not path.startswith("/api/"):
                return 404, {}, "No endpoint found"
            path = path[4:]
            if not self.local_enabled:
                return 403, {}, "Local API is not enabled"
            sent_id = rec.headers.get("zotero-server-id")
            if self.zotero_version >= 10 and sent_id and sent_id != self.server_id:
                return 412, {}, "Zotero-Server-ID does not match"
            if path == "/":
                return 200, {"Content-Type": "text/plain"}, "Nothing to see here."
            if path == "/local/authorize" and rec.method == "POST":
                if self.zotero_version < 10:
                    return 404, {}, "No endpoint found"
                key = f"local-{len(self.local_keys) + 1}"
                self.local_keys.add(key)
                return 200, {}, {"key": key, "remember": True}
        elif not self._authorised(rec, path):
            return 403, {}, "Invalid key"
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["keys"] and self.mode == "web":
            return 200, {}, self._key_info()
        if len(parts) >= 3 and parts[0] == "users" and parts[2] == "groups":
            return 200, {}, [
                {"id": int(k.split("/")[1]), "version": 0, "data": {"id": int(k.split("/")[1]),
                 "name": lib.name}}
                for k, lib in self.libraries.items() if k.startswith("groups/")
            ]  # fmt: skip
        if len(parts) < 3 or parts[0] not in ("users", "groups"):
            return 404, {}, "Not found"
        lib_id = "0" if parts[0] == "users" and parts[1] == "0" else parts[1]
        lib_id = str(self.user_id) if parts[0] == "users" and lib_id == "0" else lib_id
        lib = self.libraries.get(f"{parts[0]}/{lib_id}")
        if lib is None:
            return 404, {}, "Library not found"
        rest = parts[2:]
        if rest == ["deleted"] and self.mode == "web":
            return self._deleted(lib, rec)
        if rest[0] in ("items", "collections"):
            kind = "item" if rest[0] == "items" else "collection"
            if rec.method == "PATCH" and len(rest) == 2:
                return self._patch(lib, kind, rest[1], rec)
            if rec.method != "GET":
                return 405, {}, "Method not allowed"
            if len(rest) == 2 and rest[1] != "top":
                return self._single(lib, kind, rest[1])
            return self._list(lib, kind, rec, top=rest[1:] == ["top"])
        return 404, {}, "Not found"

    def _authorised(self, rec: Recorded, path: str) -> bool:
        sent = rec.headers.get("authorization", "").removeprefix("Bearer ").strip()
        sent = sent or rec.headers.get("zotero-api-key", "")
        if sent != self.api_key:
            return False
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["users"] and len(parts) > 1:
            return parts[1] == str(self.user_id)
        return True

    def _key_info(self) -> JsonObj:
        groups = {"all": {"library": True, "write": self.can_write}}
        return {
            "key": self.api_key, "userID": self.user_id, "username": "tester",
            "displayName": "Test User", "access": {
                "user": {"library": True, "files": True, "notes": True, "write": self.can_write},
                "groups": groups,
            },
        }  # fmt: skip

    def _envelope(self, lib: ServedLibrary, data: JsonObj, kind: str) -> JsonObj:
        ref: LibraryRef = lib.ref
        base = self.url + ("/users/" if ref.type == "user" else "/groups/") + str(ref.id)
        return {
            "key": data["key"],
            "version": data.get("version", 0),
            "library": {"type": ref.type, "id": ref.id, "name": lib.name, "links": {}},
            "links": {"self": {"href": f"{base}/{kind}s/{data['key']}",
                               "type": "application/json"}},
            "meta": {},
            "data": data,
        }  # fmt: skip

    def _single(self, lib: ServedLibrary, kind: str, key: str) -> tuple[int, dict, Any]:
        data = lib.objects[kind].get(key)
        if data is None:
            return 404, {}, "Not found"
        version = str(data.get("version", 0))
        return 200, {"Last-Modified-Version": version}, self._envelope(lib, data, kind)

    def _list(self, lib: ServedLibrary, kind: str, rec: Recorded, top: bool) -> tuple:
        q = rec.query
        headers = {"Last-Modified-Version": str(lib.version)}
        ims = rec.headers.get("if-modified-since-version")
        if ims is not None and ims.isdigit() and lib.version <= int(ims):
            return 304, headers, b""
        since = int(q.get("since", "0") or 0)
        keys = set(q[f"{kind}Key"].split(",")) if q.get(f"{kind}Key") else None
        chosen = [
            d
            for d in lib.objects[kind].values()
            if int(d.get("version") or 0) > since
            and (keys is None or d["key"] in keys)
            and (q.get("includeTrashed") == "1" or not d.get("deleted"))
            and not (top and d.get("parentItem"))
        ]
        chosen.sort(key=lambda d: d["key"])
        fmt = q.get("format", "json")
        if fmt == "versions":
            return 200, headers, {d["key"]: d.get("version", 0) for d in chosen}
        if fmt == "keys":
            return (
                200,
                {**headers, "Content-Type": "text/plain"},
                "\n".join(d["key"] for d in chosen),
            )
        total = len(chosen)
        start = int(q.get("start", "0") or 0)
        if self.mode == "local" and "limit" not in q:
            limit = total or 1
        else:
            limit = min(int(q.get("limit", "25") or 25), self.page_limit)
        page = chosen[start : start + limit]
        headers["Total-Results"] = str(total)
        if start + limit < total:
            nxt = dict(q, start=str(start + limit), limit=str(limit))
            headers["Link"] = (
                f'<{self.url}{rec.path.removeprefix("/api")}?{urlencode(nxt)}>; rel="next"'
            )
        return 200, headers, [self._envelope(lib, d, kind) for d in page]

    def _deleted(self, lib: ServedLibrary, rec: Recorded) -> tuple:
        if "since" not in rec.query:
            return 400, {}, "'since' parameter must be provided"
        since = int(rec.query["since"])
        out: JsonObj = {"collections": [], "items": [], "searches": [], "tags": [],
                        "settings": []}  # fmt: skip
        for version, kind, key in lib.deleted:
            if version > since:
                out[kind + "s"].append(key)
        return 200, {"Last-Modified-Version": str(lib.version)}, out

    def _patch(self, lib: ServedLibrary, kind: str, key: str, rec: Recorded) -> tuple:
        if self.mode == "local":
            if self.zotero_version < 10:
                return 400, {}, "Endpoint does not support method"
            if not rec.headers.get("zotero-server-id"):
                return 428, {}, "Zotero-Server-ID not provided"
            if rec.headers.get("zotero-api-key") not in self.local_keys:
                return 401, {}, "API key required"
        elif not self.can_write:
            return 403, {}, "Write access denied"
        data = lib.objects[kind].get(key)
        if data is None:
            return 404, {}, "Not found"
        expected = rec.headers.get("if-unmodified-since-version")
        if expected is None:
            return 428, {}, "If-Unmodified-Since-Version not provided"
        if int(data.get("version") or 0) > int(expected):
            return 412, {"Last-Modified-Version": str(lib.version)}, "Item has been modified"
        self.writes.append((key, rec.body))
        data.update(rec.body or {})
        version = self._stamp(lib, data)
        return 204, {"Last-Modified-Version": str(version)}, b""


class _Handler(BaseHTTPRequestHandler):
    api: FakeZoteroApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        rec = Recorded(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        status, headers, payload = self.api.handle(rec)
        self.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        headers["Zotero-API-Version"] = "3"
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if status != 304 and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve
