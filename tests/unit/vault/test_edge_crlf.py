"""Notes saved with CRLF line endings or a BOM (PRODUCT guarantee 1).

Windows editors and some sync tools save notes with ``\\r\\n`` and a UTF-8 byte-order mark.
zotsync parses, compares and splices them by content: a Zotero change updates them with no
conflict, keeps their line endings and BOM, and the user's text stays byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.vault_edges import Scenario

from zotsync.errors import EXIT_OK

KEY = "AAAA2222"
USER = "\r\nMy thoughts,\r\non two lines.\r\n"


def _windows_save(path: Path, *, bom: bool) -> bytes:
    """What a Windows editor writes back: CRLF everywhere (and a BOM), plus the user's text."""
    text = path.read_text("utf-8").replace("\n", "\r\n") + USER.lstrip("\r\n")
    data = ("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8")
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("bom", [False, True], ids=["crlf", "crlf+bom"])
def test_a_zotero_change_updates_a_crlf_note_without_conflict(tmp_path: Path, bom: bool) -> None:
    s = Scenario(tmp_path)
    s.change(KEY, "abstractNote", "First abstract.")
    s.change("BBBB3333", "abstractNote", "Other abstract.")
    assert s.sync().exit_code == EXIT_OK
    for key in (KEY, "BBBB3333"):
        _windows_save(s.note(key), bom=bom)
    s.change(KEY, "abstractNote", "Second abstract.")
    code, data = s.sync_json()
    assert code == EXIT_OK and data["conflicts"] == 0 and data["updated"] == 1, data
    raw = s.note(KEY).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf---\r\n" if bom else b"---\r\n")
    assert b"Second abstract.\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line ending stays CRLF
    assert raw.endswith(USER.lstrip("\r\n").encode())
    assert not s.files("*zotsync conflict*")
    # and again: a later change is no conflict either, the unchanged note is not written
    other = s.note("BBBB3333").read_bytes()
    s.change(KEY, "abstractNote", "Third abstract.")
    code, data = s.sync_json()
    assert code == EXIT_OK and data["conflicts"] == 0 and data["updated"] == 1, data
    assert b"Third abstract.\r\n" in s.note(KEY).read_bytes()
    assert s.note("BBBB3333").read_bytes() == other


def test_a_title_change_renames_a_bom_note_and_keeps_its_bytes(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    assert s.sync().exit_code == EXIT_OK
    _windows_save(s.note(KEY), bom=True)
    s.change(KEY, "title", "Attention Is Still All You Need")
    code, data = s.sync_json()
    assert code == EXIT_OK and data["conflicts"] == 0 and data["renamed"] == 1, data
    raw = s.note(KEY).read_bytes()
    assert s.note(KEY).name == "Attention Is Still All You Need.md"
    assert raw.startswith(b"\xef\xbb\xbf---\r\ntitle: Attention Is Still All You Need\r\n")
    assert b"# Attention Is Still All You Need\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
