"""Keeping up end to end, through the CLI: discover → tick → ``add --from-inbox`` → sync.

A vault synced from a small Zotero database about one topic (transformer language models), a
loopback arXiv serving this week's papers of two topics, and a loopback Zotero connector that
records what ``add`` saved. "Zotero" then stores what the connector received (the test writes
those items into the database with the fixture builder, as the desktop would), and the next
sync writes their notes.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from zotsync.arxiv_api import ArxivPaper
from zotsync.discover.inbox import iso_week
from zotsync.model import Creator, Item, Library, LibraryRef, Tag, with_base_fields
from zotsync.testing.fake_arxiv import FAKE_PDF, FakeArxiv, paper
from zotsync.testing.fake_connector import FakeConnector
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db

USER = LibraryRef("user", 424242)
TODAY = date.today()


def days_ago(days: float) -> str:
    """An ISO timestamp ``days`` before now (the fake arXiv filters on the real clock)."""
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def library_paper(key: str, title: str, abstract: str, **fields: str) -> Item:
    return Item(
        key=key,
        item_type="journalArticle",
        fields=with_base_fields(
            "journalArticle", {"title": title, "abstractNote": abstract, "date": "2019", **fields}
        ),
        creators=[Creator("Vaswani", "Ashish")],
        tags=[Tag("language-models")],
        date_added="2024-01-01T00:00:00Z",
        date_modified="2024-01-01T00:00:00Z",
        version=1,
        library=USER,
    )


def nlp_library() -> Library:
    """Five papers about one topic; one of them an arXiv preprint saved from this week."""
    return Library(
        ref=USER,
        items=[
            library_paper(
                "ATTN2345",
                "Attention Is All You Need",
                "The transformer: a sequence transduction model based solely on self-attention, "
                "for machine translation, dispensing with recurrence.",
                DOI="10.48550/arXiv.1706.03762",
                url="https://arxiv.org/abs/1706.03762",
            ),
            library_paper(
                "BERT2345",
                "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
                "Masked language model pretraining of bidirectional transformer encoders for "
                "language understanding.",
                DOI="10.18653/v1/N19-1423",
            ),
            library_paper(
                "GPT22345",
                "Language Models are Unsupervised Multitask Learners",
                "Transformer language models trained on web text learn translation, "
                "summarization and question answering without supervision.",
            ),
            library_paper(
                "LONG2345",
                "Longformer: The Long-Document Transformer",
                "Self-attention that scales linearly with sequence length for long documents.",
            ),
            library_paper(
                "SPRS2345",
                "Sparse Attention Routing for Transformer Language Models",
                "Routing tokens to sparse attention heads in transformer language models.",
                extra="arXiv:2611.00042 [cs.CL]",
            ),
        ],
    )


def arxiv_week() -> list[ArxivPaper]:
    """This week on arXiv (cs.LG): three language-model papers, three from far away, two
    that the library already holds, and one too old for the window."""
    cats = ("cs.LG", "cs.CL")
    return [
        paper(
            "2611.10001",
            "Linear Attention Transformers for Long-Document Language Models",
            "We replace softmax self-attention in transformer language models with linear "
            "attention for long documents and machine translation.",
            categories=cats,
            published=days_ago(1),
            authors=("Mira Okafor", "Jonas Lindqvist"),
        ),
        paper(
            "2611.10002",
            "Bidirectional Transformer Pretraining for Language Understanding at Scale",
            "Masked language model pretraining of transformer encoders improves language "
            "understanding benchmarks.",
            categories=cats,
            published=days_ago(2),
            comment="9 pages",
        ),
        paper(
            "2611.10003",
            "Multitask Language Models Learn Translation without Supervision",
            "Transformer language models trained on web text translate and summarize.",
            categories=cats,
            published=days_ago(3),
        ),
        paper(
            "2611.20001",
            "Model-Based Reinforcement Learning for Robotic Grasping",
            "A robot learns grasping policies from a learned dynamics model with reward shaping.",
            categories=("cs.LG", "cs.RO"),
            published=days_ago(1.5),
        ),
        paper(
            "2611.20002",
            "Graph Neural Networks Predict Molecular Properties",
            "Message passing graph networks for molecule property prediction in chemistry.",
            categories=("cs.LG", "q-bio.QM"),
            published=days_ago(2.5),
        ),
        paper(
            "2611.20003",
            "Bayesian Optimisation of Chemical Reaction Yields",
            "Gaussian process surrogates choose reaction conditions in the laboratory.",
            categories=("cs.LG", "stat.ML"),
            published=days_ago(4),
        ),
        paper(  # in the library by arXiv id (Extra line)
            "2611.00042",
            "Sparse Attention Routing for Transformer Language Models",
            "Routing tokens to sparse attention heads in transformer language models.",
            categories=cats,
            published=days_ago(5),
            version=2,
        ),
        paper(  # in the library by its published DOI
            "2611.10009",
            "BERT, Published Version",
            "Masked language model pretraining of bidirectional transformers.",
            categories=cats,
            published=days_ago(2),
            doi="10.18653/v1/N19-1423",
        ),
        paper(  # on topic but outside the 7-day window
            "2610.09999",
            "Transformer Language Models from Last Month",
            "Transformer language models with attention.",
            categories=cats,
            published=days_ago(30),
        ),
    ]


ON_TOPIC = ["2611.10001", "2611.10002", "2611.10003"]
OFF_TOPIC = ["2611.20001", "2611.20002", "2611.20003"]


@pytest.fixture
def zotero_db(tmp_path: Path) -> Path:
    return make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", nlp_library(), version=7)


@pytest.fixture
def synced_vault(tmp_path: Path, zotero_db: Path, run_cli: Callable[..., Result]) -> Iterator[Path]:
    """A vault synced from the database, with no delay between arXiv requests."""
    vault = tmp_path / "vault"
    assert run_cli("init", vault).exit_code == 0
    result = run_cli("sync", "--vault", vault, "--zotero-db", zotero_db, "--no-refs", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 5
    config = vault / "zotsync.yaml"
    config.write_text(
        config.read_text("utf-8") + "\ndiscover:\n  delay-seconds: 0\n", encoding="utf-8"
    )
    yield vault


@pytest.fixture
def fake_arxiv(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    with FakeArxiv(arxiv_week()) as server:
        monkeypatch.setenv("ZOTSYNC_ARXIV_URL", server.url)
        yield server


@pytest.fixture
def connector(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnector]:
    with FakeConnector() as server:
        monkeypatch.setenv("ZOTSYNC_ZOTERO_LOCAL_URL", server.local_api_url)
        yield server


@pytest.fixture
def no_desktop(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A connector address where nothing listens (a server started, then stopped)."""
    with FakeConnector() as server:
        url = server.local_api_url
    monkeypatch.setenv("ZOTSYNC_ZOTERO_LOCAL_URL", url)
    yield


