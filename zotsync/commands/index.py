"""``zotsync index``: write the tag and collection index notes and the master paper list."""

from __future__ import annotations

from pathlib import Path

from zotsync.index.build import write_indexes


def index(vault: Path, *, config_path: Path | None = None) -> int:
    """``zotsync index``: write the index notes from the last sync's data."""
    from zotsync.vault.lock import VaultLock
    from zotsync.workspace import check_vault, configure, open_state

    vault = check_vault(vault)
    config = configure(vault, config_path, None)
    with VaultLock(vault, command="index"):
        state = open_state(vault)
        try:
            return write_indexes(vault, config, state)
        finally:
            state.close()
