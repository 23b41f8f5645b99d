"""References through a whole sync: wikilinks that resolve, an exact cited-by mirror, and a
Semantic Scholar outage that never fails the sync."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import yaml

from zotsync import api
from zotsync.model import Creator, Item, Library, LibraryRef, with_base_fields
from zotsync.sync.engine import SyncOptions
from zotsync.testing.fake_s2 import FakeS2, make_paper
from zotsync.testing.zotero_db import make_zotero_db

#: (key, arXiv id, title, year, arXiv ids it cites)
PAPERS = [
    ("AAAA2345", "1409.0473", "Neural Machine Translation by Jointly Learning to Align", 2014, []),
    ("BBBB2345", "1706.03762", "Attention Is All You Need", 2017, ["1409.0473"]),
    (
        "CCCC2345",
        "1810.04805",
        "BERT: Pre-training of Deep Bidirectional Transformers",
        2018,
        ["1706.03762", "1409.0473"],
    ),
    (
        "DDDD2345",
        "1907.11692",
        "RoBERTa: A Robustly Optimized BERT Pretraining Approach",
        2019,
        ["1810.04805", "1706.03762"],
    ),
]
OUTSIDE = make_paper("s2-outside", "A Paper Outside the Library", 2012, doi="10.1000/outside")
WIKILINK = re.compile(r"\[\[([^\]|#]+)")


def _library() -> Library:
    items = [
        Item(
            key=key,
            item_type="preprint",
            fields=with_base_fields(
                "preprint", {"title": title, "archiveID": f"arXiv:{arxiv}", "date": str(year)}
            ),
            creators=[Creator("Author", "Some")],
            date_added=f"{year}-06-01T00:00:00Z",
        )
        for key, arxiv, title, year, _ in PAPERS
    ]
    return Library(ref=LibraryRef("user", 7), items=items)


def _s2_papers() -> list[dict[str, object]]:
    by_arxiv = {arxiv: (f"s2-{key}", title, year) for key, arxiv, title, year, _ in PAPERS}
    out = []
    for key, arxiv, title, year, cites in PAPERS:
        refs = [make_paper(by_arxiv[a][0], by_arxiv[a][1], by_arxiv[a][2], arxiv=a) for a in cites]
        refs.append(OUTSIDE)
        out.append(make_paper(f"s2-{key}", title, year, arxiv=arxiv, references=refs,
                              reference_count=len(refs)))  # fmt: skip
    return out


def _frontmatter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n", 2)[1])


def _region(text: str, name: str) -> str:
    return text.split(f"%% zotsync:begin {name} %%", 1)[1].split(f"%% zotsync:end {name} %%")[0]


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ZOTSYNC_OFFLINE", raising=False)
    monkeypatch.setenv("ZOTSYNC_ARXIV_URL", "http://127.0.0.1:9/api/query")  # never answers
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", _library(), version=10)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    (vault / "zotsync.yaml").write_text(
        (vault / "zotsync.yaml").read_text().replace("  enabled: true\n  budget-seconds: 30",
                                                     "  enabled: true\n  budget-seconds: 5"),
        encoding="utf-8",
    )  # fmt: skip
    return vault


def _snapshot(vault: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(vault)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in vault.rglob("*")
        if p.is_file() and ".zotsync" not in p.parts
    }


def test_in_library_references_are_wikilinks_and_cited_by_mirrors_them(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeS2(_s2_papers()) as url:
        monkeypatch.setenv("ZOTSYNC_S2_URL", url)
        api.sync(vault)
        papers = vault / "Papers"
        notes = {p.stem: p.read_text(encoding="utf-8") for p in papers.glob("*.md")}
        refs_of = {
            stem: WIKILINK.findall(_region(text, "references")) for stem, text in notes.items()
        }
        cited_by = {
            stem: WIKILINK.findall(_region(text, "cited-by")) for stem, text in notes.items()
        }
        for stem, targets in {**refs_of, **cited_by}.items():
            for target in targets:
                assert (papers / f"{target}.md").exists(), f"{stem} links to missing {target}"
        pairs = {(a, b) for a, targets in refs_of.items() for b in targets}
        mirror = {(b, a) for a, targets in cited_by.items() for b in targets}
        assert pairs == mirror
        bert = next(s for s in notes if s.startswith("BERT"))
        assert set(refs_of[bert]) == {"Attention Is All You Need",
                                      "Neural Machine Translation by Jointly Learning to Align"}  # fmt: skip
        assert "A Paper Outside the Library" in _region(notes[bert], "references")
        assert "https://doi.org/10.1000/outside" in notes[bert]
        before = _snapshot(vault)
        api.sync(vault)
        assert _snapshot(vault) == before


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_semantic_scholar_down_then_up_references_arrive_later(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTSYNC_S2_URL", f"http://127.0.0.1:{_dead_port()}/graph/v1")
    report = api.sync(vault)
    assert report.result.failed == 0 and report.result.created == len(PAPERS)
    assert report.refs_pending == len(PAPERS)
    bert = next((vault / "Papers").glob("BERT*.md"))
    assert "[[Attention Is All You Need]]" not in bert.read_text(encoding="utf-8")
    with FakeS2(_s2_papers()) as url:
        monkeypatch.setenv("ZOTSYNC_S2_URL", url)
        report = api.sync(vault)
    assert report.refs_pending == 0
    assert "[[Attention Is All You Need]]" in bert.read_text(encoding="utf-8")


def test_rate_limited_semantic_scholar_defers_without_failing(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeS2(_s2_papers())
    fake.add_fault(429, retry_after="1", times=1000)  # every request, for the whole run
    with fake as url:
        monkeypatch.setenv("ZOTSYNC_S2_URL", url)
        report = api.sync(vault, options=SyncOptions())
    assert report.result.failed == 0
    assert report.result.created == len(PAPERS)
    assert report.refs_pending == len(PAPERS)
    assert report.refs_reasons == {"rate-limited": len(PAPERS)}
    assert _frontmatter(next((vault / "Papers").glob("RoBERTa*.md")))["zotero-key"] == "DDDD2345"
