"""A broken state database (PRODUCT guarantees 3 and 5).

A corrupt, truncated or foreign ``.zotsync/state.sqlite``, or a folder in its place, is found
when it is opened, moved aside as ``state.corrupt-<time>.sqlite`` and rebuilt by adoption (every
note carries ``zotero-key``): the sync exits 0 with one warning, the user's text is whole, and
the next sync writes nothing. ``doctor`` reports the damage; ``status`` does not crash on it.
Each run is a real ``zotsync`` subprocess on a Zotero database built by the fixture builder.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import note_path, tree

from zotsync.errors import EXIT_USAGE

USER_TEXT = "\nMy own reading notes, which must survive.\n"


def zotsync(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZOTSYNC_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "zotsync", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database at all\n" * 100)


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3 + 100])


def foreign(path: Path) -> None:
    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO photos (name) VALUES ('holiday.jpg')")
    conn.commit()
    conn.close()


def corrupt_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for offset in range(page, len(data), page):  # every page after the first: bad headers
        data[offset : offset + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))


def folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "something").write_text("x")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "garbage": garbage,
    "truncated": truncated,
    "foreign": foreign,
    "corrupt-pages": corrupt_pages,
    "folder": folder,
}


@pytest.fixture
def synced(vault: Path, make_db: Callable[..., Path]) -> tuple[Path, Path]:
    """A vault synced once from a fixture DB, with user text in one note."""
    db = make_db()
    done = zotsync("sync", "--vault", vault, "--zotero-db", db)
    assert done.returncode == 0, done.stderr
    note = note_path(vault, "AAAA2222")
    note.write_text(note.read_text("utf-8") + USER_TEXT, "utf-8")
    assert zotsync("sync", "--vault", vault).returncode == 0
    for extra in ("-wal", "-shm"):
        assert not (vault / ".zotsync" / f"state.sqlite{extra}").exists()
    return vault, db


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_state_db_is_moved_aside_and_rebuilt(
    synced: tuple[Path, Path], damage: str
) -> None:
    vault, _ = synced
    state = vault / ".zotsync" / "state.sqlite"
    DAMAGE[damage](state)
    before = tree(vault)
    result = zotsync("sync", "--vault", vault)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, result.stderr
    assert "state database" in warnings[0] and "state.corrupt-" in warnings[0]
    aside = sorted((vault / ".zotsync").glob("state.corrupt-*.sqlite"))
    assert len(aside) == 1
    assert state.is_file()
    # rebuilt by adoption: no note was rewritten, the user's text is whole
    assert tree(vault) == before
    assert USER_TEXT in note_path(vault, "AAAA2222").read_text("utf-8")
    # and the rebuilt state knows every note: the next sync writes nothing
    again = zotsync("sync", "--vault", vault, "--json")
    assert again.returncode == 0, again.stderr
    counts = json.loads(again.stdout)
    assert counts["created"] == counts["updated"] == counts["conflicts"] == 0
    assert tree(vault) == before


@pytest.mark.parametrize("damage", ["garbage", "folder"])
def test_doctor_reports_a_damaged_state_db_and_moves_nothing(
    synced: tuple[Path, Path], damage: str
) -> None:
    vault, _ = synced
    state = vault / ".zotsync" / "state.sqlite"
    DAMAGE[damage](state)
    before = tree(vault, include_state=True)
    result = zotsync("doctor", "--vault", vault, "--json")
    assert "Traceback" not in result.stderr
    assert result.returncode == EXIT_USAGE
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["state database"]["ok"] is False
    assert "zotsync sync" in checks["state database"]["fix"]
    assert tree(vault, include_state=True) == before


def test_doctor_says_a_healthy_state_db_is_ok(synced: tuple[Path, Path]) -> None:
    vault, _ = synced
    result = zotsync("doctor", "--vault", vault, "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["state database"]["ok"] is True


def test_status_on_a_damaged_state_db_says_so_and_changes_nothing(
    synced: tuple[Path, Path],
) -> None:
    vault, _ = synced
    garbage(vault / ".zotsync" / "state.sqlite")
    before = tree(vault, include_state=True)
    result = zotsync("status", "--vault", vault, "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "not an SQLite database" in json.loads(result.stdout)["state_damaged"]
    assert tree(vault, include_state=True) == before
