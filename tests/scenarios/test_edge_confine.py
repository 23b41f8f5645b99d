"""Confinement (PRODUCT guarantee 4): symlinks inside the vault that point out of it.

Every path zotsync writes and every template it reads must resolve inside the vault's real
path; otherwise the operation is refused with a clear error and nothing is written (or read)
outside. Each scenario links one of zotsync's folders or files to a folder outside the vault
and runs the real CLI on a Zotero database built by the fixture builder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import folder_hash, paper, small_library

from zotsync.errors import EXIT_PARTIAL, EXIT_USAGE


@pytest.fixture
def db(make_db: Callable[..., Path]) -> Path:
    return make_db()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the vault, holding a file of the user's that must never change."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "mine.txt").write_text("the user's own file\n", "utf-8")
    return folder


def relink(vault: Path, name: str, target: Path) -> None:
    """Replace ``vault/name`` (if any) with a symlink to ``target``."""
    path = vault / name
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target, target_is_directory=target.is_dir())


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_symlinked_tags_folder_with_tags_is_refused_and_reported(
    vault: Path, make_db: Callable[..., Path], outside: Path, run_cli: Callable[..., Result]
) -> None:
    tagged = make_db(small_library(paper("TAGG2222", "Tagged", tags=("ml/nlp", "vision"))))
    relink(vault, "Tags", outside)
    before = folder_hash(outside)
    result = run_cli("sync", "--vault", vault, "--zotero-db", tagged)
    no_traceback(result)
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "outside the vault" in result.output
    assert folder_hash(outside) == before
    assert sorted(p.name for p in outside.iterdir()) == ["mine.txt"]


def test_symlinked_master_list_is_not_written_through(
    vault: Path, db: Path, outside: Path, run_cli: Callable[..., Result]
) -> None:
    relink(vault, "Papers.md", outside / "mine.txt")
    before = folder_hash(outside)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db)
    no_traceback(result)
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "outside the vault" in result.output
    assert folder_hash(outside) == before


def test_symlinked_plan_folder_receives_no_plan(
    vault: Path, db: Path, outside: Path, run_cli: Callable[..., Result]
) -> None:
    assert run_cli("sync", "--vault", vault, "--zotero-db", db).exit_code == 0
    relink(vault, "Reading Plans", outside)
    before = folder_hash(outside)
    result = run_cli("plan", "--vault", vault, "--week", "2026-W48")
    no_traceback(result)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "outside the vault" in result.output
    assert folder_hash(outside) == before


def test_symlinked_state_folder_receives_no_state_db_lock_or_backup(
    tmp_path: Path, db: Path, outside: Path, run_cli: Callable[..., Result]
) -> None:
    vault = tmp_path / "linked"
    assert run_cli("init", vault).exit_code == 0
    relink(vault, ".zotsync", outside)
    before = folder_hash(outside)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db)
    no_traceback(result)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "outside the vault" in result.output
    assert sorted(p.name for p in outside.iterdir()) == ["mine.txt"]
    assert folder_hash(outside) == before
    # read-only commands refuse to read a state DB out there too
    status = run_cli("status", "--vault", vault)
    no_traceback(status)
    assert status.exit_code == EXIT_USAGE
    assert folder_hash(outside) == before


def test_init_fills_no_template_folder_that_links_outside(
    tmp_path: Path, outside: Path, run_cli: Callable[..., Result]
) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "Templates").symlink_to(outside, target_is_directory=True)
    result = run_cli("init", vault)
    no_traceback(result)
    assert result.exit_code == EXIT_USAGE, result.output
    assert sorted(p.name for p in outside.iterdir()) == ["mine.txt"]


def test_template_linked_to_a_file_outside_is_not_read_into_notes(
    vault: Path, db: Path, outside: Path, run_cli: Callable[..., Result]
) -> None:
    secret = outside / "secret.md.j2"
    secret.write_text("TOP SECRET TEXT FROM OUTSIDE\n", "utf-8")
    relink(vault, "Templates/zotsync/note.md.j2", secret)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db)
    no_traceback(result)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "outside the vault" in result.output
    assert "note.md.j2" in result.output
    for note in vault.rglob("*.md"):
        assert "TOP SECRET" not in note.read_text("utf-8")


def test_included_template_linked_outside_is_not_read(
    vault: Path, db: Path, outside: Path, run_cli: Callable[..., Result]
) -> None:
    secret = outside / "secret.j2"
    secret.write_text("TOP SECRET INCLUDE\n", "utf-8")
    note = vault / "Templates" / "zotsync" / "note.md.j2"
    note.write_text(note.read_text("utf-8") + '{% include "extra.j2" %}\n', "utf-8")
    (vault / "Templates" / "zotsync" / "extra.j2").symlink_to(secret)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db)
    no_traceback(result)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "outside the vault" in result.output
    for path in vault.rglob("*.md"):
        assert "TOP SECRET" not in path.read_text("utf-8")


def test_note_folder_linked_outside_is_refused_per_note(
    vault: Path, db: Path, outside: Path, run_cli: Callable[..., Result]
) -> None:
    relink(vault, "Papers", outside)
    before = folder_hash(outside)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db)
    no_traceback(result)
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "outside the vault" in result.output
    assert folder_hash(outside) == before


def test_the_vault_itself_may_be_a_symlink(
    tmp_path: Path, db: Path, run_cli: Callable[..., Result]
) -> None:
    real = tmp_path / "real-vault"
    assert run_cli("init", real).exit_code == 0
    link = tmp_path / "vault-link"
    link.symlink_to(real, target_is_directory=True)
    result = run_cli("sync", "--vault", link, "--zotero-db", db)
    assert result.exit_code == 0, result.output
    assert len(list((real / "Papers").glob("*.md"))) == 3


def test_ics_file_named_by_the_user_may_lie_outside(
    vault: Path, db: Path, outside: Path, run_cli: Callable[..., Result]
) -> None:
    assert run_cli("sync", "--vault", vault, "--zotero-db", db).exit_code == 0
    ics = outside / "plan.ics"
    result = run_cli("plan", "--vault", vault, "--week", "2026-W48", "--ics", ics)
    assert result.exit_code == 0, result.output
    assert ics.read_text("utf-8").startswith("BEGIN:VCALENDAR")
