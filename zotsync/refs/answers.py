"""Where reference lists come from: the cache, Semantic Scholar, or a recorded answer.

:func:`gather` is the one place that decides, for a set of papers (cache keys), which answer
each gets this run: a fresh cache entry costs nothing; otherwise S2 is asked within the
deadline, and a stale entry is used when the fetch is deferred. Both the whole-library
resolution (:mod:`zotsync.refs.resolve`) and an incremental pass (:mod:`zotsync.refs.delta`)
call it, so they cannot disagree about an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zotsync.refs.cache import CacheEntry, RefCache
from zotsync.refs.ids import ids_from_external, normalize_title
from zotsync.refs.s2 import BATCH_LIMIT, S2Client, S2Error

Json = dict[str, Any]
#: reasons that end the run's network use: the next request would fail the same way
_STOPPING = {"timeout", "rate-limited", "unreachable"}


def gather(
    lookups: dict[str, list[str]],
    cache: RefCache,
    client: S2Client | None,
    recorded: list[Any] | None,
    deadline: float,
    *,
    refresh: bool = False,
    max_age_days: float = 30,
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Answers for the cache keys of ``lookups`` (key -> S2 ids to try), and deferred reasons."""
    if recorded is not None:
        return _from_recorded(recorded, lookups), {}
    answers: dict[str, Answer] = {}
    deferred: dict[str, str] = {}
    entries: dict[str, CacheEntry] = cache.get_many(lookups)
    now = cache.now()
    for ck, entry in entries.items():
        if not refresh and entry.is_fresh(now, max_age_days):
            answers[ck] = Answer(entry.status, entry.payload, cache=False)
    todo = [ck for ck in lookups if ck not in answers]
    if todo and client is None:
        deferred = dict.fromkeys(todo, "unreachable")
    elif todo and client is not None:
        fetched, deferred = _fetch(client, todo, lookups, deadline)
        cache.put_many((ck, a.status, a.payload) for ck, a in fetched.items() if a.cache)
        answers.update(fetched)
    for ck in deferred:  # a stale answer beats none
        if ck not in answers and ck in entries:
            answers[ck] = Answer(entries[ck].status, entries[ck].payload, cache=False)
    return answers, deferred


@dataclass(slots=True)
class Answer:
    """One paper's answer: from the cache, S2, or a recording (``cache``: store it)."""

    status: str  # ok | partial | not-found
    payload: Json | None
    cache: bool = True


def compact(paper: Json, refs: list[Any], status: str) -> Answer:
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
    return Answer(status, payload)


def _ref_list(paper: Json) -> list[Any]:
    refs = paper.get("references")
    return refs if isinstance(refs, list) else []


def _fetch(
    client: S2Client, todo: list[str], lookups: dict[str, list[str]], deadline: float
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Fetch the papers ``todo`` (cache keys); return answers and deferred reasons."""
    answers: dict[str, Answer] = {}
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
                    answers.update((ck, Answer("not-found", None, cache=False)) for ck, _ in chunk)
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
                    answers[ck] = Answer("not-found", None)
        pending = retry
    stop: str | None = None
    for ck, paper in papers.items():
        refs = _ref_list(paper)
        count = paper.get("referenceCount")
        paper_id = paper.get("paperId")
        if not (isinstance(count, int) and len(refs) < count and isinstance(paper_id, str)):
            answers[ck] = compact(paper, refs, "ok")
            continue
        if stop is None:
            try:
                paged = client.all_references(paper_id, deadline=deadline)
            except S2Error as exc:
                if exc.reason not in _STOPPING:  # S2 has the paper but not its pages
                    answers[ck] = compact(paper, refs, "ok")
                    continue
                stop = exc.reason
            else:
                answers[ck] = compact(paper, paged if len(paged) >= len(refs) else refs, "ok")
                continue
        deferred[ck] = stop
        answers[ck] = compact(paper, refs, "partial")
    return answers, deferred


def _from_recorded(recorded: list[Any], lookups: dict[str, list[str]]) -> dict[str, Answer]:
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
    answers: dict[str, Answer] = {}
    for ck, ids_to_try in lookups.items():
        paper = next((by_id[i] for i in ids_to_try if i in by_id), None)
        if paper is None:
            answers[ck] = Answer("not-found", None, cache=False)
        else:
            refs = _ref_list(paper)
            answers[ck] = compact(paper, refs, "ok")
    return answers
