"""What every item is known as to reference matching, and who cites whom (SQL only).

A full pass with references resolves the whole library and records, per item, the identity
that :class:`zotsync.refs.match.LibraryIndex` matches references against (cache key, S2 id,
DOI, arXiv id, normalized title, year) and why its list is pending, if it is. The ``papers``
rows already hold each item's in-library references. Together they let an incremental pass
(:mod:`zotsync.refs.delta`) work out which notes a changed item's references touch without
reading the library: ``ref_idents`` rebuilds the match index, ``papers.refs`` answers "who
cites X", and the cache's mention index answers "whose list mentions this DOI/title".
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import NamedTuple

from zotsync.state.db import StateDB

__all__ = [
    "Ident",
    "citers_of",
    "load_idents",
    "owners_of",
    "pending_reasons",
    "refs_of",
    "save_idents",
]


class Ident(NamedTuple):
    """One item as reference matching sees it; ``why`` is non-empty while its list is pending."""

    key: str
    ck: str | None
    s2: str | None
    doi: str | None
    arxiv: str | None
    ntitle: str
    year: int | None
    why: str = ""

    @property
    def match_part(self) -> tuple[object, ...]:
        """What matching depends on (not the pending reason)."""
        return (self.s2, self.doi, self.arxiv, self.ntitle, self.year)


def load_idents(state: StateDB, library: str) -> dict[str, Ident]:
    """Every recorded identity, in the order of the pass that recorded them."""
    rows = state.conn.execute(
        "SELECT key, ck, s2, doi, arxiv, ntitle, year, why FROM ref_idents "
        "WHERE library = ? ORDER BY ord",
        (library,),
    )
    return {r[0]: Ident(*r) for r in rows}


def save_idents(
    state: StateDB, library: str, rows: Iterable[Ident], gone: Collection[str] = (), *,
    full: bool = False,
) -> None:  # fmt: skip
    """Record ``rows`` (all of them when ``full``: the old ones go); drop ``gone`` keys.

    An item recorded for the first time is placed after every other (a library's new items
    come last in a full read too); a known item keeps its place.
    """
    conn = state.conn
    if full:
        conn.execute("DELETE FROM ref_idents WHERE library = ?", (library,))
    conn.executemany(
        "DELETE FROM ref_idents WHERE library = ? AND key = ?", [(library, k) for k in gone]
    )
    (last,) = conn.execute(
        "SELECT coalesce(max(ord), -1) FROM ref_idents WHERE library = ?", (library,)
    ).fetchone()
    conn.executemany(
        "INSERT INTO ref_idents (library, key, ord, ck, s2, doi, arxiv, ntitle, year, why) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(library, key) DO UPDATE SET "
        "ck = excluded.ck, s2 = excluded.s2, doi = excluded.doi, arxiv = excluded.arxiv, "
        "ntitle = excluded.ntitle, year = excluded.year, why = excluded.why",
        [(library, r.key, last + 1 + n, *r[1:]) for n, r in enumerate(rows)],
    )


def owners_of(state: StateDB, library: str, cache_keys: Collection[str]) -> set[str]:
    """Keys of the items whose reference list is cached under one of ``cache_keys``."""
    if not cache_keys:
        return set()
    rows = state.conn.execute(
        "SELECT key FROM ref_idents WHERE library = ? AND ck IN (SELECT value FROM json_each(?))",
        (library, json.dumps(sorted(cache_keys))),
    )
    return {r[0] for r in rows}


def refs_of(state: StateDB, library: str, keys: Collection[str]) -> dict[str, list[str]]:
    """The recorded in-library references of ``keys`` (``papers.refs``)."""
    rows = state.conn.execute(
        "SELECT key, refs FROM papers WHERE library = ? AND key IN (SELECT value FROM json_each(?))",
        (library, json.dumps(sorted(keys))),
    )
    return {key: json.loads(refs or "[]") for key, refs in rows}


def citers_of(state: StateDB, library: str, keys: Collection[str]) -> dict[str, set[str]]:
    """For each of ``keys``: the items whose recorded references include it."""
    out: dict[str, set[str]] = {}
    if not keys:
        return out
    rows = state.conn.execute(
        "SELECT p.key, j.value FROM papers AS p, json_each(p.refs) AS j WHERE p.library = ? "
        "AND j.value IN (SELECT value FROM json_each(?))",
        (library, json.dumps(sorted(keys))),
    )
    for src, dst in rows:
        out.setdefault(dst, set()).add(src)
    return out


def pending_reasons(state: StateDB, library: str) -> dict[str, int]:
    """How many items' reference lists are pending, by reason."""
    rows = state.conn.execute(
        "SELECT why, count(*) FROM ref_idents WHERE library = ? AND why != '' GROUP BY why",
        (library,),
    )
    return {why: n for why, n in rows}
