"""A full disk, a quota, a read-only file system, a failing disk (PRODUCT guarantee 5).

ENOSPC, EDQUOT, EROFS and EIO are injected into a real ``zotsync`` subprocess: a small
launcher replaces ``os.write``, ``os.open`` or ``os.replace``/``os.link`` with versions that
fail after N successful calls, then runs the CLI. (No loop device or quota is available to the
tests, and as root ``chmod`` cannot make a folder read-only, so the failure is injected at the
system-call boundary every write of zotsync goes through.)

Each case must stop cleanly: exit 1, one message saying what failed, where and how much space
is free, no traceback and no per-note warning flood; every note on disk is whole, and the next
run without the fault converges to the full vault.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import paper, small_library

from zotsync.errors import EXIT_PARTIAL
from zotsync.vault.regions import parse_note

N_ITEMS = 60
KEYS = [f"K{a}{b}{c}XYZW" for a in "23456789" for b in "ABCDEFGH" for c in "JKLM"][:N_ITEMS]

LAUNCHER = """
import errno, os, sys
name, call, after = sys.argv[1], sys.argv[2], int(sys.argv[3])
code = getattr(errno, name)
count = [0]

def failing(real, *, creating_only=False):
    def wrapper(*args, **kwargs):
        if creating_only and not (args[1] & os.O_CREAT):
            return real(*args, **kwargs)
        count[0] += 1
        if count[0] > after:
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)
    return wrapper

if call == "write":
    os.write = failing(os.write)
elif call == "open":
    os.open = failing(os.open, creating_only=True)
elif call == "replace":
    os.replace = failing(os.replace)
    os.link = failing(os.link)
from zotsync.cli import main
sys.argv = ["zotsync", *sys.argv[4:]]
main()
"""


def run(
    *args: str | Path, fault: tuple[str, str, int] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZOTSYNC_OFFLINE": "1"}
    if fault is None:
        cmd = [sys.executable, "-m", "zotsync", *map(str, args)]
    else:
        name, call, after = fault
        cmd = [sys.executable, "-c", LAUNCHER, name, call, str(after), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)


@pytest.fixture
def db(make_db: Callable[..., Path]) -> Path:
    items = [paper(key, f"Paper number {n}", year=1990 + n % 30) for n, key in enumerate(KEYS)]
    return make_db(small_library(*items))


def notes(vault: Path) -> list[Path]:
    return sorted((vault / "Papers").glob("*.md"))


def temp_files(vault: Path) -> list[Path]:
    return [p for p in vault.rglob("*") if ".zotsync-tmp-" in p.name or p.name.endswith(".tmp")]


def assert_whole(vault: Path) -> None:
    for path in notes(vault):
        parsed = parse_note(path.read_text("utf-8"))
        assert not parsed.problems, (path, parsed.problems)
        assert "header" in parsed.regions


def assert_one_clean_message(result: subprocess.CompletedProcess[str], why: str) -> None:
    assert result.returncode == EXIT_PARTIAL, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3, result.stderr  # "error: …", "  fix: …" and nothing per note
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert why in errors[0]
    assert " free)" in errors[0]


@pytest.mark.parametrize(
    ("errno_name", "call", "why"),
    [
        ("ENOSPC", "write", "the disk is full"),
        ("EDQUOT", "write", "quota"),
        ("EIO", "write", "input/output error"),
        ("ENOSPC", "replace", "the disk is full"),
        ("EROFS", "open", "read-only"),
    ],
)
def test_disk_failure_mid_sync_stops_with_one_message_and_next_run_converges(
    vault: Path, db: Path, errno_name: str, call: str, why: str
) -> None:
    result = run("sync", "--vault", vault, "--zotero-db", db, fault=(errno_name, call, 25))
    assert_one_clean_message(result, why)
    assert len(notes(vault)) < N_ITEMS
    assert_whole(vault)
    assert temp_files(vault) == []
    again = run("sync", "--vault", vault, "--zotero-db", db, "--json")
    assert again.returncode == 0, again.stderr
    assert len(notes(vault)) == N_ITEMS
    assert_whole(vault)
    assert temp_files(vault) == []
    settled = run("sync", "--vault", vault, "--json")
    counts = json.loads(settled.stdout)
    assert counts["created"] == counts["updated"] == counts["conflicts"] == 0


def test_update_pass_on_a_full_disk_keeps_every_note_old_or_new(
    vault: Path, make_db: Callable[..., Path], db: Path
) -> None:
    assert run("sync", "--vault", vault, "--zotero-db", db).returncode == 0
    before = {p.name: p.read_bytes() for p in notes(vault)}
    items = [paper(key, f"Paper number {n}", abstract="changed") for n, key in enumerate(KEYS)]
    changed = make_db(small_library(*items))
    result = run("sync", "--vault", vault, "--zotero-db", changed, fault=("ENOSPC", "write", 10))
    assert_one_clean_message(result, "the disk is full")
    after = {p.name: p.read_bytes() for p in notes(vault)}
    assert set(after) == set(before)
    updated = [name for name in after if after[name] != before[name]]
    assert 0 < len(updated) < N_ITEMS
    assert_whole(vault)
    again = run("sync", "--vault", vault, "--zotero-db", changed)
    assert again.returncode == 0, again.stderr
    assert all("changed" in p.read_text("utf-8") for p in notes(vault))


def test_read_only_vault_stops_before_anything_with_one_message(vault: Path, db: Path) -> None:
    result = run("sync", "--vault", vault, "--zotero-db", db, fault=("EROFS", "open", 0))
    assert_one_clean_message(result, "read-only")
    assert notes(vault) == []
