"""Single writer per vault, checked with real second processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zotsync.errors import EXIT_LOCKED, VaultLocked
from zotsync.vault.lock import INFO_FILE, LOCK_FILE, VaultLock, read_lock_info

REPO = Path(__file__).resolve().parents[3]
HOLDER = """
import sys
from pathlib import Path
from zotsync.vault.lock import VaultLock
lock = VaultLock(Path(sys.argv[1]), command="zotsync watch")
lock.acquire()
print("ready", flush=True)
sys.stdin.read()
lock.release()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def test_second_process_is_refused_with_the_holders_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(VaultLocked) as err:
        VaultLock(tmp_path, timeout=0.1).acquire()
    assert f"pid {holder.pid}" in str(err.value)
    assert "zotsync watch" in str(err.value)
    assert err.value.exit_code == EXIT_LOCKED
    info = read_lock_info(tmp_path)
    assert info is not None and info["pid"] == holder.pid and info["command"] == "zotsync watch"


def test_lock_is_free_again_after_the_holder_finishes(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.wait(timeout=30) == 0
    assert not (tmp_path / INFO_FILE).exists()
    assert read_lock_info(tmp_path) is None
    with VaultLock(tmp_path, command="zotsync sync", timeout=0):
        assert read_lock_info(tmp_path)["pid"] == os.getpid()  # type: ignore[index]


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_killed_holder_leaves_no_stale_lock(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    leftover = json.loads((tmp_path / INFO_FILE).read_text())
    assert leftover["pid"] == holder.pid  # the record survived the kill...
    assert read_lock_info(tmp_path) is None  # ...but nobody holds the vault
    with VaultLock(tmp_path, command="zotsync sync", timeout=0) as lock:
        assert lock.held
        assert json.loads((tmp_path / INFO_FILE).read_text())["pid"] == os.getpid()


def test_record_naming_a_live_process_that_does_not_hold_the_lock_is_stale(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).parent.mkdir()
    (tmp_path / LOCK_FILE).touch()
    (tmp_path / INFO_FILE).write_text(
        json.dumps({"pid": os.getppid(), "started": "x", "command": "c"})
    )
    assert read_lock_info(tmp_path) is None


def test_two_locks_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    with VaultLock(tmp_path, timeout=0), pytest.raises(VaultLocked, match=f"pid {os.getpid()}"):
        VaultLock(tmp_path, timeout=0).acquire()
    with VaultLock(tmp_path, timeout=0):
        pass


def test_lock_is_released_when_the_body_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), VaultLock(tmp_path, timeout=0):
        raise RuntimeError("sync failed")
    assert read_lock_info(tmp_path) is None
    assert not (tmp_path / INFO_FILE).exists()
    with VaultLock(tmp_path, timeout=0) as again:
        assert again.held


def test_no_lock_file_means_no_holder(tmp_path: Path) -> None:
    assert read_lock_info(tmp_path) is None
    (tmp_path / ".zotsync").mkdir()
    (tmp_path / INFO_FILE).write_text("not json")
    assert read_lock_info(tmp_path) is None
