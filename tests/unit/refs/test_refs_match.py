"""Matching, the cited-by mirror, region text and missing foundations."""

from __future__ import annotations

import sqlite3
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.model import Item, with_base_fields
from zotsync.refs.cache import RefCache
from zotsync.refs.ids import PaperIds
from zotsync.refs.match import LibraryIndex, Reference
from zotsync.refs.missing import missing_note_region, missing_references
from zotsync.refs.render import cited_by_region, frontmatter_links, references_region
from zotsync.refs.resolve import ItemRefs, RefGraph, resolve_references
from zotsync.testing.fake_s2 import make_paper


def index_of(*rows: tuple[str, PaperIds, str, int | None]) -> LibraryIndex:
    index = LibraryIndex()
    for key, ids, title, year in rows:
        index.add(key, ids, title, year)
    return index


LIB = index_of(
    ("ATTN", PaperIds(arxiv="1706.03762"), "Attention Is All You Need", 2017),
    (
        "RESN",
        PaperIds(doi="10.1109/cvpr.2016.90"),
        "Deep Residual Learning for Image Recognition",
        2016,
    ),
    ("INT1", PaperIds(), "Introduction", 2018),
    ("LSTM", PaperIds(), "Long Short-Term Memory", 1997),
    ("LST2", PaperIds(), "Long Short-Term Memory", 2003),
)


def test_ids_match_before_titles() -> None:
    assert LIB.match(Reference("Something else", 2017, arxiv="1706.03762")) == "ATTN"
    assert LIB.match(Reference("", None, doi="10.1109/cvpr.2016.90")) == "RESN"


def test_title_match_allows_one_year_and_prefers_the_nearest() -> None:
    assert LIB.match(Reference("Attention is all you need.", 2018)) == "ATTN"
    assert LIB.match(Reference("Attention is all you need", 2019)) is None
    assert LIB.match(Reference("Long short-term memory", 1998)) == "LSTM"
    assert LIB.match(Reference("Long short-term memory", 2002)) == "LST2"


def test_short_or_ambiguous_titles_without_year_do_not_match() -> None:
    assert LIB.match(Reference("Introduction", None)) is None
    assert LIB.match(Reference("Long Short-Term Memory", None)) is None
    assert LIB.match(Reference("Deep residual learning for image recognition", None)) == "RESN"


# -- the mirror property -----------------------------------------------------------------


@st.composite
def libraries(draw: st.DrawFn) -> tuple[list[Item], list[dict[str, Any]], dict[str, set[str]]]:
    n = draw(st.integers(1, 8))
    items = []
    for i in range(n):
        items.append(
            Item(
                key=f"K{i:03d}",
                item_type="preprint",
                fields=with_base_fields(
                    "preprint",
                    {
                        "title": f"Library paper about topic {i}",
                        "archiveID": f"arXiv:2101.{i:05d}",
                        "date": "2021",
                    },
                ),
            )
        )
    papers, intended = [], {}
    for i in range(n):
        targets = draw(st.lists(st.integers(0, n - 1), max_size=6))
        refs = []
        for t in targets:
            how = draw(st.sampled_from(["arxiv", "doi", "title", "versioned"]))
            if how == "arxiv":
                refs.append(make_paper(f"s{t}", "whatever", None, arxiv=f"2101.{t:05d}"))
            elif how == "versioned":
                refs.append(make_paper(None, "x", None, doi=f"10.48550/ARXIV.2101.{t:05d}"))
            else:
                refs.append(
                    make_paper(
                        None,
                        f"LIBRARY PAPER ABOUT TOPIC {t}!",
                        2021 + draw(st.sampled_from([-1, 0, 1])),
                    )
                )
        refs.append(make_paper("out", "Outside paper", 1999, doi="10.1000/out"))
        papers.append(
            make_paper(
                f"s{i}",
                f"Library paper about topic {i}",
                2021,
                arxiv=f"2101.{i:05d}",
                references=refs,
            )
        )
        intended[f"K{i:03d}"] = {f"K{t:03d}" for t in targets} - {f"K{i:03d}"}
    return items, papers, intended


@settings(max_examples=40, deadline=None)
@given(libraries())
def test_cited_by_is_the_exact_mirror_of_matched_references(
    case: tuple[list[Item], list[dict[str, Any]], dict[str, set[str]]],
) -> None:
    items, papers, intended = case
    graph = resolve_references(
        items, RefCache(sqlite3.connect(":memory:")), client=None, recorded=papers
    )
    for a in graph.items:
        assert set(graph.refs(a).in_library) == intended[a]
        assert len(graph.refs(a).in_library) == len(set(graph.refs(a).in_library))
        for b in graph.items:
            assert (b in graph.refs(a).in_library) == (a in graph.citers(b))
    for b, citers in graph.cited_by.items():
        assert len(citers) == len(set(citers)) and all(
            b in graph.refs(a).in_library for a in citers
        )


