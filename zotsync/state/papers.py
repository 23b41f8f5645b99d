"""Queries for what plans, indexes and the daemon read from the state database.

Why here and not beside their callers: the state layer owns every table and all SQL, so a
schema change touches one package. These are the light reads that run after every sync over
libraries of 10,000+ items (one query each, no per-item decoding), and the writes that keep
the ``papers`` rows (date added, in-library references, the note's cached frontmatter) and
the list of index notes zotsync wrote.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple

from zotsync.state.db import StateDB

__all__ = [
    "PaperRow",
    "index_note_paths",
    "live_notes",
    "paper_rows",
    "paper_signals",
    "reference_link_count",
    "replace_index_note_paths",
    "save_note_meta",
    "save_papers",
    "sig_at_path",
]

_LIVE = "i.path IS NOT NULL AND i.path != '' AND i.deleted = 0 AND i.tombstone = 0"


class PaperRow(NamedTuple):
    """One live paper note: its item row joined with its ``papers`` row."""

    key: str
    path: str
    title: str | None
    date_added: str | None
    refs: str  # JSON list of in-library keys
    note_sig: str | None  # ``mtime_ns:size:ino`` of the note when ``note_meta`` was read
    note_meta: str | None  # JSON of the frontmatter values plans and indexes use


def live_notes(state: StateDB, library: str) -> dict[str, str]:
    """Item key → vault-relative note path, for every item whose note zotsync keeps."""
    rows = state.conn.execute(
        f"SELECT i.key, i.path FROM items i WHERE i.library = ? AND {_LIVE}", (library,)
    )
    return dict(rows)


def paper_rows(state: StateDB, library: str, keys: Collection[str] | None = None) -> list[PaperRow]:
    """Every live paper note with its ``papers`` row (items without one are left out);
    with ``keys``, only those papers (an incremental pass compares them before and after)."""
    sql = (
        "SELECT i.key, i.path, i.title, p.date_added, p.refs, p.note_sig, p.note_meta "
        "FROM items i JOIN papers p ON p.library = i.library AND p.key = i.key "
        f"WHERE i.library = ? AND {_LIVE}"
    )
    if keys is None:
        return [PaperRow(*row) for row in state.conn.execute(sql, (library,))]
    wanted = sorted(keys)
    return [
        PaperRow(*row)
        for at in range(0, len(wanted), 500)
        for row in state.conn.execute(
            sql + f" AND i.key IN ({','.join('?' * len(wanted[at : at + 500]))})",
            (library, *wanted[at : at + 500]),
        )
    ]


def paper_signals(state: StateDB, library: str) -> dict[str, tuple[str | None, str]]:
    """Item key → (date added, references JSON) as last recorded."""
    rows = state.conn.execute(
        "SELECT key, date_added, refs FROM papers WHERE library = ?", (library,)
    )
    return {key: (added, refs) for key, added, refs in rows}


def save_papers(
    state: StateDB,
    library: str,
    *,
    upserts: Iterable[tuple[str, str | None, str]] = (),
    deletes: Iterable[str] = (),
    notes: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """In one transaction: drop ``deletes``, write ``(key, date added, refs JSON)`` rows, and
    cache ``notes`` (key → (signature, meta JSON)) for notes just written."""
    with state.transaction():
        state.conn.executemany(
            "DELETE FROM papers WHERE library = ? AND key = ?", [(library, k) for k in deletes]
        )
        state.conn.executemany(
            "INSERT INTO papers (library, key, date_added, refs) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(library, key) DO UPDATE SET date_added = excluded.date_added, "
            "refs = excluded.refs",
            [(library, key, added, refs) for key, added, refs in upserts],
        )
        if notes:
            _note_updates(state, library, notes)


def save_note_meta(state: StateDB, library: str, notes: Mapping[str, tuple[str, str]]) -> None:
    """Cache each note's frontmatter values by signature: key → (signature, meta JSON)."""
    if notes:
        with state.transaction():
            _note_updates(state, library, notes)


def _note_updates(state: StateDB, library: str, notes: Mapping[str, tuple[str, str]]) -> None:
    state.conn.executemany(
        "UPDATE papers SET note_sig = ?, note_meta = ? WHERE library = ? AND key = ?",
        [(sig, meta, library, key) for key, (sig, meta) in notes.items()],
    )


def reference_link_count(state: StateDB) -> int:
    """How many in-library reference links all papers have together."""
    return sum(len(json.loads(r[0])) for r in state.conn.execute("SELECT refs FROM papers"))


Sig = tuple[int | None, int | None, int | None]


def sig_at_path(state: StateDB, library: str, path: str) -> Sig | None:
    """The ``(mtime_ns, size, inode)`` recorded for the item whose note is at ``path``.

    None when no item's note is there; a tuple of Nones when one is but has no signature.
    """
    row = state.conn.execute(
        "SELECT mtime_ns, size, ino FROM items WHERE path = ? AND library = ?", (path, library)
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def index_note_paths(state: StateDB) -> set[str]:
    """Vault-relative paths of the index notes zotsync last wrote."""
    return {r[0] for r in state.conn.execute("SELECT path FROM files WHERE kind = 'index'")}


def replace_index_note_paths(state: StateDB, paths: Iterable[str]) -> None:
    """Record ``paths`` as the index notes zotsync keeps (replacing the previous list)."""
    with state.transaction():
        state.conn.execute("DELETE FROM files WHERE kind = 'index'")
        state.conn.executemany(
            "INSERT OR REPLACE INTO files (path, kind) VALUES (?, 'index')", [(p,) for p in paths]
        )
