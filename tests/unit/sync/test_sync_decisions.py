"""One scenario per row of the sync decision table (``zotsync/sync/planner.py``).

Each test drives :func:`zotsync.api.sync` end to end, on a Zotero DB built by the fixture
builder or on a tiny in-memory source, and checks what a user would see in the vault.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import (
    MemorySource,
    backups,
    note_path,
    paper,
    small_library,
    sync_db,
    sync_memory,
    tree,
)

from zotsync import api
from zotsync.errors import EXIT_CONFLICT, EXIT_PARTIAL, ConflictError
from zotsync.testing.zotero_db import hold_exclusive
from zotsync.vault.regions import parse_note

USER_TEXT = "\nMy reading notes.\n\n- a point with [[Some Link]]\n"


def add_user_text(path: Path, text: str = USER_TEXT) -> bytes:
    """Append text below ``## Notes`` as a user would; return the new file bytes."""
    data = path.read_bytes() + text.encode()
    path.write_bytes(data)
    return data


def region(path: Path, name: str) -> str:
    return parse_note(path.read_text("utf-8")).regions[name].content


def outside_regions(text: str) -> str:
    """The note with every managed region's content cut out (what the user owns, roughly)."""
    parsed = parse_note(text)
    for reg in sorted(parsed.regions.values(), key=lambda r: r.start, reverse=True):
        text = text[: reg.start] + text[reg.end :]
    return text


# --- new in Zotero ------------------------------------------------------------------------


def test_new_item_gets_a_note(vault: Path, memory_source: MemorySource) -> None:
    report = sync_memory(vault, memory_source)
    assert report.result.created == 3
    note = note_path(vault, "AAAA2222")
    assert note == vault / "Papers" / "Attention Is All You Need.md"
    text = note.read_text("utf-8")
    assert "# Attention Is All You Need" in text
    assert "\n## Notes\n" in text


def test_new_item_never_overwrites_an_existing_file(
    vault: Path, memory_source: MemorySource
) -> None:
    mine = vault / "Papers" / "Attention Is All You Need.md"
    mine.write_text("# my own page about attention\n\nhands off\n", encoding="utf-8")
    before = mine.read_bytes()
    report = sync_memory(vault, memory_source)
    assert report.result.created == 3
    assert mine.read_bytes() == before
    note = note_path(vault, "AAAA2222")
    assert note != mine and note.parent == vault / "Papers"


def test_new_item_with_a_matching_note_is_adopted_without_a_write(
    tmp_path: Path, vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    other = tmp_path / "fresh"
    api.init_vault(other)
    copy = other / "Papers" / "Attention Is All You Need.md"
    shutil.copy2(note_path(vault, "AAAA2222"), copy)
    add_user_text(copy)
    before = tree(other)
    report = sync_memory(other, memory_source)
    assert report.result.conflicts == 0
    assert report.result.created == 2  # the two notes that were not copied
    assert (
        tree(other)[copy.relative_to(other).as_posix()]
        == before[copy.relative_to(other).as_posix()]
    )
    assert not list(other.rglob("*zotsync conflict*"))


def test_new_item_with_a_different_note_is_a_conflict(
    tmp_path: Path, vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    other = tmp_path / "fresh"
    api.init_vault(other)
    copy = other / "Papers" / "Attention Is All You Need.md"
    text = note_path(vault, "AAAA2222").read_text("utf-8")
    text = text.replace("# Attention Is All You Need", "# Attention (my heading)")
    copy.write_text(text, encoding="utf-8")
    report = sync_memory(other, memory_source)
    assert report.result.conflicts == 1
    assert "# Attention (my heading)" in copy.read_text("utf-8")
    beside = copy.with_name("Attention Is All You Need (zotsync conflict).md")
    assert beside.exists()
    assert "# Attention Is All You Need" in beside.read_text("utf-8")


# --- changed in Zotero --------------------------------------------------------------------


def test_zotero_change_updates_managed_parts_only(vault: Path, memory_source: MemorySource) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "BBBB3333")
    add_user_text(note)
    sync_memory(vault, memory_source)
    mine_before = outside_regions(note.read_text("utf-8"))
    memory_source.item("BBBB3333").fields["abstractNote"] = "We present a residual framework."
    memory_source.item("BBBB3333").version += 1
    report = sync_memory(vault, memory_source)
    assert report.result.updated == 1 and report.result.conflicts == 0
    assert "We present a residual framework." in region(note, "abstract")
    assert outside_regions(note.read_text("utf-8")) == mine_before
    assert note.read_text("utf-8").endswith(USER_TEXT)


def test_zotero_change_in_a_sqlite_db_reaches_the_note(
    vault: Path, make_db: Callable[..., Path]
) -> None:
    db = make_db(version=10)
    sync_db(vault, db)
    note = note_path(vault, "CCCC4444")
    add_user_text(note)
    with hold_exclusive(db) as zotero:
        zotero.set_field("CCCC4444", "abstractNote", "Atari from pixels.")
    report = sync_db(vault, db)
    assert report.result.updated == 1
    assert "Atari from pixels." in region(note, "abstract")
    assert note.read_text("utf-8").endswith(USER_TEXT)


# --- unchanged in Zotero, user edits ------------------------------------------------------


def test_user_edit_outside_regions_is_not_written(vault: Path, memory_source: MemorySource) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "AAAA2222")
    text = note.read_text("utf-8")
    text = text.replace("status: to-read\n", "status: to-read\nmood: curious  # mine\n", 1)
    note.write_text(text + USER_TEXT, encoding="utf-8")
    before = tree(vault)
    report = sync_memory(vault, memory_source)
    assert report.result.failed == 0 and report.result.conflicts == 0
    assert report.result.created == report.result.updated == 0
    assert tree(vault) == before