# -- region text -------------------------------------------------------------------------

NOTES = {"ATTN": "Attention Is All You Need", "RESN": "Deep Residual Learning"}


def link(key: str) -> str:
    return f"[[{NOTES[key]}]]"


def sample_refs(**kw: Any) -> ItemRefs:
    refs = [
        Reference("Zeta [draft] paper %% with *stars*", 2001, doi="10.1000/z(1)"),
        Reference("Whatever title", 2016, key="RESN"),
        Reference("alpha paper", None, arxiv="1409.0473", ntitle="alpha paper"),
        Reference("Attention", 2017, key="ATTN"),
    ]
    return ItemRefs("SELF", kw.pop("status", "ok"), refs, **kw)


def test_references_region_lists_library_links_first_then_the_rest() -> None:
    text = references_region(sample_refs(reference_count=4), link)
    assert text.splitlines() == [
        "**4 references** · 2 in library",
        "",
        "- [[Attention Is All You Need]]",
        "- [[Deep Residual Learning]]",
        "- alpha paper · [arXiv:1409.0473](https://arxiv.org/abs/1409.0473)",
        r"- Zeta \[draft\] paper %\% with \*stars\* (2001) · [doi:10.1000/z(1)](https://doi.org/10.1000/z%281%29)",
    ]


def test_titles_lose_control_characters_and_line_breaks() -> None:
    refs = ItemRefs("K", "ok", [Reference("\x93Micro\x85finance\x94\nlaw", 2008)])
    assert references_region(refs, link).splitlines()[-1] == "- Microfinance law (2008)"


def test_references_region_does_not_depend_on_the_order_s2_sent() -> None:
    forward = sample_refs()
    backward = ItemRefs("SELF", "ok", list(reversed(forward.references)))
    assert references_region(forward, link) == references_region(backward, link)


def test_references_region_says_when_references_are_pending_or_missing() -> None:
    assert "pending" in references_region(ItemRefs("K", "pending", reason="rate-limited"), link)
    assert "does not know" in references_region(ItemRefs("K", "failed: not-found"), link)
    assert "No DOI or arXiv id" in references_region(ItemRefs("K", "no-ids"), link)
    partial = references_region(
        sample_refs(complete=False, reason="timeout", reference_count=9), link
    )
    assert "Semantic Scholar counts 9" in partial and "Only part of the list" in partial


def test_cited_by_region_and_frontmatter_links_use_the_given_link() -> None:
    assert cited_by_region(["RESN", "ATTN"], link).splitlines() == [
        "**Cited by 2 papers in the library**",
        "",
        "- [[Deep Residual Learning]]",
        "- [[Attention Is All You Need]]",
    ]
    assert "No paper" in cited_by_region([], link)
    assert frontmatter_links(["ATTN", "RESN", "ATTN"], link) == [
        "[[Attention Is All You Need]]",
        "[[Deep Residual Learning]]",
    ]


# -- missing foundations -----------------------------------------------------------------


def test_missing_references_groups_mentions_and_ranks_by_citing_papers() -> None:
    adam = Reference(
        "Adam: A Method for Stochastic Optimization",
        2014,
        arxiv="1412.6980",
        s2="s2adam",
        ntitle="adam a method for stochastic optimization",
    )
    adam_title_only = Reference(
        "ADAM: a method for stochastic optimization",
        2015,
        ntitle="adam a method for stochastic optimization",
    )
    adam_doi = Reference("Adam", 2014, s2="s2adam", doi="10.1000/adam")
    dropout = Reference("Dropout", 2014, doi="10.5555/dropout", ntitle="dropout")
    graph = RefGraph(
        items={
            "ATTN": ItemRefs("ATTN", "ok", [adam, dropout, Reference("in lib", key="RESN")]),
            "BERT": ItemRefs("BERT", "ok", [adam_title_only, dropout]),
            "GPT2": ItemRefs("GPT2", "ok", [adam_doi, adam]),
            "RESN": ItemRefs("RESN", "ok", [Reference("Once only", 2000, doi="10.1/once")]),
        }
    )
    missing = missing_references(graph, top=10)
    assert [(m.title, m.citing) for m in missing] == [
        ("Adam: A Method for Stochastic Optimization", ["ATTN", "BERT", "GPT2"]),
        ("Dropout", ["ATTN", "BERT"]),
    ]
    assert missing[0].arxiv == "1412.6980" and missing[0].doi == "10.1000/adam"
    assert missing_references(graph, top=1) == missing[:1]
    region = missing_note_region(missing, lambda k: f"[[{k}]]")
    assert "1. Adam: A Method for Stochastic Optimization (2014)" in region
    assert (
        "cited by 3: [[ATTN]], [[BERT]], [[GPT2]]" in region and "`zotsync add 1412.6980`" in region
    )
