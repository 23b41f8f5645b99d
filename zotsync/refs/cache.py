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

import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from zotsync.refs.ids import normalize_title
from zotsync.state.ref_cache import CacheEntry, mention_hash
from zotsync.state.ref_cache import RefCache as _Store

__all__ = ["CacheEntry", "RefCache", "mention", "mention_hash"]


class RefCache(_Store):
    """The state's reference cache, indexing each list by the identifiers of its references."""

    def __init__(
        self, conn: sqlite3.Connection, *, now: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(conn, _mentions, now=now)


def mention(kind: str, value: str) -> str:
    """One identifier a reference can be matched by: ``t`` title (normalized), ``d`` DOI,
    ``a`` arXiv id, ``s`` Semantic Scholar id."""
    return f"{kind}:{value}"


def _mentions(payload: dict[str, Any] | None) -> Iterator[str]:
    for ref in (payload or {}).get("refs", []):
        if not isinstance(ref, list) or len(ref) < 6:
            continue
        title, _year, doi, arxiv, s2, ntitle = ref[:6]
        for kind, value in (("t", ntitle or normalize_title(title)), ("d", doi), ("a", arxiv),
                            ("s", s2)):  # fmt: skip
            if isinstance(value, str) and value:
                yield mention(kind, value)
