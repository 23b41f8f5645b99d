"""Frontmatter: owned keys change in place, everything the user wrote keeps its bytes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zotsync.errors import NoteError
from zotsync.vault.frontmatter import (
    dump_value,
    entries,
    read_frontmatter,
    splice_frontmatter,
)
from zotsync.vault.frontmatter_merge import merge_owned
from zotsync.vault.regions import parse_note

USER_NOTE = """---
title: Old Title   # my comment on the title
# a comment line of mine
rating: 5
tags: [ml, Mine]
date: 2024-01-02
review: |
  first paragraph

  second paragraph
zotero-key: ABCD1234

"my key": 'kept ''as'' is'
---
Body text.
"""


def test_read_keeps_dates_as_strings_and_parses_lists() -> None:
    data = read_frontmatter(USER_NOTE)
    assert data["date"] == "2024-01-02"
    assert data["tags"] == ["ml", "Mine"]
    assert data["review"] == "first paragraph\n\nsecond paragraph\n"
    assert data["my key"] == "kept 'as' is"


def test_no_frontmatter_reads_as_empty() -> None:
    assert read_frontmatter("# just a heading\n") == {}
    assert read_frontmatter("---\n---\nbody") == {}


def test_invalid_yaml_names_the_file_line() -> None:
    with pytest.raises(NoteError, match="line 3"):
        read_frontmatter("---\ntitle: ok\nx: a: b\n---\n")


def test_frontmatter_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(NoteError, match="not a mapping"):
        read_frontmatter("---\n- a\n- b\n---\n")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", "b"], "k:\n  - a\n  - b"),
        ([], "k: []"),
        ("plain title", "k: plain title"),
        ("[[Other Paper]]", 'k: "[[Other Paper]]"'),
        ("BERT: Pre-training", 'k: "BERT: Pre-training"'),
        ("C# in depth", 'k: "C# in depth"'),
        ("#tag", 'k: "#tag"'),
        ("yes", 'k: "yes"'),
        ("null", 'k: "null"'),
        ("2017", 'k: "2017"'),
        ("1e3", 'k: "1e3"'),
        ("2024-01-02", "k: 2024-01-02"),
        ("", 'k: ""'),
        (" padded", 'k: " padded"'),
        ('say "hi"\n', 'k: "say \\"hi\\"\\n"'),
        (2017, "k: 2017"),
        (True, "k: true"),
        (None, "k:"),
        ({"a": 1}, "k:\n  a: 1"),
    ],
)
def test_dump_value_writes_obsidian_style(value: Any, expected: str) -> None:
    assert dump_value("k", value) == expected
    assert yaml.safe_load(expected) == {"k": value} or value == "2024-01-02"


scalars = st.one_of(st.text(max_size=30), st.integers(-(10**6), 10**6), st.booleans(), st.none())
values = st.one_of(scalars, st.lists(st.text(max_size=15), max_size=4))


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True), values)
def test_dump_value_reads_back_as_the_same_value(key: str, value: Any) -> None:
    text = "---\n" + dump_value(key, value) + "\n---\n"
    assert read_frontmatter(text) == {key: value}


def test_owned_keys_change_and_everything_else_keeps_its_bytes() -> None:
    new = splice_frontmatter(
        USER_NOTE,
        {"title": "New Title", "tags": ["ml", "Mine", "transformers"], "year": 2017},
    )
    assert new == USER_NOTE.replace(
        "title: Old Title   # my comment on the title\n", "title: New Title\n"
    ).replace("tags: [ml, Mine]\n", "tags:\n  - ml\n  - Mine\n  - transformers\n").replace(
        "'kept ''as'' is'\n", "'kept ''as'' is'\nyear: 2017\n"
    )


def test_equal_value_is_not_reformatted() -> None:
    same = splice_frontmatter(
        USER_NOTE, {"tags": ["ml", "Mine"], "rating": 5, "date": "2024-01-02"}
    )
    assert same == USER_NOTE


def test_true_is_not_mistaken_for_one() -> None:
    new = splice_frontmatter(USER_NOTE, {"rating": True})
    assert read_frontmatter(new)["rating"] is True


def test_removed_key_takes_its_continuation_lines_along() -> None:
    new = splice_frontmatter(USER_NOTE, {}, remove=["review", "absent"])
    assert "paragraph" not in new
    assert new == USER_NOTE.replace("review: |\n  first paragraph\n\n  second paragraph\n", "")


def test_note_without_frontmatter_gets_one_on_top() -> None:
    text = "\ufeff# Heading\r\nbody\r\n"
    new = splice_frontmatter(text, {"zotero-key": "K1", "tags": ["a"]})
    assert new == "\ufeff---\r\nzotero-key: K1\r\ntags:\r\n  - a\r\n---\r\n# Heading\r\nbody\r\n"
    assert splice_frontmatter("body", {}) == "body"


def test_crlf_frontmatter_stays_crlf() -> None:
    text = USER_NOTE.replace("\n", "\r\n")
    new = splice_frontmatter(text, {"tags": ["x", "y"], "status": "to-read"})
    assert "\n" not in new.replace("\r\n", "")
    assert read_frontmatter(new)["tags"] == ["x", "y"]
    assert read_frontmatter(new)["status"] == "to-read"


def test_duplicate_owned_key_is_refused() -> None:
    text = "---\ntags: [a]\ntags: [b]\n---\n"
    with pytest.raises(NoteError, match="more than once"):
        splice_frontmatter(text, {"tags": ["c"]})


def test_broken_yaml_is_never_spliced() -> None:
    with pytest.raises(NoteError):
        splice_frontmatter("---\ntitle: [unclosed\n---\n", {"title": "x"})


def test_layout_the_line_cutter_misreads_is_refused_not_corrupted() -> None:
    text = "---\nkey: [a,\nb]\nz: 1\n---\n"
    with pytest.raises(NoteError, match="safely"):
        splice_frontmatter(text, {"key": ["c"]})


def test_unclosed_frontmatter_is_not_given_a_second_one() -> None:
    with pytest.raises(NoteError):
        splice_frontmatter("---\ntitle: x\nno fence\n", {"zotero-key": "K"})


def test_entries_cut_keys_with_their_continuations() -> None:
    fm = parse_note(USER_NOTE).frontmatter or ""
    keys = [k for k, _, _ in entries(fm)]
    assert keys == ["title", "rating", "tags", "date", "review", "zotero-key", "my key"]


# --- property: unowned entries are byte-identical after any splice ------------------------

USER_ENTRIES = {
    "title": "title: Some title   # trailing comment\n",
    "date": "date: 2024-01-02\n",
    "list": "list:\n- x\n- y\n",
    "flow": "flow: [a, b]\n",
    "quoted": "quoted: 'single ''q'''\n",
    "block": "block: |\n  line1\n\n  line2\n",
    "nested": "nested:\n  a: 1\n  b: [2]\n",
    "my key": '"my key": v\n',
    "empty": "empty:\n",
    "tags": "tags:\n  - Mine\n",
    "status": "status: reading\n",
}
FILLERS = ["# comment\n", "\n", ""]
OWNED = ["tags", "status", "year", "aliases", "zotero-key"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(sorted(USER_ENTRIES)), unique=True),
    st.lists(st.sampled_from(FILLERS), min_size=12, max_size=12),
    st.dictionaries(st.sampled_from(OWNED), values, max_size=4),
    st.lists(st.sampled_from(OWNED), max_size=2),
    st.sampled_from(["\n", "\r\n"]),
)
def test_splice_never_changes_a_byte_of_unowned_entries(
    order: list[str], fill: list[str], updates: dict[str, Any], remove: list[str], nl: str
) -> None:
    remove = [k for k in remove if k not in updates]
    fm = "".join(USER_ENTRIES[k] + f for k, f in zip(order, fill, strict=False))
    text = ("---\n" + fm + "---\nbody\n").replace("\n", nl)
    before = read_frontmatter(text)
    new = splice_frontmatter(text, updates, remove=remove)
    after = read_frontmatter(new)
    assert new.endswith("---" + nl + "body" + nl)
    want = {k: v for k, v in before.items() if k not in remove} | updates
    assert after == want
    # every entry not touched appears with the same bytes, in the same order
    untouched = [
        USER_ENTRIES[k].replace("\n", nl) for k in order if k not in updates and k not in remove
    ]
    pos = 0
    for chunk in untouched:
        found = new.find(chunk, pos)
        assert found >= 0, chunk
        pos = found + len(chunk)
    if not (set(updates) | set(remove)) & set(before) and not updates:
        assert new == text


# --- merge policies -----------------------------------------------------------------------

POLICIES = {"title": "replace", "tags": "append", "aliases": "append", "status": "keep"}


def test_replace_policy_takes_zoteros_value_only_when_different() -> None:
    assert merge_owned({"title": "Old"}, {"title": "New"}, POLICIES) == {"title": "New"}
    assert merge_owned({"title": "Same"}, {"title": "Same"}, POLICIES) == {}


def test_append_policy_keeps_user_tags_and_order() -> None:
    existing = {"tags": ["mine", "ML", "to-read"]}
    got = merge_owned(existing, {"tags": ["ml", "transformers", "Transformers"]}, POLICIES)
    assert got == {"tags": ["mine", "ML", "to-read", "transformers"]}
    assert merge_owned(existing, {"tags": ["ml"]}, POLICIES) == {}


def test_append_policy_turns_a_user_scalar_into_a_list_only_when_adding() -> None:
    assert merge_owned({"aliases": "Mine"}, {"aliases": ["Mine"]}, POLICIES) == {}
    assert merge_owned({"aliases": "Mine"}, {"aliases": ["Other"]}, POLICIES) == {
        "aliases": ["Mine", "Other"]
    }
    assert merge_owned({"aliases": None}, {"aliases": ["A"]}, POLICIES) == {"aliases": ["A"]}


def test_keep_policy_sets_once_then_respects_the_user() -> None:
    assert merge_owned({}, {"status": "to-read"}, POLICIES) == {"status": "to-read"}
    assert merge_owned({"status": "read"}, {"status": "to-read"}, POLICIES) == {}


def test_absent_keys_are_added_and_unknown_policy_is_an_error() -> None:
    assert merge_owned({}, {"tags": ["a"], "year": 2017}, POLICIES) == {"tags": ["a"], "year": 2017}
    with pytest.raises(ValueError):
        merge_owned({}, {"x": 1}, {"x": "merge"})
