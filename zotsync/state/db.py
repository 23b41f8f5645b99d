"""The state database ``.zotsync/state.sqlite``.

It remembers, per item, where its note is, what zotsync last wrote there (a hash per managed
region and one for the owned frontmatter values), the file's signature right after that write,
and a hash of the render input. With those the planner can tell "Zotero changed", "the user
edited their own text", "the user edited a managed region" and "we crashed after writing" apart
without trusting timestamps alone.

Schema changes are named migrations applied in order, each recorded in ``migrations``; an
existing database is copied to ``.zotsync/backups/`` before the first migration touches it.

A damaged database (not SQLite at all, truncated, corrupt pages, another program's database,
or a folder in its place) is found when it is opened (:func:`state_db_problem`), moved aside
as ``state.corrupt-<UTC time>.sqlite`` and replaced by an empty one. Nothing is lost by that:
every note carries its ``zotero-key``, so the next pass adopts each note again (regions that
match the rendering are recorded, edited ones become conflicts, as after a first sync).

``readonly=True`` (``status``, ``--dry-run``) works on an in-memory copy: a missing or damaged
file reads as empty and nothing is ever created or changed on disk.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zotsync.state.health import (
    closed_cleanly,
    connect_ro,
    move_aside,
    remember_clean,
    state_db_problem,
)
from zotsync.state.migrations import MIGRATIONS
from zotsync.vault.confine import check_write
from zotsync.vault.disk import stop_on_disk_error

log = logging.getLogger(__name__)
OUR_TABLES = frozenset({"migrations", "meta", "items", "runs", "files"})


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
    #: False for a note adopted from another tool: it keeps its name, whatever the title
    named: bool = True
    #: owned frontmatter keys an adopted note already had: their values stay the user's
    user_keys: list[str] = field(default_factory=list)

    @property
    def sig(self) -> tuple[int, int, int] | None:
        if self.mtime_ns is None or self.size is None or self.ino is None:
            return None
        return (self.mtime_ns, self.size, self.ino)


def read_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """One value of the state's ``meta`` table (for holders of a bare connection, too)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def write_meta(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    """Set (or, with ``None``, delete) one value of the ``meta`` table."""
    if value is None:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One atomic unit on ``conn``: committed on success, rolled back on any exception. Inside
    another transaction it is part of that one (the outer unit commits or rolls back). Also on
    an autocommit connection, where many statements would otherwise be as many commits."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class StateDB:
    """Thin typed access to the state tables; one connection per run.

    ``recovered`` is ``(what was wrong, where the damaged file went)`` when the database had to
    be moved aside on open (``readonly``: where it would go, nothing is moved).
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self.recovered: tuple[str, Path | None] | None = None
        # SQLite's quick_check reads every page (0.6 s with a large reference cache): skipped
        # when the file is exactly as the last run that closed it left it
        problem = None if closed_cleanly(path) else state_db_problem(path)
        if readonly:
            self.conn = sqlite3.connect(":memory:", isolation_level=None)
            if problem is None and path.is_file():
                source = connect_ro(path)
                try:
                    source.backup(self.conn)
                finally:
                    source.close()
            self.recovered = (problem, None) if problem else None
            self._migrate(False)
            return
        check_write(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if problem is not None:
                aside = move_aside(path)
                self.recovered = (problem, aside)
                log.warning(
                    "the state database %s was damaged (%s): moved it to %s and rebuilt it "
                    "from the notes' zotero-key",
                    path,
                    problem,
                    aside.name,
                )
            existed = path.exists()
            self.conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate(existed)
        except (OSError, sqlite3.OperationalError) as exc:
            stop_on_disk_error(exc, path)
            raise

    def _migrate(self, existed: bool) -> None:
        self.conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, at TEXT)")
        done = {row[0] for row in self.conn.execute("SELECT name FROM migrations")}
        pending = [(n, sql) for n, sql in MIGRATIONS if n not in done]
        if pending and existed and done:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            backup = self.path.parent / "backups" / f"state-{stamp}.sqlite"
            check_write(backup)
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
        """One atomic unit (see :func:`transaction`)."""
        with transaction(self.conn):
            yield self.conn

    def close(self) -> None:
        self.conn.close()
        if not self.readonly:
            remember_clean(self.path)

    # -- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        return read_meta(self.conn, key)

    def set_meta(self, key: str, value: str | None) -> None:
        write_meta(self.conn, key, value)

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
            + ", mtime_ns, size, ino, title, tombstone, deleted, conflict, named, user_keys FROM items "
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
                named=bool(r[13]),
                user_keys=[] if r[14] == "[]" else json.loads(r[14]),  # the common case, free
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
            "INSERT OR REPLACE INTO items (library, key, path, input_hash, regions, frontmatter,"
            " mtime_ns, size, ino, title, tombstone, deleted, conflict, named, user_keys)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                int(s.named),
                json.dumps(s.user_keys),
            ),
        )

    def rekey_item(self, library: str, old: str, new: str) -> None:
        """The row of ``old`` now belongs to ``new`` (a standalone attachment got a parent)."""
        with self.transaction():
            self.conn.execute("DELETE FROM items WHERE library = ? AND key = ?", (library, new))
            self.conn.execute(
                "UPDATE items SET key = ? WHERE library = ? AND key = ?", (new, library, old)
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
