"""One writer per vault: an OS file lock plus a note of who holds it.

The lock itself is an OS lock (``flock`` / ``LockFileEx`` through ``filelock``) on
``.zotsync/lock``: the kernel drops it when the holder dies, even by SIGKILL, so there is no
stale-lock cleanup to get wrong. Beside it, ``.zotsync/lock.json`` records ``{pid, started,
command}`` for humans (``zotsync status``, the "locked" error). That file is only advice: a
leftover whose pid is dead, or whose lock can be taken, means nobody holds the vault.

Taking the lock waits ``timeout`` seconds (default 1 s) before giving up, so a
``zotsync status`` probing the lock at the same instant cannot make a starting daemon fail.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import filelock

from zotsync.errors import VaultLocked, ZotsyncError
from zotsync.vault import confine
from zotsync.vault.disk import stop_on_disk_error

LOCK_FILE = Path(".zotsync") / "lock"
INFO_FILE = Path(".zotsync") / "lock.json"


def _pid_alive(pid: int) -> bool | None:
    """True/False where the OS can tell cheaply; None when it cannot (Windows)."""
    if os.name == "nt":
        return None  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True


def _read_json(vault: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((vault / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _lock_is_free(vault: Path) -> bool:
    """Probe the OS lock without waiting."""
    probe = filelock.FileLock(str(vault / LOCK_FILE), timeout=0, thread_local=False)
    try:
        probe.acquire()
    except filelock.Timeout:
        return False
    except OSError:
        return False
    probe.release()
    return True


def read_lock_info(vault: Path) -> dict[str, Any] | None:
    """``{pid, started, command}`` of the live holder of the vault lock, else None."""
    info = _read_json(vault)
    if info is None or not isinstance(info.get("pid"), int):
        return None
    if info["pid"] == os.getpid():
        return info
    if _pid_alive(info["pid"]) is False:
        return None
    if not (vault / LOCK_FILE).exists() or _lock_is_free(vault):
        return None  # leftover from a dead holder whose pid was reused
    return info


def _unusable(vault: Path, exc: OSError) -> ZotsyncError:
    """The lock file cannot be created or opened (a folder in its place, no permission)."""
    return ZotsyncError(
        f"cannot use the vault lock {vault / LOCK_FILE}: {exc.strerror or exc}",
        fix=f"make {vault / '.zotsync'} a writable folder (remove whatever stands at "
        f"{vault / LOCK_FILE} when no zotsync runs), then run the command again",
    )


class VaultLock:
    """Context manager holding the vault's single-writer lock.

    ``with VaultLock(vault, command="zotsync sync"):`` — raises
    :class:`~zotsync.errors.VaultLocked` naming the holder's pid when another process has it.
    """

    def __init__(self, vault: Path, *, command: str = "", timeout: float = 1.0) -> None:
        self.vault = Path(vault)
        self.command = command
        self.timeout = timeout
        self._lock: filelock.FileLock | None = None

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._lock is not None

    def acquire(self) -> None:
        """Take the lock or raise VaultLocked; then record who holds it."""
        if self._lock is not None:
            return
        # the lock is the first thing a writing command creates: a `.zotsync` or a lock file
        # linked out of the vault is refused before anything is written there
        confine.confine(self.vault, self.vault / LOCK_FILE)
        confine.confine(self.vault, self.vault / INFO_FILE)
        lock = filelock.FileLock(
            str(self.vault / LOCK_FILE), timeout=self.timeout, thread_local=False
        )
        try:
            (self.vault / ".zotsync").mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except filelock.Timeout:
            raise self._locked_error() from None
        except OSError as exc:
            stop_on_disk_error(exc, self.vault / LOCK_FILE)
            raise _unusable(self.vault, exc) from None
        self._lock = lock
        confine.push(self.vault)
        try:
            self._write_info()
        except OSError as exc:
            self.release()
            stop_on_disk_error(exc, self.vault / INFO_FILE)
            raise _unusable(self.vault, exc) from None
        except BaseException:
            self.release()
            raise

    def _locked_error(self) -> VaultLocked:
        info = _read_json(self.vault) or {}
        pid = info.get("pid", "unknown")
        what = f", running '{info['command']}'" if info.get("command") else ""
        since = f", since {info['started']}" if info.get("started") else ""
        return VaultLocked(
            f"another zotsync process (pid {pid}{what}{since}) holds the lock of {self.vault}",
            fix=f"wait for it to finish, or stop it (kill {pid}); 'zotsync status' shows it",
        )

    def _write_info(self) -> None:
        info = {
            "pid": os.getpid(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": self.command,
        }
        target = self.vault / INFO_FILE
        tmp = target.with_name(f".lock.json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, target)

    def release(self) -> None:
        """Forget our holder record and drop the OS lock (safe to call twice)."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        confine.pop(self.vault)
        info = _read_json(self.vault)
        if info is not None and info.get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                (self.vault / INFO_FILE).unlink()
        lock.release()

    def __enter__(self) -> VaultLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