def tick(note: Path, *arxiv_ids: str) -> None:
    """Tick boxes the way a user does in Obsidian: ``- [ ]`` becomes ``- [x]``."""
    lines = note.read_text("utf-8").split("\n")
    for n, line in enumerate(lines):
        if line.startswith("- [ ]") and any(line.endswith(f"arXiv:{i}") for i in arxiv_ids):
            lines[n] = "- [x]" + line[5:]
    note.write_text("\n".join(lines), encoding="utf-8")


def saved_item(received: dict[str, Any], manual_tags: list[str]) -> Item:
    """What Zotero stores for a translator item the connector received."""
    fields = {
        k: v for k, v in received.items() if isinstance(v, str) and k not in ("id", "itemType")
    }
    return Item(
        key="".join(secrets.choice("23456789ABCDEFGHIJKLMNPQRSTUVWXYZ") for _ in range(8)),
        item_type=received["itemType"],
        fields=with_base_fields(received["itemType"], fields),
        creators=[
            Creator(c["lastName"], c["firstName"], c["creatorType"]) for c in received["creators"]
        ],
        tags=[Tag(t["tag"], auto=True) for t in received["tags"]] + [Tag(t) for t in manual_tags],
        date_added="2026-11-22T10:00:00Z",
        date_modified="2026-11-22T10:00:00Z",
        version=1,
        library=USER,
    )


def frontmatter_of(path: Path) -> dict[str, Any]:
    head = path.read_text("utf-8").split("\n---\n", 1)[0].removeprefix("---\n")
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


