"""Adoption with a ``.bib`` of the same library, and switching a vault from bibtex to sqlite.

The bibtex source keys items by citekey and writes no ``zotero-key``; the same evidence finds
the plugins' notes, and later finds zotsync's own notes again when the library is read from
``zotero.sqlite`` (item keys): every note is kept where it is and gains ``zotero-key``, and the
old citekey rows are forgotten, never handled as deleted papers.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import small_library, tree
from test_adopt_plugins import body_of, frontmatter_of, library

from zotsync.model import Library
from zotsync.testing.bib_export import bibtex_text
from zotsync.testing.plugin_vaults import write_plugin_vault
from zotsync.vault.regions import user_segments


def bib_of(lib: Library, path: Path) -> Path:
    """The library as Better BibTeX would export it: entries keyed by citekey."""
    rekeyed = [dataclasses.replace(i, key=i.citekey) for i in lib.items]
    path.write_text(bibtex_text(small_library(*rekeyed)), "utf-8")
    return path


def paper_notes(vault: Path) -> list[Path]:
    return sorted(
        p
        for p in vault.rglob("*.md")
        if ".zotsync" not in p.parts and "%% zotsync:begin header %%" in p.read_text("utf-8")
    )


# mdnotes identifies its notes only by Zotero item links: a .bib (no item keys) cannot
# recognise them, so that style is adopted from Zotero sources only (docs/migrating.md)
@pytest.mark.parametrize("style", ["citations", "zotero-integration", "zotlit", "paperforge"])
def test_plugin_vault_with_a_bib_is_adopted_then_switched_to_sqlite(
    style: str, tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    lib = library()
    vault = tmp_path / "vault"
    vault.mkdir()
    notes = write_plugin_vault(vault, style, lib.items[:2])
    before = {key: path.read_text("utf-8") for key, path in notes.items()}
    bib = bib_of(lib, tmp_path / "My Library.bib")

    listing = run_cli("adopt", "--vault", vault, "--bibtex", bib, "--source", "bibtex", "--json")
    assert listing.exit_code == 0, listing.output
    adopt = json.loads(listing.stdout)["adopt"]
    assert sorted(a["path"] for a in adopt) == sorted(
        p.relative_to(vault).as_posix() for p in notes.values()
    )

    first = run_cli("sync", "--vault", vault, "--source", "bibtex", "--bibtex", bib, "--json")
    assert first.exit_code == 0, first.output
    assert (json.loads(first.stdout)["adopted"], json.loads(first.stdout)["created"]) == (2, 1)
    assert len(paper_notes(vault)) == 3
    for key, path in notes.items():
        text = path.read_text("utf-8")
        assert "".join(user_segments(text)).endswith(body_of(before[key]))
        ck = next(i.citekey for i in lib.items if i.key == key)
        assert frontmatter_of(text)["citekey"] == ck
    snapshot = tree(vault)
    assert run_cli("sync", "--vault", vault).exit_code == 0
    assert tree(vault) == snapshot

    # the same vault, now synced from Zotero itself
    files_before = paper_notes(vault)
    db = make_db(lib, version=7, bbt="sqlite")
    second = run_cli(
        "sync", "--vault", vault, "--source", "sqlite", "--zotero-db", db, "--no-refs", "--json"
    )
    assert second.exit_code == 0, second.output
    counts = json.loads(second.stdout)
    assert (counts["created"], counts["trashed"], counts["adopted"]) == (0, 0, 3)
    assert paper_notes(vault) == files_before  # every note kept, none added or moved
    keys = sorted(frontmatter_of(p.read_text("utf-8"))["zotero-key"] for p in files_before)
    assert keys == ["AAAA2222", "BBBB3333", "CCCC4444"]
    for key, path in notes.items():
        text = path.read_text("utf-8")
        assert "".join(user_segments(text)).endswith(body_of(before[key]))
        assert "zotero-deleted" not in text
        for k, v in frontmatter_of(before[key]).items():
            if k not in ("tags", "aliases"):
                assert frontmatter_of(text)[k] == v
    snapshot = tree(vault)
    assert run_cli("sync", "--vault", vault, "--no-refs").exit_code == 0
    assert tree(vault) == snapshot


def test_notes_zotsync_wrote_from_a_bib_follow_the_switch_to_sqlite(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    lib = library()
    vault = tmp_path / "vault"
    assert run_cli("init", vault).exit_code == 0
    bib = bib_of(lib, tmp_path / "lib.bib")
    assert run_cli("sync", "--vault", vault, "--source", "bibtex", "--bibtex", bib).exit_code == 0
    notes = paper_notes(vault)
    assert len(notes) == 3 and all("zotero-key" not in p.read_text("utf-8") for p in notes)
    for p in notes:
        p.write_text(p.read_text("utf-8") + "\nMy own line.\n", "utf-8")
    db = make_db(lib, version=10, bbt="native")
    result = run_cli(
        "sync", "--vault", vault, "--source", "sqlite", "--zotero-db", db, "--no-refs", "--json"
    )
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert (counts["created"], counts["trashed"], counts["adopted"]) == (0, 0, 3)
    assert paper_notes(vault) == notes
    for p in notes:
        text = p.read_text("utf-8")
        assert text.endswith("\nMy own line.\n")
        assert "zotero-key: " in text and "zotero-deleted" not in text
    snapshot = tree(vault)
    assert run_cli("sync", "--vault", vault, "--no-refs").exit_code == 0
    assert tree(vault) == snapshot


def test_switching_back_and_forth_between_sqlite_and_bibtex_keeps_one_note_each(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    lib = library()
    vault = tmp_path / "vault"
    assert run_cli("init", vault).exit_code == 0
    db = make_db(lib, version=7, bbt="sqlite")
    bib = bib_of(lib, tmp_path / "lib.bib")
    sqlite = ("--source", "sqlite", "--zotero-db", db)
    bibtex = ("--source", "bibtex", "--bibtex", bib)
    assert run_cli("sync", "--vault", vault, *sqlite, "--no-refs").exit_code == 0
    notes = paper_notes(vault)
    for p in notes:
        p.write_text(p.read_text("utf-8") + "\nmine\n", "utf-8")
    for source in (bibtex, sqlite, bibtex):
        result = run_cli("sync", "--vault", vault, *source, "--no-refs", "--json")
        assert result.exit_code == 0, result.output
        counts = json.loads(result.stdout)
        assert (counts["adopted"], counts["created"], counts["conflicts"]) == (3, 0, 0)
        assert paper_notes(vault) == notes
        assert all(p.read_text("utf-8").endswith("\nmine\n") for p in notes)
    assert not list(vault.rglob("*conflict*"))
