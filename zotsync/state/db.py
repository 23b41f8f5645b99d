"""The state database ``.zotsync/state.sqlite``.

It remembers, per item, where its note is, what zotsync last wrote there (a hash per managed
region and one for the owned frontmatter values), the file's signature right after that write,
and a hash of the render input. With those the planner can tell "Zotero changed", "the user
edited their own text", "the user edited a managed region" and "we crashed after writing" apart
without trusting timestamps alone.

Schema changes are named migrations applied in order, each recorded in ``migrations``; an
existing database is copied to ``.zotsync/backups/`` before the first migration touches it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001-initial",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE items (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            path TEXT,
            input_hash TEXT,
            regions TEXT NOT NULL DEFAULT '{}',
            frontmatter TEXT NOT NULL DEFAULT '{}',
            mtime_ns INTEGER, size INTEGER, ino INTEGER,
            title TEXT,
            tombstone INTEGER NOT NULL DEFAULT 0,
            deleted INTEGER NOT NULL DEFAULT 0,
            conflict TEXT,
            PRIMARY KEY (library, key)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL, kind TEXT NOT NULL, counts TEXT NOT NULL, errors TEXT NOT NULL
        );
        CREATE TABLE files (
            path TEXT PRIMARY KEY, kind TEXT, hash TEXT, mtime_ns INTEGER, size INTEGER, ino INTEGER
        );
        """,
    ),
    (
        "0002-papers",
        """
        CREATE TABLE papers (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            date_added TEXT,
            refs TEXT NOT NULL DEFAULT '[]',
            note_sig TEXT,
            note_meta TEXT,
            PRIMARY KEY (library, key)
        );
        """,
    ),
    (
        # the renames a pass is about to make, written before the first one: a pass killed
        # between a rename and its link rewrite leaves the rewrite to the next start; and the
        # region hashes of a note about to be written, so a pass killed between the write and
        # the state row still knows the note's regions for its own (sync/journal.py)
        "0003-journals",
        """
        CREATE TABLE pending_writes (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            regions TEXT NOT NULL,
            PRIMARY KEY (library, key)
        );
        CREATE TABLE rename_journal (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            library TEXT NOT NULL,
            old_path TEXT NOT NULL,
            new_path TEXT NOT NULL
        );
        INSERT INTO rename_journal (library, old_path, new_path)
            SELECT '', json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')
            FROM meta, json_each(meta.value) AS j WHERE meta.key = 'pending_renames';
        DELETE FROM meta WHERE key = 'pending_renames';
        """,
    ),
]


@dataclass
class ItemState:
    """What zotsync knows about one item's note after the last successful action."""

    library: str
    key: str
    path: str | None = None
    input_hash: str | None = None
    regions: dict[str, str] = field(default_factory=dict)
    frontmatter: dict[str, str] = field(default_factory=dict)
    mtime_ns: int | None = None
    size: int | None = None
    ino: int | None = None
    title: str | None = None
    tombstone: bool = False
    deleted: bool = False
    conflict: str | None = None

    @property
    def sig(self) -> tuple[int, int, int] | None:
        if self.mtime_ns is None or self.size is None or self.ino is None:
            return None
        return (self.mtime_ns, self.size, self.ino)


