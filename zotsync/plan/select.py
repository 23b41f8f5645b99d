"""Choosing a week's papers: carry-over, one topic, references first, then rank.

Pure: :func:`select_plan` takes condensed papers and returns a :class:`PlanChoice`; the same
inputs always give the same choice (every sort ends on the item key).

Terms:

* **candidate** — a paper whose status is ``to-read``;
* **unread** — the same thing: ``reading``, ``read`` and ``skip`` papers are never pulled in;
* **carried** — keys the caller found unticked in an earlier, unfinished week's plan; they
  are planned first (in the given order) if still ``to-read`` or ``reading``;
* **topic** — a tag (status and priority tags excluded) or a collection path ``A/B``. A tag
  and a collection with the same name are one topic. A paper belongs to topic ``T`` if it
  has ``T`` or anything below it (``T/...``); topic sizes count candidates that way.

Steps: (1) carried papers; (2) the topic — ``--topic`` if given, else last week's while it
still has candidates, else the one with most candidates (ties: alphabetical); (3) the topic's
candidates by rank — priority (1 first, missing = 3), then how many library papers cite it
(more first), then time in the queue (older ``date_added`` first), then key; (4) before each
paper, its unread references, recursively, from any topic (:class:`CitationGraph`; cycles
broken by year). Pulled-in papers count toward ``count``; when a reference chain is longer
than what is left, the plan takes the deepest references first (what must be read before
anything else). (5) If the topic runs out, the next topic by size fills the rest and the
plan says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from zotsync.errors import ZotsyncError
from zotsync.library.papers import CitationGraph, PaperInfo, chrono_key, cited_by_counts
from zotsync.library.status import DEFAULT_PRIORITY, is_status_tag

CANDIDATE = "to-read"
#: how ``filled_from`` names papers that have no topic at all
NO_TOPIC = "(no topic)"
_CARRY_STATUSES = ("to-read", "reading")


@dataclass(frozen=True)
class Pick:
    """One planned paper. ``topic`` is the topic whose turn planned it (None: no topics)."""

    key: str
    reason: str
    pulled_in: bool = False
    topic: str | None = None
    carried: bool = False


@dataclass
class PlanChoice:
    """The papers of a week, in reading order, and why."""

    topic: str | None
    picks: list[Pick] = field(default_factory=list)
    filled_from: list[str] = field(default_factory=list)
    explain: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.picks]


def paper_topics(paper: PaperInfo) -> tuple[str, ...]:
    """The topics a paper names directly: its non-status tags and its collection paths."""
    tags = [t for t in paper.tags if t and not is_status_tag(t)]
    return tuple(sorted(set(tags) | {c for c in paper.collections if c}))


def in_topic(paper: PaperInfo, topic: str) -> bool:
    """True if the paper has ``topic`` or a topic nested below it."""
    prefix = topic + "/"
    return any(t == topic or t.startswith(prefix) for t in paper_topics(paper))


def topic_counts(
    papers: Sequence[PaperInfo], exclude: set[str] | frozenset[str] = frozenset()
) -> dict[str, int]:
    """Candidates per topic (topics named by any paper), leaving out ``exclude`` keys.

    Linear in the papers: each candidate counts once toward each topic it names and each
    ancestor of those (``a/b`` also counts for ``a``), if that ancestor is a topic.
    """
    names = {t for p in papers for t in paper_topics(p)}
    counts = dict.fromkeys(sorted(names), 0)
    for paper in papers:
        if paper.status != CANDIDATE or paper.key in exclude:
            continue
        mine: set[str] = set()
        for name in paper_topics(paper):
            parts = name.split("/")
            mine.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        for name in mine & names:
            counts[name] += 1
    return counts


def check_topic(papers: Sequence[PaperInfo], topic: str) -> None:
    """Refuse a ``--topic`` no paper belongs to, naming the topics there are.

    Planning such a week anyway would silently fill it from other topics: not what was asked.
    """
    if any(in_topic(p, topic) for p in papers):
        return
    counts = topic_counts(papers)
    ranked = sorted(counts, key=lambda name: (-counts[name], name.casefold()))
    close = [name for name in ranked if name.casefold() == topic.casefold()]
    listed = ", ".join(f"{name} ({counts[name]})" for name in ranked[:30])
    more = f" and {len(ranked) - 30} more" if len(ranked) > 30 else ""
    if close:
        fix = f"did you mean --topic {close[0]!r}? Topics (to-read papers): {listed}{more}"
    elif ranked:
        fix = f"choose one of these topics (to-read papers): {listed}{more}"
    else:
        fix = "no paper has a tag or collection yet; run `zotsync plan` without --topic"
    raise ZotsyncError(f"no paper has the topic {topic!r}", fix=fix)


def choose_topic(
    papers: Sequence[PaperInfo],
    *,
    topic: str | None,
    last_topic: str | None,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> tuple[str | None, str]:
    """The week's topic and a sentence saying why (None when no paper has a topic)."""
    if topic:
        return topic, f"topic {topic!r} was asked for"
    counts = topic_counts(papers, exclude)
    if last_topic and counts.get(last_topic, 0) > 0:
        return last_topic, (
            f"continuing last week's topic {last_topic!r} ({counts[last_topic]} candidates left)"
        )
    live = {name: n for name, n in counts.items() if n > 0}
    if not live:
        return None, "no topic has candidates; choosing from all papers"
    best = min(live, key=lambda name: (-live[name], name))
    why = f"{best!r} has the most candidates ({live[best]})"
    if last_topic:
        why = f"last week's topic {last_topic!r} has no candidates left; " + why
    return best, why


