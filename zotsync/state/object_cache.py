"""The web and local sources' object cache: Zotero's JSON per library, in a file of its own.

The sources (:mod:`zotsync.sources.zotero_http`) decide what to fetch; this keeps what they
fetched, one library partition at a time, with the library version it belongs to. It is a
cache (``.zotsync/cache/``): deleting it costs one full fetch, nothing else.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

from zotsync.state.migrations import ensure_cache_table
from zotsync.vault.confine import check_write


class ObjectCache:
    """Items' and collections' JSON per partition (library), plus small metadata, in SQLite.

    SQLite gives the atomic commit for free: a crash mid-write leaves the previous state.
    """

    def __init__(self, path: Path) -> None:
        check_write(path)  # .zotsync/cache/ must not lead out of the vault
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db, db:
            ensure_cache_table(db, "object_cache")

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
                "INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?)",
                [(part, kind, d["key"], int(d.get("version") or 0), json.dumps(d))
                 for kind, d in upserts],
            )  # fmt: skip
            db.executemany(
                "DELETE FROM objects WHERE part=? AND kind=? AND key=?",
                [(part, kind, key) for kind, key in deletes],
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?,?,?)",
                [(part, k, v) for k, v in (meta or {}).items()],
            )
