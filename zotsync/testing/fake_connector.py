"""A loopback Zotero connector server for tests (the protocol of ``server_connector.js``).

Endpoints: ``GET /connector/ping`` (200 "Zotero is running"), ``POST /connector/ping``
(``{"prefs": {..., "supportsAttachmentUpload": …}}``), ``saveItems`` (201; 409
``SESSION_EXISTS`` for a reused session id or when told to with ``session_conflicts``; 400
``CONNECTOR_VERSION_OUTDATED`` when a client sends an API version header lower than the
server's), ``saveAttachment`` (201; 400 ``SESSION_NOT_FOUND``/``METADATA_NOT_PROVIDED``),
``getSelectedCollection`` (the selected library or collection, ``selected``, and the targets)
and ``updateSession``, which answers as the desktop does: 500 when ``target`` is missing (it
reads ``data.target[0]``) or ``tags`` is not one comma-separated string, 400
``COLLECTION_NOT_FOUND`` for an unknown target; ``tag_lists`` holds the tags it applied, as
manual tags. Every request is recorded
(method, path, headers, body) so tests can check exactly what a client sent. POST bodies to
JSON endpoints must be ``application/json`` (400 otherwise), as in Zotero.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class FakeConnector:
    """Context manager; ``api_version`` 3 = Zotero 7.0.20+ (attachments uploaded separately)."""

    api_version: int = 3
    session_conflicts: int = 0
    running: bool = True
    targets: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": "L1", "name": "My Library", "level": 0},
            {"id": "C10", "name": "Deep Learning", "level": 1},
            {"id": "C11", "name": "NLP", "level": 2},
        ]
    )
    #: the tree-view id of what is selected in the Zotero window (``L1`` or ``C10``)
    selected: str = "L1"
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attachments: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    #: (session id, target, manual tags) per accepted updateSession
    moved: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def local_api_url(self) -> str:
        """What ``ZOTSYNC_ZOTERO_LOCAL_URL`` would hold for this server."""
        return f"{self.base}/api"

    def calls(self, endpoint: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == f"/connector/{endpoint}"]

    def __enter__(self) -> FakeConnector:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # -- the protocol ---------------------------------------------------------------------
    def handle(self, rec: Recorded) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append(rec)
            return self._dispatch(rec)

    def _dispatch(self, rec: Recorded) -> tuple[int, str, bytes]:
        text = "text/plain"
        if not self.running:
            return 503, text, b""
        endpoint = rec.path.removeprefix("/connector/")
        if endpoint == "ping" and rec.method == "GET":
            return 200, "text/html", b"Zotero is running"
        if rec.method != "POST":
            return 400, text, b"Endpoint does not support method"
        if endpoint == "saveAttachment":
            return self._save_attachment(rec)
        if not rec.headers.get("content-type", "").startswith("application/json"):
            return 400, text, b"Endpoint does not support content-type"
        body = rec.json() if rec.body else {}
        sent_version = rec.headers.get("x-zotero-connector-api-version")
        if endpoint == "ping":
            prefs = {
                "automaticSnapshots": True,
                "supportsAttachmentUpload": self.api_version >= 3,
                "translatorsHash": "fake",
                "sortedTranslatorHash": "fake",
            }
            return 200, "application/json", json.dumps({"prefs": prefs}).encode()
        if endpoint == "saveItems":
            if sent_version is not None and int(sent_version) < self.api_version:
                return 400, "application/json", b'{"error":"CONNECTOR_VERSION_OUTDATED"}'
            session = body.get("sessionID", "")
            if self.session_conflicts > 0 or session in self.sessions:
                self.session_conflicts = max(0, self.session_conflicts - 1)
                return 409, "application/json", b'{"error":"SESSION_EXISTS"}'
            self.sessions[session] = body.get("items", [])
            if self.api_version >= 3:
                return 201, text, b""
            items = [
                {
                    "id": i.get("id"),
                    "title": i.get("title"),
                    "itemType": i.get("itemType"),
                    "contentType": "text/html",
                    "attachments": i.get("attachments", []),
                }
                for i in body.get("items", [])
            ]
            return (
                201,
                "application/json",
                json.dumps({"items": items, "singleFile": False}).encode(),
            )
        if endpoint == "getSelectedCollection":
            return 200, "application/json", json.dumps(self._selection()).encode()
        if endpoint == "updateSession":
            return self._update_session(body)
        return 404, text, b"No endpoint found"

    def _selection(self) -> dict[str, Any]:
        """As the desktop reports it: ``id`` is the collection's number, or null for a library."""
        names = {str(t.get("id")): str(t.get("name")) for t in self.targets}
        collection = self.selected.startswith("C")
        return {
            "libraryID": 1,
            "libraryName": names.get("L1", "My Library"),
            "libraryEditable": True,
            "editable": True,
            "id": int(self.selected[1:]) if collection else None,
            "name": names.get(self.selected, "My Library"),
            "targets": self.targets,
        }

    def _update_session(self, body: dict[str, Any]) -> tuple[int, str, bytes]:
        if not body.get("sessionID"):
            return 400, "application/json", b'{"error":"SESSION_ID_NOT_PROVIDED"}'
        if body["sessionID"] not in self.sessions:
            return 400, "application/json", b'{"error":"SESSION_NOT_FOUND"}'
        target, tags = body.get("target"), body.get("tags", "")
        if not isinstance(target, str) or not target or not isinstance(tags, str):
            # the desktop reads data.target[0] and calls tags.trim(): a TypeError, HTTP 500
            return 500, "text/plain", b"TypeError: data.target is undefined"
        if target not in {str(t.get("id")) for t in self.targets}:
            return 400, "application/json", b'{"error":"COLLECTION_NOT_FOUND"}'
        self.updates.append(body)
        names = [t.strip() for t in tags.split(",") if t.strip()]
        self.moved.append((body["sessionID"], target, names))
        return 200, "application/json", b"{}"

    def _save_attachment(self, rec: Recorded) -> tuple[int, str, bytes]:
        session = (rec.query.get("sessionID") or [""])[0]
        if not session:
            return 400, "application/json", b'{"error":"SESSION_ID_NOT_PROVIDED"}'
        if session not in self.sessions:
            return 400, "application/json", b'{"error":"SESSION_NOT_FOUND"}'
        raw = rec.headers.get("x-metadata")
        if not raw:
            return 400, "application/json", b'{"error":"METADATA_NOT_PROVIDED"}'
        self.attachments.append((json.loads(raw), rec.body))
        return 201, "application/json", b"{}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(
                    method,
                    parsed.path,
                    parse_qs(parsed.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                status, ctype, payload = fake.handle(rec)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-Zotero-Connector-API-Version", str(fake.api_version))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler
