"""Plan selection: topic choice, references first, ranking, carry-over, fill — and properties."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.library.papers import CitationGraph, PaperInfo, cited_by_counts
from zotsync.plan.select import NO_TOPIC, choose_topic, in_topic, paper_topics, select_plan


def paper(
    key: str,
    *,
    tags: tuple[str, ...] = (),
    colls: tuple[str, ...] = (),
    refs: tuple[str, ...] = (),
    year: int | None = 2020,
    added: str = "2024-01-01T00:00:00Z",
    status: str = "to-read",
    priority: int | None = None,
) -> PaperInfo:
    return PaperInfo(
        key=key,
        title=f"Title {key}",
        link=f"Title {key}",
        path=f"Papers/Title {key}.md",
        status=status,
        priority=priority,
        tags=tags,
        collections=colls,
        year=year,
        date_added=added,
        references=refs,
    )


def plan(papers: list[PaperInfo], count: int = 3, **kw: object) -> list[str]:
    choice = select_plan(
        papers,
        count=count,
        topic=kw.get("topic"),  # type: ignore[arg-type]
        last_topic=kw.get("last_topic"),  # type: ignore[arg-type]
        carried=kw.get("carried", ()),  # type: ignore[arg-type]
    )
    return choice.keys


def test_reference_from_another_topic_is_planned_before_the_paper_citing_it() -> None:
    papers = [
        paper("ATTN", tags=("nlp",), refs=("SEQ",), year=2017),
        paper("BERT", tags=("nlp",), year=2018, added="2024-02-01T00:00:00Z"),
        paper("SEQ", tags=("rnn",), year=2014),
    ]
    choice = select_plan(papers, count=3, topic="nlp", last_topic=None, carried=())
    assert choice.keys == ["SEQ", "ATTN", "BERT"]
    assert choice.picks[0].pulled_in and "cited by Title ATTN" in choice.picks[0].reason
    assert not choice.picks[1].pulled_in


def test_references_are_pulled_in_recursively_and_count_toward_the_count() -> None:
    papers = [
        paper("D", tags=("t",), refs=("C",), year=2020),
        paper("C", tags=("x",), refs=("B",), year=2019),
        paper("B", tags=("y",), refs=("A",), year=2018),
        paper("A", tags=("z",), year=2017),
        paper("E", tags=("t",), year=2021),
    ]
    # the chain is longer than the count: the deepest references come first
    assert plan(papers, count=3, topic="t") == ["A", "B", "C"]
    assert plan(papers, count=5, topic="t") == ["A", "B", "C", "D", "E"]


def test_citation_cycle_is_broken_by_year_older_first() -> None:
    papers = [
        paper("NEW", tags=("t",), refs=("OLD",), year=2019),
        paper("OLD", tags=("t",), refs=("NEW",), year=2015),
    ]
    assert plan(papers, count=2, topic="t") == ["OLD", "NEW"]
    # whichever is ranked first, the older one is read first
    papers[0] = paper("NEW", tags=("t",), refs=("OLD",), year=2019, priority=1)
    assert plan(papers, count=2, topic="t") == ["OLD", "NEW"]


def test_read_reading_and_skipped_references_are_not_pulled_in() -> None:
    papers = [
        paper("P", tags=("t",), refs=("R", "G", "S")),
        paper("R", tags=("u",), status="read"),
        paper("G", tags=("u",), status="reading"),
        paper("S", tags=("u",), status="skip"),
    ]
    assert plan(papers, count=3, topic="t") == ["P"]


def test_rank_is_priority_then_citations_then_time_in_queue() -> None:
    papers = [
        paper("OLDEST", tags=("t",), added="2020-01-01T00:00:00Z"),
        paper("CITED", tags=("t",), added="2023-01-01T00:00:00Z"),
        paper("URGENT", tags=("t",), priority=1, added="2024-06-01T00:00:00Z"),
        paper("LATER", tags=("t",), priority=5, added="2019-01-01T00:00:00Z"),
        paper("CITER", tags=("other",), refs=("CITED",), status="read"),
    ]
    assert plan(papers, count=4, topic="t") == ["URGENT", "CITED", "OLDEST", "LATER"]


def test_largest_topic_is_chosen_when_none_given() -> None:
    papers = [paper(f"N{i}", tags=("nlp",)) for i in range(3)] + [paper("V1", tags=("cv",))]
    choice = select_plan(papers, count=2, topic=None, last_topic=None)
    assert choice.topic == "nlp"
    assert all(in_topic(p, "nlp") for p in papers if p.key in choice.keys)
    assert choice.filled_from == []


def test_last_weeks_topic_continues_while_it_has_candidates() -> None:
    papers = [paper(f"N{i}", tags=("nlp",)) for i in range(3)] + [paper("V1", tags=("cv",))]
    assert select_plan(papers, count=1, topic=None, last_topic="cv").topic == "cv"
    papers[-1] = paper("V1", tags=("cv",), status="read")
    topic, why = choose_topic(papers, topic=None, last_topic="cv")
    assert topic == "nlp" and "no candidates left" in why


def test_topic_with_too_few_candidates_is_filled_from_next_topic_and_says_so() -> None:
    papers = [
        paper("C1", tags=("cv",)),
        paper("N1", tags=("nlp",)),
        paper("N2", tags=("nlp",), added="2024-02-01T00:00:00Z"),
        paper("R1", tags=("rl",)),
    ]
    choice = select_plan(papers, count=3, topic="cv", last_topic=None)
    assert choice.keys == ["C1", "N1", "N2"]
    assert choice.filled_from == ["nlp"]
    assert choice.picks[1].reason.startswith("filled from topic nlp")
    assert any("no more candidates" in line for line in choice.explain)


def test_carried_papers_come_first_even_from_another_topic() -> None:
    papers = [
        paper("N1", tags=("nlp",)),
        paper("N2", tags=("nlp",)),
        paper("OLDPLAN", tags=("cv",), status="reading", refs=("BASE",)),
        paper("BASE", tags=("cv",), year=2010),
        paper("DONE", tags=("cv",), status="read"),
    ]
    choice = select_plan(
        papers, count=3, topic="nlp", last_topic=None, carried=["OLDPLAN", "DONE", "GONE"]
    )
    assert choice.keys == ["BASE", "OLDPLAN", "N1"]
    assert choice.picks[1].carried and "carried over" in choice.picks[1].reason


def test_plan_works_without_any_references_or_topics() -> None:
    papers = [paper(k, added=f"2024-0{i + 1}-01T00:00:00Z") for i, k in enumerate("CAB")]
    choice = select_plan(papers, count=2, topic=None, last_topic=None)
    assert choice.topic is None
    assert choice.keys == ["C", "A"]


def test_status_and_priority_tags_are_not_topics_and_nested_topics_belong_to_parents() -> None:
    p = paper("X", tags=("to-read", "priority/1", "nlp/transformers"), colls=("DL/NLP",))
    assert paper_topics(p) == ("DL/NLP", "nlp/transformers")
    assert in_topic(p, "nlp") and in_topic(p, "DL") and not in_topic(p, "nl")


def test_nothing_to_plan_gives_an_empty_choice_that_explains() -> None:
    choice = select_plan([paper("R", status="read")], count=3, topic=None, last_topic=None)
    assert choice.picks == [] and "nothing to plan" in choice.explain[-1]


def test_long_reference_chain_does_not_recurse_too_deep() -> None:
    n = 3000
    papers = [
        paper(f"K{i:05d}", refs=(f"K{i - 1:05d}",) if i else (), year=1000 + i) for i in range(n)
    ]
    order = CitationGraph({p.key: p for p in papers}, [p.key for p in papers]).order()
    assert order == [p.key for p in papers]


# --- properties -----------------------------------------------------------------------

TOPICS = ["nlp", "nlp/llm", "cv", "rl"]


@st.composite
def libraries(draw: st.DrawFn) -> tuple[list[PaperInfo], int, str | None, list[str]]:
    n = draw(st.integers(1, 14))
    keys = [f"K{i:02d}" for i in range(n)]
    papers = []
    for i, key in enumerate(keys):
        # references only to earlier papers: an acyclic graph, as published papers form
        refs = draw(st.lists(st.sampled_from(keys[:i]), max_size=3, unique=True)) if i else []
        papers.append(
            paper(
                key,
                tags=tuple(draw(st.lists(st.sampled_from(TOPICS), max_size=2, unique=True))),
                refs=tuple(refs),
                year=draw(st.one_of(st.none(), st.integers(1990, 2025))),
                added=f"2024-01-{draw(st.integers(1, 28)):02d}T00:00:00Z",
                status=draw(st.sampled_from(["to-read"] * 4 + ["read", "reading", "skip"])),
                priority=draw(st.one_of(st.none(), st.integers(1, 5))),
            )
        )
    count = draw(st.integers(0, 8))
    topic = draw(st.one_of(st.none(), st.sampled_from(TOPICS)))
    carried = draw(st.lists(st.sampled_from(keys), max_size=3, unique=True))
    return papers, count, topic, carried


@settings(max_examples=150, deadline=None)
@given(libraries())
def test_property_unread_references_precede_every_chosen_paper(lib: tuple) -> None:  # type: ignore[type-arg]
    papers, count, topic, carried = lib
    by_key = {p.key: p for p in papers}
    keys = select_plan(papers, count=count, topic=topic, last_topic=None, carried=carried).keys
    assert len(keys) == len(set(keys))
    for i, key in enumerate(keys):
        for ref in by_key[key].references:
            if by_key[ref].status == "to-read":
                assert ref in keys[:i], (key, ref, keys)


@settings(max_examples=150, deadline=None)
@given(libraries())
def test_property_one_topic_apart_from_pulled_in_references(lib: tuple) -> None:  # type: ignore[type-arg]
    papers, count, topic, _ = lib
    by_key = {p.key: p for p in papers}
    choice = select_plan(papers, count=count, topic=topic, last_topic=None)
    if choice.topic is None:
        return
    own = [p for p in choice.picks if not p.pulled_in and not p.carried]
    if not choice.filled_from:
        assert all(in_topic(by_key[p.key], choice.topic) for p in own)
    else:
        # filling only happens once the topic has no candidate left
        in_topic_left = [
            p.key
            for p in papers
            if p.status == "to-read" and in_topic(p, choice.topic) and p.key not in choice.keys
        ]
        assert in_topic_left == []
        allowed = [choice.topic, *choice.filled_from]
        for p in own:
            if paper_topics(by_key[p.key]):
                assert any(in_topic(by_key[p.key], t) for t in allowed)
            else:
                assert NO_TOPIC in choice.filled_from


@settings(max_examples=150, deadline=None)
@given(libraries())
def test_property_count_is_honoured_when_enough_candidates(lib: tuple) -> None:  # type: ignore[type-arg]
    papers, count, topic, carried = lib
    eligible = {p.key for p in papers if p.status == "to-read"}
    eligible |= {k for k in carried if next(p for p in papers if p.key == k).status == "reading"}
    choice = select_plan(papers, count=count, topic=topic, last_topic=None, carried=carried)
    assert len(choice.picks) == min(count, len(eligible))
    assert set(choice.keys) <= eligible


@settings(max_examples=100, deadline=None)
@given(libraries(), st.randoms(use_true_random=False))
def test_property_same_inputs_give_the_same_plan(lib: tuple, rnd: random.Random) -> None:  # type: ignore[type-arg]
    papers, count, topic, carried = lib
    first = select_plan(papers, count=count, topic=topic, last_topic="cv", carried=carried)
    shuffled = list(papers)
    rnd.shuffle(shuffled)
    again = select_plan(
        shuffled,
        count=count,
        topic=topic,
        last_topic="cv",
        carried=carried,
        cited_by_count=cited_by_counts(shuffled),
    )
    assert first == again
