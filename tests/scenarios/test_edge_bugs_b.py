"""Regression tests for bugs met while using zotsync for a week (issue 11, items 13.3–13.12).

13.3: a failed run records nothing (no source option in zotsync.yaml, no ``.zotsync/`` in a new
folder); 13.4: read-only commands create no file, and a folder that is no vault is exit 2;
13.5: ``init`` on an existing file is a clear error; 13.10: ``init`` and ``demo`` honour
``--vault``; 13.12: ``service uninstall --dry-run`` says what it does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import tree

from zotsync.errors import EXIT_SOURCE_UNAVAILABLE, EXIT_USAGE


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def clean(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_failed_sync_does_not_record_a_mistyped_database(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    db = make_db()
    assert run_cli("sync", "--vault", vault, "--zotero-db", db).exit_code == 0
    config = (vault / "zotsync.yaml").read_bytes()
    bad = run_cli("sync", "--vault", vault, "--zotero-db", tmp_path / "typo" / "zotero.sqlite")
    clean(bad)
    assert bad.exit_code == EXIT_SOURCE_UNAVAILABLE, bad.output
    assert (vault / "zotsync.yaml").read_bytes() == config
    again = run_cli("sync", "--vault", vault)
    assert again.exit_code == 0, again.output


def test_failed_first_sync_in_a_plain_folder_leaves_nothing_behind(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "mine.md").write_text("my note\n", "utf-8")
    bad = run_cli("sync", "--vault", folder, "--zotero-db", tmp_path / "missing.sqlite")
    clean(bad)
    assert bad.exit_code == EXIT_SOURCE_UNAVAILABLE, bad.output
    assert all_files(folder) == ["mine.md"]


def test_successful_sync_records_its_source_options(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    db = make_db()
    assert run_cli("sync", "--vault", folder, "--zotero-db", db).exit_code == 0
    assert str(db) in (folder / "zotsync.yaml").read_text("utf-8")
    assert run_cli("sync", "--vault", folder).exit_code == 0


def test_status_on_a_folder_that_is_no_vault_is_exit_2_and_creates_nothing(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    result = run_cli("status", "--vault", folder)
    clean(result)
    assert result.exit_code == EXIT_USAGE
    assert "not a zotsync vault" in result.output
    assert "zotsync init" in result.output
    assert all_files(folder) == []


@pytest.mark.parametrize(
    "command", [("status",), ("status", "--json"), ("doctor",), ("sync", "--dry-run")]
)
def test_read_only_commands_create_no_file_in_a_new_vault(
    vault: Path, run_cli: Callable[..., Result], command: tuple[str, ...]
) -> None:
    before = all_files(vault)
    result = run_cli(*command, "--vault", vault)
    clean(result)
    assert all_files(vault) == before


def test_read_only_commands_leave_a_synced_vault_byte_for_byte(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    assert run_cli("sync", "--vault", vault, "--zotero-db", make_db()).exit_code == 0
    before = tree(vault, include_state=True)
    for command in (("status",), ("doctor",), ("sync", "--dry-run")):
        clean(run_cli(*command, "--vault", vault))
    assert tree(vault, include_state=True) == before


def test_init_on_an_existing_file_is_a_clear_error(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("precious\n", "utf-8")
    result = run_cli("init", target)
    clean(result)
    assert result.exit_code == EXIT_USAGE
    assert "is not a folder" in result.output
    assert target.read_text("utf-8") == "precious\n"


@pytest.mark.parametrize("command", ["init", "demo"])
def test_init_and_demo_honour_vault_option(
    tmp_path: Path, run_cli: Callable[..., Result], command: str
) -> None:
    target = tmp_path / "via-option"
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run_cli(command, "--vault", target)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert (target / "zotsync.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["via-option"]


@pytest.mark.parametrize("command", ["init", "demo"])
def test_init_and_demo_refuse_two_different_vaults(
    tmp_path: Path, run_cli: Callable[..., Result], command: str
) -> None:
    result = run_cli(command, tmp_path / "a", "--vault", tmp_path / "b")
    clean(result)
    assert result.exit_code == EXIT_USAGE
    assert "two vault folders" in result.output
    assert list(tmp_path.iterdir()) == []


def test_service_uninstall_dry_run_says_what_it_does(
    vault: Path, run_cli: Callable[..., Result]
) -> None:
    helptext = run_cli("service", "uninstall", "--help").output
    assert "Print the unit instead of writing it" not in helptext
    assert "remove nothing" in helptext
    result = run_cli("service", "uninstall", "--dry-run", "--vault", vault, "--platform", "linux")
    assert result.exit_code == 0, result.output
    assert "[Service]" not in result.output
