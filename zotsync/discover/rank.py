"""Rank new arXiv papers by how much they resemble the library: TF-IDF, by hand, pure.

The algorithm (stdlib only, deterministic):

1. **Tokens**: lower-cased words of title and abstract, stop words and numbers dropped, a
   light plural stemmer (``transformers`` → ``transformer``), plus title bigrams
   (``language_model``) so phrases count. Title tokens count twice: titles are dense.
2. **IDF** over library *and* candidates, smoothed: ``log((1 + N) / (1 + df)) + 1``; term
   weight ``(1 + log tf) · idf``; vectors L2-normalised, so similarity is a cosine.
3. **Weights**: a library paper marked ``read``/``reading`` counts more than one merely saved,
   and ``priority`` raises it further (:func:`paper_weight`); these are the papers that say
   what the user actually cares about.
4. **Per topic**: each topic (a tag or collection) gets a centroid — the weight-scaled sum of
   its papers' vectors — and a mass (sum of weights). A candidate's topic score is its
   cosine with the centroid, scaled by ``0.5 + 0.5 · mass / max mass`` so the topics the
   user reads most pull hardest.
5. **Score** = ``0.5 · best topic score + 0.5 · (sum of the 3 best weighted paper
   similarities) / 3``: a paper close to one well-read topic *and* to several specific papers
   ranks first. The explanation is the matched topics (within 60 % of the best, and at least
   :data:`MIN_TOPIC`) and the most similar library papers (cosine at least
   :data:`MIN_SIMILAR`); a paper that only shares common words gets no explanation.

Papers already in the library (same arXiv id, its DataCite DOI, or its published DOI) are
removed before ranking, so they can never appear.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from zotsync.arxiv_api import ArxivPaper
from zotsync.library.status import is_status_tag
from zotsync.model import Item

Vector = dict[str, float]

_STATUS_WEIGHT = {"read": 2.0, "reading": 2.0, "to-read": 1.0, "unread": 1.0}
_PRIORITY_WORDS = {"high": 1, "medium": 3, "normal": 3, "low": 5}
_WORD_RE = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)?")
_STOP_WORDS = """a about above across after again against all almost also although am among an and any
    are as at be because been before being below between both but by can could did do does
    doing done down during each either else even ever every few for from further had has have
    having he her here hers him his how however i if in into is it its itself just least less
    like made make many may me might more most much must my neither no nor not of off often on
    once one only or other our ours out over own per rather same several she should show shows
    shown since so some such than that the their them then there these they this those though
    through thus to too under until up upon us use used uses using very via was we well were
    what when where whether which while who whom whose why will with within without would yet
    you your paper propose proposed proposes present presents approach approaches method
    methods result results new novel based work study studies demonstrate experiments
    experimental furthermore moreover however significantly achieve achieves state art"""
_STOP = frozenset(_STOP_WORDS.split())
#: below these a shared common word ("model", "learn") is all there is: no explanation is
#: better than a misleading one (a robotics paper "similar to" a language-model paper)
MIN_SIMILAR = 0.08
MIN_TOPIC = 0.05


@dataclass(frozen=True, slots=True)
class LibraryDoc:
    """One library paper as the ranker sees it. ``note`` is its note name for wikilinks."""

    key: str
    title: str
    text: str = ""
    topics: tuple[str, ...] = ()
    weight: float = 1.0
    note: str = ""

    @property
    def link_name(self) -> str:
        return self.note or self.title


@dataclass(frozen=True, slots=True)
class Similar:
    """A library paper a candidate resembles, with the cosine similarity."""

    key: str
    note: str
    similarity: float


@dataclass(frozen=True, slots=True)
class RankedPaper:
    """A candidate with its score and why: matched topics and similar library papers."""

    paper: ArxivPaper
    score: float
    topics: tuple[str, ...]
    similar: tuple[Similar, ...]

    def to_json(self) -> dict[str, object]:
        """The ``discover --json`` entry: ``{"arxiv","title","score","similar","topics"}``."""
        return {
            "arxiv": self.paper.id,
            "title": self.paper.title,
            "score": self.score,
            "similar": [s.note for s in self.similar],
            "topics": list(self.topics),
        }


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(title: str, text: str = "") -> list[str]:
    """Index terms of a paper: title words twice, title bigrams, abstract words."""

    def words(s: str) -> list[str]:
        return [_stem(w) for w in _WORD_RE.findall(s.lower()) if w not in _STOP and len(w) > 1]

    title_words = words(title)
    bigrams = [f"{a}_{b}" for a, b in itertools.pairwise(title_words)]
    return title_words * 2 + bigrams + words(text)


def paper_weight(status: str | None = None, priority: object = None) -> float:
    """How much a library paper says about the user's interests.

    ``read``/``reading`` weigh 2, anything else 1; ``priority`` (frontmatter 1–5 where 1 is
    the most important, as the planner reads it, or ``high``/``medium``/``low``) adds 0.25
    per step above 5, at most +1.
    """
    weight = _STATUS_WEIGHT.get((status or "").strip().lower(), 1.0)
    level: int | None = None
    if isinstance(priority, bool):
        level = None
    elif isinstance(priority, int | float):
        level = int(priority)
    elif isinstance(priority, str):
        text = priority.strip().lower()
        level = _PRIORITY_WORDS.get(text) or (int(text) if text.isdigit() else None)
    if level is not None:
        weight += min(1.0, max(0.0, 0.25 * (5 - level)))
    return weight


def library_docs(
    items: Iterable[Item],
    *,
    statuses: Mapping[str, str] | None = None,
    priorities: Mapping[str, object] | None = None,
    note_names: Mapping[str, str] | None = None,
    collection_names: Mapping[str, str] | None = None,
) -> list[LibraryDoc]:
    """Build ranker input from library items and what the vault knows about them.

    Topics are the item's manual tags (status tags left out) and its collections named in
    ``collection_names`` (key -> e.g. ``Deep Learning/NLP``; build it with
    ``"/".join(library.collection_path(key))``). Without a status from
    the vault, the Zotero tags ``read``/``reading`` count.
    """
    statuses, priorities = statuses or {}, priorities or {}
    note_names, collection_names = note_names or {}, collection_names or {}
    docs = []
    for item in items:
        tag_names = [t.name for t in item.tags]
        status = statuses.get(item.key) or next(
            (t for t in ("reading", "read") if t in tag_names), None
        )
        topics = [t.name for t in item.tags if not t.auto and not is_status_tag(t.name)]
        topics += [collection_names[c] for c in item.collections if c in collection_names]
        docs.append(
            LibraryDoc(
                key=item.key,
                title=item.title,
                text=item.fields.get("abstractNote", ""),
                topics=tuple(dict.fromkeys(topics)),
                weight=paper_weight(status, priorities.get(item.key)),
                note=note_names.get(item.key, ""),
            )
        )
    return docs


def _vectors(bags: Sequence[list[str]]) -> list[Vector]:
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(set(bag))
    n = len(bags)
    idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}
    vectors = []
    for bag in bags:
        vec = {t: (1.0 + math.log(c)) * idf[t] for t, c in Counter(bag).items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        vectors.append({t: v / norm for t, v in vec.items()} if norm else {})
    return vectors


def _cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _normalised(vec: Vector) -> Vector:
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {t: v / norm for t, v in vec.items()} if norm else {}


def in_library(paper: ArxivPaper, known: Iterable[str] | set[str]) -> bool:
    """True when the paper's arXiv id, DataCite DOI or published DOI is in ``known``."""
    known_set = known if isinstance(known, set) else set(known)
    keys = {paper.id.lower(), f"10.48550/arxiv.{paper.id.lower()}"}
    if paper.doi:
        keys.add(paper.doi.lower())
    return not keys.isdisjoint(known_set)


