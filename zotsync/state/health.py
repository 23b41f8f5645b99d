"""Whether the state database can be trusted, and what to do with one that cannot.

:func:`state_db_problem` finds a damaged database (not SQLite, truncated, corrupt pages,
another program's file, a folder in its place) so it can be moved aside (:func:`move_aside`)
and rebuilt from the notes. Its last step, SQLite's ``quick_check``, reads every page, which
costs 0.6 s once the reference cache holds 10,000 lists: too much for a daemon pass. So a run
that closes the database records its signature (size, mtime, inode) beside it, and the next
open skips the check when the file is exactly as that run left it, with no ``-wal`` pending.
Damage that keeps size and mtime (bit rot) then shows up as an SQLite error during the run.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import time
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


def _clean_marker(path: Path) -> Path:
    return path.with_name(path.name + ".closed")


def _signature(path: Path) -> str | None:
    if os.path.lexists(path.with_name(path.name + "-wal")):
        return None  # open elsewhere, or a run was killed: check it
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def closed_cleanly(path: Path) -> bool:
    """The database is byte for byte as the last run that closed it left it (see above)."""
    sig = _signature(path)
    if sig is None:
        return False
    try:
        with open(_clean_marker(path), encoding="ascii") as handle:
            return handle.read(100) == sig
    except (OSError, UnicodeDecodeError):
        return False


def remember_clean(path: Path) -> None:
    """Record the closed database's signature; never follows a symlink (confinement)."""
    marker = _clean_marker(path)
    sig = _signature(path)
    try:
        if sig is None:
            if os.path.lexists(marker) and not os.path.islink(marker):
                os.unlink(marker)
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(marker, flags, 0o644)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(sig)
    except OSError:
        pass  # no marker: the next open simply checks the database


def state_db_problem(path: Path) -> str | None:
    """What is wrong with the state database at ``path``, or None when it is usable (or new).

    Cheap checks first (a folder, the SQLite header, the page count against the file size),
    then SQLite's own ``quick_check`` and our table names, on a read-only connection.
    """
    if path.is_dir():
        return "a folder stands where the state database belongs"
    if not path.exists():
        return None
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if size == 0:
        return None  # an empty file is a database SQLite has not written yet
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return "it is not an SQLite database"
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages, counter, valid_for = (struct.unpack(">I", header[o : o + 4])[0] for o in (28, 24, 92))
    if page_size < 512 or size % page_size or (counter == valid_for and pages * page_size > size):
        return "it is truncated"
    try:
        conn = connect_ro(path)
        try:
            names = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            check = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"SQLite cannot read it ({exc})"
    if check is None or check[0] != "ok":
        return f"SQLite reports it as corrupt ({check[0] if check else 'no answer'})"
    if names and not names >= {"migrations", "items"}:
        return "it is another program's database, not zotsync's"
    return None


def connect_ro(path: Path) -> sqlite3.Connection:
    """Read without creating anything: with no ``-wal`` beside it the file holds all the data,
    and ``immutable`` keeps SQLite from creating a ``-shm`` file (a read-only command must not)."""
    wal = path.with_name(path.name + "-wal")
    query = "?mode=ro" if wal.exists() else "?mode=ro&immutable=1"
    return sqlite3.connect(path.resolve().as_uri() + query, uri=True)


def move_aside(path: Path) -> Path:
    """Rename a damaged ``state.sqlite`` (and its -wal/-shm) to ``state.corrupt-<time>.sqlite``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = path.with_name(f"{path.stem}.corrupt-{stamp}{path.suffix}")
    n = 0
    while os.path.lexists(dest):
        n += 1
        dest = path.with_name(f"{path.stem}.corrupt-{stamp}-{n}{path.suffix}")
    os.replace(path, dest)
    for extra in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + extra)
        if os.path.lexists(side):  # a stale WAL would be replayed into the new database
            os.replace(side, dest.with_name(dest.name + extra))
    return dest
