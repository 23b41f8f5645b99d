"""The state database's health check is skipped only for a file exactly as zotsync left it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zotsync.state import db as state_db
from zotsync.state.db import StateDB
from zotsync.state.health import closed_cleanly


def _open_count(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = state_db.state_db_problem

    def counting(path: Path) -> str | None:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(state_db, "state_db_problem", counting)
    return calls


def test_a_cleanly_closed_database_is_not_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.sqlite"
    StateDB(path).close()
    assert closed_cleanly(path)
    calls = _open_count(monkeypatch)
    StateDB(path).close()
    assert calls == []


def test_any_change_to_the_file_brings_the_check_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.sqlite"
    StateDB(path).close()
    with open(path, "r+b") as handle:  # damage a page; size stays, mtime moves
        handle.seek(4096 + 200)
        handle.write(b"\xff" * 64)
    st = path.stat()  # the clock may not have ticked since the close: make the write visible
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert not closed_cleanly(path)
    calls = _open_count(monkeypatch)
    StateDB(path).close()
    assert calls == [path]


def test_a_pending_wal_brings_the_check_back(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    StateDB(path).close()
    (tmp_path / "state.sqlite-wal").write_bytes(b"")
    assert not closed_cleanly(path)


def test_the_marker_is_never_written_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious", "utf-8")
    folder = tmp_path / "vault"
    folder.mkdir()
    os.symlink(outside, folder / "state.sqlite.closed")
    StateDB(folder / "state.sqlite").close()
    assert outside.read_text("utf-8") == "precious"
    assert not closed_cleanly(folder / "state.sqlite")
