"""``zotsync add``: turn arXiv ids/DOIs into Zotero items, never duplicating one.

Order of work, so nothing is written for a paper that should be skipped:

1. parse the input (:mod:`zotsync.add.ids`); unrecognised strings are skipped;
2. skip what the library already has: the arXiv id, its DataCite DOI, or a DOI given
   directly ("already in library");
3. fetch metadata from arXiv in one batched, rate-limited request; ids arXiv does not know
   are skipped; a paper whose *published* DOI is in the library is skipped too;
4. pick the writer once: the desktop's connector when ``/connector/ping`` answers, else the
   web API when a write key is configured, else stop with how to fix it;
5. per paper: connector — ``saveItems`` with a fresh session id (a new one on
   ``SESSION_EXISTS``), the PDF by ``saveAttachment`` when Zotero supports uploads (older
   versions download it themselves), then ``updateSession`` for the collection and the
   user's tags; web API — the item, then its note and a linked-URL PDF.

A DOI that is not an arXiv DOI is skipped with an explanation: its metadata would have to come
from Crossref, which ``add`` does not query. One paper failing does not stop the others; it
is reported in ``skipped`` with the reason.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from zotsync.add.connector import ConnectorClient, SessionExists, connector_base, find_target
from zotsync.add.ids import PaperId, parse_paper_ids
from zotsync.add.translator import note_html, translator_item, web_api_item
from zotsync.add.web_write import WebTarget, WebWriter, child_objects
from zotsync.arxiv_api import ArxivPaper
from zotsync.errors import ConfigError, RemoteError, SourceUnavailable
from zotsync.http import make_client

ALREADY = "already in library"
DEFAULT_TAGS = ("to-read",)


class PaperFetcher(Protocol):
    def fetch_by_ids(self, ids: Iterable[str]) -> dict[str, ArxivPaper]: ...


@dataclass(frozen=True, slots=True)
class Added:
    """One paper saved to Zotero."""

    id: str
    title: str
    via: Literal["connector", "web"]
    key: str | None = None
    pdf: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "via": self.via,
            "key": self.key,
            "pdf": self.pdf,
        }


@dataclass(slots=True)
class AddResult:
    """``added`` papers and ``skipped`` ``(id, reason)`` pairs; maps onto ``add --json``."""

    added: list[Added] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 (partial) when anything was skipped, else 0 — the CLI contract."""
        return 1 if self.skipped else 0

    def to_json(self) -> dict[str, object]:
        return {
            "added": [a.to_json() for a in self.added],
            "skipped": [{"id": i, "reason": r} for i, r in self.skipped],
        }


def default_download(url: str) -> bytes:
    """Fetch a PDF (redirects followed); the arXiv PDF host needs no key."""
    with make_client(timeout=60.0) as http:
        response = http.get(url)
    response.raise_for_status()
    return response.content


def _display(pid: PaperId) -> str:
    return pid.value if pid.version is None else f"{pid.value}v{pid.version}"


def _known(pid: PaperId, library_ids: set[str]) -> bool:
    if pid.key in library_ids:
        return True
    return pid.kind == "arxiv" and f"10.48550/arxiv.{pid.key}" in library_ids


def add_papers(
    ids: Sequence[str],
    *,
    library_ids: set[str],
    arxiv_client: PaperFetcher,
    connector_url: str | None = None,
    web: WebTarget | None = None,
    collection: str | None = None,
    tags: Sequence[str] = DEFAULT_TAGS,
    connector: ConnectorClient | None = None,
    download: Callable[[str], bytes] = default_download,
    web_writer: WebWriter | None = None,
) -> AddResult:
    """Add papers to Zotero; see the module docstring for the order of work.

    ``connector_url`` is the connector root or the local API URL (its path is dropped;
    default ``ZOTSYNC_ZOTERO_LOCAL_URL``). ``library_ids`` are the library's arXiv ids and DOIs
    (:func:`zotsync.add.ids.known_identifiers`). Raises :class:`SourceUnavailable` when
    there is something to add but neither the desktop nor a web API key is available, and
    :class:`ConfigError` when ``collection`` does not exist.
    """
    result = AddResult()
    known = {k.lower() for k in library_ids}
    parsed, bad = parse_paper_ids(ids)
    result.skipped += [(text, "not an arXiv id or DOI") for text in bad]

    wanted: list[PaperId] = []
    for pid in parsed:
        if _known(pid, known):
            result.skipped.append((_display(pid), ALREADY))
        elif pid.kind == "doi":
            result.skipped.append(
                (pid.value, "not an arXiv paper: add DOIs with Zotero's 'Add Item by Identifier'")
            )
        else:
            wanted.append(pid)
    if not wanted:
        return result

    papers = arxiv_client.fetch_by_ids([_display(p) for p in wanted])
    todo: list[tuple[PaperId, ArxivPaper]] = []
    for pid in wanted:
        paper = papers.get(pid.value)
        if paper is None:
            result.skipped.append((_display(pid), "not found on arXiv"))
        elif paper.doi and paper.doi.lower() in known:
            result.skipped.append((_display(pid), ALREADY))
        else:
            todo.append((pid, paper))
    if not todo:
        return result

    batch = _Batch(todo, result, collection, tags)
    own_connector = connector is None
    conn = connector or ConnectorClient(connector_base(connector_url))
    try:
        if conn.ping():
            _via_connector(conn, batch, download)
            return result
    finally:
        if own_connector:
            conn.close()
    if web is None and web_writer is None:
        raise SourceUnavailable(
            "Zotero is not running and no web API key is configured",
            fix="start Zotero, or set ZOTERO_API_KEY (a key with write access)",
        )
    writer = web_writer or WebWriter(web)  # type: ignore[arg-type]
    try:
        _via_web(writer, batch)
    finally:
        if web_writer is None:
            writer.close()
    return result