def rank_papers(
    candidates: Iterable[ArxivPaper],
    docs: Sequence[LibraryDoc],
    *,
    known: set[str] | frozenset[str] = frozenset(),
    top_k: int | None = None,
    similar_count: int = 3,
) -> list[RankedPaper]:
    """Candidates not in the library (``known`` ids/DOIs, lower-case), best first.

    Ties break on arXiv id, so the same inputs always give the same order.
    """
    fresh: dict[str, ArxivPaper] = {}
    for paper in candidates:
        if paper.id not in fresh and not in_library(paper, set(known)):
            fresh[paper.id] = paper
    papers = list(fresh.values())
    bags = [tokens(d.title, d.text) for d in docs] + [tokens(p.title, p.summary) for p in papers]
    vectors = _vectors(bags)
    doc_vecs, cand_vecs = vectors[: len(docs)], vectors[len(docs) :]
    max_weight = max((d.weight for d in docs), default=1.0)

    centroids: dict[str, Vector] = {}
    mass: dict[str, float] = {}
    for doc, vec in zip(docs, doc_vecs, strict=True):
        for topic in doc.topics:
            acc = centroids.setdefault(topic, {})
            for term, value in vec.items():
                acc[term] = acc.get(term, 0.0) + doc.weight * value
            mass[topic] = mass.get(topic, 0.0) + doc.weight
    centroids = {t: _normalised(v) for t, v in centroids.items()}
    max_mass = max(mass.values(), default=1.0)

    ranked = []
    for paper, vec in zip(papers, cand_vecs, strict=True):
        topic_scores = {
            t: _cosine(vec, c) * (0.5 + 0.5 * mass[t] / max_mass) for t, c in centroids.items()
        }
        best = max(topic_scores.values(), default=0.0)
        matched = sorted(
            (t for t, s in topic_scores.items() if s >= MIN_TOPIC and s >= 0.6 * best),
            key=lambda t: (-topic_scores[t], t),
        )[:3]
        sims = sorted(
            ((_cosine(vec, dv), d) for d, dv in zip(docs, doc_vecs, strict=True)),
            key=lambda sd: (-sd[0] * sd[1].weight, sd[1].key),
        )
        weighted = [s * d.weight / max_weight for s, d in sims[:3]]
        score = 0.5 * best + 0.5 * sum(weighted) / 3
        similar = tuple(
            Similar(d.key, d.link_name, round(s, 4))
            for s, d in sims[:similar_count]
            if s >= MIN_SIMILAR
        )
        ranked.append(RankedPaper(paper, round(score, 4), tuple(matched), similar))
    ranked.sort(key=lambda r: (-r.score, r.paper.id))
    return ranked[:top_k] if top_k is not None else ranked
