"""Spotting zotsync's own writes, so a wake-up they cause costs no sync (and no write loop).

A paper note whose ``(mtime_ns, size, inode)`` is the one the last sync recorded was written by
zotsync (or not touched since). What does need a sync: an edited, moved or deleted paper note,
anything new in the papers or plan folders, ``zotsync.yaml`` and the templates. The user's
other notes (a daily note typed into every two seconds) and the index notes are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from zotsync.config import CONFIG_NAME, Config
from zotsync.state.db import StateDB
from zotsync.state.papers import sig_at_path


def is_own_write(
    rel: str, sig: tuple[int, int, int] | None, state: StateDB, config: Config
) -> bool:
    """Whether a changed vault file needs no sync: zotsync wrote it, or it is not zotsync's.

    ``sig`` is the file's ``(mtime_ns, size, inode)`` now (None: gone).
    """
    recorded = sig_at_path(state, config.library, rel)
    if recorded is not None:
        return sig is not None and recorded == sig
    if sig is None:
        return True  # a temp file or a rename's old name: nothing to sync
    parts = PurePosixPath(rel).parts
    if rel == CONFIG_NAME or rel.startswith("Templates/zotsync/"):
        return False
    for folder in (config.papers_folder, config.plan.folder):
        if parts[: len(PurePosixPath(folder).parts)] == PurePosixPath(folder).parts:
            return False
    return True  # index notes and the user's other notes


def file_sig(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def only_own_writes(vault: Path, paths: Iterable[str], state: StateDB, config: Config) -> bool:
    """True when every changed vault file in ``paths`` is zotsync's own write or irrelevant."""
    return all(is_own_write(rel, file_sig(vault / rel), state, config) for rel in paths)
