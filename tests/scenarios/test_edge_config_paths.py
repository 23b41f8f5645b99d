"""The config cannot aim a managed note at another file (PRODUCT: Configuration, guarantee 1).

``index.master``, the index folders, ``plan.folder`` and the inbox folder name notes zotsync
owns, or new ones. Pointing them at ``zotsync.yaml``, ``.obsidian/…``, ``.zotsync/…`` or a
paper note, or ``archive-folder`` out of the vault, is a configuration error (exit 2) found
when the config is loaded, before anything is written. Each case runs the CLI on a vault synced
from a fixture-built Zotero database and checks that no byte of it changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import tree

from zotsync.errors import EXIT_USAGE

BAD = {
    "master is the config": ("index:\n  master: zotsync.yaml\n", "index.master"),
    "master in .obsidian": ("index:\n  master: .obsidian/workspace.md\n", "index.master"),
    "master in .zotsync": ("index:\n  master: .zotsync/Papers.md\n", "index.master"),
    "master is a paper note": (
        "index:\n  master: Papers/Attention Is All You Need.md\n",
        "index.master",
    ),
    "master is not markdown": ("index:\n  master: Papers.txt\n", "index.master"),
    "tags folder is the papers folder": ("index:\n  tags-folder: Papers\n", "index.tags-folder"),
    "collections in Templates": (
        "index:\n  collections-folder: Templates/zotsync\n",
        "index.collections-folder",
    ),
    "plan folder in .obsidian": ("plan:\n  folder: .obsidian\n", "plan.folder"),
    "plan folder inside papers": ("plan:\n  folder: Papers/Plans\n", "plan.folder"),
    "inbox in .zotsync": ("discover:\n  folder: .zotsync/inbox\n", "discover.folder"),
    "inbox hidden": ("discover:\n  folder: .inbox\n", "discover.folder"),
    "archive outside": ("archive-folder: ../x\n", "archive-folder"),
    "archive absolute": ("archive-folder: /tmp/x\n", "archive-folder"),
}


@pytest.fixture
def synced(vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]) -> Path:
    db = make_db()
    assert run_cli("sync", "--vault", vault, "--zotero-db", db).exit_code == 0
    (vault / ".obsidian").mkdir(exist_ok=True)
    (vault / ".obsidian" / "workspace.md").write_text("obsidian's own file\n", "utf-8")
    return vault


def set_config(vault: Path, extra: str) -> None:
    path = vault / "zotsync.yaml"
    path.write_text(path.read_text("utf-8") + "\n" + extra, "utf-8")


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("command", [("sync", "--full"), ("index",), ("plan",)])
def test_config_aiming_a_managed_note_elsewhere_is_refused_before_any_write(
    synced: Path, run_cli: Callable[..., Result], case: str, command: tuple[str, ...]
) -> None:
    extra, key = BAD[case]
    set_config(synced, extra)
    before = tree(synced, include_state=True)
    result = run_cli(*command, "--vault", synced)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    assert f"- {key}:" in result.output
    after = tree(synced, include_state=True)
    after.pop(".zotsync/lock", None)
    before.pop(".zotsync/lock", None)
    assert after == before


def test_master_list_that_names_a_moved_paper_note_is_refused(
    synced: Path, run_cli: Callable[..., Result]
) -> None:
    paper = next((synced / "Papers").glob("*.md"))
    moved = synced / "Reading.md"
    paper.rename(moved)
    set_config(synced, "index:\n  master: Reading.md\n")
    before = tree(synced, include_state=True)
    result = run_cli("sync", "--vault", synced, "--full")
    assert result.exit_code == EXIT_USAGE, result.output
    assert "is a paper note" in result.output
    assert tree(synced, include_state=True) == before


def test_doctor_names_the_bad_setting(synced: Path, run_cli: Callable[..., Result]) -> None:
    set_config(synced, "index:\n  master: zotsync.yaml\n")
    result = run_cli("doctor", "--vault", synced)
    assert "FAIL config" in result.output
    assert "index.master" in result.output


def test_good_custom_paths_still_work(synced: Path, run_cli: Callable[..., Result]) -> None:
    set_config(
        synced,
        "index:\n  master: Lists/All papers.md\n  tags-folder: Topics/Tags\n"
        "plan:\n  folder: Plans\narchive-folder: Archive\n",
    )
    result = run_cli("sync", "--vault", synced, "--full")
    assert result.exit_code == 0, result.output
    assert (synced / "Lists" / "All papers.md").is_file()
