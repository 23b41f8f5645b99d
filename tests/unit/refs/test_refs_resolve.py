"""The resolver: cache, network within the budget, deferral, matching and the cited-by mirror."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from zotsync.model import Item, with_base_fields
from zotsync.refs.bench import bench_cached_resolution
from zotsync.refs.cache import RefCache
from zotsync.refs.match import LibraryIndex
from zotsync.refs.resolve import (
    RefGraph,
    related_links,
    resolve_references,
)
from zotsync.refs.s2 import S2Client
from zotsync.testing.fake_s2 import FakeS2, make_paper
from zotsync.testing.sample_library import sample_library


def paper_item(key: str, title: str, year: int, **fields: str) -> Item:
    return Item(
        key=key,
        item_type="journalArticle",
        fields=with_base_fields("journalArticle", {"title": title, "date": str(year), **fields}),
    )


ATTN = paper_item(
    "ATTN", "Attention Is All You Need", 2017, url="https://arxiv.org/abs/1706.03762v5"
)
BAHD = paper_item(
    "BAHD",
    "Neural Machine Translation by Jointly Learning to Align and Translate",
    2014,
    archiveID="arXiv:1409.0473",
)
RESN = paper_item(
    "RESN", "Deep Residual Learning for Image Recognition", 2016, DOI="10.1109/CVPR.2016.90"
)
LSTM = paper_item("LSTM", "Long Short-Term Memory", 1997, DOI="10.1162/neco.1997.9.8.1735")
BOOK = paper_item("BOOK", "Introduction", 2018)

BAHD_PAPER = make_paper(
    "s2bahd",
    "Neural Machine Translation by Jointly Learning to Align and Translate",
    2014,
    arxiv="1409.0473",
    references=[
        make_paper("s2lstm", "Long Short-Term Memory", 1997, doi="10.1162/NECO.1997.9.8.1735"),
        make_paper(None, "Sequence to sequence learning with neural networks", 2014),
    ],
)
ATTN_PAPER = make_paper(
    "s2attn",
    "Attention Is All You Need",
    2017,
    arxiv="1706.03762",
    references=[
        make_paper(
            "s2bahd",
            "Neural Machine Translation by Jointly Learning to Align and Translate",
            2014,
            arxiv="1409.0473",
        ),
        make_paper(
            "s2resn",
            "Deep Residual Learning for Image Recognition",
            2016,
            doi="10.1109/CVPR.2016.90",
        ),
        make_paper(None, "LONG SHORT-TERM MEMORY.", 1997),  # unmatched by S2, matched by title+year
        make_paper("s2adam", "Adam: A Method for Stochastic Optimization", 2014, arxiv="1412.6980"),
        make_paper(None, "Layer normalization", 2016),
    ],
)
RESN_PAPER = make_paper(
    "s2resn",
    "Deep Residual Learning for Image Recognition",
    2016,
    doi="10.1109/CVPR.2016.90",
    references=[make_paper(f"s2r{i}", f"Vision paper {i}", 2010 + i % 5) for i in range(1500)],
)
ITEMS = [ATTN, BAHD, RESN, LSTM, BOOK]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeS2]:
    server = FakeS2([ATTN_PAPER, BAHD_PAPER, RESN_PAPER], batch_reference_limit=1000)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> Iterator[RefCache]:
    conn = sqlite3.connect(":memory:")
    yield RefCache(conn, now=clock)
    conn.close()


def client(fake: FakeS2, **kw: Any) -> S2Client:
    options: dict[str, Any] = {"min_interval": 0.0, "timeout": 2.0, "sleep": lambda s: None}
    options.update(kw)
    return S2Client(fake.base_url, **options)


def resolve(cache: RefCache, fake: FakeS2 | None, **kw: Any) -> RefGraph:
    s2 = client(fake, **kw.pop("client_kw", {})) if fake else None
    try:
        return resolve_references(ITEMS, cache, client=s2, **kw)
    finally:
        if s2:
            s2.close()


def test_references_are_fetched_matched_and_mirrored(cache: RefCache, fake: FakeS2) -> None:
    graph = resolve(cache, fake)
    attn = graph.refs("ATTN")
    assert attn.status == "ok" and attn.s2 == "s2attn"
    assert attn.in_library == ["BAHD", "RESN", "LSTM"]
    assert [r.title for r in attn.references if r.key is None] == [
        "Adam: A Method for Stochastic Optimization",
        "Layer normalization",
    ]
    assert graph.citers("LSTM") == ["BAHD", "ATTN"]  # oldest citing paper first
    assert graph.citers("BAHD") == ["ATTN"] and graph.citers("ATTN") == []
    assert graph.refs("BOOK").status == "no-ids"
    assert graph.refs("LSTM").status == "failed: not-found"
    assert graph.deferred == []


def test_a_truncated_batch_list_is_completed_from_the_references_endpoint(
    cache: RefCache, fake: FakeS2
) -> None:
    graph = resolve(cache, fake)
    resn = graph.refs("RESN")
    assert len(resn.references) == 1500 and resn.complete
    assert [r.title for r in resn.references[:2]] == ["Vision paper 0", "Vision paper 1"]
    assert sum(1 for r in fake.requests if r.path.endswith("/references")) == 2


def test_batch_nulls_fall_back_to_the_items_doi(cache: RefCache, fake: FakeS2) -> None:
    both = paper_item(
        "BOTH",
        "Deep Residual Learning for Image Recognition",
        2016,
        DOI="10.1109/CVPR.2016.90",
        archiveID="arXiv:1512.03385",
    )
    s2 = client(fake)
    graph = resolve_references([both], cache, client=s2)
    assert graph.refs("BOTH").status == "ok" and graph.refs("BOTH").s2 == "s2resn"
    batches = [r.body["ids"] for r in fake.requests if r.path.endswith("/batch")]
    assert batches == [["ARXIV:1512.03385"], ["DOI:10.1109/cvpr.2016.90"]]


def test_warm_cache_makes_no_request(cache: RefCache, fake: FakeS2) -> None:
    first = resolve(cache, fake)
    sent = fake.request_count
    second = resolve(cache, fake)
    assert fake.request_count == sent and second.requests == 0
    assert second.items == first.items and second.cited_by == first.cited_by


def test_not_found_is_cached_too(cache: RefCache, fake: FakeS2) -> None:
    resolve(cache, fake)
    sent = fake.request_count
    assert resolve(cache, fake).refs("LSTM").status == "failed: not-found"
    assert fake.request_count == sent


def test_refresh_refetches_everything(cache: RefCache, fake: FakeS2) -> None:
    resolve(cache, fake)
    sent = fake.request_count
    resolve(cache, fake, refresh=True)
    assert fake.request_count > sent


def test_stale_entries_are_refreshed(cache: RefCache, fake: FakeS2, clock: Clock) -> None:
    resolve(cache, fake)
    sent = fake.request_count
    clock.now += timedelta(days=10)
    resolve(cache, fake, max_age_days=30)
    assert fake.request_count == sent
    clock.now += timedelta(days=25)
    resolve(cache, fake, max_age_days=30)
    assert fake.request_count > sent


def test_slow_server_defers_within_the_budget(cache: RefCache, fake: FakeS2) -> None:
    fake.add_fault(delay=2.0, times=10)
    graph = resolve(cache, fake, deadline_s=0.3, client_kw={"timeout": 5.0})
    assert graph.refs("ATTN").status == "pending" and graph.refs("ATTN").reason == "timeout"
    assert {d.key for d in graph.deferred} == {"ATTN", "BAHD", "RESN", "LSTM"}
    assert {d.reason for d in graph.deferred} == {"timeout"}
    assert graph.refs("BOOK").status == "no-ids"


def test_rate_limit_defers_and_the_next_run_catches_up(cache: RefCache, fake: FakeS2) -> None:
    fake.add_fault(429, retry_after="3600", times=1)
    graph = resolve(cache, fake)
    assert {d.reason for d in graph.deferred} == {"rate-limited"}
    assert graph.refs("ATTN").status == "pending"
    later = resolve(cache, fake)
    assert later.deferred == [] and later.refs("ATTN").status == "ok"


def test_failed_fetch_keeps_a_stale_list(cache: RefCache, fake: FakeS2, clock: Clock) -> None:
    before = resolve(cache, fake)
    clock.now += timedelta(days=40)
    fake.add_fault(503, times=100)
    after = resolve(cache, fake, client_kw={"max_retries": 1})
    assert after.refs("ATTN").status == "ok" and after.refs("ATTN").reason == "unreachable"
    assert after.refs("ATTN").references == before.refs("ATTN").references
    assert {d.key for d in after.deferred} >= {"ATTN", "BAHD"}


def test_paging_cut_by_the_budget_keeps_the_batch_list_as_partial(
    cache: RefCache, fake: FakeS2
) -> None:
    fake.add_fault(429, retry_after="3600", times=1, path="/references")
    graph = resolve(cache, fake)
    resn = graph.refs("RESN")
    assert resn.status == "ok" and not resn.complete and len(resn.references) == 1000
    assert [(d.key, d.reason) for d in graph.deferred] == [("RESN", "rate-limited")]
    again = resolve(cache, fake)
    assert again.refs("RESN").complete and len(again.refs("RESN").references) == 1500


def test_offline_run_answers_from_cache_and_defers_the_rest(cache: RefCache, fake: FakeS2) -> None:
    graph = resolve(cache, None)
    assert graph.refs("ATTN").status == "pending" and graph.requests == 0
    resolve(cache, fake)
    assert resolve(cache, None).refs("ATTN").status == "ok"


def test_recorded_answer_replaces_cache_and_network(cache: RefCache) -> None:
    graph = resolve_references(ITEMS, cache, client=None, recorded=[None, ATTN_PAPER, BAHD_PAPER])  # type: ignore[list-item]
    assert graph.refs("ATTN").in_library == ["BAHD", "RESN", "LSTM"]
    assert graph.refs("RESN").status == "failed: not-found"
    assert cache.count() == 0


def test_the_same_library_paper_cited_twice_is_listed_once(cache: RefCache) -> None:
    dup = make_paper(
        "s2x",
        "X",
        2020,
        arxiv="2001.00001",
        references=[
            make_paper(
                "s2resn",
                "Deep Residual Learning for Image Recognition",
                2016,
                doi="10.1109/CVPR.2016.90",
            ),
            make_paper(None, "Deep residual learning for image recognition", 2016),
        ],
    )
    item = paper_item("XXXX", "X", 2020, archiveID="arXiv:2001.00001")
    graph = resolve_references([item, RESN], cache, client=None, recorded=[dup])
    assert graph.refs("XXXX").in_library == ["RESN"] and len(graph.refs("XXXX").references) == 1


def test_related_items_are_links_not_references() -> None:
    library = sample_library()
    index = LibraryIndex.from_items(library.items)
    attention = next(i for i in library.items if i.key == "ATTN2345")
    assert related_links(attention, index) == ["BERT6789"]
    attention.relations["dc:relation"].append("http://zotero.org/users/1/items/GONE0000")
    assert related_links(attention, index) == ["BERT6789"]


def test_bench_helper_measures_a_warm_run() -> None:
    assert bench_cached_resolution(200) > 0


def test_a_warm_run_reads_the_cache_in_one_query(fake: FakeS2) -> None:
    conn = sqlite3.connect(":memory:")
    cache = RefCache(conn)
    resolve(cache, fake)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    resolve(cache, fake)
    assert [s for s in statements if "refs_cache" in s and s.lstrip().startswith("SELECT")] != []
    assert len([s for s in statements if "refs_cache" in s]) == 1
    conn.close()
