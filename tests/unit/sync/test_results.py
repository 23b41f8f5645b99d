"""Errors as a person reads them: a cause every note shares is one line, others stay apart."""

from __future__ import annotations

from zotsync.sync.results import SyncResult


def test_a_message_shared_by_many_notes_is_one_line_in_first_place() -> None:
    result = SyncResult(
        errors=[
            "Papers/A.md: file is locked",
            *(f"KEY{n}: refusing to write Papers: outside the vault" for n in range(5)),
            "broken note: invalid YAML",
            "KEY9: refusing to write Papers: outside the vault",
        ]
    )
    assert result.grouped_errors() == [
        "Papers/A.md: file is locked",
        "6 notes: refusing to write Papers: outside the vault (KEY0, KEY1, KEY2, …)",
        "broken note: invalid YAML",
    ]


def test_fewer_than_three_alike_stay_as_they_are() -> None:
    errors = ["A: gone", "B: gone", "C: other", "no subject here"]
    assert SyncResult(errors=list(errors)).grouped_errors() == errors
    three = SyncResult(errors=["A: gone", "B: gone", "C: gone"]).grouped_errors()
    assert three == ["3 notes: gone (A, B, C)"]
