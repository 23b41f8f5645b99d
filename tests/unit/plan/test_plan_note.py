"""The plan note: region rendering, stable bytes, tolerant parsing, and tick agreement."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.library.papers import PaperInfo
from zotsync.plan.note import (
    PLAN_BEGIN,
    PLAN_END,
    PlanLine,
    apply_ticks,
    new_plan_note,
    parse_plan_region,
    plan_frontmatter,
    plan_note_path,
    plan_region,
    set_ticks,
    unfinished_links,
)
from zotsync.plan.select import PlanChoice, select_plan
from zotsync.plan.slots import SlotConfig, slots_for_week


def papers(status_b: str = "to-read") -> list[PaperInfo]:
    return [
        PaperInfo("A", "Attention Is All You Need", "Attention Is All You Need", "Papers/A.md",
                  tags=("nlp",), year=2017, references=("B",)),
        PaperInfo("B", "Seq2Seq: a #1 model", "Seq2Seq", "Papers/Seq2Seq.md", status=status_b,
                  tags=("rnn",), year=2014),
        PaperInfo("C", "GPT", "GPT", "Papers/GPT.md", tags=("nlp",), year=2018,
                  date_added="2025-01-01"),
    ]  # fmt: skip


def render(ps: list[PaperInfo], week: str = "2026-W48") -> tuple[PlanChoice, str]:
    choice = select_plan(ps, count=3, topic=None, last_topic=None)
    slots = slots_for_week(week, SlotConfig(), "Europe/Berlin", count=len(choice.picks))
    return choice, plan_region(choice, {p.key: p for p in ps}, slots, week)


def test_region_has_checkbox_lines_in_reading_order_and_a_gantt_chart() -> None:
    _, region = render(papers())
    lines = region.splitlines()
    boxes = [line for line in lines if line.startswith("- [")]
    assert boxes == [
        "- [ ] [[Seq2Seq]] — Mon 19:00 · read first: cited by Attention Is All You Need",
        "- [ ] [[Attention Is All You Need]] — Wed 19:00 · topic nlp",
        "- [ ] [[GPT]] — Thu 19:00 · topic nlp",
    ]
    assert lines[0] == "Topic: **nlp**"
    assert "```mermaid" in lines and "gantt" in lines
    # colons and hashes would break a Mermaid task line
    assert "    Seq2Seq a 1 model :p1, 2026-11-23 19:00, 60m" in lines
    assert region.endswith("```\n")


def test_a_double_percent_in_a_title_cannot_comment_out_a_task() -> None:
    ps = papers()
    ps[2] = PaperInfo("C", "Cut 50%% of the %%%weights", "GPT", "Papers/GPT.md",
                      tags=("nlp",), year=2018, date_added="2025-01-01")  # fmt: skip
    _, region = render(ps)
    chart = region[region.index("```mermaid") :]
    assert "%%" not in chart
    assert "    Cut 50% of the %weights :p3, 2026-11-26 19:00, 60m" in chart.splitlines()


def test_rerendering_the_same_plan_gives_the_same_bytes() -> None:
    _, first = render(papers())
    _, second = render(list(reversed(papers())))
    note = new_plan_note("2026-W48", first, plan_frontmatter("2026-W48", "nlp"))
    assert first == second
    assert note == new_plan_note("2026-W48", second, plan_frontmatter("2026-W48", "nlp"))


def test_new_plan_note_layout_and_frontmatter() -> None:
    _, region = render(papers())
    note = new_plan_note("2026-w48", region, plan_frontmatter("2026-W48", "nlp"))
    head, _, body = note.removeprefix("---\n").partition("---\n")
    meta = yaml.safe_load(head)
    assert meta["week"] == "2026-W48" and meta["topic"] == "nlp"
    assert str(meta["start"]) == "2026-11-23" and str(meta["end"]) == "2026-11-29"
    assert body.startswith("# Reading plan 2026-W48\n\n" + PLAN_BEGIN + "\n")
    assert body.endswith(PLAN_END + "\n")
    assert plan_note_path("2026-w48") == "Reading Plans/2026-W48.md"


def test_read_papers_render_ticked() -> None:
    choice, _ = render(papers())
    ps = papers(status_b="read")
    slots = slots_for_week("2026-W48", SlotConfig(), "UTC", count=3)
    region = plan_region(choice, {p.key: p for p in ps}, slots)
    assert "- [x] [[Seq2Seq]] — Mon 19:00" in region
    assert ":done, p1," in region


def test_filled_plan_says_so() -> None:
    ps = [
        PaperInfo("V", "Vision", "Vision", "Papers/Vision.md", tags=("cv",)),
        PaperInfo("N", "Lang", "Lang", "Papers/Lang.md", tags=("nlp",)),
    ]
    choice = select_plan(ps, count=2, topic="cv", last_topic=None)
    region = plan_region(choice, {p.key: p for p in ps}, slots_for_week("2026-W48", None, "UTC"))
    assert "filled from: nlp" in region


def test_empty_plan_region_explains() -> None:
    choice = PlanChoice(None)
    assert "Nothing to plan" in plan_region(choice, {}, [])


def test_parse_tolerates_user_edits() -> None:
    text = "\n".join(
        [
            "# my own notes above",
            PLAN_BEGIN,
            "- [x] [[Seq2Seq]] — Mon 19:00 · I changed this reason completely",
            "- [X] [[Attention Is All You Need|Attention]] - Wed 19:00",
            "  * [ ] [[GPT#Method]] — moved to Friday",
            "- [/] [[Started]] — Thu 19:00 · half read",
            "- [ ] buy milk",
            "- [ ] see [[Some Note]] · no slot",
            PLAN_END,
            "- [x] [[Outside]] — Mon 19:00 · not in the region",
        ]
    )
    assert parse_plan_region(text) == [
        PlanLine("Seq2Seq", True, "Mon 19:00", "I changed this reason completely"),
        PlanLine("Attention Is All You Need", True, "Wed 19:00", ""),
        PlanLine("GPT", False, None, ""),
        PlanLine("Started", False, "Thu 19:00", "half read"),
        PlanLine("Some Note", False, None, "no slot"),
    ]
    assert unfinished_links(parse_plan_region(text)) == ["GPT", "Started", "Some Note"]


def test_parse_reads_back_what_was_rendered() -> None:
    choice, region = render(papers())
    lines = parse_plan_region(new_plan_note("2026-W48", region))
    assert [line.link for line in lines] == ["Seq2Seq", "Attention Is All You Need", "GPT"]
    assert [line.slot for line in lines] == ["Mon 19:00", "Wed 19:00", "Thu 19:00"]
    assert [line.reason for line in lines] == [p.reason for p in choice.picks]


def test_ticked_box_marks_the_paper_read() -> None:
    lines = [PlanLine("A", True, "Mon 19:00", ""), PlanLine("B", False, "Wed 19:00", "")]
    decision = apply_ticks(lines, {"A": "to-read", "B": "to-read"})
    assert decision.statuses == {"A": "read"} and decision.tick == [] and decision.untick == []


def test_status_read_in_paper_note_ticks_the_box() -> None:
    lines = [PlanLine("A", False, "Mon 19:00", "")]
    decision = apply_ticks(lines, {"A": "read"}, previous={"A": False})
    assert decision.tick == ["A"] and decision.statuses == {}


def test_unticking_a_box_that_was_ticked_reopens_the_paper() -> None:
    lines = [PlanLine("A", False, "Mon 19:00", "")]
    decision = apply_ticks(lines, {"A": "read"}, previous={"A": True})
    assert decision.statuses == {"A": "to-read"} and decision.tick == []


def test_status_changed_away_from_read_unticks_the_box() -> None:
    lines = [PlanLine("A", True, "Mon 19:00", "")]
    decision = apply_ticks(lines, {"A": "reading"}, previous={"A": True})
    assert decision.untick == ["A"] and decision.statuses == {}


def test_started_week_marks_planned_papers_reading_when_configured() -> None:
    lines = [PlanLine("A", False, None, ""), PlanLine("GONE", True, None, "")]
    statuses = {"A": "to-read"}
    assert apply_ticks(lines, statuses, week_started=True).statuses == {}
    decision = apply_ticks(lines, statuses, week_started=True, mark_reading=True)
    assert decision.statuses == {"A": "reading"}


def test_set_ticks_changes_only_the_box_characters() -> None:
    region = (
        "Topic: **nlp**\r\n\r\n"
        "- [ ] [[Seq2Seq]] — Mon 19:00 · my words\r\n"
        "- [x] [[GPT|the GPT paper]] — Thu 19:00 · x\r\n"
        "- [ ] [[Other]] — Fri 19:00"
    )
    out = set_ticks(region, {"Seq2Seq": True, "GPT": False, "Missing": True})
    assert out == region.replace("- [ ] [[Seq2Seq]]", "- [x] [[Seq2Seq]]").replace(
        "- [x] [[GPT|", "- [ ] [[GPT|"
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(["to-read", "read", "reading"]),
                          st.one_of(st.none(), st.booleans())), min_size=1, max_size=6))  # fmt: skip
def test_property_box_and_status_agree_after_one_sync(rows: list) -> None:  # type: ignore[type-arg]
    named = [(f"P{i}", *row) for i, row in enumerate(rows)]
    links = [link for link, *_ in named]
    lines = [PlanLine(link, checked, None, "") for link, checked, _, _ in named]
    statuses = {link: status for link, _, status, _ in named}
    previous = {link: prev for link, _, _, prev in named if prev is not None}
    decision = apply_ticks(lines, statuses, previous=previous)
    after_status = {**statuses, **decision.statuses}
    boxes = {line.link: line.checked for line in lines}
    boxes.update(dict.fromkeys(decision.tick, True))
    boxes.update(dict.fromkeys(decision.untick, False))
    for link in links:
        assert boxes[link] == (after_status[link] == "read")
