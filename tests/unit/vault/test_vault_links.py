"""Link rewriting on rename: every form Obsidian users write, never inside code."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.vault.links import find_wikilinks, links_to, rewrite_links

OLD, NEW = "Old Name", "New Name"
PATHS = {"old_path": "Papers/Old Name.md", "new_path": "Papers/New Name.md"}


def rw(text: str, source: str | None = None) -> str:
    return rewrite_links(text, OLD, NEW, source=source, **PATHS)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("[[Old Name]]", "[[New Name]]"),
        ("[[old name]]", "[[New Name]]"),
        ("[[Old Name|my alias]]", "[[New Name|my alias]]"),
        ("[[Old Name#Method]]", "[[New Name#Method]]"),
        ("[[Old Name#^ABCD1234]]", "[[New Name#^ABCD1234]]"),
        ("![[Old Name]]", "![[New Name]]"),
        ("![[Old Name#^blk|300]]", "![[New Name#^blk|300]]"),
        ("[[Papers/Old Name]]", "[[Papers/New Name]]"),
        ("[[Papers/Old Name.md|x]]", "[[Papers/New Name.md|x]]"),
        ("[[Old Name.md]]", "[[New Name.md]]"),
        ("| [[Old Name\\|alias]] |", "| [[New Name\\|alias]] |"),
        ("[text](Papers/Old%20Name.md)", "[text](Papers/New%20Name.md)"),
        (
            "[text](Papers/Old%20Name.md#Some%20Heading)",
            "[text](Papers/New%20Name.md#Some%20Heading)",
        ),
        ("[text](<Papers/Old Name.md>)", "[text](<Papers/New Name.md>)"),
        ('[t](Papers/Old%20Name.md "title")', '[t](Papers/New%20Name.md "title")'),
        ("![img](Old%20Name.md)", "![img](New%20Name.md)"),
        ("[t](/Papers/Old%20Name.md)", "[t](/Papers/New%20Name.md)"),
    ],
)
def test_every_link_form_is_rewritten_in_its_own_form(before: str, after: str) -> None:
    assert rw(f"See {before} here.\n") == f"See {after} here.\n"


@pytest.mark.parametrize(
    "text",
    [
        "[[Old Name Extended]]",
        "[[Other/Old Name]]",
        "[[#Old Name]]",
        "[t](https://example.org/Old%20Name.md)",
        "[t](Elsewhere/Old%20Name.md)",
        "`[[Old Name]]`",
        "``a ` [[Old Name]]``",
        "```\n[[Old Name]] [t](Papers/Old%20Name.md)\n```",
        "~~~md\n[[Old Name]]\n~~~",
        "> ```\n> [[Old Name]]\n> ```",
        "```\nunclosed fence [[Old Name]]\n",
    ],
)
def test_lookalikes_and_code_are_left_alone(text: str) -> None:
    assert rw(text) == text


def test_code_and_prose_side_by_side() -> None:
    text = "Use `[[Old Name]]` to link, like this: [[Old Name]].\n\n```\n[[Old Name]]\n```\n[[Old Name|x]]\n"
    assert rw(text) == (
        "Use `[[Old Name]]` to link, like this: [[New Name]].\n\n```\n[[Old Name]]\n```\n[[New Name|x]]\n"
    )


def test_unmatched_backtick_does_not_hide_the_rest() -> None:
    assert rw("a ` stray\n\n[[Old Name]]") == "a ` stray\n\n[[New Name]]"


def test_encoding_follows_the_new_name() -> None:
    text = "[t](Papers/Old.md) [u](Papers/Old.md)"
    got = rewrite_links(
        text,
        "Old",
        "New (Smith 2020) 50%",
        old_path="Papers/Old.md",
        new_path="Papers/New (Smith 2020) 50%.md",
    )
    assert (
        got
        == "[t](Papers/New%20(Smith%202020)%2050%25.md) [u](Papers/New%20(Smith%202020)%2050%25.md)"
    )


def test_relative_markdown_links_need_the_source_path() -> None:
    text = "[t](../Papers/Old%20Name.md)"
    assert rw(text) == text
    assert rw(text, source="Reading Plans/2026-W48.md") == "[t](../Papers/New%20Name.md)"


def test_unrelated_text_is_returned_as_is() -> None:
    text = "nothing to see"
    assert rw(text) is text


def test_find_wikilinks_skips_code_and_strips_subpaths() -> None:
    text = "[[A]] [[B#h|x]] ![[C#^b]] `[[D]]`\n```\n[[E]]\n```\n[[Dir/F.md]] [[#local]]"
    assert find_wikilinks(text) == ["A", "B", "C", "Dir/F.md"]


def test_links_to_sees_wikilinks_and_markdown_links() -> None:
    assert links_to("x [[papers/old name|y]]", "Old Name")
    assert links_to("[t](Papers/Old%20Name.md)", "Old Name")
    assert not links_to("`[[Old Name]]`", "Old Name")
    assert not links_to("[[Old Name Extended]]", "Old Name")


safe_text = st.text(alphabet=st.characters(blacklist_characters="[]()`<>~%"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(safe_text, st.sampled_from(["[[Old Name]]", "[[Other]]", "`[[Old Name]]`"])),
        max_size=6,
    )
)
def test_rewriting_touches_only_links(parts: list[tuple[str, str]]) -> None:
    text = "".join(p + link for p, link in parts)
    got = rw(text)
    expected = "".join(
        p + ("[[New Name]]" if link == "[[Old Name]]" else link) for p, link in parts
    )
    assert got == expected
