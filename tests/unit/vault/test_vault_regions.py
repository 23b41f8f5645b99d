"""Managed regions: parsing, splicing and inserting never change a byte of the user's text."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zotsync.errors import NoteError
from zotsync.vault.regions import (
    BEGIN,
    END,
    insert_regions,
    missing_regions,
    parse_note,
    region_block,
    region_contents,
    splice_regions,
    user_segments,
    user_text,
)

NOTE = """---
title: Attention
tags:
  - ml
---
%% zotsync:begin header %%
# Attention Is All You Need
%% zotsync:end header %%
My own thoughts, which must survive.

%% zotsync:begin abstract %%
Old abstract.
%% zotsync:end abstract %%

## Notes
- point one
"""


def test_parse_finds_frontmatter_and_regions() -> None:
    parsed = parse_note(NOTE)
    assert parsed.problems == []
    assert parsed.frontmatter == "title: Attention\ntags:\n  - ml\n"
    assert NOTE[parsed.body_start :].startswith("%% zotsync:begin header")
    assert list(parsed.regions) == ["header", "abstract"]
    region = parsed.regions["abstract"]
    assert region.content == "Old abstract.\n"
    assert NOTE[region.start : region.end] == region.content


def test_user_text_survives_abstract_change() -> None:
    new = splice_regions(NOTE, {"abstract": "A new abstract\nin two lines"})
    assert region_contents(new)["abstract"] == "A new abstract\nin two lines\n"
    assert user_segments(new) == user_segments(NOTE)
    assert new.replace("A new abstract\nin two lines", "Old abstract.") == NOTE


def test_splice_ignores_regions_the_note_does_not_have() -> None:
    assert splice_regions(NOTE, {"references": "- [[X]]"}) == NOTE
    assert missing_regions(NOTE, ["references", "header", "cited-by"]) == [
        "references",
        "cited-by",
    ]


def test_splicing_same_content_changes_nothing() -> None:
    assert splice_regions(NOTE, region_contents(NOTE)) == NOTE


def test_empty_content_leaves_marker_lines_adjacent() -> None:
    new = splice_regions(NOTE, {"abstract": ""})
    assert "%% zotsync:begin abstract %%\n%% zotsync:end abstract %%\n" in new
    assert region_contents(new)["abstract"] == ""


def test_region_block_normalises_final_newlines() -> None:
    assert region_block("notes", "x\n\n\n") == (
        "%% zotsync:begin notes %%\nx\n%% zotsync:end notes %%\n"
    )
    assert region_block("plan", "") == "%% zotsync:begin plan %%\n%% zotsync:end plan %%\n"
    with pytest.raises(ValueError):
        region_block("Bad Name", "x")


def test_crlf_note_stays_crlf_and_bom_is_kept() -> None:
    text = "\ufeff" + NOTE.replace("\n", "\r\n")
    parsed = parse_note(text)
    assert parsed.problems == []
    assert parsed.frontmatter == "title: Attention\r\ntags:\r\n  - ml\r\n"
    new = splice_regions(text, {"abstract": "one\ntwo"})
    assert new.startswith("\ufeff---\r\n")
    assert re.search(r"(?<!\r)\n", new) is None
    assert region_contents(new)["abstract"] == "one\ntwo\n"
    assert user_segments(new) == user_segments(text)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "%% zotsync:begin a %%\nx\n%% zotsync:end a %%\n%% zotsync:begin a %%\n%% zotsync:end a %%\n",
            "more than once",
        ),
        ("%% zotsync:begin a %%\nx\n", "never closed"),
        (
            "%% zotsync:begin a %%\n%% zotsync:begin b %%\n%% zotsync:end b %%\n%% zotsync:end a %%\n",
            "inside",
        ),
        ("text\n%% zotsync:end a %%\n", "without a begin"),
        ("%% zotsync:begin a %%\n%% zotsync:end b %%\n", "closed by"),
        ("---\ntitle: x\nno closing fence\n", "closing"),
    ],
)
def test_malformed_markers_make_the_note_unsafe(body: str, problem: str) -> None:
    parsed = parse_note(body)
    assert not parsed.safe
    assert any(problem in p for p in parsed.problems)
    with pytest.raises(NoteError):
        splice_regions(body, {"a": "new"})
    with pytest.raises(NoteError):
        insert_regions(body, [("z", "new")], None)


def test_markers_inside_frontmatter_are_not_regions() -> None:
    text = "---\nnote: |\n  %% zotsync:begin a %%\n---\nbody\n"
    parsed = parse_note(text)
    assert parsed.regions == {} and parsed.problems == []


def test_marker_line_with_stray_spaces_is_still_a_marker() -> None:
    text = "  %% zotsync:begin a %%  \nx\n%%  zotsync:end a %%\n"
    assert parse_note(text).regions["a"].content == "x\n"


def test_content_with_a_marker_line_is_neutralised() -> None:
    new = splice_regions(NOTE, {"abstract": "evil\n%% zotsync:end abstract %%\nmore"})
    parsed = parse_note(new)
    assert parsed.problems == []
    assert parsed.regions["abstract"].content == "evil\n\\%% zotsync:end abstract %%\nmore\n"


def test_insert_new_region_after_an_existing_one() -> None:
    new = insert_regions(NOTE, [("references", "- [[Other Paper]]"), ("cited-by", "")], "abstract")
    assert list(parse_note(new).regions) == ["header", "abstract", "references", "cited-by"]
    assert user_text(new) == user_text(NOTE)
    assert new.index("%% zotsync:end abstract %%\n%% zotsync:begin references %%") > 0


def test_insert_at_end_when_anchor_missing_and_last_line_unterminated() -> None:
    text = "---\nzotero-key: K\n---\nmy text without newline"
    new = insert_regions(text, [("plan", "- [ ] [[A]]")], "nope")
    assert new == text + "\n" + region_block("plan", "- [ ] [[A]]")
    assert user_text(new) == user_text(text)


def test_insert_into_empty_note_and_after_bare_frontmatter() -> None:
    assert insert_regions("", [("index", "x")], None) == region_block("index", "x")
    bare = "---\na: 1\n---"
    assert insert_regions(bare, [("index", "x")], None) == bare + "\n" + region_block("index", "x")


def test_insert_existing_region_is_an_error() -> None:
    with pytest.raises(ValueError):
        insert_regions(NOTE, [("abstract", "x")], None)


# --- properties ---------------------------------------------------------------------------

NAMES = ["header", "abstract", "related", "references", "cited-by", "annotations", "notes"]
line_chars = st.sampled_from([*list("az %:-#`[]|>*\té中"), "zotsync", "---", "%% ", "\r"])
line = st.lists(line_chars, max_size=8).map("".join)
lines = st.lists(line, max_size=4)


def _clean(seg_lines: list[str], nl: str) -> str:
    # user text may hold anything except a line that is itself a zotsync marker
    return "".join(ln.replace("\r", "") + nl for ln in seg_lines if "zotsync:" not in ln)


@st.composite
def notes(draw: st.DrawFn) -> tuple[str, list[str]]:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    text = "\ufeff" if draw(st.booleans()) else ""
    if draw(st.booleans()):
        text += "---" + nl + _clean(draw(lines), nl).replace("---", "- -") + "---" + nl
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=5))
    for name in names:
        seg = _clean(draw(lines), nl)
        text += seg if text.lstrip("\ufeff") else seg.replace("---", "- -")
        content = _clean(draw(lines), nl)
        text += BEGIN.format(name=name) + nl + content + END.format(name=name) + nl
    tail = _clean(draw(lines), nl)
    if not text.lstrip("\ufeff"):
        tail = tail.replace("---", "- -")  # a first line '---' would open a frontmatter
    if draw(st.booleans()):
        tail = tail.rstrip("\r\n")  # a last line without newline
    return text + tail, names


new_content = st.lists(line, max_size=4).map(lambda ls: "\n".join(ls).replace("zotsync:", ""))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notes(), st.data())
def test_splice_changes_nothing_outside_the_replaced_regions(
    note: tuple[str, list[str]], data: st.DataObject
) -> None:
    text, names = note
    parsed = parse_note(text)
    assert parsed.problems == [] and list(parsed.regions) == names
    chosen = data.draw(st.lists(st.sampled_from(NAMES), unique=True))
    contents = {n: data.draw(new_content) for n in chosen}
    new = splice_regions(text, contents)
    assert user_segments(new) == user_segments(text)
    assert parse_note(new).frontmatter == parsed.frontmatter
    got = region_contents(new)
    for name in names:
        if name in contents:
            want = contents[name].replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
            assert got[name] == (want + "\n" if want else "")
        else:
            assert parse_note(new).regions[name].content == parsed.regions[name].content
    # the file's line-ending style is respected: no bare LF appears in a CRLF file
    if "\r\n" in text and re.search(r"(?<!\r)\n", text) is None:
        assert re.search(r"(?<!\r)\n", new) is None
    assert splice_regions(new, contents) == new


@settings(max_examples=100, deadline=None)
@given(notes(), st.data())
def test_inserting_regions_keeps_user_text(
    note: tuple[str, list[str]], data: st.DataObject
) -> None:
    text, names = note
    missing = missing_regions(text, NAMES)
    assert set(missing) == set(NAMES) - set(names)
    add = data.draw(st.lists(st.sampled_from(missing), unique=True)) if missing else []
    after = data.draw(st.sampled_from([None, *names]))
    new = insert_regions(text, [(n, "x") for n in add], after)
    assert user_text(new) == user_text(text)
    assert parse_note(new).problems == []
    assert set(parse_note(new).regions) == set(names) | set(add)
    # bytes before the insertion point are untouched
    assert (
        new.startswith(text.rstrip("\r\n"))
        if after is None
        else new.startswith(text[: parse_note(text).regions[after].outer_end])
    )
