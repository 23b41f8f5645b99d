"""Hostile titles, broken notes, unreadable databases, escaping symlinks and broken templates.

Each input a real library or vault can hold must give a working vault or a clear error with
the exit code of the contract, never a traceback, a lost note or a write outside the vault.
"""

from __future__ import annotations

import errno
import os
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import MemorySource, folder_hash, note_path, paper, small_library, sync_memory, tree

from zotsync.errors import EXIT_PARTIAL, EXIT_SOURCE_UNAVAILABLE, EXIT_USAGE
from zotsync.sources import sqlite_copy
from zotsync.vault.frontmatter import read_frontmatter

HOSTILE_TITLES = {
    "SLSH2222": 'Slashes / back\\slash: colon * star ? "quote" <lt> >gt | pipe',
    "DOTS2222": "../../etc/passwd",
    "DOTT2222": "..",
    "CTRL2222": "Control\x00chars\x07and\ttabs\nnewline\x1f",
    "LONG2222": "Long " + "word " * 59 + "end",  # 300 characters
    "PUNC2222": "?*:|<>",
    "SAME2222": "Introduction",
    "SAME3333": "Introduction",
    "CASE2222": "Deep Learning",
    "CASE3333": "DEEP LEARNING",
    "NFC22222": unicodedata.normalize("NFC", "Café Société"),
    "NFD22222": unicodedata.normalize("NFD", "Café Société"),
    "RSRV2222": "CON",
    "TRAL2222": "Trailing dot and space. ",
    "EMPT2222": "",
}
FORBIDDEN = set('/\\:*?"<>|') | {chr(c) for c in range(32)}


def hostile_source() -> MemorySource:
    items = [
        paper(key, title, year=2000 + n, authors=("Smith",) if key != "SAME3333" else ("Jones",))
        for n, (key, title) in enumerate(HOSTILE_TITLES.items())
    ]
    return MemorySource(small_library(*items))


def test_hostile_titles_give_valid_distinct_names_inside_papers(vault: Path) -> None:
    report = sync_memory(vault, hostile_source())
    assert report.result.created == len(HOSTILE_TITLES)
    assert report.result.failed == 0
    paths = {key: note_path(vault, key) for key in HOSTILE_TITLES}
    stems = [p.stem for p in paths.values()]
    for path in paths.values():
        assert path.parent == vault / "Papers"
        stem = path.stem
        assert not FORBIDDEN & set(stem), stem
        assert stem == unicodedata.normalize("NFC", stem)
        assert stem == stem.strip(" .") and stem
        assert len(stem) <= 120
        assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
    assert len({s.casefold() for s in stems}) == len(stems)
    assert not list(vault.parent.glob("etc*"))
    # the title itself survives intact in the note
    title = read_frontmatter(paths["SLSH2222"].read_text("utf-8"))["title"]
    assert title == HOSTILE_TITLES["SLSH2222"]


def test_hostile_titles_sync_idempotently(vault: Path) -> None:
    source = hostile_source()
    sync_memory(vault, source)
    before = tree(vault)
    again = sync_memory(vault, source, full=True)
    assert again.result.created == again.result.updated == again.result.renamed == 0
    assert tree(vault) == before


