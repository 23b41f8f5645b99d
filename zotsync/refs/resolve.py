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
from zotsync.refs.cache import CacheEntry, RefCache
from zotsync.refs.ids import PaperIds, ids_from_external, item_ids, normalize_title
from zotsync.refs.match import LibraryIndex, Reference, related_links
from zotsync.refs.s2 import BATCH_LIMIT, S2Client, S2Error

__all__ = [
    "Deferred",
    "ItemRefs",
    "RefGraph",
    "related_links",
    "resolve_references",
]

Json = dict[str, Any]
#: reasons that end the run's network use: the next request would fail the same way
_STOPPING = {"timeout", "rate-limited", "unreachable"}


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

    def refs(self, key: str) -> ItemRefs:
        return self.items.get(key) or ItemRefs(key, "no-ids")

    def citers(self, key: str) -> list[str]:
        return self.cited_by.get(key, [])


@dataclass(slots=True)
class _Answer:
    status: str  # ok | partial | not-found
    payload: Json | None
    cache: bool = True


def _compact(paper: Json, refs: list[Any], status: str) -> _Answer:
    rows: list[list[Any]] = []
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        ids = ids_from_external(ref.get("externalIds"), ref.get("paperId"))
        title = ref.get("title") if isinstance(ref.get("title"), str) else ""
        year = ref.get("year") if isinstance(ref.get("year"), int) else None
        if not title and ids.empty:
            continue
        rows.append([title, year, ids.doi, ids.arxiv, ids.s2, normalize_title(title)])
    count = paper.get("referenceCount")
    payload = {
        "paperId": paper.get("paperId"),
        "referenceCount": count if isinstance(count, int) else None,
        "refs": rows,
    }
    return _Answer(status, payload)


def _ref_list(paper: Json) -> list[Any]:
    refs = paper.get("references")
    return refs if isinstance(refs, list) else []


def _fetch(
    client: S2Client, todo: list[str], lookups: dict[str, list[str]], deadline: float
) -> tuple[dict[str, _Answer], dict[str, str]]:
    """Fetch the papers ``todo`` (cache keys); return answers and deferred reasons."""
    answers: dict[str, _Answer] = {}
    deferred: dict[str, str] = {}
    papers: dict[str, Json] = {}
    pending = [(ck, 0) for ck in todo]
    while pending:
        retry: list[tuple[str, int]] = []
        for start in range(0, len(pending), BATCH_LIMIT):
            chunk = pending[start : start + BATCH_LIMIT]
            try:
                found = client.batch([lookups[ck][i] for ck, i in chunk], deadline=deadline)
            except S2Error as exc:
                if exc.reason == "not-found":  # 400 for the batch: not cached, asked again later
                    answers.update((ck, _Answer("not-found", None, cache=False)) for ck, _ in chunk)
                    continue
                for ck, _ in pending[start:] + retry:
                    deferred[ck] = exc.reason
                pending, retry = [], []
                break
            for (ck, i), paper in zip(chunk, found, strict=True):
                if paper is not None:
                    papers[ck] = paper
                elif i + 1 < len(lookups[ck]):
                    retry.append((ck, i + 1))
                else:
                    answers[ck] = _Answer("not-found", None)
        pending = retry
    stop: str | None = None
    for ck, paper in papers.items():
        refs = _ref_list(paper)
        count = paper.get("referenceCount")
        paper_id = paper.get("paperId")
        if not (isinstance(count, int) and len(refs) < count and isinstance(paper_id, str)):
            answers[ck] = _compact(paper, refs, "ok")
            continue
        if stop is None:
            try:
                paged = client.all_references(paper_id, deadline=deadline)
            except S2Error as exc:
                if exc.reason not in _STOPPING:  # S2 has the paper but not its pages
                    answers[ck] = _compact(paper, refs, "ok")
                    continue
                stop = exc.reason
            else:
                answers[ck] = _compact(paper, paged if len(paged) >= len(refs) else refs, "ok")
                continue
        deferred[ck] = stop
        answers[ck] = _compact(paper, refs, "partial")
    return answers, deferred


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


def _from_recorded(recorded: list[Any], lookups: dict[str, list[str]]) -> dict[str, _Answer]:
    by_id: dict[str, Json] = {}
    for paper in recorded:
        if not isinstance(paper, dict):
            continue
        ids = ids_from_external(paper.get("externalIds"), paper.get("paperId"))
        names = [
            ids.s2,
            f"ARXIV:{ids.arxiv}" if ids.arxiv else None,
            f"DOI:{ids.doi}" if ids.doi else None,
        ]
        for name in names:
            if name:
                by_id.setdefault(name, paper)
    answers: dict[str, _Answer] = {}
    for ck, ids_to_try in lookups.items():
        paper = next((by_id[i] for i in ids_to_try if i in by_id), None)
        if paper is None:
            answers[ck] = _Answer("not-found", None, cache=False)
        else:
            refs = _ref_list(paper)
            answers[ck] = _compact(paper, refs, "ok")
    return answers


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
    answers: dict[str, _Answer] = {}
    deferred: dict[str, str] = {}
    requests_before = client.requests if client else 0
    if recorded is not None:
        answers = _from_recorded(recorded, lookups)
    else:
        entries: dict[str, CacheEntry] = cache.get_many(lookups)
        now = cache.now()
        for ck, entry in entries.items():
            if not refresh and entry.is_fresh(now, max_age_days):
                answers[ck] = _Answer(entry.status, entry.payload, cache=False)
        todo = [ck for ck in lookups if ck not in answers]
        if todo and client is None:
            deferred = dict.fromkeys(todo, "unreachable")
        elif todo and client is not None:
            fetched, deferred = _fetch(client, todo, lookups, deadline)
            cache.put_many((ck, a.status, a.payload) for ck, a in fetched.items() if a.cache)
            answers.update(fetched)
        for ck in deferred:  # a stale answer beats none
            if ck not in answers and ck in entries:
                answers[ck] = _Answer(entries[ck].status, entries[ck].payload, cache=False)
    graph = RefGraph(requests=(client.requests - requests_before) if client else 0)
    s2_ids = {}
    for ck, answer in answers.items():
        paper_id = (answer.payload or {}).get("paperId")
        if isinstance(paper_id, str):
            s2_ids.update(dict.fromkeys(owners[ck], paper_id))
    index = LibraryIndex.from_items(items, s2_ids, ids)
    for item in items:
        graph.items[item.key] = _item_refs(item, ids[item.key], answers, deferred, index, s2_ids)
        reason = deferred.get(ids[item.key].cache_key or "")
        if reason:
            graph.deferred.append(Deferred(item.key, ids[item.key].cache_key or "", reason))
    graph.cited_by = _mirror(items, graph.items)
    return graph


def _item_refs(
    item: Item,
    ids: PaperIds,
    answers: dict[str, _Answer],
    deferred: dict[str, str],
    index: LibraryIndex,
    s2_ids: dict[str, str],
) -> ItemRefs:
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


def _mirror(items: list[Item], refs: dict[str, ItemRefs]) -> dict[str, list[str]]:
    order = {item.key: (item.year or 9999, normalize_title(item.title), item.key) for item in items}
    cited_by: dict[str, set[str]] = {}
    for key, item_refs in refs.items():
        for target in item_refs.in_library:
            cited_by.setdefault(target, set()).add(key)
    return {target: sorted(citers, key=order.__getitem__) for target, citers in cited_by.items()}
