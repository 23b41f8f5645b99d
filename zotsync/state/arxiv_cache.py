"""The arXiv metadata cache's table: abstract and first-submission date per arXiv id.

The SQL of :mod:`zotsync.sources.enrich`, which decides what to ask arXiv for. The cache lives
in the state database, or in a file of its own for callers without a vault (a path).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from zotsync.state.migrations import ensure_cache_table

ArxivRecord = tuple[str, str]  # (abstract, date)


def open_arxiv_cache(cache: str | Path | sqlite3.Connection) -> tuple[sqlite3.Connection, bool]:
    """A connection holding the cache table, and whether the caller must close it."""
    if isinstance(cache, sqlite3.Connection):
        conn, owned = cache, False
    else:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        conn, owned = sqlite3.connect(str(cache)), True
    ensure_cache_table(conn, "arxiv_metadata")
    return conn, owned


def cached_records(
    conn: sqlite3.Connection, ids: list[str], now: datetime, missing_ttl: timedelta
) -> dict[str, ArxivRecord | None]:
    """Fresh rows: id -> (abstract, date), or None for an id found missing within the TTL."""
    out: dict[str, ArxivRecord | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT arxiv_id, fetched_at, found, abstract, date FROM arxiv_metadata "
            f"WHERE arxiv_id IN ({marks})",
            chunk,
        )
        for arxiv_id, fetched_at, found, abstract, date in rows:
            if found:
                out[arxiv_id] = (abstract, date)
            elif now - datetime.fromisoformat(fetched_at) < missing_ttl:
                out[arxiv_id] = None
    return out


def store_records(
    conn: sqlite3.Connection, records: Iterable[tuple[str, ArxivRecord | None]], stamp: str
) -> None:
    """Remember arXiv's answers (``None``: arXiv does not know the id), in one commit."""
    conn.executemany(
        "INSERT OR REPLACE INTO arxiv_metadata VALUES (?, ?, ?, ?, ?)",
        [
            (arxiv_id, stamp, 0, "", "") if record is None else (arxiv_id, stamp, 1, *record)
            for arxiv_id, record in records
        ],
    )
    conn.commit()
