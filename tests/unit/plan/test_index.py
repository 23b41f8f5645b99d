"""Index notes: tags, collections and Papers.md (chronological lists, roadmaps, safe names)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.index.render import (
    INDEX_BEGIN,
    INDEX_END,
    collection_index_notes,
    empty_region,
    is_pristine,
    master_index,
    new_index_note,
    paper_groups,
    roadmap,
    safe_segment,
    tag_index,
    tag_index_notes,
    tag_note_path,
)
from zotsync.library.papers import PaperInfo

LINK = re.compile(r"\[\[([^\]|]+)")


def p(
    key: str,
    year: int | None,
    *,
    tags: tuple[str, ...] = (),
    colls: tuple[str, ...] = (),
    refs: tuple[str, ...] = (),
    added: str = "2024-01-01T00:00:00Z",
    status: str = "to-read",
) -> PaperInfo:
    return PaperInfo(key, f"Paper {key}", f"Paper {key}", f"Papers/Paper {key}.md", status,
                     None, tags, colls, year, added, refs)  # fmt: skip


def links(region: str) -> list[str]:
    return [m.group(1) for line in region.splitlines() if line.startswith("- ")
            for m in [LINK.search(line)] if m]  # fmt: skip


def test_tag_note_lists_exactly_its_papers_in_chronological_order() -> None:
    papers = [
        p("ATTN", 2017, tags=("nlp", "to-read")),
        p("SEQ", 2014, tags=("nlp",)),
        p("BERT", 2018, tags=("nlp",), added="2024-03-01T00:00:00Z", status="read"),
        p("GPT", 2018, tags=("nlp",), added="2024-02-01T00:00:00Z"),
        p("OLD", None, tags=("nlp",)),
        p("CV", 2012, tags=("cv",)),
    ]
    notes = tag_index_notes(papers)
    region = notes["Tags/nlp.md"]
    assert links(region) == ["Paper SEQ", "Paper ATTN", "Paper GPT", "Paper BERT", "Paper OLD"]
    assert "- 2017 · [[Paper ATTN]] · to-read" in region
    assert "- 2018 · [[Paper BERT]] · read" in region
    assert "- n.d. · [[Paper OLD]] · to-read" in region
    assert links(notes["Tags/cv.md"]) == ["Paper CV"]
    assert set(notes) == {"Tags/nlp.md", "Tags/cv.md", "Tags/to-read.md"}


def test_nested_tags_become_folders_and_unsafe_characters_become_dashes() -> None:
    assert tag_note_path("nlp/transformers") == "Tags/nlp/transformers.md"
    assert tag_note_path('a:b*c?"d<e>f|g#h^i[j]') == "Tags/a-b-c--d-e-f-g-h-i-j-.md"
    assert tag_note_path("../etc") == "Tags/-/etc.md"
    assert tag_note_path("CON") == "Tags/CON-.md"
    assert tag_note_path("trailing. ") == "Tags/trailing.md"
    assert safe_segment("") == "-"


def test_tags_equal_up_to_case_get_separate_notes() -> None:
    notes = tag_index([p("A", 2020, tags=("ML",)), p("B", 2021, tags=("ml",))])
    assert [(n.path, n.title) for n in notes] == [("Tags/ML.md", "ML"), ("Tags/ml-2.md", "ml")]
    assert [links(n.region) for n in notes] == [["Paper A"], ["Paper B"]]


def test_collection_notes_include_parents_with_links_to_subcollections() -> None:
    papers = [
        p("A", 2017, colls=("Deep Learning/NLP",)),
        p("B", 2015, colls=("Deep Learning/NLP", "Deep Learning")),
        p("C", 2016, colls=("Deep Learning/Vision",)),
    ]
    notes = collection_index_notes(papers)
    assert set(notes) == {
        "Collections/Deep Learning.md",
        "Collections/Deep Learning/NLP.md",
        "Collections/Deep Learning/Vision.md",
    }
    assert links(notes["Collections/Deep Learning/NLP.md"]) == ["Paper B", "Paper A"]
    top = notes["Collections/Deep Learning.md"]
    assert links(top)[0] == "Paper B"
    assert "- [[Collections/Deep Learning/NLP|NLP]]" in top


def test_papers_md_groups_by_top_level_collection_with_a_references_first_roadmap() -> None:
    papers = [
        p("ATTN", 2017, colls=("DL/NLP",), refs=("SEQ",)),
        p("SEQ", 2014, colls=("DL/NLP",), status="read"),
        p("BERT", 2018, colls=("DL",), refs=("ATTN", "OUT")),
        p("OUT", 2010, colls=("Other",)),
        p("LOOSE", 2020),
    ]
    region = master_index(papers)
    assert region.startswith("5 papers in 3 topics.")
    dl = region[region.index("## DL") : region.index("## Other")]
    assert links(dl.split("### Roadmap")[0]) == ["Paper SEQ", "Paper ATTN", "Paper BERT"]
    assert "1. [[Paper SEQ]] · read\n2. [[Paper ATTN]] · to-read\n3. [[Paper BERT]]" in dl
    assert "flowchart TD" in dl and "n1 --> n2" in dl and "n2 --> n3" in dl
    assert "class n1 read" in dl
    assert region.index("## Other") < region.index("## Unfiled")


def test_roadmap_breaks_citation_cycles_by_year_and_escapes_labels() -> None:
    papers = [
        p("NEW", 2019, refs=("OLD",)),
        PaperInfo("OLD", 'A "quoted" `title` at 100%%', "Old", "Papers/Old.md", year=2015,
                  references=("NEW",)),
    ]  # fmt: skip
    text = roadmap(papers)
    assert text.index("[[Old|") < text.index("[[Paper NEW]]")
    assert "[\"A #quot;quoted#quot; 'title' at 100%\"]" in text  # ``%%`` opens a comment
    assert "%%" not in text
    assert all(re.fullmatch(r"n\d+", node) for node in re.findall(r"^\s+(\S+)\[", text, re.M))


def test_papers_md_can_group_by_first_topic_tag() -> None:
    papers = [p("A", 2020, tags=("to-read", "nlp", "cv")), p("B", 2019, tags=("cv",)), p("C", 1)]
    assert {k: [x.key for x in v] for k, v in paper_groups(papers, "tag").items()} == {
        "cv": ["B"],
        "nlp": ["A"],
        "Untagged": ["C"],
    }


def test_index_output_is_deterministic_whatever_the_input_order() -> None:
    papers = [
        p(k, 2000 + i, tags=("t", f"x{i % 2}"), refs=("K0",))
        for i, k in enumerate(["K0", "K1", "K2"])
    ]
    assert master_index(papers) == master_index(papers[::-1])
    assert tag_index_notes(papers) == tag_index_notes(papers[::-1])


def test_new_index_note_has_user_area_on_top_and_knows_when_it_is_pristine() -> None:
    note = new_index_note("nlp", "- 2017 · [[A]] · read\n")
    assert note == f"# nlp\n\n{INDEX_BEGIN}\n- 2017 · [[A]] · read\n{INDEX_END}\n"
    assert is_pristine(note, "nlp")
    emptied = note.replace("- 2017 · [[A]] · read\n", empty_region("nlp"))
    assert is_pristine(emptied, "nlp") and "No papers are tagged `nlp` any more." in emptied
    assert not is_pristine(note.replace("# nlp\n\n", "# nlp\n\nMy thoughts.\n\n"), "nlp")


@st.composite
def tagged_papers(draw: st.DrawFn) -> list[PaperInfo]:
    n = draw(st.integers(0, 12))
    tags = st.sampled_from(["nlp", "nlp/llm", "cv", "A b", "x:y", "ML", "ml"])
    return [
        p(
            f"K{i:02d}",
            draw(st.one_of(st.none(), st.integers(1950, 2030))),
            tags=tuple(draw(st.lists(tags, max_size=3, unique=True))),
            added=f"2024-{draw(st.integers(1, 12)):02d}-01T00:00:00Z",
        )
        for i in range(n)
    ]


@settings(max_examples=150, deadline=None)
@given(tagged_papers())
def test_property_each_tag_note_lists_exactly_the_papers_with_that_tag(papers: list) -> None:  # type: ignore[type-arg]
    notes = tag_index(papers)
    assert len({n.path.casefold() for n in notes}) == len(notes)
    for note in notes:
        carrying = [x for x in papers if note.title in x.tags]
        expected = sorted(
            carrying, key=lambda x: (x.year is None, x.year or 0, x.date_added, x.key)
        )
        assert links(note.region) == [x.link for x in expected]
