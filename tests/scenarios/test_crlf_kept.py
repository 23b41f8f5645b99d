"""Notes saved with CRLF line endings keep them when zotsync marks them deleted or rewrites a
link in them (both read the file as it is: ``Path.read_text`` would turn CRLF into LF)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import paper, sync_db
from zotsync import api
from zotsync.model import Library
from zotsync.testing.zotero_db import make_zotero_db
from zotsync.testing.zotero_writer import ZoteroDbWriter


def _crlf(path: Path, extra: str = "") -> None:
    text = path.read_bytes().decode("utf-8").replace("\r\n", "\n") + extra
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    library = Library(items=[paper("AAAA2345", "First paper"), paper("BBBB2345", "Second paper")])
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", library, version=10)
    vault = tmp_path / "vault"
    api.init_vault(vault)
    sync_db(vault, db)
    return db, vault


def test_a_crlf_note_marked_deleted_keeps_crlf(tmp_path: Path) -> None:
    db, vault = _setup(tmp_path)
    note = vault / "Papers" / "First paper.md"
    _crlf(note, "My own thoughts.\n")  # user text: the note is marked, not trashed
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).delete("AAAA2345")
    conn.close()
    sync_db(vault, db)
    data = note.read_bytes()
    assert b"zotero-deleted: true" in data
    assert data.count(b"\n") == data.count(b"\r\n"), "CRLF not kept"


def test_a_crlf_file_keeps_crlf_when_a_link_in_it_is_rewritten(tmp_path: Path) -> None:
    db, vault = _setup(tmp_path)
    mine = vault / "My notes.md"
    mine.write_bytes(b"# Reading\r\n\r\nSee [[Second paper]] first.\r\n")
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).set_title("BBBB2345", "Second paper, retitled")
    conn.close()
    sync_db(vault, db)
    assert mine.read_bytes() == b"# Reading\r\n\r\nSee [[Second paper, retitled]] first.\r\n"
