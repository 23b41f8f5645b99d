"""A loopback Semantic Scholar Graph API for tests (no network beyond 127.0.0.1).

It speaks the three endpoints zotsync uses, with the shapes of recorded real exchanges:

* ``POST /paper/batch?fields=…`` ``{"ids": [...]}`` → a list aligned with ``ids``, ``null`` for
  unknown ids; more than 500 ids or no ``ids`` → 400;
* ``GET /paper/{id}/references?fields=…&offset=&limit=`` → ``{"offset", "next"?, "data":
  [{"citedPaper": {...}}]}``, ``next`` absent on the last page; ``limit`` outside 1..1000 → 400;
* ``GET /paper/{id}?fields=…``;

unknown papers → 404 ``{"error": "Paper with id X not found"}``, unknown fields → 400
``{"error": "Unrecognized or unsupported fields: [x]"}``. Ids are the S2 paper id, ``ARXIV:``
(without version, as S2 wants), ``DOI:`` or a bare DOI, ``CorpusId:``; prefixes and DOIs are
case-insensitive.

Papers are plain dicts shaped like S2 papers; ``references`` holds full cited-paper dicts
(``paperId`` may be None). ``batch_reference_limit`` cuts the nested list in batch answers, as
the real batch endpoint sometimes does, so clients must page. Faults are programmable
(:meth:`FakeS2.add_fault`): a status (429 with or without ``Retry-After``, 500…) or a delay,
for the next N matching requests. Every request is recorded in ``requests``.

    with FakeS2([paper]) as base_url:
        client = S2Client(base_url, min_interval=0)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

PAPER_FIELDS = {
    "paperId",
    "externalIds",
    "title",
    "year",
    "referenceCount",
    "citationCount",
    "corpusId",
    "url",
    "venue",
    "abstract",
    "authors",
}
#: fields allowed after ``references.`` in a batch request
NESTED_FIELDS = PAPER_FIELDS


def make_paper(
    paper_id: str | None,
    title: str,
    year: int | None = None,
    *,
    arxiv: str | None = None,
    doi: str | None = None,
    references: list[dict[str, Any]] | None = None,
    reference_count: int | None = None,
) -> dict[str, Any]:
    """An S2-shaped paper dict (``paper_id=None`` makes an unmatched reference)."""
    external: dict[str, Any] = {}
    if arxiv:
        external["ArXiv"] = arxiv
    if doi:
        external["DOI"] = doi
    paper: dict[str, Any] = {
        "paperId": paper_id,
        "externalIds": external or None,
        "title": title,
        "year": year,
    }
    if references is not None:
        paper["references"] = references
    if reference_count is not None:
        paper["referenceCount"] = reference_count
    return paper


@dataclass
class Fault:
    """What to do instead of (or before) answering the next ``times`` matching requests."""

    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    times: int = 1
    path: str | None = None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeS2:
    """The server; use as a context manager (returns the base URL) or ``start()``/``stop()``."""

    def __init__(self, papers: Any = (), *, batch_reference_limit: int | None = None) -> None:
        self.papers: dict[str, dict[str, Any]] = {}
        self.aliases: dict[str, str] = {}
        self.batch_reference_limit = batch_reference_limit
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for paper in papers:
            self.add_paper(paper)

    # -- setup -----------------------------------------------------------------------------

    def add_paper(self, paper: dict[str, Any]) -> None:
        pid = paper["paperId"]
        self.papers[pid] = paper
        self.aliases[pid.lower()] = pid
        ext = paper.get("externalIds") or {}
        if ext.get("ArXiv"):
            self.aliases["arxiv:" + str(ext["ArXiv"]).lower()] = pid
        if ext.get("DOI"):
            self.aliases["doi:" + str(ext["DOI"]).lower()] = pid
            self.aliases[str(ext["DOI"]).lower()] = pid
        if ext.get("CorpusId") is not None:
            self.aliases[f"corpusid:{ext['CorpusId']}"] = pid

    def add_fault(
        self,
        status: int | None = None,
        *,
        retry_after: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        path: str | None = None,
    ) -> None:
        with self._lock:
            self.faults.append(Fault(status, retry_after, delay, times, path))

    @property
    def request_count(self) -> int:
        return len(self.requests)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/graph/v1"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay fault
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour -------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path is None or fault.path in path:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def lookup(self, paper_id: str) -> dict[str, Any] | None:
        pid = self.aliases.get(paper_id.strip().lower())
        return self.papers.get(pid) if pid else None

    def project(
        self, paper: dict[str, Any], fields: list[str], nested: bool = False
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"paperId": paper.get("paperId")}
        refs_fields = [f.split(".", 1)[1] for f in fields if f.startswith("references.")]
        for name in fields:
            if name == "referenceCount":
                count = paper.get("referenceCount")
                out[name] = count if count is not None else len(paper.get("references") or [])
            elif name in PAPER_FIELDS and "." not in name:
                out[name] = paper.get(name)
        if not nested and (refs_fields or "references" in fields):
            refs = list(paper.get("references") or [])
            if self.batch_reference_limit is not None:
                refs = refs[: self.batch_reference_limit]
            out["references"] = [
                self.project(r, refs_fields or ["title"], nested=True) for r in refs
            ]
        return out


def _parse_fields(query: dict[str, list[str]]) -> tuple[list[str], str | None]:
    raw = query.get("fields", ["title"])[0]
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    bad = [
        f
        for f in fields
        if not (
            f in PAPER_FIELDS
            or f == "references"
            or (f.startswith("references.") and f[11:] in NESTED_FIELDS)
        )
    ]
    if bad:
        return fields, f"Unrecognized or unsupported fields: [{', '.join(bad)}]"
    return fields, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeS2

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout test): nothing to do

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        fake = self.fake
        with fake._lock:
            fake.requests.append(
                Recorded(
                    method, url.path, query, body, {k.lower(): v for k, v in self.headers.items()}
                )
            )
        fault = fake._take_fault(url.path)
        if fault is not None:
            if fault.delay and fake._stopping.wait(fault.delay):
                return
            if fault.status is not None:
                headers = (
                    {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                )
                message = "Too Many Requests" if fault.status == 429 else "Internal Server Error"
                self._send(fault.status, {"message": message}, headers)
                return
        prefix = "/graph/v1"
        path = unquote(url.path[len(prefix) :] if url.path.startswith(prefix) else url.path)
        fields, error = _parse_fields(query)
        if error:
            self._send(400, {"error": error})
        elif method == "POST" and path == "/paper/batch":
            self._batch(body, fields)
        elif method == "GET" and path.startswith("/paper/") and path.endswith("/references"):
            self._references(path[len("/paper/") : -len("/references")], query, fields)
        elif method == "GET" and path.startswith("/paper/"):
            paper = fake.lookup(path[len("/paper/") :])
            if paper is None:
                self._send(404, {"error": f"Paper with id {path[len('/paper/') :]} not found"})
            else:
                self._send(200, fake.project(paper, fields, nested=True))
        else:
            self._send(404, {"error": "Not found"})

    def _batch(self, body: Any, fields: list[str]) -> None:
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            self._send(400, {"error": "Body must contain a list of ids"})
            return
        if len(ids) > 500:
            self._send(400, {"error": "Too many ids. Maximum is 500"})
            return
        out = []
        for paper_id in ids:
            paper = self.fake.lookup(paper_id)
            out.append(self.fake.project(paper, fields) if paper is not None else None)
        self._send(200, out)

    def _references(self, paper_id: str, query: dict[str, list[str]], fields: list[str]) -> None:
        try:
            offset = int(query.get("offset", ["0"])[0])
            limit = int(query.get("limit", ["100"])[0])
        except ValueError:
            self._send(400, {"error": "offset and limit must be integers"})
            return
        if not 1 <= limit <= 1000 or offset < 0:
            self._send(400, {"error": "Limit must be between 1 and 1000, offset must be >= 0"})
            return
        paper = self.fake.lookup(paper_id)
        if paper is None:
            self._send(404, {"error": f"Paper with id {paper_id} not found"})
            return
        refs = list(paper.get("references") or [])
        page = refs[offset : offset + limit]
        answer: dict[str, Any] = {"offset": offset}
        if offset + limit < len(refs):
            answer["next"] = offset + limit
        answer["data"] = [{"citedPaper": self.fake.project(r, fields, nested=True)} for r in page]
        self._send(200, answer)
