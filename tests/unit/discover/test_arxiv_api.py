"""The arXiv wrapper against a loopback server replaying both Atom layouts."""

from __future__ import annotations

from datetime import UTC, datetime

import arxiv
import pytest

from zotsync.arxiv_api import ArxivClient, date_window, query_terms, split_version
from zotsync.errors import RemoteError
from zotsync.testing.fake_arxiv import FakeArxiv, paper

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STYLES = ["current", "2016"]


def recent_papers() -> list:
    papers = [
        paper(
            f"2611.{i:05d}",
            f"Sparse attention for long documents, part {i}",
            categories=("cs.CL", "cs.LG"),
            published=f"2026-11-{14 + i % 6:02d}T0{i % 10}:00:00Z",
        )
        for i in range(23)
    ]
    papers.append(paper("2611.09001", "Robot grasping", categories=("cs.RO",)))
    papers.append(paper("2610.01234", "Old news about attention", published="2026-10-01T00:00:00Z"))
    return papers


def client(fake: FakeArxiv, **kw: object) -> ArxivClient:
    return ArxivClient(fake.url, delay_seconds=0.0, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("style", STYLES)
def test_listing_by_category_and_date_pages_through_every_result(style: str) -> None:
    with FakeArxiv(recent_papers(), style=style) as fake:
        c = client(fake, page_size=5)
        found = c.list_recent(["cs.CL"], days=7, now=NOW)
    assert sorted(p.id for p in found) == [f"2611.{i:05d}" for i in range(23)]
    assert len(fake.requests) == 5  # 23 results in pages of 5
    assert [int(r["start"][0]) for r in fake.requests] == [0, 5, 10, 15, 20]
    query = fake.requests[0]["search_query"][0]
    assert "cat:cs.CL" in query and "submittedDate:[202611131200 TO 202611201200]" in query
    assert found == sorted(found, key=lambda p: (p.published, p.id), reverse=True)


@pytest.mark.parametrize("style", STYLES)
def test_id_lookup_reads_every_field_in_both_atom_layouts(style: str) -> None:
    published = paper(
        "1111.2011",
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit",
        "Theoretical description of anisotropic systems, such as layered superconductors and "
        "coupled spin chains, is often a challenge due to the different natures of interactions.",
        categories=("cond-mat.str-el", "cond-mat.stat-mech"),
        published="2011-11-08T18:48:36Z",
        updated="2012-04-02T12:38:54Z",
        authors=("James M. Murray", "Adrian Del Maestro"),
        version=2,
        comment="8 pages, 3 figures. Published version",
        doi="10.1103/PhysRevB.85.115117",
        journal_ref="Phys. Rev. B 85, 115117 (2012)",
    )
    with FakeArxiv([published], style=style) as fake:
        got = client(fake).fetch_by_ids(["1111.2011"])["1111.2011"]
    assert got.version == 2
    assert got.title.startswith("Quantum Criticality for Extended Nodes on a Bethe Lattice in")
    assert "\n" not in got.title and "  " not in got.summary
    assert got.summary.startswith("Theoretical description of anisotropic")
    assert got.authors == ("James M. Murray", "Adrian Del Maestro")
    assert got.doi == "10.1103/PhysRevB.85.115117"
    assert got.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert got.comment == "8 pages, 3 figures. Published version"
    assert got.primary_category == "cond-mat.str-el"
    assert got.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert got.published == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert got.pdf_url.endswith("/pdf/1111.2011v2")


def test_missing_id_is_simply_absent() -> None:
    with FakeArxiv([paper("2611.00001", "Present")]) as fake:
        found = client(fake).fetch_by_ids(["2611.00001", "0000.0000"])
    assert list(found) == ["2611.00001"]


def test_versioned_and_old_style_ids_are_keyed_without_version() -> None:
    papers = [paper("2611.00001", "New", version=3), paper("hep-th/9901001", "Old style")]
    with FakeArxiv(papers) as fake:
        found = client(fake).fetch_by_ids(["2611.00001v2", "hep-th/9901001"])
    assert found["2611.00001"].version == 2
    assert found["hep-th/9901001"].title == "Old style"
    assert split_version("hep-th/9901001v4") == ("hep-th/9901001", 4)


def test_malformed_id_is_a_remote_error_without_retries() -> None:
    with FakeArxiv([paper("2611.00001", "Present")]) as fake:
        c = client(fake, num_retries=3)
        with pytest.raises(RemoteError, match="HTTP 400"):
            c.fetch_by_ids(["abc"])
    assert len(fake.requests) == 1


def test_503_then_success_is_retried() -> None:
    with FakeArxiv([paper("2611.00001", "Present")]) as fake:
        fake.fail_next(503, 2)
        found = client(fake, num_retries=3).fetch_by_ids(["2611.00001"])
    assert "2611.00001" in found
    assert len(fake.requests) == 3


def test_persistent_503_becomes_remote_error() -> None:
    with FakeArxiv([paper("2611.00001", "Present")]) as fake:
        fake.fail_next(503, 10)
        with pytest.raises(RemoteError, match="503"):
            client(fake, num_retries=2).fetch_by_ids(["2611.00001"])
    assert len(fake.requests) == 3


def test_default_client_waits_three_seconds_between_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(arxiv.time, "sleep", sleeps.append)
    with FakeArxiv([paper("2611.00001", "A"), paper("2611.00002", "B")]) as fake:
        c = ArxivClient(fake.url)
        c.fetch_by_ids(["2611.00001"])
        c.fetch_by_ids(["2611.00002"])
    assert c.delay_seconds == 3.0
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 3.0


def test_base_url_comes_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeArxiv([paper("2611.00001", "From env")]) as fake:
        monkeypatch.setenv("ZOTSYNC_ARXIV_URL", fake.url)
        c = ArxivClient(delay_seconds=0.0)
        assert c.fetch_by_ids(["2611.00001"])["2611.00001"].title == "From env"
    monkeypatch.delenv("ZOTSYNC_ARXIV_URL")
    assert ArxivClient().base_url == "https://export.arxiv.org/api/query"


def test_queries_are_searched_alongside_categories_without_duplicates() -> None:
    papers = [
        paper("2611.00001", "Retrieval augmented generation", categories=("cs.CL",)),
        paper("2611.00002", "Retrieval for robots", categories=("cs.RO",)),
        paper("2611.00003", "Parsing", categories=("cs.CL",)),
    ]
    with FakeArxiv(papers) as fake:
        found = client(fake).list_recent(["cs.CL"], ["retrieval"], days=7, now=NOW)
    assert sorted(p.id for p in found) == ["2611.00001", "2611.00002", "2611.00003"]


def test_query_terms_and_date_window() -> None:
    assert query_terms("graph neural") == "all:graph AND all:neural"
    assert query_terms('ti:"diffusion model"') == 'ti:"diffusion model"'
    assert date_window(NOW, 1) == "submittedDate:[202611191200 TO 202611201200]"
