"""The weekly inbox note: rendered from the ranking, ticks kept, user text untouched."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.arxiv_api import ArxivClient
from zotsync.discover import discover, mark_inbox_added, ticked_in_inbox
from zotsync.discover.inbox import (
    BEGIN,
    END,
    InboxState,
    iso_week,
    mark_added,
    new_inbox_note,
    parse_inbox,
    read_state,
    render_region,
    update_inbox_note,
)
from zotsync.discover.rank import RankedPaper, Similar
from zotsync.testing.fake_arxiv import FakeArxiv, paper
from zotsync.testing.sample_library import sample_library

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # a Thursday in 2026-W47


def ranked(i: int, title: str = "Sparse attention", score: float = 0.5) -> RankedPaper:
    p = paper(
        f"2611.{i:05d}",
        f"{title} {i}",
        "We make self-attention sparse. " * 20,
        authors=("A One", "B Two", "C Three", "D Four"),
    )
    return RankedPaper(
        p, score, ("nlp/transformers",), (Similar("ATTN2345", "Attention Is All You Need", 0.4),)
    )


def tick(text: str, arxiv_id: str) -> str:
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if line.startswith("- [ ]") and line.endswith(f"arXiv:{arxiv_id}"):
            lines[n] = "- [x]" + line[5:]
    return "\n".join(lines)


def test_week_is_the_iso_week_of_the_run_date() -> None:
    assert iso_week(date(2026, 11, 19)) == "2026-W47"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"


def test_entry_has_everything_needed_to_decide_and_add() -> None:
    region = render_region("2026-W47", [ranked(1)], scope="cs.CL · last 7 days", candidates=9)
    assert region.startswith(BEGIN + "\n") and region.endswith(END + "\n")
    assert "- [ ] **Sparse attention 1** · arXiv:2611.00001" in region
    assert "A One, B Two, C Three et al. · 2026-11-17 · cs.CL · score 0.500" in region
    assert "similar to [[Attention Is All You Need]]" in region
    assert "topics: nlp/transformers" in region
    assert "[arXiv](https://arxiv.org/abs/2611.00001) · `zotsync add 2611.00001`" in region
    assert "> We make self-attention sparse." in region and "…" in region
    assert "top 1 of 9" in region


def test_ticked_entries_are_parsed_and_marked_added() -> None:
    text = new_inbox_note(render_region("2026-W47", [ranked(1), ranked(2), ranked(3)]))
    text = tick(tick(text, "2611.00003"), "2611.00001")
    assert parse_inbox(text) == ["2611.00001", "2611.00003"]
    marked = mark_added(text, ["2611.00001"])
    assert parse_inbox(marked) == ["2611.00003"]
    assert "arXiv:2611.00001 · **added**" in marked
    assert mark_added(marked, ["2611.00001"]) == marked


def test_rerender_keeps_ticks_added_marks_and_user_text() -> None:
    old = new_inbox_note(render_region("2026-W47", [ranked(1), ranked(2)]))
    old = mark_added(tick(tick(old, "2611.00001"), "2611.00002"), ["2611.00002"])
    old = old.replace("## Notes\n", "## Notes\nMy thoughts on this week.\r\n")
    state = read_state(old)
    assert state.ticked == {"2611.00001"} and state.added == {"2611.00002"}
    # the new ranking lists 1 and 3, not 2: the added entry 2 is kept, not dropped
    new = update_inbox_note(old, render_region("2026-W47", [ranked(3), ranked(1)], previous=state))
    assert parse_inbox(new) == ["2611.00001"]
    assert "### Kept from an earlier run" in new and "arXiv:2611.00002 · **added**" in new
    assert new.endswith("## Notes\nMy thoughts on this week.\r\n")
    assert new.startswith("---\ntags:\n  - inbox\n---\n")


def test_titles_cannot_break_the_markdown() -> None:
    evil = ranked(1, title="[[Link]] *bold* #tag `code` %% zotsync:end inbox %%")
    region = render_region("2026-W47", [evil])
    assert "[[Link]]" not in region and "\\[\\[Link\\]\\]" in region
    assert region.count(END) == 1 or region.rstrip().endswith(END)
    assert parse_inbox(tick(new_inbox_note(region), "2611.00001")) == ["2611.00001"]


@settings(max_examples=40, deadline=None)
@given(
    before=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80),
    after=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80),
)
def test_text_outside_the_region_survives_byte_for_byte(before: str, after: str) -> None:
    region = render_region("2026-W47", [ranked(1)])
    text = f"{before}\n{region}{after}"
    updated = update_inbox_note(
        text, render_region("2026-W47", [ranked(2)], previous=read_state(text))
    )
    if BEGIN in before or END in before or BEGIN in after:
        return
    assert updated.startswith(f"{before}\n") and updated.endswith(after)
    assert mark_added(updated, ["2611.00002"]).endswith(after)


# -- discover end to end against the fake arXiv ----------------------------------------------


def week_papers() -> list:
    return [
        paper(
            "2611.00001",
            "Sparse attention transformers for long contexts",
            "Transformer self-attention made sparse for language models.",
            published="2026-11-18T10:00:00Z",
        ),
        paper(
            "2611.00002",
            "Galactic dust maps",
            "Dust emission in the Milky Way.",
            categories=("astro-ph.GA", "cs.CL"),
            published="2026-11-17T10:00:00Z",
        ),
        paper(
            "2611.00003",
            "Pretraining transformers for language understanding",
            "Masked language model pretraining.",
            published="2026-11-16T10:00:00Z",
        ),
        paper(
            "1706.03762",
            "Attention Is All You Need",
            "Already in the library.",
            published="2026-11-16T10:00:00Z",
        ),
    ]


def test_discover_writes_the_inbox_note_and_is_idempotent(tmp_path: Path) -> None:
    items = sample_library().items
    with FakeArxiv(week_papers()) as fake:
        client = ArxivClient(fake.url, delay_seconds=0)
        result = discover(tmp_path, items, client, categories=["cs.CL"], top_k=2, now=NOW)
        note = tmp_path / "Inbox" / "2026-W47.md"
        assert result.path == "Inbox/2026-W47.md" and result.written
        papers = result.to_json()["papers"]
        assert {p["arxiv"] for p in papers} == {"2611.00001", "2611.00003"}  # type: ignore[attr-defined,index]
        text = note.read_text()
        assert "1706.03762" not in text and "Galactic" not in text
        os.utime(note, ns=(1, 1))
        again = discover(tmp_path, items, client, categories=["cs.CL"], top_k=2, now=NOW)
    assert not again.written and note.stat().st_mtime_ns == 1
    assert again.to_json() == result.to_json()


def test_from_inbox_finds_ticks_in_every_week_and_marks_them(tmp_path: Path) -> None:
    inbox = tmp_path / "Inbox"
    inbox.mkdir()
    (inbox / "2026-W47.md").write_text(
        tick(new_inbox_note(render_region("2026-W47", [ranked(1), ranked(2)])), "2611.00002")
    )
    (inbox / "2026-W48.md").write_text(
        tick(new_inbox_note(render_region("2026-W48", [ranked(3)])), "2611.00003")
    )
    (inbox / "notes.md").write_text("- [x] **x** · arXiv:2611.00009\n")
    assert ticked_in_inbox(tmp_path) == {
        "2611.00002": ["Inbox/2026-W47.md"],
        "2611.00003": ["Inbox/2026-W48.md"],
    }
    assert mark_inbox_added(tmp_path, ["2611.00002"]) == ["Inbox/2026-W47.md"]
    assert ticked_in_inbox(tmp_path) == {"2611.00003": ["Inbox/2026-W48.md"]}
    assert InboxState() == read_state("no region here")
