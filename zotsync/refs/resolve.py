"""Resolve every item's reference list: cache first, then Semantic Scholar, within a budget.

:func:`resolve_references` is the subsystem's entry point. For each item:

1. its identifiers (:func:`zotsync.refs.ids.item_ids`); none → status ``no-ids``;
2. the cached entry for its paper if fresh (and ``refresh`` is off) — no request at all;
3. otherwise a batch lookup (500 ids a request; an id S2 answers ``null`` for is retried with
   the item's next id, e.g. the DOI after the arXiv id), and ``/references`` paging when the
   batch list is shorter than ``referenceCount``. Answers are cached, ``not-found`` too;
4. when the network fails or the time budget runs out, what was fetched is kept; the rest is
   *deferred* (listed in :attr:`RefGraph.deferred` with the reason) and shows as ``pending`` —
   unless a stale cache entry exists, which is then used as is. Nothing here raises for network
   trouble, so references never change a sync's exit code.

With ``recorded`` (a pre-recorded batch answer, as the demo ships) neither cache nor network
is used. Finally each reference is matched to a library item (:mod:`zotsync.refs.match`) and
``cited_by`` is computed as the exact mirror of the matched references: ``B in refs(A)`` iff
``A in cited_by[B]``.

Cache payloads are compact: ``{"paperId", "referenceCount", "refs": [[title, year, doi, arxiv,
s2, ntitle], …]}`` with identifiers and titles already normalized, which is what makes a warm
run of 10,000 items take well under two seconds (see :func:`bench_cached_resolution`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zotsync.model import Item
from zotsync.refs.answers import Answer, gather
from zotsync.refs.cache import RefCache
from zotsync.refs.ids import PaperIds, item_ids, normalize_title
from zotsync.refs.match import LibraryIndex, Reference, related_links
from zotsync.refs.s2 import S2Client
from zotsync.state.ref_index import Ident

__all__ = [
    "Deferred",
    "ItemRefs",
    "RefGraph",
    "related_links",
    "resolve_references",
]


@dataclass(frozen=True, slots=True)
class Deferred:
    """An item whose references were not fetched this run, and why."""

    key: str
    lookup_id: str
    reason: str


@dataclass(slots=True)
class ItemRefs:
    """One item's reference list and how it was obtained.

    ``status`` is ``ok``, ``pending`` (deferred, nothing cached), ``failed: <reason>`` or
    ``no-ids``. ``complete`` is False when S2 counts more references than could be fetched.
    ``reason`` says why a fetch was deferred this run (also set when a stale list was used).
    """

    key: str
    status: str
    references: list[Reference] = field(default_factory=list)
    reference_count: int | None = None
    s2: str | None = None
    complete: bool = True
    reason: str = ""

    @property
    def in_library(self) -> list[str]:
        """Keys of referenced library items, in reference order, each once."""
        return [r.key for r in self.references if r.key is not None]


@dataclass(slots=True)
class RefGraph:
    """The resolved references of a whole library."""

    items: dict[str, ItemRefs] = field(default_factory=dict)
    cited_by: dict[str, list[str]] = field(default_factory=dict)
    deferred: list[Deferred] = field(default_factory=list)
    requests: int = 0
    #: per item, what matching knows it as (recorded for incremental passes)
    idents: dict[str, Ident] = field(default_factory=dict)

    def refs(self, key: str) -> ItemRefs:
        return self.items.get(key) or ItemRefs(key, "no-ids")

    def citers(self, key: str) -> list[str]:
        return self.cited_by.get(key, [])


def _ids_by_title(items: list[Item], ids: dict[str, PaperIds], recorded: list[Any]) -> None:
    """Recorded answers only: give items without DOI/arXiv id the S2 id of the recorded paper
    with the same normalized title and year (GPT-2 or AlexNet have neither id in reality)."""
    by_title: dict[tuple[str, int | None], str] = {}
    for paper in recorded:
        if isinstance(paper, dict) and isinstance(paper.get("paperId"), str):
            year = paper.get("year") if isinstance(paper.get("year"), int) else None
            by_title.setdefault((normalize_title(paper.get("title")), year), paper["paperId"])
    for item in items:
        if ids[item.key].empty:
            paper_id = by_title.get((normalize_title(item.title), item.year))
            if paper_id:
                ids[item.key] = PaperIds(s2=paper_id)


def resolve_references(
    items: list[Item],
    cache: RefCache,
    *,
    client: S2Client | None,
    recorded: list[dict[str, Any]] | None = None,
    deadline_s: float = 30,
    refresh: bool = False,
    max_age_days: int = 30,
    clock: Callable[[], float] = time.monotonic,
) -> RefGraph:
    """Resolve the reference lists of ``items`` (see the module docstring); never raises for
    network problems. ``client=None`` means offline: only the cache answers."""
    # Building a few hundred thousand small tuples and lists would otherwise trigger the cyclic
    # garbage collector over and over (it tripled the warm time); none of them form cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _resolve(items, cache, client, recorded, deadline_s, refresh, max_age_days, clock)
    finally:
        if was_enabled:
            gc.enable()


def _resolve(
    items: list[Item],
    cache: RefCache,
    client: S2Client | None,
    recorded: list[dict[str, Any]] | None,
    deadline_s: float,
    refresh: bool,
    max_age_days: int,
    clock: Callable[[], float],
) -> RefGraph:
    deadline = clock() + deadline_s
    ids = {item.key: item_ids(item) for item in items}
    if recorded is not None:
        _ids_by_title(items, ids, recorded)
    owners: dict[str, list[str]] = {}
    lookups: dict[str, list[str]] = {}
    for item in items:
        ck = ids[item.key].cache_key
        if ck is not None:
            owners.setdefault(ck, []).append(item.key)
            lookups.setdefault(ck, ids[item.key].lookup_ids())
    requests_before = client.requests if client else 0
    answers, deferred = gather(
        lookups, cache, client, recorded, deadline, refresh=refresh, max_age_days=max_age_days
    )
    graph = RefGraph(requests=(client.requests - requests_before) if client else 0)
    s2_ids = {}
    for ck, answer in answers.items():
        paper_id = (answer.payload or {}).get("paperId")
        if isinstance(paper_id, str):
            s2_ids.update(dict.fromkeys(owners[ck], paper_id))
    index = LibraryIndex.from_items(items, s2_ids, ids)
    for item in items:
        graph.items[item.key] = item_refs(item, ids[item.key], answers, deferred, index, s2_ids)
        graph.idents[item.key] = ident(item, ids[item.key], graph.items[item.key], s2_ids)
        reason = deferred.get(ids[item.key].cache_key or "")
        if reason:
            graph.deferred.append(Deferred(item.key, ids[item.key].cache_key or "", reason))
    graph.cited_by = _mirror(items, graph.items)
    return graph


def item_refs(
    item: Item,
    ids: PaperIds,
    answers: dict[str, Answer],
    deferred: dict[str, str],
    index: LibraryIndex,
    s2_ids: dict[str, str],
) -> ItemRefs:
    """One item's list from its answer, each reference matched against ``index`` (shared by
    the whole-library resolution and :mod:`zotsync.refs.delta`, so both match alike)."""
    ck = ids.cache_key
    if ck is None:
        return ItemRefs(item.key, "no-ids")
    answer = answers.get(ck)
    if answer is None:
        return ItemRefs(item.key, "pending", reason=deferred.get(ck, "unreachable"))
    if answer.payload is None:
        return ItemRefs(item.key, f"failed: {answer.status}")
    refs: list[Reference] = []
    seen: set[str] = set()
    match = index.match_parts
    make = Reference._make
    for title, year, doi, arxiv, s2, ntitle in answer.payload.get("refs", []):
        key = match(title, year, doi, arxiv, s2, ntitle)
        if key == item.key:
            key = None  # S2 sometimes lists a paper's other version: not a link to itself
        elif key is not None:
            if key in seen:
                continue  # the same library paper cited twice: listed once
            seen.add(key)
        refs.append(make((title, year, doi, arxiv, s2, key, ntitle)))
    count = answer.payload.get("referenceCount")
    return ItemRefs(
        item.key,
        "ok",
        refs,
        count if isinstance(count, int) else None,
        s2_ids.get(item.key),
        complete=answer.status != "partial",
        reason=deferred.get(ck, ""),
    )


def ident(item: Item, ids: PaperIds, refs: ItemRefs, s2_ids: dict[str, str]) -> Ident:
    """``item`` as :class:`LibraryIndex` matches it, with why its list is pending (if so)."""
    why = ""
    if refs.status not in ("ok", "no-ids"):
        why = (refs.reason or refs.status).removeprefix("failed: ")
    title = normalize_title(item.title)
    return Ident(item.key, ids.cache_key, s2_ids.get(item.key), ids.doi, ids.arxiv, title,
                 item.year, why)  # fmt: skip


def _mirror(items: list[Item], refs: dict[str, ItemRefs]) -> dict[str, list[str]]:
    order = {item.key: (item.year or 9999, normalize_title(item.title), item.key) for item in items}
    cited_by: dict[str, set[str]] = {}
    for key, item_refs in refs.items():
        for target in item_refs.in_library:
            cited_by.setdefault(target, set()).add(key)
    return {target: sorted(citers, key=order.__getitem__) for target, citers in cited_by.items()}
