"""``zotsync add``: translator-shaped items via the connector or the web API, no duplicates."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.add import ALREADY, add_papers
from zotsync.add.connector import ConnectorClient, connector_base, find_target
from zotsync.add.ids import known_identifiers, parse_paper_id
from zotsync.add.translator import clean_author, translator_item
from zotsync.add.web_write import WebTarget, WebWriter
from zotsync.arxiv_api import ArxivClient
from zotsync.errors import ConfigError, SourceUnavailable
from zotsync.testing.fake_arxiv import FAKE_PDF, FakeArxiv, paper
from zotsync.testing.fake_connector import FakeConnector
from zotsync.testing.sample_library import sample_library

SPARSE = paper(
    "2611.01234",
    "Sparse  Attention\n for Long Documents",
    "We make   self-attention sparse.",
    categories=("cs.CL", "cs.LG"),
    published="2026-11-17T10:00:00Z",
    updated="2026-11-18T09:30:00Z",
    authors=("Ada Lovelace", "Peter H. N. de With"),
    version=2,
    comment="12 pages,  4 figures",
)

EXPECTED_ITEM = {
    "id": "arxiv-2611.01234",
    "itemType": "preprint",
    "title": "Sparse Attention for Long Documents",
    "creators": [
        {"firstName": "Ada", "lastName": "Lovelace", "creatorType": "author"},
        {"firstName": "Peter H. N. de", "lastName": "With", "creatorType": "author"},
    ],
    "date": "2026-11-18",
    "abstractNote": "We make self-attention sparse.",
    "url": "http://arxiv.org/abs/2611.01234",
    "DOI": "10.48550/arXiv.2611.01234",
    "archiveID": "arXiv:2611.01234",
    "repository": "arXiv",
    "extra": "arXiv:2611.01234 [cs.CL]",
    "libraryCatalog": "arXiv.org",
    "tags": [{"tag": "cs.CL"}],
    "notes": [{"note": "Comment: 12 pages, 4 figures"}],
    "attachments": [
        {
            "title": "Preprint PDF",
            "url": "http://arxiv.org/pdf/2611.01234v2",
            "mimeType": "application/pdf",
        },
        {"title": "Snapshot", "url": "http://arxiv.org/abs/2611.01234", "mimeType": "text/html"},
    ],
}


@pytest.fixture
def arxiv_server() -> Iterator[FakeArxiv]:
    with FakeArxiv([SPARSE, paper("2611.05555", "Another paper", comment="")]) as fake:
        yield fake


@pytest.fixture
def arxiv_client(arxiv_server: FakeArxiv) -> ArxivClient:
    return ArxivClient(arxiv_server.url, delay_seconds=0.0)


# -- connector ------------------------------------------------------------------------------


def test_connector_gets_the_translator_item_then_the_pdf(arxiv_client: ArxivClient) -> None:
    with FakeConnector() as zotero:
        result = add_papers(
            ["https://arxiv.org/abs/2611.01234"],
            library_ids=set(),
            arxiv_client=arxiv_client,
            connector_url=zotero.local_api_url,
            collection="Deep Learning/NLP",
        )
    assert result.to_json()["skipped"] == [] and result.exit_code == 0
    assert [a.id for a in result.added] == ["2611.01234"] and result.added[0].via == "connector"
    (save,) = zotero.calls("saveItems")
    body = save.json()
    assert body["items"] == [EXPECTED_ITEM]
    assert re.fullmatch(r"[0-9a-f]{16}", body["sessionID"])
    assert "x-zotero-connector-api-version" not in save.headers
    ((meta, pdf),) = zotero.attachments
    assert pdf == FAKE_PDF
    assert meta == {
        "sessionID": body["sessionID"],
        "parentItemID": "arxiv-2611.01234",
        "title": "Preprint PDF",
        "url": "http://arxiv.org/pdf/2611.01234v2",
    }
    assert zotero.calls("saveAttachment")[0].headers["content-type"] == "application/pdf"
    assert zotero.updates == [{"sessionID": body["sessionID"], "tags": "to-read", "target": "C11"}]


def test_session_exists_is_answered_with_a_fresh_session(arxiv_client: ArxivClient) -> None:
    with FakeConnector(session_conflicts=1) as zotero:
        result = add_papers(
            ["2611.01234"], library_ids=set(), arxiv_client=arxiv_client, connector_url=zotero.base
        )
    first, second = (r.json()["sessionID"] for r in zotero.calls("saveItems"))
    assert first != second and len(result.added) == 1
    assert zotero.attachments[0][0]["sessionID"] == second


def test_older_zotero_downloads_the_pdf_itself(arxiv_client: ArxivClient) -> None:
    with FakeConnector(api_version=2) as zotero:
        result = add_papers(
            ["arXiv:2611.01234v2"],
            library_ids=set(),
            arxiv_client=arxiv_client,
            connector_url=zotero.base,
        )
    assert zotero.calls("saveAttachment") == []
    item = zotero.calls("saveItems")[0].json()["items"][0]
    assert item["attachments"][0]["url"] == "http://arxiv.org/pdf/2611.01234v2"
    assert item["extra"] == "arXiv:2611.01234 [cs.CL]\nversion: 2"
    assert result.added[0].pdf


def test_papers_already_in_library_are_skipped_before_anything_is_written(
    arxiv_server: FakeArxiv, arxiv_client: ArxivClient
) -> None:
    published = paper("2611.07777", "Published later", doi="10.18653/v1/N19-1423")
    arxiv_server.add(published)
    known = known_identifiers(i.fields for i in sample_library().items)
    with FakeConnector() as zotero:
        result = add_papers(
            [
                "1706.03762",
                "10.48550/arXiv.1706.03762",
                "https://doi.org/10.18653/v1/N19-1423",
                "2611.07777",
            ],
            library_ids=known,
            arxiv_client=arxiv_client,
            connector_url=zotero.base,
        )
    assert result.added == []
    assert result.to_json()["skipped"] == [
        {"id": "1706.03762", "reason": ALREADY},
        {"id": "10.18653/v1/N19-1423", "reason": ALREADY},
        {"id": "2611.07777", "reason": ALREADY},
    ]
    assert result.exit_code == 1
    assert zotero.calls("saveItems") == []


def test_unknown_and_unrecognised_ids_are_skipped_with_a_reason(arxiv_client: ArxivClient) -> None:
    with FakeConnector() as zotero:
        result = add_papers(
            ["2611.09999", "hello", "10.1000/xyz", "2611.05555"],
            library_ids=set(),
            arxiv_client=arxiv_client,
            connector_url=zotero.base,
            tags=(),
        )
    reasons = dict(result.skipped)
    assert reasons["2611.09999"] == "not found on arXiv"
    assert reasons["hello"] == "not an arXiv id or DOI"
    assert reasons["10.1000/xyz"].startswith("not an arXiv paper")
    assert [a.id for a in result.added] == ["2611.05555"]
    assert zotero.updates == []  # no tags, no collection: the session is left alone


def test_unknown_collection_stops_before_saving(arxiv_client: ArxivClient) -> None:
    with FakeConnector() as zotero, pytest.raises(ConfigError, match="Robotics"):
        add_papers(
            ["2611.01234"],
            library_ids=set(),
            arxiv_client=arxiv_client,
            connector_url=zotero.base,
            collection="Robotics",
        )
    assert zotero.calls("saveItems") == []


# -- web API --------------------------------------------------------------------------------


class FakeWebApi:
    """Just enough of the web API write protocol: POST /users/1/items, items/top, collections."""

    def __init__(self, script: list[int] | None = None) -> None:
        self.script = list(script or [])  # statuses to answer item POSTs with before normal
        self.posts: list[tuple[dict[str, str], list[dict[str, Any]]]] = []
        self.tokens_seen: set[str] = set()
        self.items: dict[str, dict[str, Any]] = {}
        self.gets: list[str] = []

    def __enter__(self) -> FakeWebApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(
                self, status: int, body: object, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                fake.gets.append(self.path)
                if self.path.startswith("/users/1/collections"):
                    colls = [
                        {
                            "key": "COLLNLP3",
                            "data": {"key": "COLLNLP3", "name": "NLP", "parentCollection": False},
                        }
                    ]
                    self._json(200, colls, {"Total-Results": "1"})
                elif self.path.startswith("/users/1/items/top"):
                    self._json(200, [{"key": k, "data": d} for k, d in fake.items.items()])
                else:
                    self._json(404, {})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.posts.append((headers, body))
                token = headers.get("zotero-write-token", "")
                if fake.script:
                    status = fake.script.pop(0)
                    if status == 200:  # committed, but pretend the answer got lost
                        fake._store(body, token)
                        self.connection.close()
                        return
                    self._json(status, {}, {"Retry-After": "0"})
                    return
                if token in fake.tokens_seen:
                    self._json(412, {})
                    return
                keys = fake._store(body, token)
                self._json(
                    200,
                    {
                        "success": {str(i): k for i, k in enumerate(keys)},
                        "successful": {},
                        "unchanged": {},
                        "failed": {},
                    },
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def _store(self, body: list[dict[str, Any]], token: str) -> list[str]:
        self.tokens_seen.add(token)
        keys = []
        for obj in body:
            key = f"KEY{len(self.items):05d}"
            self.items[key] = obj
            keys.append(key)
        return keys

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"


def test_web_api_is_used_when_the_desktop_is_not_running(arxiv_client: ArxivClient) -> None:
    with FakeConnector(running=False) as zotero, FakeWebApi() as web:
        result = add_papers(
            ["2611.01234"],
            library_ids=set(),
            arxiv_client=arxiv_client,
            connector_url=zotero.base,
            web=WebTarget("users/1", "SECRETKEY", web.url),
            collection="NLP",
        )
    assert [a.via for a in result.added] == ["web"] and result.added[0].key == "KEY00000"
    (parent_headers, (parent,)), (child_headers, children) = web.posts
    expected = {
        k: v for k, v in EXPECTED_ITEM.items() if k not in ("id", "notes", "attachments", "tags")
    }
    assert parent == {
        **expected,
        "tags": [{"tag": "cs.CL", "type": 1}, {"tag": "to-read"}],
        "collections": ["COLLNLP3"],
        "relations": {},
    }
    assert (
        parent_headers["zotero-api-key"] == "SECRETKEY"
        and parent_headers["zotero-api-version"] == "3"
    )
    assert re.fullmatch(r"[0-9a-f]{32}", parent_headers["zotero-write-token"])
    assert child_headers["zotero-write-token"] != parent_headers["zotero-write-token"]
    note, pdf = children
    assert note == {
        "itemType": "note",
        "parentItem": "KEY00000",
        "note": "<p>Comment: 12 pages, 4 figures</p>",
        "tags": [],
        "relations": {},
    }
    assert pdf["linkMode"] == "linked_url" and pdf["parentItem"] == "KEY00000"
    assert (
        pdf["url"] == "http://arxiv.org/pdf/2611.01234v2"
        and pdf["contentType"] == "application/pdf"
    )
    assert "SECRETKEY" not in repr(WebTarget("users/1", "SECRETKEY", web.url))


def test_a_retried_write_reuses_its_token_and_412_means_it_already_happened(
    arxiv_client: ArxivClient,
) -> None:
    sleeps: list[float] = []
    with FakeConnector(running=False) as zotero, FakeWebApi(script=[503, 200]) as web:
        writer = WebWriter(WebTarget("users/1", "K", web.url), sleep=sleeps.append)
        result = add_papers(
            ["2611.01234"],
            library_ids=set(),
            arxiv_client=arxiv_client,
            connector_url=zotero.base,
            web_writer=writer,
        )
    tokens = [h["zotero-write-token"] for h, _ in web.posts]
    assert tokens[0] == tokens[1] == tokens[2]  # 503, lost answer, then 412
    parents = [o for o in web.items.values() if o.get("itemType") == "preprint"]
    assert len(parents) == 1  # no duplicate item
    assert result.added[0].key == "KEY00000"
    assert [o["parentItem"] for o in web.items.values() if "parentItem" in o] == [
        "KEY00000",
        "KEY00000",
    ]
    assert len(sleeps) == 2


def test_no_desktop_and_no_key_says_how_to_fix(arxiv_client: ArxivClient) -> None:
    with (
        FakeConnector(running=False) as zotero,
        pytest.raises(SourceUnavailable, match="ZOTERO_API_KEY"),
    ):
        add_papers(
            ["2611.01234"], library_ids=set(), arxiv_client=arxiv_client, connector_url=zotero.base
        )


# -- pure parts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value", "version"),
    [
        ("1706.03762", "arxiv", "1706.03762", None),
        ("arXiv:1706.03762v5", "arxiv", "1706.03762", 5),
        ("https://arxiv.org/abs/1706.03762v2", "arxiv", "1706.03762", 2),
        ("https://arxiv.org/pdf/1706.03762v2.pdf", "arxiv", "1706.03762", 2),
        ("http://export.arxiv.org/abs/hep-th/9901001", "arxiv", "hep-th/9901001", None),
        ("math.GT/0309136", "arxiv", "math.GT/0309136", None),
        ("10.48550/arXiv.2106.15928", "arxiv", "2106.15928", None),
        ("https://doi.org/10.48550/ARXIV.2106.15928", "arxiv", "2106.15928", None),
        ("doi:10.18653/v1/N19-1423", "doi", "10.18653/v1/N19-1423", None),
        ("https://dx.doi.org/10.1109/CVPR.2016.90", "doi", "10.1109/CVPR.2016.90", None),
    ],
)
def test_ids_in_every_form_are_recognised(
    text: str, kind: str, value: str, version: int | None
) -> None:
    pid = parse_paper_id(text)
    assert pid is not None and (pid.kind, pid.value, pid.version) == (kind, value, version)


@settings(max_examples=60, deadline=None)
@given(
    yymm=st.integers(701, 9912).filter(lambda n: 1 <= n % 100 <= 12),
    number=st.integers(1, 99999),
    version=st.one_of(st.none(), st.integers(1, 30)),
    form=st.sampled_from(
        [
            "{id}",
            "arXiv:{id}",
            "https://arxiv.org/abs/{id}",
            "http://arxiv.org/pdf/{id}.pdf",
            "https://doi.org/10.48550/arXiv.{id}",
        ]
    ),
)
def test_any_spelling_of_an_arxiv_id_parses_to_the_same_paper(
    yymm: int, number: int, version: int | None, form: str
) -> None:
    base = f"{yymm:04d}.{number:05d}"
    shown = base + (f"v{version}" if version and "doi.org" not in form else "")
    pid = parse_paper_id(form.format(id=shown))
    assert pid is not None and pid.kind == "arxiv" and pid.value == base
    assert f"10.48550/arxiv.{base}" in known_identifiers([{"archiveID": f"arXiv:{base}"}])


def test_translator_shapes_old_ids_and_journal_dois() -> None:
    old = translator_item(paper("hep-th/9901001", "Old", categories=("hep-th",)))
    assert old["extra"] == "arXiv:hep-th/9901001" and old["archiveID"] == "arXiv:hep-th/9901001"
    journal = translator_item(
        paper("2611.00001", "J", doi="10.1103/PhysRevB.85.115117", journal_ref="PRB 85")
    )
    assert (
        journal["itemType"] == "journalArticle" and journal["DOI"] == "10.1103/PhysRevB.85.115117"
    )
    assert "archiveID" not in journal and "repository" not in journal
    assert clean_author("  Madonna ") == {
        "firstName": "",
        "lastName": "Madonna",
        "creatorType": "author",
    }


def test_connector_address_and_collection_targets() -> None:
    assert connector_base("http://127.0.0.1:23119/api") == "http://127.0.0.1:23119"
    targets = [
        {"id": "L1", "name": "My Library", "level": 0},
        {"id": "C1", "name": "A", "level": 1},
        {"id": "C2", "name": "X", "level": 2},
        {"id": "C3", "name": "B", "level": 1},
        {"id": "C4", "name": "X", "level": 2},
    ]
    assert find_target(targets, "B/X") == "C4" and find_target(targets, "A") == "C1"
    assert find_target(targets, "X") is None  # ambiguous
    assert ConnectorClient("http://127.0.0.1:9").ping() is False
