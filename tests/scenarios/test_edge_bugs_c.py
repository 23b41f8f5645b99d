"""Bugs met while using zotsync for a week (issue 11, items 13.6, 13.8, 13.9 and 13.11).

- 13.6 ``plan --topic`` naming a topic no paper has: exit 2, the topics listed, nothing written.
- 13.8 ``sync --no-refs`` fetches nothing but keeps what the notes show (reference lists from
  the cache), so neither it nor the next normal pass rewrites every note.
- 13.9 the summary counts add up, and notes the user deleted (tombstones) are mentioned.
- 13.11 offline, the arXiv enrichment warning is logged once per outage, in one short line.
"""

from __future__ import annotations

import functools
import json
import logging
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import note_path, paper, small_library, sync_db, tree

from zotsync import api
from zotsync.model import Creator, Item, Library, LibraryRef, with_base_fields
from zotsync.testing.fake_arxiv import FakeArxiv
from zotsync.testing.fake_arxiv import paper as arxiv_paper
from zotsync.testing.fake_s2 import FakeS2, make_paper
from zotsync.testing.zotero_db import make_zotero_db
from zotsync.testing.zotero_writer import ZoteroDbWriter

WEEK = "2026-W48"


def _writer(db: Path) -> tuple[sqlite3.Connection, ZoteroDbWriter]:
    conn = sqlite3.connect(db, isolation_level=None)
    return conn, ZoteroDbWriter(conn, autocommit=True)


# -- 13.6 plan --topic that matches nothing ---------------------------------------------------
def test_plan_with_an_unknown_topic_exits_2_lists_the_topics_and_writes_nothing(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db(
        small_library(
            paper("AAAA2222", "On Chemistry", tags=("chemistry",)),
            paper("BBBB2222", "Physics A", tags=("physics",)),
            paper("CCCC2222", "Physics B", tags=("physics",)),
        )
    )
    sync_db(vault, db)
    before = tree(vault)
    result = run_cli("plan", "--vault", vault, "--week", WEEK, "--topic", "biology")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "biology" in result.output
    assert "physics (2)" in result.output and "chemistry (1)" in result.output
    assert tree(vault) == before, "a plan was written for a topic no paper has"
    assert not (vault / "Reading Plans" / f"{WEEK}.md").exists()
    # a case slip gets a suggestion; a real topic still plans
    hint = run_cli("plan", "--vault", vault, "--week", WEEK, "--topic", "Physics")
    assert hint.exit_code == 2 and "did you mean --topic 'physics'" in hint.output
    ok = run_cli("plan", "--vault", vault, "--week", WEEK, "--topic", "physics", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["topic"] == "physics"


# -- 13.8 sync --no-refs keeps what the notes show --------------------------------------------
REFS_PAPERS = [
    ("AAAA2345", "1409.0473", "Neural Machine Translation by Jointly Learning to Align", []),
    ("BBBB2345", "1706.03762", "Attention Is All You Need", ["1409.0473"]),
    ("CCCC2345", "1810.04805", "BERT: Pre-training of Deep Transformers", ["1706.03762"]),
]


def _refs_library() -> Library:
    items = [
        Item(
            key=key,
            item_type="preprint",
            fields=with_base_fields(
                "preprint",
                {
                    "title": title,
                    "archiveID": f"arXiv:{arxiv}",
                    "date": "2019",
                    "abstractNote": f"Abstract of {title}.",
                },
            ),
            creators=[Creator("Author", "Some")],
            date_added="2019-06-01T00:00:00Z",
        )
        for key, arxiv, title, _ in REFS_PAPERS
    ]
    return Library(ref=LibraryRef("user", 7), items=items)


def _s2_papers() -> list[dict[str, object]]:
    by_arxiv = {arxiv: (f"s2-{key}", title) for key, arxiv, title, _ in REFS_PAPERS}
    out = []
    for key, arxiv, title, cites in REFS_PAPERS:
        refs = [make_paper(by_arxiv[a][0], by_arxiv[a][1], 2018, arxiv=a) for a in cites]
        refs.append(make_paper("s2-out", "A Paper Outside", 2010, doi="10.1000/out"))
        out.append(
            make_paper(
                f"s2-{key}", title, 2019, arxiv=arxiv, references=refs, reference_count=len(refs)
            )
        )
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _region(text: str, name: str) -> str:
    return text.split(f"%% zotsync:begin {name} %%", 1)[1].split(f"%% zotsync:end {name} %%")[0]


def test_no_refs_fetches_nothing_and_keeps_the_reference_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Result]
) -> None:
    monkeypatch.delenv("ZOTSYNC_OFFLINE", raising=False)
    monkeypatch.setenv("ZOTSYNC_ARXIV_URL", f"http://127.0.0.1:{_free_port()}/api/query")
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", _refs_library(), version=10)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    s2 = FakeS2(_s2_papers())
    monkeypatch.setenv("ZOTSYNC_S2_URL", s2.start())
    try:
        assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
        bert = note_path(vault, "CCCC2345")
        shown = _region(bert.read_text("utf-8"), "references")
        assert "[[Attention Is All You Need]]" in shown and "A Paper Outside" in shown
        requests = s2.request_count
        # Zotero edits one abstract; the --no-refs pass rewrites that note only
        conn, writer = _writer(db)
        writer.set_field("AAAA2345", "abstractNote", "A revised abstract.")
        conn.close()
        before = tree(vault)
        result = run_cli("sync", "--vault", vault, "--no-refs", "--json")
        assert result.exit_code == 0, result.output
        assert s2.request_count == requests, "--no-refs asked Semantic Scholar"
        after = tree(vault)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        assert changed == [note_path(vault, "AAAA2345").relative_to(vault).as_posix()], changed
        assert _region(bert.read_text("utf-8"), "references") == shown
        # the next normal pass (nothing changed in Zotero) writes nothing at all
        settled = tree(vault)
        assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
        assert tree(vault) == settled
        # and a --no-refs pass over everything renders the very same notes
        assert run_cli("sync", "--vault", vault, "--no-refs", "--full", "-q").exit_code == 0
        assert tree(vault) == settled
    finally:
        s2.stop()


