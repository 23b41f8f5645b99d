"""A loopback arXiv query server for tests: in-memory papers, the real protocol's shapes.

It answers ``GET /api/query`` like export.arxiv.org: ``id_list`` (missing ids silently left
out, a malformed id → HTTP 400 with arXiv's error entry), ``search_query`` with ``cat:``,
``ti:``/``abs:``/``au:``/``all:`` terms, ``submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]``,
``AND``/``OR``/``ANDNOT`` and parentheses, ``sortBy``/``sortOrder``, ``start``/``max_results``
paging with ``opensearch:totalResults``. Responses come in either Atom layout arXiv has used:
``"2016"`` (per-element namespace declarations, wrapped titles and abstracts, ``http://``
links, a ``doi`` link) or ``"current"`` (namespaces on the root, one-line text, ``https://``
links). ``fail_next(503, n)`` makes the next *n* requests fail; ``requests`` records every
query; ``/pdf/<id>`` serves a small fake PDF so ``add`` can upload one.
"""

from __future__ import annotations

import re
import textwrap
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr

from zotsync.arxiv_api import ArxivPaper

FAKE_PDF = b"%PDF-1.4\n% zotsync fake pdf\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
_ID_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Za-z]{2})?/\d{7})(?:v(\d+))?$")
_TOKEN_RE = re.compile(r'\(|\)|[a-zA-Z]+:\[[^\]]*\]|[a-zA-Z]+:"[^"]*"|[^\s()]+')


def paper(
    arxiv_id: str,
    title: str,
    summary: str = "",
    *,
    categories: Iterable[str] = ("cs.CL",),
    published: str = "2026-11-17T12:00:00Z",
    updated: str | None = None,
    authors: Iterable[str] = ("Ada Lovelace", "Alan Turing"),
    version: int = 1,
    comment: str = "",
    doi: str = "",
    journal_ref: str = "",
) -> ArxivPaper:
    """Build a test paper with sensible defaults (dates as ISO strings)."""
    cats = tuple(categories)
    pub = datetime.fromisoformat(published.replace("Z", "+00:00"))
    upd = datetime.fromisoformat((updated or published).replace("Z", "+00:00"))
    return ArxivPaper(
        id=arxiv_id,
        version=version,
        title=title,
        authors=tuple(authors),
        summary=summary or f"We study {title.lower()}.",
        published=pub,
        updated=upd,
        primary_category=cats[0] if cats else "",
        categories=cats,
        comment=comment,
        doi=doi,
        journal_ref=journal_ref,
    )


# -- query evaluation ---------------------------------------------------------------------


def _matches_term(term: str, p: ArxivPaper) -> bool:
    fld, _, value = term.partition(":")
    value = value.strip('"')
    fld = fld.lower()
    if fld == "submitteddate":
        low, _, high = value.strip("[]").partition(" TO ")
        stamp = p.published.astimezone(UTC).strftime("%Y%m%d%H%M")
        return low.strip() <= stamp <= high.strip()
    if fld == "cat":
        return value in p.categories
    if fld == "id":
        return p.id == value
    needle = value.lower()
    texts = {
        "ti": [p.title],
        "abs": [p.summary],
        "au": list(p.authors),
        "co": [p.comment],
        "jr": [p.journal_ref],
        "all": [p.title, p.summary, *p.authors],
    }.get(fld, [])
    if needle == "*":
        return True
    return any(needle.replace("_", " ") in t.lower() for t in texts)


def _evaluate(tokens: list[str], p: ArxivPaper) -> bool:
    pos = 0

    def atom() -> bool:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "(":
            value = expr()
            pos += 1  # ")"
            return value
        if ":" not in tok:
            return _matches_term(f"all:{tok}", p)
        return _matches_term(tok, p)

    def expr() -> bool:
        nonlocal pos
        value = atom()
        while pos < len(tokens) and tokens[pos] != ")":
            op = tokens[pos]
            pos += 1
            rhs = atom()
            if op == "AND":
                value = value and rhs
            elif op == "OR":
                value = value or rhs
            elif op == "ANDNOT":
                value = value and not rhs
        return value

    return expr() if tokens else False


