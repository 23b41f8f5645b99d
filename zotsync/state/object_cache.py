"""The web and local sources' object cache: Zotero's JSON per library, in a file of its own.

The sources (:mod:`zotsync.sources.zotero_http`) decide what to fetch; this keeps what they
fetched, one library partition at a time, with the library version it belongs to. It is a
cache (``.zotsync/cache/``): deleting it costs one full fetch, nothing else.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

from zotsync.state.migrations import ensure_cache_table
from zotsync.vault.confine import check_write

#: an item object's ``(parent key, whether it is a live top-level item)``; the rule is the
#: sources' (``zotero_json.tree_place``), kept beside the JSON so what changed can be told
#: without decoding it (:mod:`zotsync.sources.api_changes`)
TreePlace = Callable[[dict[str, Any]], tuple[str | None, bool]]


class ObjectCache:
    """Items' and collections' JSON per partition (library), plus small metadata, in SQLite.

    SQLite gives the atomic commit for free: a crash mid-write leaves the previous state.
    """

    def __init__(self, path: Path, place: TreePlace) -> None:
        check_write(path)  # .zotsync/cache/ must not lead out of the vault
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._place = place
        with closing(self._connect()) as db, db:
            ensure_cache_table(db, "object_cache")
            if "parent" not in {r[1] for r in db.execute("PRAGMA table_info(objects)")}:
                self._add_tree_columns(db)

    def _tree_columns(self, kind: str, data: dict[str, Any]) -> tuple[str | None, int]:
        if kind != "item":
            return None, 0
        parent, top = self._place(data)
        return parent, int(top)

    def _add_tree_columns(self, db: sqlite3.Connection) -> None:
        """A cache written before the tree columns: add them, filled from the JSON (once)."""
        db.execute("ALTER TABLE objects ADD COLUMN parent TEXT")
        db.execute("ALTER TABLE objects ADD COLUMN top INTEGER NOT NULL DEFAULT 0")
        rows = db.execute("SELECT rowid, kind, data FROM objects").fetchall()
        db.executemany(
            "UPDATE objects SET parent = ?, top = ? WHERE rowid = ?",
            [(*self._tree_columns(kind, json.loads(data)), rowid) for rowid, kind, data in rows],
        )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def meta(self, part: str, name: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT value FROM meta WHERE part=? AND name=?", (part, name)
            ).fetchone()
        return row[0] if row else None

    def versions(self, part: str, kind: str) -> dict[str, int]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT key, version FROM objects WHERE part=? AND kind=?", (part, kind)
            ).fetchall()
        return dict(rows)

    def objects(self, part: str, kind: str) -> list[dict[str, Any]]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT data FROM objects WHERE part=? AND kind=?", (part, kind)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def trees(self, part: str) -> tuple[list[tuple[str, int]], list[tuple[str, str, int]]]:
        """The live top-level items ``(key, version)`` and every child ``(key, parent,
        version)`` of ``part``, without decoding any JSON."""
        with closing(self._connect()) as db:
            tops = db.execute(
                "SELECT key, version FROM objects WHERE part=? AND kind='item' AND top=1", (part,)
            ).fetchall()
            children = db.execute(
                "SELECT key, parent, version FROM objects "
                "WHERE part=? AND kind='item' AND parent IS NOT NULL",
                (part,),
            ).fetchall()
        return tops, children

    def objects_with_keys(self, part: str, kind: str, keys: Iterable[str]) -> list[dict[str, Any]]:
        """The objects of ``keys`` (those the cache holds)."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT data FROM objects WHERE part=? AND kind=? "
                "AND key IN (SELECT value FROM json_each(?))",
                (part, kind, json.dumps(sorted(set(keys)))),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def commit(
        self,
        part: str,
        *,
        upserts: Iterable[tuple[str, dict[str, Any]]] = (),
        deletes: Iterable[tuple[str, str]] = (),
        meta: dict[str, str] | None = None,
        replace: bool = False,
    ) -> None:
        """Apply one sync pass atomically (``replace`` first empties the partition)."""
        with closing(self._connect()) as db, db:
            if replace:
                db.execute("DELETE FROM objects WHERE part=?", (part,))
            db.executemany(
                "INSERT OR REPLACE INTO objects (part, kind, key, version, data, parent, top) "
                "VALUES (?,?,?,?,?,?,?)",
                [(part, kind, d["key"], int(d.get("version") or 0), json.dumps(d),
                  *self._tree_columns(kind, d)) for kind, d in upserts],
            )  # fmt: skip
            db.executemany(
                "DELETE FROM objects WHERE part=? AND kind=? AND key=?",
                [(part, kind, key) for kind, key in deletes],
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?,?,?)",
                [(part, k, v) for k, v in (meta or {}).items()],
            )
