"""arXiv enrichment fills only what Zotero lacks, asks once, and caches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from zotsync.arxiv_api import ArxivClient, ArxivPaper
from zotsync.model import Item, with_base_fields
from zotsync.sources.enrich import enrich_items
from zotsync.testing.fake_arxiv import FakeArxiv, paper
from zotsync.testing.sample_library import sample_library

NOW = datetime(2026, 11, 20, tzinfo=UTC)


class CountingClient:
    def __init__(self, papers: Iterable[ArxivPaper]) -> None:
        self.papers = {p.id: p for p in papers}
        self.asked: list[list[str]] = []

    def fetch_by_ids(self, ids: Iterable[str]) -> dict[str, ArxivPaper]:
        ids = list(ids)
        self.asked.append(ids)
        return {i: self.papers[i] for i in ids if i in self.papers}


def preprint(key: str, **fields: str) -> Item:
    return Item(key=key, item_type="preprint", fields=with_base_fields("preprint", fields))


def test_missing_abstract_and_date_are_filled_from_arxiv(tmp_path: Path) -> None:
    items = [preprint("BARE0001", title="Attention", archiveID="arXiv:1706.03762")]
    source = paper(
        "1706.03762",
        "Attention Is All You Need",
        "The dominant sequence transduction models are based on recurrent networks.",
        published="2017-06-12T17:57:34Z",
        updated="2023-08-02T00:41:18Z",
    )
    with FakeArxiv([source]) as fake:
        got = enrich_items(items, tmp_path / "cache.sqlite", ArxivClient(fake.url, delay_seconds=0))
    assert got == {
        "BARE0001": {
            "abstractNote": "The dominant sequence transduction models are based on recurrent networks.",
            "date": "2017-06-12",
        }
    }


def test_what_zotero_has_is_never_overridden(tmp_path: Path) -> None:
    items = [
        preprint("HASDATE1", title="A", DOI="10.48550/arXiv.2101.00001", date="2021"),
        preprint(
            "HASBOTH1",
            title="B",
            url="https://arxiv.org/abs/2101.00002",
            date="2021",
            abstractNote="mine",
        ),
    ]
    client = CountingClient([paper("2101.00001", "A"), paper("2101.00002", "B")])
    got = enrich_items(items, tmp_path / "c.sqlite", client, now=NOW)
    assert got == {"HASDATE1": {"abstractNote": "We study a."}}
    assert client.asked == [["2101.00001"]]  # the complete item cost nothing


def test_sample_library_items_without_arxiv_id_cost_nothing(tmp_path: Path) -> None:
    client = CountingClient([])
    items = [i for i in sample_library().items if i.key != "ATTN2345"]
    assert enrich_items(items, tmp_path / "c.sqlite", client, now=NOW) == {}
    assert client.asked == []


def test_second_run_is_answered_from_the_cache(tmp_path: Path) -> None:
    items = [preprint("EXTRA001", title="X", extra="arXiv:2101.00003 [cs.CL]")]
    client = CountingClient([paper("2101.00003", "X", published="2021-01-05T00:00:00Z")])
    first = enrich_items(items, tmp_path / "c.sqlite", client, now=NOW)
    second = enrich_items(items, tmp_path / "c.sqlite", client, now=NOW)
    assert first == second == {"EXTRA001": {"abstractNote": "We study x.", "date": "2021-01-05"}}
    assert len(client.asked) == 1


def test_missing_ids_are_cached_for_a_while_then_asked_again(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    items = [preprint("GONE0001", title="Gone", archiveID="arXiv:2101.99999")]
    client = CountingClient([])
    assert enrich_items(items, conn, client, now=NOW) == {}
    assert enrich_items(items, conn, client, now=NOW + timedelta(days=1)) == {}
    assert len(client.asked) == 1
    enrich_items(items, conn, client, now=NOW + timedelta(days=40))
    assert len(client.asked) == 2