# -- Atom rendering -------------------------------------------------------------------------


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry_current(p: ArxivPaper, version: int, pdf_base: str) -> str:
    vid = f"{p.id}v{version}"
    out = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{escape(p.title)}</title>",
        f"    <updated>{_iso(p.updated)}</updated>",
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link href="{pdf_base}/pdf/{vid}" rel="related" type="application/pdf" title="pdf"/>',
        f"    <summary>{escape(p.summary)}</summary>",
    ]
    out += [
        f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in p.categories
    ]
    out.append(f"    <published>{_iso(p.published)}</published>")
    if p.comment:
        out.append(f"    <arxiv:comment>{escape(p.comment)}</arxiv:comment>")
    if p.journal_ref:
        out.append(f"    <arxiv:journal_ref>{escape(p.journal_ref)}</arxiv:journal_ref>")
    if p.doi:
        out.append(f"    <arxiv:doi>{escape(p.doi)}</arxiv:doi>")
    out.append(f'    <arxiv:primary_category term="{p.primary_category}"/>')
    for name in p.authors:
        out += ["    <author>", f"      <name>{escape(name)}</name>", "    </author>"]
    out.append("  </entry>")
    return "\n".join(out)


def _entry_2016(p: ArxivPaper, version: int, pdf_base: str) -> str:
    ns = 'xmlns:arxiv="http://arxiv.org/schemas/atom"'
    vid = f"{p.id}v{version}"
    title = "\n  ".join(textwrap.wrap(escape(p.title), 70)) or escape(p.title)
    summary = "\n".join(textwrap.wrap(escape(p.summary), 78))
    out = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <updated>{_iso(p.updated)}</updated>",
        f"    <published>{_iso(p.published)}</published>",
        f"    <title>{title}</title>",
        f"    <summary>  {summary}\n</summary>",
    ]
    for name in p.authors:
        out += ["    <author>", f"      <name>{escape(name)}</name>", "    </author>"]
    if p.doi:
        out.append(f"    <arxiv:doi {ns}>{escape(p.doi)}</arxiv:doi>")
        out.append(
            f'    <link title="doi" href={quoteattr("http://dx.doi.org/" + p.doi)} rel="related"/>'
        )
    if p.comment:
        out.append(f"    <arxiv:comment {ns}>{escape(p.comment)}</arxiv:comment>")
    if p.journal_ref:
        out.append(f"    <arxiv:journal_ref {ns}>{escape(p.journal_ref)}</arxiv:journal_ref>")
    out += [
        f'    <link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link title="pdf" href="{pdf_base}/pdf/{vid}" rel="related" type="application/pdf"/>',
        f'    <arxiv:primary_category {ns} term="{p.primary_category}" scheme="http://arxiv.org/schemas/atom"/>',
    ]
    out += [
        f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in p.categories
    ]
    out.append("  </entry>")
    return "\n".join(out)


def render_feed(
    entries: list[tuple[ArxivPaper, int]],
    *,
    total: int,
    start: int,
    per_page: int,
    style: str = "current",
    pdf_base: str = "https://arxiv.org",
) -> str:
    """An Atom feed page in the given layout (``current`` or ``2016``)."""
    if style == "2016":
        os_ns = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
        head = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom">',
            '  <title type="html">ArXiv Query: fake</title>',
            "  <id>http://arxiv.org/api/fake</id>",
            "  <updated>2016-10-09T00:00:00-04:00</updated>",
            f"  <opensearch:totalResults {os_ns}>{total}</opensearch:totalResults>",
            f"  <opensearch:startIndex {os_ns}>{start}</opensearch:startIndex>",
            f"  <opensearch:itemsPerPage {os_ns}>{per_page}</opensearch:itemsPerPage>",
        ]
        body = [_entry_2016(p, v, pdf_base) for p, v in entries]
    else:
        head = [
            "<?xml version='1.0' encoding='UTF-8'?>",
            '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">',
            "  <id>https://arxiv.org/api/fake</id>",
            "  <title>arXiv Query: fake</title>",
            "  <updated>2026-11-20T00:00:00Z</updated>",
            f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>",
            f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
            f"  <opensearch:startIndex>{start}</opensearch:startIndex>",
        ]
        body = [_entry_current(p, v, pdf_base) for p, v in entries]
    return "\n".join([*head, *body, "</feed>", ""])


