"""Renames rewrite links found through the state's link index, not by reading the vault.

The index must never miss a file: one the user wrote or edited since the last pass, in any
folder, with any link form. And it must let a pass read only the files that may link.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import paper, small_library, sync_db

import zotsync.sync.links as links_module
from zotsync import api
from zotsync.sync.link_index import link_names
from zotsync.testing.zotero_db import make_zotero_db
from zotsync.testing.zotero_writer import ZoteroDbWriter


def test_link_names_cover_every_link_form() -> None:
    text = (
        "[[Old Name]] [[papers/Second|alias]] ![[Third#Heading]] [[Fourth\\|x]] [[Fifth.md]]\n"
        "[t](Papers/Sixth%20Name.md#h) [t](<Papers/Seventh Name.md>) [t](../Eighth.md)\n"
        "```\n[[In Code]]\n```\n"
    )
    assert link_names(text) >= {
        "old name", "second", "third", "fourth", "fifth", "sixth name", "seventh name",
        "eighth", "in code",
    }  # fmt: skip


def _retitle(db: Path, title: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).set_title("AAAA2222", title)
    conn.close()


def test_links_written_or_edited_between_renames_are_all_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    others = [paper(f"BBBB{n}AAA", f"Unrelated {n}") for n in range(2, 9)]
    db = make_zotero_db(
        tmp_path / "zotero" / "zotero.sqlite",
        small_library(paper("AAAA2222", "Old Name"), *others),
        version=10,
    )
    vault = tmp_path / "vault"
    api.init_vault(vault)
    sync_db(vault, db)
    (vault / "Ideas.md").write_text("See [[Old Name]].\n", "utf-8")
    (vault / "Deep" / "Down").mkdir(parents=True)
    (vault / "Deep" / "Down" / "Far.md").write_text("[x](../../Papers/Old%20Name.md)\n", "utf-8")
    _retitle(db, "Mid Name")
    sync_db(vault, db)
    assert (vault / "Ideas.md").read_text("utf-8") == "See [[Mid Name]].\n"
    assert (vault / "Deep/Down/Far.md").read_text("utf-8") == "[x](../../Papers/Mid%20Name.md)\n"

    # written after the index knew the vault: a new file, and an edit to a known one
    (vault / "New.md").write_text("[[mid name#Results|the results]]\n", "utf-8")
    (vault / "Ideas.md").write_text("See [[Mid Name]] and ![[Mid Name]].\n", "utf-8")
    read: list[Path] = []
    real = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        read.append(self)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    _retitle(db, "Final Name")
    with monkeypatch.context() as patch:
        patch.setattr(links_module.Path, "read_text", counting)
        report = sync_db(vault, db)
    assert report.result.incremental and report.result.renamed == 1
    assert (vault / "New.md").read_text("utf-8") == "[[Final Name#Results|the results]]\n"
    assert (vault / "Ideas.md").read_text("utf-8") == "See [[Final Name]] and ![[Final Name]].\n"
    assert (vault / "Deep/Down/Far.md").read_text("utf-8") == "[x](../../Papers/Final%20Name.md)\n"
    # the rewrite read the files that link, not the unrelated papers' notes
    assert not any("Unrelated" in p.name for p in read), read
