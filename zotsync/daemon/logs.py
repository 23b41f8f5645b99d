"""The daemon's log: a rotating file in ``.zotsync/``, one line per error with its fix, and the
stage timings of each pass (``-vv``), which the latency bench reads.
"""

from __future__ import annotations

import errno
import logging
import logging.handlers
import time
from pathlib import Path

from zotsync.errors import ZotsyncError
from zotsync.vault.confine import confine

STAGES_PREFIX = "stages:"


def describe_error(exc: BaseException) -> str:
    """One line saying what failed and how to fix it, for the log."""
    if isinstance(exc, ZotsyncError):
        return exc.message + (f" — fix: {exc.fix}" if exc.fix else "")
    if isinstance(exc, OSError):
        fixes = {
            errno.ENOSPC: "the disk is full: free some space; zotsync retries",
            errno.EDQUOT: "the disk quota is exceeded: free some space; zotsync retries",
            errno.EROFS: "the vault is on a read-only file system",
            errno.EACCES: "check the permissions of the vault folder",
            errno.ENOENT: "the vault or the Zotero folder is unavailable (unmounted?); retrying",
        }
        hint = fixes.get(exc.errno or 0, "zotsync will retry")
        return f"{exc} — {hint}"
    return f"unexpected {type(exc).__name__}: {exc} — zotsync will retry; please report it"


class StageClock:
    """When each stage of one pass ended, counted from the first event of its burst.

    The stages are ``event`` (the first change seen), ``debounce`` (quiet reached),
    ``read`` (the source read), ``plan`` (actions decided) and ``written``. A stage a pass
    skipped (nothing changed: no read) is simply absent.
    """

    def __init__(self, start: float | None = None) -> None:
        self.start = time.monotonic() if start is None else start
        self.marks: dict[str, float] = {"event": self.start}

    def mark(self, stage: str) -> None:
        self.marks.setdefault(stage, time.monotonic())

    def line(self) -> str:
        """``stages: event +0.000 debounce +0.201 read +0.402 …`` (seconds since the event)."""
        parts = [f"{name} +{at - self.start:.3f}" for name, at in self.marks.items()]
        return f"{STAGES_PREFIX} " + " ".join(parts)


def add_file_log(vault: Path) -> logging.Handler:
    """A rotating log in ``.zotsync/zotsync.log`` (1 MB × 5), besides stderr."""
    root = logging.getLogger("zotsync")
    folder = vault / ".zotsync"
    confine(vault, folder / "zotsync.log")
    folder.mkdir(exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        folder / "zotsync.log", maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    debug = root.level == logging.DEBUG
    handler.setLevel(logging.DEBUG if debug else logging.INFO)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler


def remove_file_log(handler: logging.Handler) -> None:
    """Detach and close the handler ``add_file_log`` returned."""
    logging.getLogger("zotsync").removeHandler(handler)
    handler.close()
