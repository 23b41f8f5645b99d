"""Reference lists for an incremental pass, without reading the whole library.

A full pass resolves every item's list against an index of the whole library
(:mod:`zotsync.refs.resolve`). An incremental pass has only the changed items, so it works from
what the last pass recorded (:mod:`zotsync.state.ref_index`): every item's identity (the match
index is rebuilt from those rows), every item's in-library references (``papers.refs``) and
the cached lists themselves. A changed item ``X`` moves the rendering of:

1. ``X`` itself (its list, matched against the index with ``X``'s new identity);
2. the items ``X`` cited before and cites now (their cited-by lists);
3. the items whose lists matched ``X`` before (``papers.refs``), and, when ``X``'s identity
   moved (a new item, an edited title, year, DOI or arXiv id), those whose lists may match it
   now: the cached lists that mention one of its new identifiers. Matching by title also
   depends on the other items with that title (the nearest year wins, a title without a year
   must be unique), so the lists mentioning ``X``'s old title are included while another item
   still carries it;
4. the other items that share ``X``'s cached list (two Zotero items for one paper).

Everything else keeps its references, cited-by list and note, exactly as a full pass would
leave them. The one case this cannot reproduce is an identifier two items share (duplicates:
the first item in library order wins it), so an identity change touching a shared DOI, arXiv
or S2 id makes the pass a full one. So does a library with no recorded identities yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from zotsync.model import Item
from zotsync.refs.answers import Answer, gather
from zotsync.refs.cache import RefCache, mention
from zotsync.refs.ids import PaperIds, item_ids
from zotsync.refs.match import LibraryIndex
from zotsync.refs.resolve import Deferred, ItemRefs, RefGraph, ident, item_refs
from zotsync.refs.s2 import S2Client
from zotsync.state.db import StateDB
from zotsync.state.ref_index import (
    Ident,
    citers_of,
    load_idents,
    owners_of,
    refs_of,
)

__all__ = ["NeedsFullPass", "RefDelta"]


class NeedsFullPass(Exception):
    """The change touches something only a whole-library resolution decides."""


@dataclass
class RefDelta:
    """One incremental pass's reference work (see the module docstring)."""

    state: StateDB
    label: str
    cache: RefCache
    client: S2Client | None
    deadline_s: float = 30
    refresh: bool = False
    max_age_days: float = 30
    clock: Callable[[], float] = time.monotonic
    recorded: dict[str, Ident] = field(default_factory=dict)
    idents: dict[str, Ident] = field(default_factory=dict)
    refs: dict[str, ItemRefs] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    requests: int = 0

    def __post_init__(self) -> None:
        self.recorded = load_idents(self.state, self.label)
        self._deadline = self.clock() + self.deadline_s
        self._index: LibraryIndex | None = None
        self._titles: dict[str, set[str]] | None = None

    def expand(self, changed: list[Item], gone: set[str]) -> set[str]:
        """Keys whose notes the changes to ``changed`` and ``gone`` touch through references.

        Raises :class:`NeedsFullPass` when only a full pass can decide (module docstring).
        """
        if not self.recorded:
            raise NeedsFullPass("no reference identities recorded yet")
        self.gone = set(gone)
        self._resolve_own(changed)
        moved = {
            k
            for k, new in self.idents.items()
            if k not in self.recorded or self.recorded[k].match_part != new.match_part
        } | (self.gone & self.recorded.keys())
        self._check_unique(moved)
        needles: set[str] = set()
        for key in moved:
            old, new = self.recorded.get(key), self.idents.get(key)
            for kind, value, before in (
                ("s", new and new.s2, old and old.s2),
                ("d", new and new.doi, old and old.doi),
                ("a", new and new.arxiv, old and old.arxiv),
            ):
                if value and value != before:
                    needles.add(mention(kind, value))
            if (
                new
                and new.ntitle
                and (old is None or (old.ntitle, old.year) != (new.ntitle, new.year))
            ):
                needles.add(mention("t", new.ntitle))
            if old and old.ntitle and self._title_shared(key, old.ntitle):
                needles.add(mention("t", old.ntitle))
        mine = {i.key for i in changed} | self.gone
        # items whose own list may match differently now, and the ones sharing a changed list
        citing = owners_of(self.state, self.label, self.cache.lists_mentioning(needles))
        for citers in citers_of(self.state, self.label, moved).values():
            citing |= citers
        citing |= owners_of(self.state, self.label, {i.ck for i in self.idents.values() if i.ck})
        citing -= mine
        # and every paper whose cited-by list they (or the changed items) enter or leave
        touched = set(citing)
        for cited in refs_of(self.state, self.label, mine | citing).values():
            touched.update(cited)
        for refs in self.refs.values():
            touched.update(refs.in_library)
        touched |= self._targets(citing)
        return touched - mine

    def _targets(self, keys: set[str]) -> set[str]:
        """The library papers the cached lists of ``keys`` match now (before reading them)."""
        rows = {k: self.recorded[k] for k in keys if k in self.recorded}
        entries = self.cache.get_many({r.ck for r in rows.values() if r.ck})
        match = self._library_index().match_parts
        out: set[str] = set()
        for key, row in rows.items():
            entry = entries.get(row.ck or "")
            for title, year, doi, arxiv, s2, ntitle in ((entry and entry.payload) or {}).get(
                "refs", []
            ):
                target = match(title, year, doi, arxiv, s2, ntitle)
                if target is not None and target != key:
                    out.add(target)
        return out

    def graph(self, items: list[Item]) -> RefGraph:
        """References and cited-by lists of ``items`` (the pass's work set), as a full pass
        would compute them."""
        self._resolve_own([i for i in items if i.key not in self.refs])
        graph = RefGraph(requests=self.requests)
        work = {i.key for i in items}
        for item in items:
            graph.items[item.key] = self.refs[item.key]
            graph.idents[item.key] = self.idents[item.key]
            reason = self.deferred.get(self.idents[item.key].ck or "")
            if reason and self.client is not None:  # offline on purpose: nothing to retry
                graph.deferred.append(Deferred(item.key, self.idents[item.key].ck or "", reason))
        citing = {k: {c for c in v if c not in work} for k, v in citers_of(
            self.state, self.label, work).items()}  # fmt: skip
        for key in work:
            for target in self.refs[key].in_library:
                citing.setdefault(target, set()).add(key)
        rows = {**self.recorded, **self.idents}
        order = {k: (r.year or 9999, r.ntitle, k) for k, r in rows.items()}
        graph.cited_by = {
            target: sorted(citers, key=order.__getitem__)
            for target, citers in citing.items()
            if target in work and citers
        }
        return graph

    def _resolve_own(self, items: list[Item]) -> None:
        """Answers, identities and reference lists of ``items`` against the current index."""
        if not items:
            return
        ids = {i.key: item_ids(i) for i in items}
        lookups = {
            ck: p.lookup_ids()
            for p in ids.values()
            if (ck := p.cache_key) and ck not in self.answers
        }
        before = self.client.requests if self.client else 0
        answers, deferred = gather(
            lookups, self.cache, self.client, None, self._deadline,
            refresh=self.refresh, max_age_days=self.max_age_days,
        )  # fmt: skip
        self.requests += (self.client.requests - before) if self.client else 0
        self.answers.update(answers)
        self.deferred.update(deferred)
        s2_ids = {}
        for key, own in ids.items():
            payload = (self.answers.get(own.cache_key or "") or Answer("", None)).payload
            if payload and isinstance(payload.get("paperId"), str):
                s2_ids[key] = payload["paperId"]
        indexed = {i.key: self._indexed(i.key) for i in items}
        for item in items:  # identities first: the index must hold them before matching
            self.idents[item.key] = ident(item, ids[item.key], ItemRefs(item.key, "ok"), s2_ids)
        # built again only when an item enters it or matches differently: a rebuild from equal
        # rows in the same order is the same index, and costs 20 ms a pass at 10,000 items
        if any(
            old is None or _match_fields(old) != _match_fields(self.idents[key])
            for key, old in indexed.items()
        ):
            self._index = None
        index = self._library_index()
        for item in items:
            refs = item_refs(item, ids[item.key], self.answers, self.deferred, index, s2_ids)
            self.refs[item.key] = refs
            self.idents[item.key] = ident(item, ids[item.key], refs, s2_ids)

    def _indexed(self, key: str) -> Ident | None:
        """The row the library index holds (or would hold) for ``key``."""
        return self.idents.get(key) or (None if key in self.gone else self.recorded.get(key))

    def _library_index(self) -> LibraryIndex:
        if self._index is None:
            index = LibraryIndex()
            rows = {k: r for k, r in self.recorded.items() if k not in self.gone}
            rows.update(self.idents)
            for r in rows.values():
                index.add_normalized(r.key, PaperIds(r.doi, r.arxiv, r.s2), r.ntitle, r.year)
            self._index = index
        return self._index

    def _check_unique(self, moved: set[str]) -> None:
        """Raise :class:`NeedsFullPass` when a moved item's id (old or new) is another's too."""
        if not moved:
            return
        holders: dict[tuple[int, str], set[str]] = {}
        rows = [*self.recorded.values(), *self.idents.values()]
        for r in rows:
            for n, value in enumerate((r.s2, r.doi, r.arxiv)):
                if value:
                    holders.setdefault((n, value), set()).add(r.key)
        for key in moved:
            for own in (self.recorded.get(key), self.idents.get(key)):
                if own is None:
                    continue
                for n, value in enumerate((own.s2, own.doi, own.arxiv)):
                    if value and len(holders.get((n, value), ())) > 1:
                        raise NeedsFullPass(f"{key} shares an identifier with another item")

    def _title_shared(self, key: str, ntitle: str) -> bool:
        """Whether another paper still bears ``ntitle`` (one count of the library, kept)."""
        if self._titles is None:
            rows = {**self.recorded, **self.idents}
            self._titles = {}
            for k, r in rows.items():
                if k not in self.gone:
                    self._titles.setdefault(r.ntitle, set()).add(k)
        return bool(self._titles.get(ntitle, set()) - {key})


def _match_fields(row: Ident) -> tuple[object, ...]:
    """What :class:`LibraryIndex` keeps of a row (an identity's reason is not matched on)."""
    return (row.s2, row.doi, row.arxiv, row.ntitle, row.year)
