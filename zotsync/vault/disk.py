"""A full, read-only or failing disk stops the pass with one message, not one per note.

ENOSPC, EDQUOT, EROFS and EIO are not about one note: every later write fails the same way.
Reporting them per item buried the cause under thousands of warnings and then ended in a
traceback from the state DB. So the writers turn them into :class:`DiskError`, which the engine
lets through (it is not a per-item error), and the CLI prints one line: what failed, where,
and how much space is free. Because every write is atomic (temp file, then rename), the notes
already written are whole, the rest are untouched, and the next run converges.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from zotsync.errors import EXIT_PARTIAL, ZotsyncError

DISK_ERRNOS = frozenset(
    e for e in (errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", None), errno.EIO) if e
)
_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "an input/output error (the disk or its connection may be failing)",
}
if hasattr(errno, "EDQUOT"):
    _WHY[errno.EDQUOT] = "the disk quota is exceeded"
_SQLITE_HINTS = {
    "database or disk is full": errno.ENOSPC,
    "disk i/o error": errno.EIO,
    "readonly database": errno.EROFS,
}


class DiskError(ZotsyncError):
    """Writing failed for a reason that every later write shares; the pass stops (exit 1)."""

    exit_code = EXIT_PARTIAL


def free_space(path: Path) -> str:
    """Human-readable free space on the file system holding ``path`` ("unknown" if unknown)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = float(shutil.disk_usage(probe).free)
    except OSError:
        return "unknown"
    for unit in ("bytes", "KB", "MB", "GB"):
        if free < 1024 or unit == "GB":
            return f"{free:.0f} {unit}" if unit == "bytes" else f"{free:.1f} {unit}"
        free /= 1024
    return "unknown"  # pragma: no cover


def _error(code: int, path: Path | str) -> DiskError:
    where = Path(path)
    fix = {
        errno.EROFS: "make the vault's file system writable (or move the vault), then run the "
        "same command again",
        errno.EIO: "check the disk (and its cable or network share), then run the same command "
        "again",
    }.get(code, "free some space, then run the same command again")
    return DiskError(
        f"cannot write {where}: {_WHY.get(code, 'the disk refused the write')} "
        f"({free_space(where)} free); the pass stopped, every note is whole",
        fix=fix + "; the next run finishes what is left",
    )


def disk_error(exc: BaseException, path: Path | str | None = None) -> DiskError | None:
    """The :class:`DiskError` for ``exc`` if it is a disk-level failure, else None."""
    if isinstance(exc, DiskError):
        return exc
    if isinstance(exc, OSError) and exc.errno is not None and exc.errno in DISK_ERRNOS:
        return _error(exc.errno, exc.filename or path or "the vault")
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        for hint, code in _SQLITE_HINTS.items():
            if hint in text:
                return _error(code, path or "the state database")
    return None


def stop_on_disk_error(exc: BaseException, path: Path | str | None = None) -> None:
    """Raise the :class:`DiskError` for ``exc`` when it is one (call it in an ``except``)."""
    err = disk_error(exc, path)
    if err is not None and err is not exc:
        raise err from exc
    if err is not None:
        raise err