# -- 13.9 summary counts ------------------------------------------------------------------------
def _adds_up(c: dict[str, int]) -> None:
    parts = c["created"] + c["updated"] + c["renamed"] + c["unchanged"] + c["tombstoned"]
    assert parts + c["failed"] == c["items"], c
    assert c["unchanged"] <= c["items"], c


def test_summary_counts_add_up_and_mention_tombstones(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db(
        small_library(*(paper(f"K{i}AAAAAA", f"Paper {i}", year=2000 + i) for i in range(5)))
    )
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "-q").exit_code == 0
    # the user writes in one note and deletes another; Zotero deletes the first item
    kept = note_path(vault, "K0AAAAAA")
    kept.write_text(kept.read_text("utf-8") + "\nMy notes on paper 0.\n", "utf-8")
    note_path(vault, "K1AAAAAA").unlink()
    conn, writer = _writer(db)
    writer.delete("K0AAAAAA")
    conn.close()

    result = run_cli("sync", "--vault", vault, "--json")
    assert result.exit_code == 0, result.output
    c = json.loads(result.stdout)
    _adds_up(c)
    assert (c["items"], c["trashed"], c["tombstoned"], c["unchanged"]) == (4, 1, 1, 3)

    result = run_cli("sync", "--vault", vault, "--full")  # the marked note is in no count now
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[0]
    assert line.startswith("4 items: 0 created, 0 updated, 0 renamed, 3 unchanged, 1 without")
    assert "deleted in Zotero" not in line
    c = json.loads(run_cli("sync", "--vault", vault, "--json").stdout)  # short-circuited
    _adds_up(c)
    assert (c["items"], c["unchanged"], c["tombstoned"], c["trashed"]) == (4, 3, 1, 0)


# -- 13.11 the arXiv warning, once per outage ----------------------------------------------------
def _bare_item(key: str, arxiv_id: str) -> Item:
    """A preprint saved from a PDF: an arXiv id, no abstract, no date."""
    return Item(
        key=key,
        item_type="preprint",
        fields=with_base_fields(
            "preprint", {"title": f"A Bare Preprint {key}", "archiveID": f"arXiv:{arxiv_id}"}
        ),
        date_added="2024-01-02T03:04:05Z",
    )


