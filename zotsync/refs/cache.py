"""The reference cache as the resolver uses it: the state's store, indexed by mentions.

The rows and their meaning (one per paper, keyed by its primary lookup id; ``ok``, ``partial``
and ``not-found``; staleness) are described with the table in :mod:`zotsync.state.ref_cache`.
What is decided here is which identifiers a stored list *mentions*: each reference's
normalized title, DOI, arXiv id and Semantic Scholar id, so a changed paper finds the lists
that may cite it without decoding them all (:mod:`zotsync.refs.delta`).
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
