"""Seeding status and priority from Zotero tags and the Reading List plugin's Extra line."""

from __future__ import annotations

import pytest

from zotsync.library.status import (
    VALID_STATUSES,
    is_status_tag,
    normalize_priority,
    normalize_status,
    reading_list_status,
    seed_priority,
    seed_status,
)


def test_new_paper_without_signals_is_to_read() -> None:
    assert seed_status([], "") == "to-read"
    assert seed_status(["nlp", "Computer Science - Learning"], "arXiv: 1706.03762") == "to-read"


@pytest.mark.parametrize(
    ("tags", "status"),
    [
        (["to-read"], "to-read"),
        (["To Read"], "to-read"),
        (["#reading"], "reading"),
        (["read"], "read"),
        (["Read", "to-read"], "read"),
        (["reading", "to-read"], "reading"),
        (["skip"], "skip"),
    ],
)
def test_zotero_tags_seed_the_status(tags: list[str], status: str) -> None:
    assert seed_status(tags) == status


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ("Read_Status: New", "to-read"),
        ("Read_Status: To Read", "to-read"),
        ("Citation Key: x\nRead_Status: In Progress\nRead_Status_Date: 2024-01-02", "reading"),
        ("read_status:Read", "read"),
        ("Read_Status: Not Reading", "skip"),
        ("Read_Status: 📗 Read", "read"),
        ("Read_Status: Someday Maybe", None),
        ("Read_Status_Date: 2024-01-02T00:00:00Z", None),
    ],
)
def test_reading_list_extra_line_is_understood(extra: str, status: str | None) -> None:
    assert reading_list_status(extra) == status


def test_most_advanced_signal_wins() -> None:
    assert seed_status(["to-read"], "Read_Status: Read") == "read"
    assert seed_status(["read"], "Read_Status: To Read") == "read"
    assert seed_status([], "Read_Status: Not Reading") == "skip"
    assert seed_status(["reading"], "Read_Status: Not Reading") == "reading"


def test_priority_from_extra_then_tags() -> None:
    assert seed_priority("Priority: 2", ["priority/1"]) == 2
    assert seed_priority("", ["priority/4", "priority:2", "nlp"]) == 2
    assert seed_priority("Priority: 9", ["priority-3"]) == 3
    assert seed_priority("", ["p1", "nlp"]) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Read", "read"), ("to read", "to-read"), ("In progress", "reading"), ("later", None),
     (3, None), (None, None)],
)  # fmt: skip
def test_frontmatter_status_is_normalized(value: object, expected: str | None) -> None:
    result = normalize_status(value)
    assert result == expected
    assert result is None or result in VALID_STATUSES


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), ("5", 5), (0, None), (6, None), (True, None), ("high", None), (2.0, None)],
)
def test_frontmatter_priority_is_normalized(value: object, expected: int | None) -> None:
    assert normalize_priority(value) == expected


def test_status_and_priority_tags_are_recognised() -> None:
    assert is_status_tag("to-read") and is_status_tag("Read") and is_status_tag("priority/2")
    assert not is_status_tag("reading-group") and not is_status_tag("nlp")
