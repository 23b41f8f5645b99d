"""The reference cache's tables: lists by paper, and which identifiers each list mentions.

Everything SQL about the cache lives here (the state layer owns every table); what a list
*is*, and which identifiers a reference can be matched by, belongs to :mod:`zotsync.refs.cache`,
which gives this store its ``mentions`` function.

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
``json_each``, so SQLite's parameter limit never applies). ``ref_mentions`` holds 64-bit
hashes of the identifiers each list mentions, pointing at the list's rowid.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zotsync.state.db import transaction
from zotsync.state.migrations import ensure_cache_table

Mentions = Callable[[dict[str, Any] | None], Iterable[str]]


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

    def __init__(
        self,
        conn: sqlite3.Connection,
        mentions: Mentions,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.conn = conn
        self.now = now or _utcnow
        self.mentions = mentions
        ensure_cache_table(conn, "refs_cache")
        ensure_cache_table(conn, "ref_mentions")
        backfill = conn.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM ref_mentions) "
            "AND EXISTS (SELECT 1 FROM refs_cache WHERE payload IS NOT NULL)"
        ).fetchone()[0]
        if backfill:  # a cache written before the mentions were kept: index it once
            rows = conn.execute("SELECT paper_id_key, payload FROM refs_cache").fetchall()
            with transaction(conn):
                self._mention((key, _decoded(payload)) for key, payload in rows)

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
        entries_list = list(entries)
        rows = [
            (
                key,
                stamp,
                status,
                json.dumps(payload, separators=(",", ":")) if payload is not None else None,
            )
            for key, status, payload in entries_list
        ]
        if rows:
            with transaction(self.conn):
                self.conn.executemany(
                    "INSERT INTO refs_cache (paper_id_key, fetched_at, status, payload) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(paper_id_key) DO UPDATE SET "
                    "fetched_at = excluded.fetched_at, status = excluded.status, "
                    "payload = excluded.payload",
                    rows,
                )
                self._mention((key, payload) for key, _, payload in entries_list)
        return len(rows)

    def _mention(self, entries: Iterable[tuple[str, dict[str, Any] | None]]) -> None:
        """Index which identifiers each list mentions (hashed: :func:`mention_hash`).

        Rows are only ever added: a refreshed list keeps the mentions of its older version,
        which can only widen a search (the caller matches properly), never miss a list.
        """
        mentioned = {key: {mention_hash(m) for m in self.mentions(p)} for key, p in entries}
        rowids = dict(
            self.conn.execute(
                "SELECT paper_id_key, rowid FROM refs_cache "
                "WHERE paper_id_key IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(mentioned)),),
            )
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO ref_mentions (h, list) VALUES (?, ?)",
            [(h, rowids[key]) for key, hs in mentioned.items() if key in rowids for h in hs],
        )

    def lists_mentioning(self, identifiers: Iterable[str]) -> set[str]:
        """Keys of the cached lists that mention any of ``identifiers`` (a superset: hashes)."""
        wanted = sorted({mention_hash(i) for i in identifiers})
        if not wanted:
            return set()
        rows = self.conn.execute(
            "SELECT DISTINCT c.paper_id_key FROM ref_mentions AS m "
            "JOIN refs_cache AS c ON c.rowid = m.list "
            "WHERE m.h IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        )
        return {r[0] for r in rows}

    def put(self, key: str, status: str, payload: dict[str, Any] | None) -> None:
        self.put_many([(key, status, payload)])

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM refs_cache").fetchone()[0])

    def clear(self) -> None:
        with transaction(self.conn):
            self.conn.execute("DELETE FROM refs_cache")
            self.conn.execute("DELETE FROM ref_mentions")


def mention_hash(identifier: str) -> int:
    """A 64-bit hash of :func:`mention` (CRC-32 and Adler-32 side by side: fast, and a
    collision only widens a search)."""
    data = identifier.encode("utf-8")
    value = (zlib.crc32(data) << 32) | zlib.adler32(data)
    return value - (1 << 64) if value >= 1 << 63 else value


def _decoded(payload: str | None) -> dict[str, Any] | None:
    """A stored payload, or None when it is damaged (a miss, as :meth:`RefCache.get_many`
    treats it)."""
    try:
        value = json.loads(payload) if payload else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