# -- the round trip ----------------------------------------------------------------------------


def test_inbox_round_trip_discover_tick_add_sync_writes_the_notes(
    synced_vault: Path,
    zotero_db: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
) -> None:
    vault = synced_vault
    found = run_cli("discover", "--vault", vault, "--category", "cs.LG", "--days", "7", "--json")
    assert found.exit_code == 0, found.output
    inbox = vault / json.loads(found.stdout)["path"]
    assert inbox == vault / "Inbox" / f"{iso_week(TODAY)}.md"

    tick(inbox, "2611.10001", "2611.20002")
    added = run_cli("add", "--vault", vault, "--from-inbox", "--json")
    assert added.exit_code == 0, added.output
    report = json.loads(added.stdout)
    assert sorted(a["id"] for a in report["added"]) == ["2611.10001", "2611.20002"]
    assert report["skipped"] == []
    assert {a["via"] for a in report["added"]} == {"connector"}

    text = inbox.read_text("utf-8")
    assert "arXiv:2611.10001 · **added**" in text and "arXiv:2611.20002 · **added**" in text
    assert "arXiv:2611.10002 · **added**" not in text

    # what the desktop was sent: translator items, their PDFs, the default tag
    sessions = list(connector.sessions.values())
    received = [item for items in sessions for item in items]
    assert sorted(i["archiveID"] for i in received) == ["arXiv:2611.10001", "arXiv:2611.20002"]
    assert [body for _, body in connector.attachments] == [FAKE_PDF, FAKE_PDF]
    assert all(u["tags"] == "to-read" for u in connector.updates)

    # Zotero saves what it received; the next sync writes the notes
    with hold_exclusive(zotero_db) as desktop:
        for item in received:
            desktop.add_item(saved_item(item, ["to-read"]))
    synced = run_cli("sync", "--vault", vault, "--no-refs", "--json")
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)["created"] == 2
    for arxiv_id, title in [
        ("2611.10001", "Linear Attention Transformers for Long-Document Language Models"),
        ("2611.20002", "Graph Neural Networks Predict Molecular Properties"),
    ]:
        note = vault / "Papers" / f"{title}.md"
        assert note.exists(), sorted(p.name for p in (vault / "Papers").iterdir())
        meta = frontmatter_of(note)
        assert (meta["title"], meta["arxiv"], meta["status"]) == (title, arxiv_id, "to-read")

    # nothing left to add: a second --from-inbox adds nothing and writes nothing
    before = inbox.read_bytes(), inbox.stat().st_mtime_ns
    again = run_cli("add", "--vault", vault, "--from-inbox", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {"added": [], "skipped": []}
    assert (inbox.read_bytes(), inbox.stat().st_mtime_ns) == before
    assert len(connector.sessions) == 2


def test_a_paper_added_and_synced_drops_out_of_the_next_discover(
    synced_vault: Path,
    zotero_db: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
) -> None:
    vault = synced_vault
    added = run_cli("add", "--vault", vault, "2611.10002", "--json")
    assert added.exit_code == 0, added.output
    (received,) = next(iter(connector.sessions.values()))
    with hold_exclusive(zotero_db) as desktop:
        desktop.add_item(saved_item(received, ["to-read"]))
    assert run_cli("sync", "--vault", vault, "--no-refs").exit_code == 0

    found = run_cli("discover", "--vault", vault, "--category", "cs.LG", "--json")
    assert found.exit_code == 0, found.output
    ids = [p["arxiv"] for p in json.loads(found.stdout)["papers"]]
    assert "2611.10002" not in ids and "2611.10001" in ids
    again = run_cli("add", "--vault", vault, "https://arxiv.org/abs/2611.10002v1", "--json")
    assert again.exit_code == 1
    assert json.loads(again.stdout)["skipped"] == [
        {"id": "2611.10002v1", "reason": "already in library"}
    ]


# -- add: duplicates, exit codes, the fallbacks --------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "1706.03762",  # the library item's DataCite DOI
        "arXiv:2611.00042v2",  # the Extra line of a saved preprint
        "https://doi.org/10.18653/v1/N19-1423",  # a library DOI as a URL
    ],
)
def test_add_of_a_paper_already_in_the_library_is_skipped_with_exit_1(
    given: str,
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
) -> None:
    result = run_cli("add", "--vault", synced_vault, given, "2611.10003", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [s["reason"] for s in report["skipped"]] == ["already in library"]
    assert [a["id"] for a in report["added"]] == ["2611.10003"]
    saved = [i["title"] for items in connector.sessions.values() for i in items]
    assert saved == ["Multitask Language Models Learn Translation without Supervision"]


def test_add_skips_a_paper_whose_published_doi_is_in_the_library(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
) -> None:
    result = run_cli("add", "--vault", synced_vault, "2611.10009")
    assert result.exit_code == 1
    assert "skipped 2611.10009: already in library" in result.stdout
    assert connector.calls("saveItems") == []


def test_add_with_no_desktop_and_no_key_exits_3_with_the_fix(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    no_desktop: None,
    run_cli: Callable[..., Result],
) -> None:
    result = run_cli("add", "--vault", synced_vault, "2611.10001")
    assert result.exit_code == 3
    assert "Zotero is not running and no web API key is configured" in result.stderr
    assert "fix: start Zotero, or set ZOTERO_API_KEY" in result.stderr
    as_json = run_cli("add", "--vault", synced_vault, "2611.10001", "--json")
    assert as_json.exit_code == 3
    assert json.loads(as_json.stdout)["exit"] == 3


def test_from_inbox_when_the_add_fails_leaves_the_ticks_for_the_next_try(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    no_desktop: None,
    run_cli: Callable[..., Result],
) -> None:
    vault = synced_vault
    assert run_cli("discover", "--vault", vault, "--category", "cs.LG").exit_code == 0
    inbox = vault / "Inbox" / f"{iso_week(TODAY)}.md"
    tick(inbox, "2611.10001")
    ticked = inbox.read_bytes()
    assert run_cli("add", "--vault", vault, "--from-inbox").exit_code == 3
    assert inbox.read_bytes() == ticked


def test_add_without_ids_or_inbox_is_a_usage_error(
    synced_vault: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("add", "--vault", synced_vault)
    assert result.exit_code == 2
    assert "--from-inbox" in result.stderr


def test_from_inbox_with_nothing_ticked_adds_nothing_and_says_so(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
) -> None:
    vault = synced_vault
    assert run_cli("discover", "--vault", vault, "--category", "cs.LG").exit_code == 0
    result = run_cli("add", "--vault", vault, "--from-inbox")
    assert result.exit_code == 0
    assert "nothing ticked" in result.stdout
    assert connector.requests == []


def test_add_honours_the_configured_arxiv_delay(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zotsync.commands import keeping_up

    delays: list[float] = []
    real = keeping_up.ArxivClient

    def spy(*args: Any, **kwargs: Any) -> Any:
        delays.append(kwargs.get("delay_seconds", 3.0))
        return real(*args, **kwargs)

    monkeypatch.setattr(keeping_up, "ArxivClient", spy)
    assert run_cli("add", "--vault", synced_vault, "2611.10001").exit_code == 0
    assert delays == [0.0]


def test_add_without_a_vault_still_saves_but_cannot_mark_the_inbox(
    tmp_path: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("platformdirs.user_config_dir", lambda *_a, **_k: str(tmp_path / "cfg"))
    result = run_cli("add", "2611.10001", "--json")
    assert result.exit_code == 0, result.output
    assert [a["id"] for a in json.loads(result.stdout)["added"]] == ["2611.10001"]
    inbox = run_cli("add", "--from-inbox")
    assert inbox.exit_code == 2
    assert "vault" in inbox.stderr


# -- the web API fallback ------------------------------------------------------------------------


class WebApi:
    """A loopback web API that knows its key's user id and accepts item creation."""

    def __init__(self, user_id: int = 777, key: str = "write-key-0123456789") -> None:
        self.user_id, self.key = user_id, key
        self.posts: list[tuple[str, list[dict[str, Any]]]] = []
        self.gets: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> WebApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                api.gets.append(self.path)
                if self.headers.get("Zotero-API-Key") != api.key:
                    self._send(403, "Invalid key")
                elif self.path.startswith("/keys/current"):
                    self._send(200, {"userID": api.user_id, "access": {}})
                else:
                    self._send(404, "Not found")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                if self.path != f"/users/{api.user_id}/items":
                    self._send(404, "Not found")
                    return
                api.posts.append((self.path, body))
                keys = {str(n): f"NEW{len(api.posts)}{n:04d}" for n in range(len(body))}
                self._send(200, {"success": keys, "successful": {}, "failed": {}})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"


def test_without_the_desktop_add_writes_through_the_web_api_of_the_keys_own_library(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    no_desktop: None,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with WebApi() as web:
        monkeypatch.setenv("ZOTSYNC_ZOTERO_API_URL", web.url)
        monkeypatch.setenv("ZOTERO_API_KEY", web.key)
        result = run_cli("add", "--vault", synced_vault, "2611.10002", "--tag", "queue", "--json")
    assert result.exit_code == 0, result.output
    (added,) = json.loads(result.stdout)["added"]
    assert added["via"] == "web" and added["key"] == "NEW10000"
    assert web.gets == ["/keys/current"]
    item_post, children_post = web.posts
    assert item_post[1][0]["archiveID"] == "arXiv:2611.10002"
    assert {"tag": "queue"} in item_post[1][0]["tags"]
    assert [c["itemType"] for c in children_post[1]] == ["note", "attachment"]


def test_with_the_desktop_running_the_key_is_never_asked_for_its_user_id(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with WebApi() as web:
        monkeypatch.setenv("ZOTSYNC_ZOTERO_API_URL", web.url)
        monkeypatch.setenv("ZOTERO_API_KEY", "a-key-the-server-rejects")
        result = run_cli("add", "--vault", synced_vault, "2611.10002", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"][0]["via"] == "connector"
    assert web.gets == [] and web.posts == []


def test_a_key_the_web_api_rejects_is_reported_with_the_fix(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    no_desktop: None,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with WebApi() as web:
        monkeypatch.setenv("ZOTSYNC_ZOTERO_API_URL", web.url)
        monkeypatch.setenv("ZOTERO_API_KEY", "a-key-the-server-rejects")
        result = run_cli("add", "--vault", synced_vault, "2611.10002")
    assert result.exit_code == 3, result.output
    assert "could not read the user id of the API key" in result.stderr
    assert "a-key-the-server-rejects" not in result.output + result.stderr


# -- add when the library source is down; ticks of papers already saved --------------------------


def test_add_checks_duplicates_in_the_vault_when_the_source_cannot_be_read(
    synced_vault: Path,
    zotero_db: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
) -> None:
    zotero_db.rename(zotero_db.with_name("moved.sqlite"))
    result = run_cli("add", "--vault", synced_vault, "1706.03762", "2611.10003", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["skipped"] == [{"id": "1706.03762", "reason": "already in library"}]
    assert [a["id"] for a in report["added"]] == ["2611.10003"]


def test_a_ticked_paper_saved_meanwhile_is_marked_and_not_reported_again(
    synced_vault: Path,
    zotero_db: Path,
    fake_arxiv: FakeArxiv,
    connector: FakeConnector,
    run_cli: Callable[..., Result],
) -> None:
    vault = synced_vault
    assert run_cli("discover", "--vault", vault, "--category", "cs.LG").exit_code == 0
    inbox = vault / "Inbox" / f"{iso_week(TODAY)}.md"
    tick(inbox, "2611.10003")
    # the user saves it with the browser button before running add
    saved = saved_item(
        {
            "itemType": "preprint",
            "title": "Multitask Language Models Learn Translation without Supervision",
            "archiveID": "arXiv:2611.10003",
            "creators": [],
            "tags": [],
        },
        [],
    )
    with hold_exclusive(zotero_db) as desktop:
        desktop.add_item(saved)
    first = run_cli("add", "--vault", vault, "--from-inbox", "--json")
    assert first.exit_code == 1
    assert json.loads(first.stdout)["skipped"] == [
        {"id": "2611.10003", "reason": "already in library"}
    ]
    assert "arXiv:2611.10003 · **added**" in inbox.read_text("utf-8")
    again = run_cli("add", "--vault", vault, "--from-inbox", "--json")
    assert again.exit_code == 0
    assert connector.calls("saveItems") == []
