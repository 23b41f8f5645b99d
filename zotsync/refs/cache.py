"""The reference cache, kept in the state database.

One row per paper, keyed by the paper's primary lookup id (``ARXIV:1706.03762`` or
``DOI:10.…``, see :attr:`zotsync.refs.ids.PaperIds.cache_key`), so two Zotero items for the same
paper share a row and a changed item title costs no request::

    refs_cache(paper_id_key TEXT PRIMARY KEY, fetched_at TEXT, status TEXT, payload TEXT)

``status`` is ``ok`` (complete list), ``partial`` (the batch list was shorter than
``referenceCount`` and paging did not finish: refetched next run), or ``not-found`` (S2 does not
know the paper: asked again once the entry is stale). ``payload`` is compact JSON (see
:mod:`zotsync.refs.resolve`): already-normalized references, so a warm run decodes JSON and
looks up dicts, nothing more. ``fetched_at`` is ISO 8601 UTC; an entry older than
``max_age_days`` is stale and refreshed when the network allows (and still used if it does not).

Reading is one query for any number of keys (the keys travel as one JSON array through
``json_each``, so SQLite's parameter limit never applies).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zotsync.state.migrations import ensure_cache_table


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A cached answer for one paper; ``payload`` is None for ``not-found``."""

    key: str
    fetched_at: datetime
    status: str
    payload: dict[str, Any] | None

    def is_fresh(self, now: datetime, max_age_days: float) -> bool:
        """Fresh = complete and younger than ``max_age_days``; partial entries never are."""
        if self.status == "partial":
            return False
        return now - self.fetched_at < timedelta(days=max_age_days)


class RefCache:
    """Reference lists by paper, stored in (and sharing) the given SQLite connection."""

    def __init__(self, conn: sqlite3.Connection, *, now: Callable[[], datetime] = _utcnow) -> None:
        self.conn = conn
        self.now = now
        ensure_cache_table(conn, "refs_cache")

    def get_many(self, keys: Iterable[str]) -> dict[str, CacheEntry]:
        """The cached entries among ``keys`` (missing keys are absent), in one query."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = self.conn.execute(
            "SELECT paper_id_key, fetched_at, status, payload FROM refs_cache "
            "WHERE paper_id_key IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        ).fetchall()
        out: dict[str, CacheEntry] = {}
        for key, fetched_at, status, payload in rows:
            try:
                when = datetime.fromisoformat(fetched_at)
                data = json.loads(payload) if payload else None
            except ValueError:
                continue  # a damaged row is simply a miss: it will be fetched again
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            out[key] = CacheEntry(key, when, status, data if isinstance(data, dict) else None)
        return out

    def get(self, key: str) -> CacheEntry | None:
        return self.get_many([key]).get(key)

    def put_many(self, entries: Iterable[tuple[str, str, dict[str, Any] | None]]) -> int:
        """Store ``(key, status, payload)`` rows stamped now; commits. Returns rows written."""
        stamp = self.now().astimezone(UTC).isoformat(timespec="seconds")
        rows = [
            (
                key,
                stamp,
                status,
                json.dumps(payload, separators=(",", ":")) if payload is not None else None,
            )
            for key, status, payload in entries
        ]
        if rows:
            with self.conn:
                self.conn.executemany(
                    "INSERT INTO refs_cache (paper_id_key, fetched_at, status, payload) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(paper_id_key) DO UPDATE SET "
                    "fetched_at = excluded.fetched_at, status = excluded.status, "
                    "payload = excluded.payload",
                    rows,
                )
        return len(rows)

    def put(self, key: str, status: str, payload: dict[str, Any] | None) -> None:
        self.put_many([(key, status, payload)])

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM refs_cache").fetchone()[0])

    def clear(self) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM refs_cache")