class StateDB:
    """Thin typed access to the state tables; one connection per run."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        self.path = path
        self.conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate(existed)

    def _migrate(self, existed: bool) -> None:
        self.conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, at TEXT)")
        done = {row[0] for row in self.conn.execute("SELECT name FROM migrations")}
        pending = [(n, sql) for n, sql in MIGRATIONS if n not in done]
        if pending and existed and done:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            backup = self.path.parent / "backups" / f"state-{stamp}.sqlite"
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.path, backup)
        for name, sql in pending:
            with self.transaction():
                for statement in sql.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO migrations VALUES (?, ?)",
                    (name, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit: committed on success, rolled back on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    # -- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- items ----------------------------------------------------------------------------
    def load_items(self, library: str) -> dict[str, ItemState]:
        rows = self.conn.execute(
            "SELECT library, key, path, input_hash, regions, frontmatter, mtime_ns, size, ino,"
            " title, tombstone, deleted, conflict FROM items WHERE library = ?",
            (library,),
        )
        out: dict[str, ItemState] = {}
        for r in rows:
            out[r[1]] = ItemState(
                library=r[0],
                key=r[1],
                path=r[2],
                input_hash=r[3],
                regions=json.loads(r[4]),
                frontmatter=json.loads(r[5]),
                mtime_ns=r[6],
                size=r[7],
                ino=r[8],
                title=r[9],
                tombstone=bool(r[10]),
                deleted=bool(r[11]),
                conflict=r[12],
            )
        return out

    def put_item(self, s: ItemState) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                s.library,
                s.key,
                s.path,
                s.input_hash,
                json.dumps(s.regions, sort_keys=True),
                json.dumps(s.frontmatter, sort_keys=True),
                s.mtime_ns,
                s.size,
                s.ino,
                s.title,
                int(s.tombstone),
                int(s.deleted),
                s.conflict,
            ),
        )

    def delete_item(self, library: str, key: str) -> None:
        self.conn.execute("DELETE FROM items WHERE library = ? AND key = ?", (library, key))

    # -- runs -----------------------------------------------------------------------------
    def record_run(self, kind: str, counts: dict[str, int], errors: list[str]) -> None:
        self.conn.execute(
            "INSERT INTO runs (at, kind, counts, errors) VALUES (?, ?, ?, ?)",
            (
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                kind,
                json.dumps(counts),
                json.dumps(errors[:50]),
            ),
        )

    def last_run(self, kind: str = "sync") -> dict[str, object] | None:
        row = self.conn.execute(
            "SELECT at, counts, errors FROM runs WHERE kind = ? ORDER BY id DESC LIMIT 1", (kind,)
        ).fetchone()
        if row is None:
            return None
        return {"at": row[0], **json.loads(row[1]), "errors": json.loads(row[2])}

    def count_runs(self, kind: str = "sync") -> int:
        row = self.conn.execute("SELECT COUNT(*) FROM runs WHERE kind = ?", (kind,)).fetchone()
        return int(row[0])

    def count_conflicts(self) -> int:
        row = self.conn.execute(
            "SELECT COUNT(*) FROM items WHERE conflict IS NOT NULL AND tombstone = 0"
        ).fetchone()
        return int(row[0])

    # -- rename journal -------------------------------------------------------------------
    def journal_renames(self, library: str, renames: list[tuple[str, str]]) -> None:
        """Record renames (old path, new path) a pass is about to make, in one transaction."""
        if not renames:
            return
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO rename_journal (library, old_path, new_path) VALUES (?, ?, ?)",
                [(library, old, new) for old, new in renames],
            )

    def journalled_renames(self, library: str) -> list[tuple[str, str]]:
        """Journalled renames in the order they were planned ('' rows: from before 0003)."""
        rows = self.conn.execute(
            "SELECT old_path, new_path FROM rename_journal WHERE library IN (?, '') ORDER BY seq",
            (library,),
        )
        return [(str(old), str(new)) for old, new in rows]

    def clear_rename_journal(self, library: str) -> None:
        self.conn.execute("DELETE FROM rename_journal WHERE library IN (?, '')", (library,))

    # -- pending writes -------------------------------------------------------------------
    def put_pending_writes(self, library: str, regions: dict[str, dict[str, str]]) -> None:
        """Region hashes (key → name → hash) of notes about to be written, in one transaction."""
        if not regions:
            return
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO pending_writes VALUES (?, ?, ?)",
                [(library, k, json.dumps(r, sort_keys=True)) for k, r in regions.items()],
            )

    def load_pending_writes(self, library: str) -> dict[str, dict[str, str]]:
        rows = self.conn.execute(
            "SELECT key, regions FROM pending_writes WHERE library = ?", (library,)
        )
        return {str(key): json.loads(regions) for key, regions in rows}

    def clear_pending_write(self, library: str, key: str) -> None:
        self.conn.execute(
            "DELETE FROM pending_writes WHERE library = ? AND key = ?", (library, key)
        )