@dataclass
class _Batch:
    """The papers one ``add`` saves, where they go, and the result being filled in."""

    todo: list[tuple[PaperId, ArxivPaper]]
    result: AddResult
    collection: str | None
    tags: Sequence[str]


def _via_connector(conn: ConnectorClient, batch: _Batch, download: Callable[[str], bytes]) -> None:
    todo, result, collection, tags = batch.todo, batch.result, batch.collection, batch.tags
    target = None
    if collection:
        target = find_target(conn.targets(), collection)
        if target is None:
            raise ConfigError([f"collection {collection!r} not found in Zotero (or ambiguous)"])
    elif tags:
        target = conn.selected_target()  # the desktop's updateSession needs one (500 without)
    upload = conn.supports_attachment_upload()
    for pid, paper in todo:
        item = translator_item(paper, requested_version=pid.version)
        try:
            session = _save_with_fresh_session(conn, item)
            pdf = False
            if upload and paper.pdf_url:
                pdf = _upload_pdf(conn, session, item, paper, download)
            if target:
                conn.update_session(session, target, tags)
        except RemoteError as err:
            result.skipped.append((_display(pid), f"failed: {err.message}"))
            continue
        result.added.append(Added(paper.id, paper.title, "connector", None, pdf or not upload))


def _save_with_fresh_session(conn: ConnectorClient, item: dict[str, Any]) -> str:
    for _ in range(3):
        session = secrets.token_hex(8)
        try:
            conn.save_items(session, [item], uri=item["url"])
            return session
        except SessionExists:
            continue
    raise RemoteError("Zotero kept reporting SESSION_EXISTS for new session ids")


def _upload_pdf(
    conn: ConnectorClient,
    session: str,
    item: dict[str, Any],
    paper: ArxivPaper,
    download: Callable[[str], bytes],
) -> bool:
    pdf_url = item["attachments"][0]["url"]
    try:
        content = download(paper.pdf_url)
    except (httpx.HTTPError, OSError):
        return False  # the item is saved; the PDF can be fetched later in Zotero
    conn.save_attachment(session, item["id"], content, title="Preprint PDF", url=pdf_url)
    return True


def _via_web(writer: WebWriter, batch: _Batch) -> None:
    todo, result, collection, tags = batch.todo, batch.result, batch.collection, batch.tags
    writer.library_prefix()  # a key that cannot name its library fails the whole add, once
    collections: list[str] = []
    if collection:
        key = writer.collection_key(collection)
        if key is None:
            raise ConfigError([f"collection {collection!r} not found in the Zotero library"])
        collections = [key]
    for pid, paper in todo:
        item = translator_item(paper, requested_version=pid.version)
        data = web_api_item(item, tags=tags, collections=collections)
        try:
            (key,) = writer.create([data])
            if key is None:
                key = writer.find_existing(paper.id, paper.title)
            pdf_url = item["attachments"][0]["url"]
            notes = [note_html(n["note"]) for n in item["notes"]]
            if key:
                writer.create(child_objects(key, notes, pdf_url))
        except RemoteError as err:
            result.skipped.append((_display(pid), f"failed: {err.message}"))
            continue
        result.added.append(Added(paper.id, paper.title, "web", key, bool(key)))
