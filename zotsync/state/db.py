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
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
        "0003-link-index",
        # who links to whom (related items, citations in child notes), so an incremental pass
        # re-renders the notes that name an item whose note appeared, moved or went away
        """
        CREATE TABLE links (
            library TEXT NOT NULL,
            src TEXT NOT NULL,
            dst TEXT NOT NULL,
            PRIMARY KEY (library, src, dst)
        );
        CREATE INDEX links_dst ON links (library, dst);
        """,
    ),
    (
        "0004-vault-link-index",
        # the vault's own links: which files name which notes (sync/link_index.py)
        """
        CREATE TABLE vault_files (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, ino INTEGER);
        CREATE TABLE vault_links (path TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (path, name));
        CREATE INDEX vault_links_name ON vault_links (name);
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
    def load_items(
        self, library: str, *, keys: Collection[str] | None = None, light: bool = False
    ) -> dict[str, ItemState]:
        """The item rows of ``library`` (only ``keys`` when given).

        ``light`` leaves ``regions`` and ``frontmatter`` empty instead of decoding two JSON
        documents per row (most of the cost at 10,000 items): for deciding *which* items need
        work. Such a row must never be written back; load the full rows of those items.
        """
        sql = (
            "SELECT library, key, path, input_hash, "
            + ("'{}', '{}'" if light else "regions, frontmatter")
            + ", mtime_ns, size, ino, title, tombstone, deleted, conflict FROM items "
            "WHERE library = ?"
        )
        if keys is None:
            rows: Iterable[tuple[Any, ...]] = self.conn.execute(sql, (library,))
        else:
            ordered = sorted(keys)
            rows = [
                row
                for start in range(0, len(ordered), 500)
                for row in self.conn.execute(
                    sql + f" AND key IN ({','.join('?' * len(ordered[start : start + 500]))})",
                    (library, *ordered[start : start + 500]),
                )
            ]
        out: dict[str, ItemState] = {}
        for r in rows:
            out[r[1]] = ItemState(
                library=r[0],
                key=r[1],
                path=r[2],
                input_hash=r[3],
                regions={} if light else json.loads(r[4]),
                frontmatter={} if light else json.loads(r[5]),
                mtime_ns=r[6],
                size=r[7],
                ino=r[8],
                title=r[9],
                tombstone=bool(r[10]),
                deleted=bool(r[11]),
                conflict=r[12],
            )
        return out

    def item_at(self, library: str, path: str) -> ItemState | None:
        """The row of the item whose note is at ``path``, if any."""
        row = self.conn.execute(
            "SELECT key FROM items WHERE library = ? AND path = ?", (library, path)
        ).fetchone()
        return None if row is None else self.load_items(library, keys=[row[0]]).get(row[0])

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