def _bare_library() -> Library:
    return Library(ref=LibraryRef("user", 1), items=[_bare_item("BARE2345", "2401.00001")])


def _arxiv_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    out = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "arxiv" in r.getMessage().casefold()
    ]
    caplog.clear()
    return out


def test_arxiv_outage_is_logged_once_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., Result],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import zotsync.arxiv_api as arxiv_api
    import zotsync.sources.enriched as enriched

    monkeypatch.delenv("ZOTSYNC_OFFLINE", raising=False)
    monkeypatch.setattr(
        arxiv_api, "ArxivClient", functools.partial(arxiv_api.ArxivClient, delay_seconds=0.0)
    )
    monkeypatch.setattr(
        enriched, "RETRY_SECONDS", 0.0, raising=False
    )  # every pass asks arXiv again
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", _bare_library(), version=7)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    down = f"http://127.0.0.1:{_free_port()}/api/query"
    caplog.set_level(logging.INFO, logger="zotsync")
    with FakeS2({}) as s2:
        monkeypatch.setenv("ZOTSYNC_S2_URL", s2)
        monkeypatch.setenv("ZOTSYNC_ARXIV_URL", down)
        assert run_cli("sync", "--vault", vault).exit_code == 0
        first = _arxiv_warnings(caplog)
        assert len(first) == 1, first
        assert "\n" not in first[0] and len(first[0]) < 160, first[0]
        assert "cannot connect to 127.0.0.1" in first[0]
        for _ in range(3):  # later passes and daemon loops during the same outage: silent
            assert run_cli("sync", "--vault", vault, "--full").exit_code == 0
            assert _arxiv_warnings(caplog) == []
        # arXiv is back: the abstract is filled, and a new outage is told once again
        found = arxiv_paper(
            "2401.00001", "A Bare Preprint", "From arXiv.", published="2024-01-01T10:00:00Z"
        )
        with FakeArxiv([found]) as arxiv:
            monkeypatch.setenv("ZOTSYNC_ARXIV_URL", arxiv.url)
            assert run_cli("sync", "--vault", vault, "--full").exit_code == 0
        assert "From arXiv." in note_path(vault, "BARE2345").read_text("utf-8")
        assert _arxiv_warnings(caplog) == []
        monkeypatch.setenv("ZOTSYNC_ARXIV_URL", down)
        conn, writer = _writer(db)  # a new preprint needs arXiv while it is down
        writer.add_item(_bare_item("NEWB2345", "2401.00002"))
        conn.close()
        assert run_cli("sync", "--vault", vault).exit_code == 0
        assert len(_arxiv_warnings(caplog)) == 1
        # the cached abstract stays in the note while arXiv is down
        assert "From arXiv." in note_path(vault, "BARE2345").read_text("utf-8")


# -- found by the state machine: a deleted item's note keeps its name -------------------------
def test_a_new_item_never_takes_the_name_of_a_deleted_items_note_that_stays(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    """Zotero deletes a paper whose note holds the user's text and adds one with the same title.

    The old note stays (marked ``zotero-deleted``), so the new note needs another name; it was
    placed on the old one and failed ("appeared; not overwriting it", exit 1, no note).
    """
    db = make_db(small_library(paper("OLDA2222", "Same Title", year=2001)))
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "-q").exit_code == 0
    old = vault / "Papers" / "Same Title.md"
    old.write_text(old.read_text("utf-8") + "\nMy notes.\n", "utf-8")
    conn, writer = _writer(db)
    writer.delete("OLDA2222")
    writer.add_item(paper("NEWB2222", "Same Title", year=2024))
    conn.close()
    result = run_cli("sync", "--vault", vault, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 1
    assert "zotero-deleted: true" in old.read_text("utf-8") and "My notes." in old.read_text(
        "utf-8"
    )
    new = note_path(vault, "NEWB2222")
    assert new != old
    before = tree(vault)
    assert run_cli("sync", "--vault", vault, "--full", "-q").exit_code == 0
    assert tree(vault) == before