def test_user_edit_of_a_managed_region_is_kept_and_reported(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "AAAA2222")
    edited = note.read_text("utf-8").replace(
        "**Published:** 2017", "**Published:** 2017 (my correction: NeurIPS)"
    )
    note.write_text(edited, encoding="utf-8")
    memory_source.set_title("AAAA2222", "Attention Is All You Need")  # version bump only
    memory_source.item("AAAA2222").fields["abstractNote"] = "Transformers."
    report = sync_memory(vault, memory_source)
    assert report.result.conflicts == 1
    assert report.result.conflict_paths == ["Papers/Attention Is All You Need.md"]
    text = note.read_text("utf-8")
    assert "(my correction: NeurIPS)" in text
    assert "Transformers." in region(note, "abstract")  # unedited regions still follow Zotero
    beside = vault / "Papers" / "Attention Is All You Need (zotsync conflict).md"
    assert beside.exists() and "my correction" not in beside.read_text("utf-8")
    assert "Transformers." in beside.read_text("utf-8")


def test_overwrite_conflicts_takes_zotsyncs_version_with_a_backup(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "AAAA2222")
    edited = note.read_text("utf-8").replace("**Published:** 2017", "**Published:** yesterday")
    note.write_text(edited, encoding="utf-8")
    sync_memory(vault, memory_source)
    report = sync_memory(vault, memory_source, overwrite_conflicts=True)
    assert report.result.conflicts == 0 and report.result.updated == 1
    assert "**Published:** 2017" in note.read_text("utf-8")
    assert any(b.read_text("utf-8") == edited for b in backups(vault))


# --- deleted in Zotero --------------------------------------------------------------------


def test_trashed_item_with_user_text_is_marked_never_removed(
    vault: Path, make_db: Callable[..., Path]
) -> None:
    db = make_db(version=7)
    sync_db(vault, db)
    note = note_path(vault, "BBBB3333")
    add_user_text(note)
    with hold_exclusive(db) as zotero:
        zotero.trash("BBBB3333")
    report = sync_db(vault, db)
    assert report.result.trashed == 1 and report.result.failed == 0
    text = note.read_text("utf-8")
    assert "\nzotero-deleted: true\n" in text
    assert text.endswith(USER_TEXT)
    again = tree(vault)
    sync_db(vault, db)
    assert tree(vault) == again  # a marked note stays put, no rewrite every run


def test_deleted_item_without_user_text_moves_to_the_zotsync_trash(
    vault: Path, make_db: Callable[..., Path]
) -> None:
    db = make_db(version=10)
    sync_db(vault, db)
    note = note_path(vault, "CCCC4444")
    original = note.read_bytes()
    with hold_exclusive(db) as zotero:
        zotero.delete("CCCC4444")
    report = sync_db(vault, db)
    assert report.result.trashed == 1
    assert not note.exists()
    trashed = list((vault / ".zotsync" / "trash").rglob("*.md"))
    assert [p.read_bytes() for p in trashed] == [original]


