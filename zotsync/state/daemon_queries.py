"""The state queries the daemon asks between passes (kept apart from ``db.py``'s schema)."""

from __future__ import annotations

from zotsync.state.db import StateDB


def note_signature(state: StateDB, library: str, path: str) -> tuple[int, int, int] | None:
    """The ``(mtime_ns, size, inode)`` recorded after zotsync last wrote the note at ``path``.

    None when no item of ``library`` has its note there. A recorded row without a signature
    yields ``(None, None, None)`` as a tuple, which never equals a real file's signature.
    """
    row = state.conn.execute(
        "SELECT mtime_ns, size, ino FROM items WHERE path = ? AND library = ?", (path, library)
    ).fetchone()
    return None if row is None else tuple(row)
