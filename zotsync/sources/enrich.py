"""Fill in what Zotero lacks for arXiv papers: the abstract and the date, from arXiv.

Items saved from a PDF or a bare URL often have an arXiv id but no abstract or date, which
leaves the note's ``abstract`` region empty and the planner without a year. For such items
this asks arXiv (one ``id_list`` request per 100 ids, through the run's rate-limited
:class:`~zotsync.arxiv_api.ArxivClient`) and returns the *missing* fields only: a value
Zotero has is never overridden, and nothing is written to Zotero.

Answers are cached in SQLite (a path, or an open connection such as the state DB), so a
paper is asked for once: found papers forever (an abstract and first-submission date do not
change), missing ids for :data:`MISSING_TTL` (they may be withdrawn or typos, but arXiv
sometimes lags). The date is the *first submission* (``published``), so a note's year does
not move when the authors post v2.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from zotsync.add.ids import arxiv_id_from_fields
from zotsync.arxiv_api import ArxivPaper
from zotsync.model import Item
from zotsync.state.arxiv_cache import cached_records, open_arxiv_cache, store_records

MISSING_TTL = timedelta(days=30)
ENRICHED_FIELDS = ("abstractNote", "date")


class PaperFetcher(Protocol):
    """What enrichment needs from an arXiv client."""

    def fetch_by_ids(self, ids: Iterable[str]) -> dict[str, ArxivPaper]: ...


def missing_fields(fields: Mapping[str, str]) -> list[str]:
    """The enrichable fields this item lacks (empty or whitespace counts as lacking)."""
    return [name for name in ENRICHED_FIELDS if not fields.get(name, "").strip()]


def enrich_items(
    items: Iterable[Item],
    cache: str | Path | sqlite3.Connection,
    client: PaperFetcher,
    *,
    now: datetime | None = None,
    max_fetch: int | None = None,
) -> dict[str, dict[str, str]]:
    """``{item key: {"abstractNote": …, "date": …}}`` with only the fields the item lacks.

    Items without an arXiv id, or with both fields present, cost nothing. Only ids not in the
    cache are fetched, at most ``max_fetch`` of them per call. An item whose arXiv record has nothing to add is left out.
    """
    now = now or datetime.now(UTC)
    wanted: dict[str, tuple[str, list[str]]] = {}
    for item in items:
        lacking = missing_fields(item.fields)
        arxiv_id = arxiv_id_from_fields(item.fields) if lacking else None
        if arxiv_id:
            wanted[item.key] = (arxiv_id, lacking)
    if not wanted:
        return {}
    conn, owned = open_arxiv_cache(cache)
    try:
        ids = sorted({arxiv_id for arxiv_id, _ in wanted.values()})
        known = cached_records(conn, ids, now, MISSING_TTL)
        to_fetch = [i for i in ids if i not in known]
        if max_fetch is not None:  # the rest waits for a later run (arXiv: one request per 3 s)
            to_fetch = to_fetch[:max_fetch]
        if to_fetch:
            fetched = client.fetch_by_ids(to_fetch)
            for arxiv_id in to_fetch:
                paper = fetched.get(arxiv_id)
                known[arxiv_id] = (
                    None if paper is None else (paper.summary, paper.published.date().isoformat())
                )
            store_records(conn, ((i, known[i]) for i in to_fetch), now.isoformat())
    finally:
        if owned:
            conn.close()
    result: dict[str, dict[str, str]] = {}
    for key, (arxiv_id, lacking) in wanted.items():
        record = known.get(arxiv_id)
        if record is None:
            continue
        values = {"abstractNote": record[0], "date": record[1]}
        filled = {name: values[name] for name in lacking if values[name]}
        if filled:
            result[key] = filled
    return result