class _Planner:
    """Mutable state of one selection run (kept private; the API is :func:`select_plan`)."""

    def __init__(
        self, papers: Sequence[PaperInfo], count: int, cited_by: Mapping[str, int]
    ) -> None:
        self.by_key = {p.key: p for p in papers}
        self.papers = sorted(self.by_key.values(), key=lambda p: p.key)
        self.count = max(0, count)
        self.cited_by = cited_by
        unread = [p.key for p in self.papers if p.status == CANDIDATE]
        self.graph = CitationGraph(self.by_key, unread)
        self.done: set[str] = set()
        self.picks: list[Pick] = []
        self.explain: list[str] = []

    def rank(self, paper: PaperInfo) -> tuple[int, int, str, str]:
        prio = paper.priority if paper.priority is not None else DEFAULT_PRIORITY
        return (prio, -self.cited_by.get(paper.key, 0), paper.date_added, paper.key)

    def left(self) -> int:
        return self.count - len(self.picks)

    def describe(self, paper: PaperInfo) -> str:
        bits = []
        if paper.priority is not None:
            bits.append(f"priority {paper.priority}")
        cites = self.cited_by.get(paper.key, 0)
        if cites:
            bits.append(f"cited by {cites} library paper{'s' if cites != 1 else ''}")
        return ", ".join(bits)

    def add(self, key: str, reason: str, topic: str | None, *, carried: bool = False) -> None:
        """Plan ``key``, preceded by its unread references (as many as fit)."""
        paper = self.by_key[key]
        if key in self.done or self.left() <= 0:
            return
        if key in self.graph.edges:
            chain = self.graph.order_from(key, self.done)
        else:
            # a carried paper already being read is not in the unread graph; its own
            # unread references still come first
            self.done.add(key)
            refs = sorted(
                (r for r in set(paper.references) if r in self.graph.edges),
                key=lambda r: chrono_key(self.by_key[r]),
            )
            chain = [k for r in refs for k in self.graph.order_from(r, self.done)] + [key]
        for k in chain[: self.left()]:
            if k == key:
                self.picks.append(Pick(k, reason, False, topic, carried))
                self.explain.append(f"{self.by_key[k].title}: {reason}")
            else:
                citing = self._first_citer(k, chain)
                why = f"read first: cited by {self.by_key[citing].title}"
                self.picks.append(Pick(k, why, True, topic))
                self.explain.append(
                    f"{self.by_key[k].title}: pulled in because {self.by_key[citing].title} "
                    f"cites it and it is unread"
                )

    def _first_citer(self, ref: str, chain: list[str]) -> str:
        """The paper later in ``chain`` that cites ``ref`` directly (for the reason text)."""
        after = chain[chain.index(ref) + 1 :]
        for k in after:
            if ref in self.by_key[k].references:
                return k
        return after[-1] if after else ref


def select_plan(
    papers: Sequence[PaperInfo],
    *,
    count: int,
    topic: str | None,
    last_topic: str | None,
    carried: Sequence[str] = (),
    cited_by_count: Mapping[str, int] | None = None,
) -> PlanChoice:
    """Choose up to ``count`` papers for a week (see the module docstring for the rules)."""
    cited_by = cited_by_count if cited_by_count is not None else cited_by_counts(papers)
    run = _Planner(papers, count, cited_by)

    carried_ok = [
        k
        for k in dict.fromkeys(carried)
        if k in run.by_key and run.by_key[k].status in _CARRY_STATUSES
    ]
    chosen, why = choose_topic(
        run.papers, topic=topic, last_topic=last_topic, exclude=set(carried_ok)
    )
    run.explain.append(f"topic: {why}")
    for key in carried_ok:
        paper = run.by_key[key]
        home = chosen if chosen and in_topic(paper, chosen) else _home_topic(paper)
        run.add(key, "carried over from an earlier plan", home, carried=True)

    filled_from: list[str] = []
    current = chosen
    while run.left() > 0:
        pool = [
            p
            for p in run.papers
            if p.status == CANDIDATE
            and p.key not in run.done
            and (current is None or in_topic(p, current))
        ]
        for paper in sorted(pool, key=run.rank):
            if run.left() <= 0:
                break
            detail = run.describe(paper)
            if current is None:
                base = "no topic"
            elif current == chosen:
                base = f"topic {current}"
            else:
                base = f"filled from topic {current}"
            run.add(paper.key, base + (f", {detail}" if detail else ""), current)
        if run.left() <= 0 or current is None:
            break
        counts = topic_counts(run.papers, run.done)
        live = {n: c for n, c in counts.items() if c > 0 and n != current}
        if not live:
            if any(p.status == CANDIDATE and p.key not in run.done for p in run.papers):
                run.explain.append("no topic has candidates left; filling from untagged papers")
                filled_from.append(NO_TOPIC)
                current = None
                continue
            break
        nxt = min(live, key=lambda n: (-live[n], n))
        run.explain.append(
            f"topic {current!r} has no more candidates; filling from {nxt!r} ({live[nxt]})"
        )
        filled_from.append(nxt)
        current = nxt

    if not run.picks:
        run.explain.append("nothing to plan: no paper has status to-read")
    return PlanChoice(chosen, run.picks, filled_from, run.explain)


def _home_topic(paper: PaperInfo) -> str | None:
    topics = paper_topics(paper)
    return topics[0] if topics else None