def test_item_restored_from_trash_loses_the_deleted_mark(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "AAAA2222")
    add_user_text(note)
    kept = memory_source.item("AAAA2222")
    memory_source.remove("AAAA2222")
    sync_memory(vault, memory_source)
    assert "zotero-deleted: true" in note.read_text("utf-8")
    memory_source.library.items.append(kept)
    sync_memory(vault, memory_source)
    assert "zotero-deleted" not in note.read_text("utf-8")
    assert note.read_text("utf-8").endswith(USER_TEXT)


# --- the user deleted the note ------------------------------------------------------------


def test_note_deleted_by_the_user_is_not_recreated(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "AAAA2222")
    note.unlink()
    sync_memory(vault, memory_source)
    assert not note.exists()
    memory_source.set_title("AAAA2222", "Attention Is All You Need (v2)")
    sync_memory(vault, memory_source)
    assert not list((vault / "Papers").glob("Attention*"))


def test_recreate_brings_a_deleted_note_back(vault: Path, memory_source: MemorySource) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "AAAA2222")
    note.unlink()
    sync_memory(vault, memory_source)
    report = sync_memory(vault, memory_source, recreate=True)
    assert report.result.created == 1
    assert note_path(vault, "AAAA2222") == note


# --- two notes claim one key --------------------------------------------------------------


def test_two_notes_claiming_one_key_are_refused_and_both_reported(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "AAAA2222")
    twin = vault / "Elsewhere" / "copy.md"
    twin.parent.mkdir()
    shutil.copy2(note, twin)
    memory_source.item("AAAA2222").fields["abstractNote"] = "new abstract"
    memory_source.item("AAAA2222").version += 1
    before = {p: p.read_bytes() for p in (note, twin)}
    report = sync_memory(vault, memory_source)
    assert report.result.failed == 1
    [error] = [e for e in report.result.errors if "AAAA2222" in e]
    assert "Papers/Attention Is All You Need.md" in error and "Elsewhere/copy.md" in error
    assert {p: p.read_bytes() for p in (note, twin)} == before


def test_two_notes_claiming_one_key_exit_1_at_the_cli(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db()
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs").exit_code == 0
    shutil.copy2(note_path(vault, "BBBB3333"), vault / "dup.md")
    result = run_cli("sync", "--vault", vault, "--no-refs")
    assert result.exit_code == EXIT_PARTIAL
    assert "dup.md" in result.stderr and "Papers/Deep Residual Learning.md" in result.stderr


# --- the source suddenly returns nothing --------------------------------------------------


def test_empty_source_is_refused_as_mass_deletion(vault: Path, memory_source: MemorySource) -> None:
    sync_memory(vault, memory_source)
    before = tree(vault)
    memory_source.library.items = []
    with pytest.raises(ConflictError) as err:
        sync_memory(vault, memory_source)
    assert err.value.exit_code == EXIT_CONFLICT
    assert "--force-delete" in (err.value.fix or "")
    assert tree(vault) == before


def test_force_delete_lets_an_emptied_library_through(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    add_user_text(note_path(vault, "AAAA2222"))
    memory_source.library.items = []
    report = sync_memory(vault, memory_source, force_delete=True)
    assert report.result.trashed == 3
    assert "zotero-deleted: true" in note_path(vault, "AAAA2222").read_text("utf-8")
    assert not (vault / "Papers" / "Deep Residual Learning.md").exists()


def test_empty_db_exits_4_at_the_cli(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db()
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs").exit_code == 0
    empty = make_db(small_library(paper("ZZZZ9999", "x")))
    with hold_exclusive(empty) as zotero:
        zotero.delete("ZZZZ9999")
    result = run_cli("sync", "--vault", vault, "--zotero-db", empty, "--no-refs")
    assert result.exit_code == EXIT_CONFLICT
    assert "--force-delete" in result.stderr


def test_deleted_item_whose_note_has_only_a_frontmatter_comment_is_kept(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "CCCC4444")
    text = note.read_text("utf-8").replace(
        "status: to-read\n", "status: to-read\n# why I kept it\n"
    )
    note.write_text(text, "utf-8")
    memory_source.remove("CCCC4444")
    report = sync_memory(vault, memory_source)
    assert report.result.trashed == 1
    assert note.exists()
    after = note.read_text("utf-8")
    assert "# why I kept it\n" in after and "zotero-deleted: true" in after
