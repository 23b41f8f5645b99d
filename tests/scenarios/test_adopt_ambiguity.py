"""Ambiguous adoption: several files for one paper, or one file for several papers.

Nothing is created or changed for the items concerned, the sync exits 4 and says why, and
``zotsync adopt`` shows the evidence; once the user leaves one file per paper, the next sync
adopts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import tree
from test_adopt_plugins import library

from zotsync.errors import EXIT_CONFLICT
from zotsync.testing.plugin_vaults import plugin_note, write_plugin_vault


def _write(vault: Path, rel: str, text: str) -> Path:
    path = vault / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def _two_files_for_one_item(vault: Path) -> set[str]:
    lib = library()
    write_plugin_vault(vault, "citations", lib.items[:1])
    write_plugin_vault(vault, "zotero-integration", lib.items[:1])
    return {"AAAA2222"}


def _one_file_for_two_items(vault: Path) -> set[str]:
    _write(
        vault, "Mixed.md", "---\ncitekey: vaswani2017attention\ndoi: 10.1109/cvpr.2016.90\n---\nx\n"
    )
    return {"AAAA2222", "BBBB3333"}


def _two_zotlit_notes_with_one_key(vault: Path) -> set[str]:
    item = library().items[1]
    rel, text = plugin_note("zotlit", item)
    _write(vault, rel, text)
    _write(vault, "ZotLit/copy.md", text)
    return {"BBBB3333"}


CASES: dict[str, Callable[[Path], set[str]]] = {
    "two files for one item": _two_files_for_one_item,
    "one file for two items": _one_file_for_two_items,
    "two zotero-key notes": _two_zotlit_notes_with_one_key,
}


@pytest.mark.parametrize("case", CASES)
def test_ambiguity_exits_4_and_creates_nothing_for_those_items(
    case: str, tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    held = CASES[case](vault)
    before = tree(vault)
    db = make_db(library(), version=7, bbt="sqlite")

    listing = run_cli("adopt", "--vault", vault, "--zotero-db", db, "--json")
    assert listing.exit_code == EXIT_CONFLICT
    data = json.loads(listing.stdout)
    assert {k for a in data["ambiguous"] for k in a["keys"]} == held
    assert all(a["evidence"] and a["paths"] for a in data["ambiguous"])
    assert not (vault / ".zotsync").exists()

    for run in range(2):  # reported again on the next run, not skipped by the short cut
        result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs", "--json")
        assert result.exit_code == EXIT_CONFLICT, result.output
        summary = json.loads(result.stdout)
        assert {k for a in summary["ambiguous"] for k in a["keys"]} == held
        assert summary["created"] == (3 - len(held) if run == 0 else 0)
        after = tree(vault)
        for rel, data_before in before.items():
            assert after[rel] == data_before  # the files in question are not touched
        keys = {
            line.split(": ", 1)[1]
            for rel, (raw, _) in after.items()
            if rel.startswith("Papers/")
            for line in raw.decode().splitlines()
            if line.startswith("zotero-key: ")
        }
        assert not keys & held  # nothing created for them
        assert keys == {"AAAA2222", "BBBB3333", "CCCC4444"} - held


def test_human_output_names_the_files_and_the_fix(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    _two_files_for_one_item(vault)
    db = make_db(library(), version=7, bbt="sqlite")
    listing = run_cli("adopt", "--vault", vault, "--zotero-db", db)
    assert "ambiguous  several files stand for this item:" in listing.output
    assert "Reading notes/@vaswani2017attention.md" in listing.output
    assert "Literature Notes/vaswani2017attention.md" in listing.output
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs")
    assert result.exit_code == EXIT_CONFLICT
    assert "ambiguous: several files stand for this item" in result.stderr
    assert "keep one file per paper" in result.stderr


def test_resolving_the_ambiguity_adopts_the_file_that_is_left(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    _two_files_for_one_item(vault)
    db = make_db(library(), version=7, bbt="sqlite")
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs").exit_code == 4
    (vault / "Reading notes" / "@vaswani2017attention.md").unlink()
    result = run_cli("sync", "--vault", vault, "--no-refs", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["adopted"] == 1
    text = (vault / "Literature Notes" / "vaswani2017attention.md").read_text("utf-8")
    assert "zotero-key: AAAA2222" in text
    assert not (vault / "Papers" / "Attention Is All You Need.md").exists()
