"""Conflict files belong to the user (PRODUCT guarantee 1), and a conflict exits 4.

A conflict file is written when the user edited a managed region and Zotero changed it too.
From the moment it exists it is the user's: zotsync never writes over it, nor over a user file
that merely carries such a name; a later conflict goes to a new name, after a backup.
"""

from __future__ import annotations

from pathlib import Path

from conftest import backups
from support.vault_edges import Scenario

from zotsync.errors import EXIT_CONFLICT, EXIT_OK
from zotsync.testing.zotero_db import make_zotero_db

KEY = "AAAA2222"
CONFLICT = "Papers/Attention Is All You Need (zotsync conflict).md"


def _edit_abstract_region(s: Scenario, words: str) -> None:
    note = s.note(KEY)
    text = note.read_text("utf-8")
    note.write_text(text.replace("Original abstract.", words), "utf-8")


def _conflicted(tmp_path: Path) -> Scenario:
    s = Scenario(tmp_path)
    s.change(KEY, "abstractNote", "Original abstract.")
    assert s.sync().exit_code == EXIT_OK
    _edit_abstract_region(s, "My own summary, typed into the region.")
    s.change(KEY, "abstractNote", "Zotero's second abstract.")
    return s


def test_a_conflict_exits_4_and_json_still_counts(tmp_path: Path) -> None:
    s = _conflicted(tmp_path)
    code, data = s.sync_json()
    assert code == EXIT_CONFLICT
    assert data["conflicts"] == 1 and data["items"] == 3
    assert data["conflict_paths"]
    assert "My own summary" in s.read(KEY)
    assert "Zotero's second abstract." in (s.vault / CONFLICT).read_text("utf-8")


def test_human_sync_with_a_conflict_exits_4(tmp_path: Path) -> None:
    s = _conflicted(tmp_path)
    result = s.sync()
    assert result.exit_code == EXIT_CONFLICT
    assert "conflict:" in result.output


def test_an_edited_conflict_file_is_never_written_over(tmp_path: Path) -> None:
    s = _conflicted(tmp_path)
    assert s.sync().exit_code == EXIT_CONFLICT
    first = s.vault / CONFLICT
    mine = first.read_text("utf-8") + "\nI merged half of this by hand.\n"
    first.write_text(mine, "utf-8")
    s.change(KEY, "abstractNote", "Zotero's third abstract.")
    assert s.sync().exit_code == EXIT_CONFLICT
    assert first.read_text("utf-8") == mine  # the user's conflict file, byte for byte
    later = [p for p in s.files("*zotsync conflict*") if p != first]
    assert len(later) == 1
    assert "Zotero's third abstract." in later[0].read_text("utf-8")
    assert any(b.name == first.name for b in backups(s.vault))  # backed up before the new one
    assert "My own summary" in s.read(KEY)


def test_an_unchanged_conflict_is_not_written_twice(tmp_path: Path) -> None:
    s = _conflicted(tmp_path)
    assert s.sync().exit_code == EXIT_CONFLICT
    before = {p: p.read_bytes() for p in s.files()}
    # nothing new is written, and the open conflict still needs the user: exit 4 again
    assert s.sync("--full").exit_code == EXIT_CONFLICT
    assert {p: p.read_bytes() for p in s.files()} == before


def test_a_user_file_with_a_conflict_name_is_never_written_over(tmp_path: Path) -> None:
    s = _conflicted(tmp_path)
    squatter = s.vault / CONFLICT
    squatter.write_text("# My notes on conflicts\n\nnot zotsync's.\n", "utf-8")
    assert s.sync().exit_code == EXIT_CONFLICT
    assert squatter.read_text("utf-8") == "# My notes on conflicts\n\nnot zotsync's.\n"
    others = [p for p in s.files("*zotsync conflict*") if p != squatter]
    assert len(others) == 1
    assert "Zotero's second abstract." in others[0].read_text("utf-8")


def test_refs_that_leaves_a_conflict_exits_4(tmp_path: Path) -> None:
    """``refs`` runs a sync pass: a conflict it leaves needs the user just the same."""
    s = _conflicted(tmp_path)
    make_zotero_db(s.db, s.library, version=7)  # Zotero changed; the vault has the source
    result = s.cli("refs", "--vault", s.vault)
    assert result.exit_code == EXIT_CONFLICT, result.output
    assert (s.vault / CONFLICT).exists()
