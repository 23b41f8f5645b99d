"""Live edits to a Zotero database, one transaction each, as the running desktop makes them.

Daemon and snapshot tests need "Zotero" to change the library while zotsync reads it: rename
an item, tag it, trash it, add a note. :class:`ZoteroDbWriter` makes each edit its own
transaction, bumps ``dateModified`` (and Zotero 10's ``clientVersion``) like the desktop, and
:func:`hold_exclusive` holds the database the way a running desktop does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from zotsync.model import ChildNote, Item, Tag
from zotsync.testing.zotero_staging import ITEM_TABLES, ZoteroDbStaging

__all__ = ["ZoteroDbWriter", "hold_exclusive"]


class ZoteroDbWriter(ZoteroDbStaging):
    """Writes model objects into an open Zotero database the way the desktop stores them.

    Bulk building stages rows and inserts them in :meth:`flush`; with ``autocommit`` every
    public edit below is its own transaction, as in the running desktop, and Zotero 10
    databases get ``clientVersion`` bumped per transaction.
    """

    # -- live edits (one transaction each, like the desktop) -------------------------------
    @contextmanager
    def _tx(self) -> Iterator[None]:
        if not self.autocommit:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.flush()
            self.conn.execute("COMMIT")
        except BaseException:
            self.rows.clear()
            self.conn.execute("ROLLBACK")
            raise

    def _lookup(self, key: str, library_id: int) -> tuple[int, int]:
        row = self.conn.execute(
            "SELECT itemID, itemTypeID FROM items WHERE key = ? AND libraryID = ?",
            (key, library_id),
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return int(row[0]), int(row[1])

    def _touch(self, item_id: int, library_id: int) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        self.conn.execute(
            "UPDATE items SET dateModified = ?, clientDateModified = ?, synced = 0 WHERE itemID = ?",
            (now, now, item_id),
        )
        if self.v10:
            self.conn.execute(
                "UPDATE libraries SET clientVersion = clientVersion + 1 WHERE libraryID = ?",
                (library_id,),
            )
            self.conn.execute(
                "UPDATE items SET clientVersion = (SELECT clientVersion FROM libraries WHERE libraryID = ?) WHERE itemID = ?",
                (library_id, item_id),
            )

    def touch_setting(self) -> None:
        """A harmless write (the desktop records its version at start-up)."""
        with self._tx():
            self.conn.execute(
                "INSERT OR REPLACE INTO settings VALUES ('client', 'lastStartup', ?)",
                (datetime.now(UTC).isoformat(),),
            )

    def set_field(self, key: str, field: str, value: str, library_id: int = 1) -> None:
        """Change (or with ``""`` remove) one field of an item."""
        with self._tx():
            item_id, type_id = self._lookup(key, library_id)
            fid = self._field_id(type_id, field)
            self.conn.execute(
                "DELETE FROM itemData WHERE itemID = ? AND fieldID = ?", (item_id, fid)
            )
            if value:
                self._stage_fields(item_id, type_id, {field: value})
            self._touch(item_id, library_id)

    def set_title(self, key: str, title: str, library_id: int = 1) -> None:
        """Rename an item (the commonest edit in the daemon tests)."""
        self.set_field(key, "title", title, library_id)

    def add_tag(self, key: str, tag: Tag | str, library_id: int = 1) -> None:
        """Tag an item (manual unless ``tag.auto``)."""
        tag = Tag(tag) if isinstance(tag, str) else tag
        with self._tx():
            item_id, _ = self._lookup(key, library_id)
            self.conn.execute(
                "DELETE FROM itemTags WHERE itemID = ? AND tagID = ?",
                (item_id, self.tags.get(tag.name, -1)),
            )
            self._stage_tags(item_id, [tag])
            self._touch(item_id, library_id)

    def add_item(self, item: Item, library_id: int = 1) -> int:
        """Add a new top-level item with its children; returns its itemID."""
        with self._tx():
            item_id = self.stage_item(item, library_id)
            self.flush()
            self._touch(item_id, library_id)
        return item_id

    def add_note(self, parent_key: str, note: ChildNote, library_id: int = 1) -> None:
        """Add a child note to an existing item."""
        with self._tx():
            parent_id, _ = self._lookup(parent_key, library_id)
            self._stage_note(note, parent_id, library_id, 0)
            self._touch(parent_id, library_id)

    def add_standalone_note(self, note: ChildNote, library_id: int = 1) -> None:
        """Add a note with no parent (not a paper: sources must leave it out)."""
        with self._tx():
            note_id = self._stage_note(note, None, library_id, 0)
            self.flush()
            self._touch(note_id, library_id)

    def trash(self, key: str, library_id: int = 1) -> None:
        """Move an item (or a child) to the trash."""
        with self._tx():
            item_id, _ = self._lookup(key, library_id)
            self.conn.execute("INSERT OR IGNORE INTO deletedItems (itemID) VALUES (?)", (item_id,))
            self._touch(item_id, library_id)

    def restore(self, key: str, library_id: int = 1) -> None:
        """Take an item out of the trash."""
        with self._tx():
            item_id, _ = self._lookup(key, library_id)
            self.conn.execute("DELETE FROM deletedItems WHERE itemID = ?", (item_id,))
            self._touch(item_id, library_id)

    def delete(self, key: str, library_id: int = 1) -> None:
        """Erase an item and its children for good (emptying the trash)."""
        with self._tx():
            item_id, _ = self._lookup(key, library_id)
            ids = [item_id] + [
                r[0]
                for r in self.conn.execute(
                    "SELECT itemID FROM itemNotes WHERE parentItemID = ? UNION SELECT itemID FROM itemAttachments WHERE parentItemID = ?",
                    (item_id, item_id),
                )
            ]
            ids += [
                r[0]
                for r in self.conn.execute(
                    f"SELECT itemID FROM itemAnnotations WHERE parentItemID IN ({','.join('?' * len(ids))})",
                    ids,
                )
            ]
            marks = ",".join("?" * len(ids))
            for table in (*ITEM_TABLES, "items"):
                self.conn.execute(f"DELETE FROM {table} WHERE itemID IN ({marks})", ids)
            self.conn.execute(
                "INSERT OR IGNORE INTO syncDeleteLog (syncObjectTypeID, libraryID, key) VALUES (3, ?, ?)",
                (library_id, key),
            )

    def checkpoint(self) -> None:
        """Checkpoint the WAL into the main file (what Zotero 10 does when idle)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextmanager
def hold_exclusive(path: str | Path) -> Iterator[ZoteroDbWriter]:
    """Open ``path`` like a running desktop: exclusive lock held, WAL left un-checkpointed.

    While the block runs, ordinary readers get ``database is locked``; every write made through
    the yielded writer is committed at once (for a WAL database it stays in ``-wal``, as Zotero
    10 leaves it until idle). Leaving the block closes the connection, which checkpoints.
    """
    conn = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal":
            conn.execute("PRAGMA wal_autocheckpoint=0")
        writer = ZoteroDbWriter(conn, autocommit=True)
        # the desktop writes at start-up; the first write takes the exclusive lock for good
        writer.touch_setting()
        yield writer
    finally:
        conn.close()
