"""Where zotsync keeps its own files in a vault (``.zotsync/``), in one place."""

from __future__ import annotations

from pathlib import Path

#: the folder of zotsync's state, caches, backups, trash, lock and log (every scan skips it)
STATE_DIR = ".zotsync"


def state_dir(vault: Path) -> Path:
    """The vault's ``.zotsync/`` folder."""
    return vault / STATE_DIR