def _error_feed(bad_id: str) -> str:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n"
        "  <updated>2026-11-20T00:00:00Z</updated>\n"
        "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        "  <opensearch:startIndex>0</opensearch:startIndex>\n  <entry>\n"
        f"    <id>https://arxiv.org/api/errors#incorrect_id_format_for_{escape(bad_id)}</id>\n"
        "    <title>Error</title>\n    <updated>2026-11-20T00:00:00Z</updated>\n"
        f"    <summary>incorrect id format for {escape(bad_id)}</summary>\n"
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n  </entry>\n</feed>\n"
    )


class FakeArxiv:
    """Context manager running the fake server on 127.0.0.1 (a free port)."""

    def __init__(self, papers: Iterable[ArxivPaper] = (), *, style: str = "current") -> None:
        self.papers: dict[str, ArxivPaper] = {p.id: p for p in papers}
        self.style = style
        self.requests: list[dict[str, list[str]]] = []
        self.pdf_requests: list[str] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ------------------------------------------------------------------------
    def add(self, *papers: ArxivPaper) -> None:
        for p in papers:
            self.papers[p.id] = p

    def fail_next(self, status: int = 503, count: int = 1) -> None:
        """The next ``count`` queries answer ``status`` (then normal service resumes)."""
        with self._lock:
            self._failures.extend([status] * count)

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The query endpoint, what ``ZOTSYNC_ARXIV_URL`` would hold."""
        return f"{self.base}/api/query"

    def __enter__(self) -> FakeArxiv:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # -- protocol -----------------------------------------------------------------------
    def answer(self, query: dict[str, list[str]]) -> tuple[int, str]:
        """Status and body for one parsed query string (the server's whole logic)."""
        with self._lock:
            self.requests.append(query)
            if self._failures:
                return self._failures.pop(0), "Service Unavailable"
        get = lambda k, d="": (query.get(k) or [d])[0]  # noqa: E731
        start, per_page = int(get("start", "0")), int(get("max_results", "10"))
        id_list = [i for i in get("id_list").split(",") if i]
        search = get("search_query").strip()
        chosen: list[tuple[ArxivPaper, int]] = []
        if id_list:
            for raw in id_list:
                match = _ID_RE.match(raw)
                if not match:
                    return 400, _error_feed(raw)
                p = self.papers.get(match.group(1))
                if p is None:
                    continue
                version = int(match.group(2)) if match.group(2) else p.version
                if version <= p.version:
                    chosen.append((p, version))
        else:
            chosen = [(p, p.version) for p in self.papers.values()]
        if search:
            tokens = _TOKEN_RE.findall(search)
            chosen = [(p, v) for p, v in chosen if _evaluate(tokens, p)]
        sort_by = get("sortBy", "relevance")
        if sort_by in ("submittedDate", "lastUpdatedDate"):
            attr = "published" if sort_by == "submittedDate" else "updated"
            chosen.sort(key=lambda pv: (getattr(pv[0], attr), pv[0].id))
            if get("sortOrder", "descending") == "descending":
                chosen.reverse()
        page = chosen[start : start + per_page]
        body = render_feed(
            page,
            total=len(chosen),
            start=start,
            per_page=per_page,
            style=self.style,
            pdf_base=self.base,
        )
        return 200, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                if parsed.path.startswith("/pdf/"):
                    fake.pdf_requests.append(parsed.path[5:])
                    self._send(200, FAKE_PDF, "application/pdf")
                    return
                if parsed.path != "/api/query":
                    self._send(404, b"not found", "text/plain")
                    return
                status, body = fake.answer(parse_qs(parsed.query, keep_blank_values=True))
                ctype = "application/atom+xml; charset=utf-8" if status != 503 else "text/plain"
                self._send(status, body.encode("utf-8"), ctype)

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