def test_user_note_with_invalid_yaml_is_skipped_and_reported(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    broken = note_path(vault, "AAAA2222")
    text = broken.read_text("utf-8").replace("year: 2017\n", "year: [2017\nmine: {oops\n")
    broken.write_text(text, "utf-8")
    memory_source.set_title("BBBB3333", "Deep Residual Learning, Revised")
    memory_source.item("AAAA2222").fields["abstractNote"] = "changed"
    memory_source.item("AAAA2222").version += 1
    report = sync_memory(vault, memory_source)
    assert report.result.failed == 1
    assert any("Attention Is All You Need.md" in e for e in report.result.errors)
    assert broken.read_text("utf-8") == text  # untouched
    assert (vault / "Papers" / "Deep Residual Learning, Revised.md").exists()
    # and no duplicate note was created for the item whose note could not be read
    assert not [p for p in (vault / "Papers").glob("Attention*") if p != broken]


def test_invalid_yaml_exits_1_at_the_cli(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db()
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs").exit_code == 0
    other = vault / "Notes" / "thoughts.md"
    other.parent.mkdir()
    other.write_text("---\nzotero-key: [unclosed\n---\nmy text\n", "utf-8")
    result = run_cli("sync", "--vault", vault, "--no-refs")
    assert result.exit_code == EXIT_PARTIAL
    assert "Notes/thoughts.md" in result.stderr
    assert other.read_text("utf-8") == "---\nzotero-key: [unclosed\n---\nmy text\n"


def _assert_exit_3_with_fix(result: Result) -> None:
    assert result.exit_code == EXIT_SOURCE_UNAVAILABLE, result.output
    assert "error:" in result.stderr and "fix:" in result.stderr
    assert "Traceback" not in result.output


def test_missing_db_exits_3_with_a_fix(
    tmp_path: Path, vault: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("sync", "--vault", vault, "--zotero-db", tmp_path / "nope" / "zotero.sqlite")
    _assert_exit_3_with_fix(result)
    assert "not found" in result.stderr


def test_corrupt_db_exits_3_with_a_fix(
    tmp_path: Path, vault: Path, run_cli: Callable[..., Result]
) -> None:
    db = tmp_path / "zotero" / "zotero.sqlite"
    db.parent.mkdir()
    db.write_bytes(os.urandom(64 * 1024))
    before = folder_hash(db.parent)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs")
    _assert_exit_3_with_fix(result)
    assert folder_hash(db.parent) == before


def test_db_that_is_not_zoteros_exits_3(
    tmp_path: Path, vault: Path, run_cli: Callable[..., Result]
) -> None:
    import sqlite3

    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    _assert_exit_3_with_fix(run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs"))


def test_db_that_cannot_be_copied_exits_3(
    vault: Path,
    make_db: Callable[..., Path],
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = make_db()

    def denied(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(src))

    monkeypatch.setattr(sqlite_copy.shutil, "copyfile", denied)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs")
    _assert_exit_3_with_fix(result)
    assert not list((vault / "Papers").glob("*.md"))


def test_db_that_keeps_changing_while_copied_exits_3(
    vault: Path,
    make_db: Callable[..., Path],
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = make_db()
    ticks = iter(range(10**6))
    monkeypatch.setattr(sqlite_copy, "_signature", lambda paths: (next(ticks),))
    monkeypatch.setattr(sqlite_copy.time, "sleep", lambda s: None)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs")
    _assert_exit_3_with_fix(result)
    assert "try again" in result.stderr


def test_symlink_out_of_the_vault_is_not_followed(
    tmp_path: Path, vault: Path, memory_source: MemorySource
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "claim.md").write_text(
        "---\nzotero-key: AAAA2222\n---\n%% zotsync:begin header %%\nold\n"
        "%% zotsync:end header %%\nprivate\n",
        "utf-8",
    )
    (outside / "Attention Is All You Need.md").write_text("not yours\n", "utf-8")
    (vault / "Linked").symlink_to(outside, target_is_directory=True)
    (vault / "Papers").rmdir()
    papers_outside = tmp_path / "papers-outside"
    papers_outside.mkdir()
    before = folder_hash(outside), folder_hash(papers_outside)
    report = sync_memory(vault, memory_source)
    assert report.result.created == 3 and report.result.failed == 0
    assert note_path(vault, "AAAA2222").parent == vault / "Papers"
    memory_source.set_title("AAAA2222", "Attention, Again")
    sync_memory(vault, memory_source)
    assert (folder_hash(outside), folder_hash(papers_outside)) == before


def test_papers_folder_symlinked_out_of_the_vault_is_refused(
    tmp_path: Path, vault: Path, memory_source: MemorySource
) -> None:
    outside = tmp_path / "papers-outside"
    outside.mkdir()
    (vault / "Papers").rmdir()
    (vault / "Papers").symlink_to(outside, target_is_directory=True)
    report = sync_memory(vault, memory_source)
    assert report.result.created == 0 and report.result.failed == 3
    assert list(outside.iterdir()) == []
    # one cause, told once: not one identical line per note
    (line,) = report.result.grouped_errors()
    assert line.startswith("3 notes: refusing to write") and "outside the vault" in line


def _break_template(vault: Path) -> Path:
    template = vault / "Templates" / "zotsync" / "note.md.j2"
    lines = template.read_text("utf-8").splitlines(keepends=True)
    lines.insert(11, "{% if title %}unclosed block\n")
    template.write_text("".join(lines), "utf-8")
    return template


def test_template_syntax_error_exits_2_naming_file_and_line(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    _break_template(vault)
    db = make_db()
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs")
    assert result.exit_code == EXIT_USAGE
    assert "note.md.j2" in result.stderr and "line" in result.stderr
    assert "Traceback" not in result.output
    assert not list((vault / "Papers").glob("*.md"))


def test_template_runtime_error_names_the_line(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    template = vault / "Templates" / "zotsync" / "note.md.j2"
    text = template.read_text("utf-8").replace("# {{ title }}", "# {{ no_such_variable }}")
    template.write_text(text, "utf-8")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "no_such_variable" in s)
    result = run_cli("sync", "--vault", vault, "--zotero-db", make_db(), "--no-refs")
    assert result.exit_code == EXIT_USAGE
    assert "note.md.j2" in result.stderr and f"line {line}" in result.stderr


def test_template_cannot_read_files(vault: Path, memory_source: MemorySource) -> None:
    template = vault / "Templates" / "zotsync" / "note.md.j2"
    secret = vault.parent / "secret.txt"
    secret.write_text("TOP SECRET", "utf-8")
    text = template.read_text("utf-8").replace(
        "## Notes", "{% include '../../../secret.txt' ignore missing %}\n## Notes"
    )
    template.write_text(text, "utf-8")
    sync_memory(vault, memory_source)
    assert "TOP SECRET" not in note_path(vault, "AAAA2222").read_text("utf-8")


def test_vault_copy_with_state_moved_keeps_working(
    tmp_path: Path, vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    moved = tmp_path / "moved"
    shutil.copytree(vault, moved, symlinks=True)
    report = sync_memory(moved, memory_source)
    assert report.result.created == 0 and report.result.failed == 0
    assert report.result.conflicts == 0
