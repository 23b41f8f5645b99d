"""What the planner and the indexes know about a paper, and the citation graph over papers.

The planner never reads notes or Zotero items: the caller condenses each paper note into a
:class:`PaperInfo` (status and priority from the frontmatter, references resolved to library
keys), so selection and indexes stay pure functions over plain values.

Graph conventions: ``references`` of a paper are the keys of *in-library* papers it cites
(keys that are not in the list handed to a function are ignored, never an error). Two orders
are used everywhere:

* **chronological** — year (unknown years last), then date added, then key;
* **references first** — a topological order of the citation graph in which a paper comes
  after every paper it cites. Citation cycles (preprints citing each other) are broken by
  year: inside a strongly connected component, a citation from an older paper to a newer one
  is ignored, so the older paper is read first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zotsync.model import Item, Library


@dataclass(frozen=True)
class PaperInfo:
    """One paper note as the planner sees it.

    ``link`` is the wikilink target (the note's file stem); ``path`` the vault-relative note
    path; ``collections`` are collection paths ``"A/B"``; ``date_added`` is ISO 8601 (it sorts
    as text); ``references`` are keys of in-library papers this one cites.
    """

    key: str
    title: str
    link: str
    path: str
    status: str = "to-read"
    priority: int | None = None
    tags: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    year: int | None = None
    date_added: str = ""
    references: tuple[str, ...] = ()
    related: tuple[str, ...] = ()


def chrono_key(paper: PaperInfo) -> tuple[int, int, str, str]:
    """Sort key for "chronological": year (unknown last), date added, then key."""
    return (0 if paper.year is not None else 1, paper.year or 0, paper.date_added, paper.key)


def frontmatter_tag(tag: str) -> str:
    """A Zotero tag as Obsidian stores it: spaces become ``-``, no leading ``#``."""
    return "-".join(tag.strip().lstrip("#").split())


def paper_from_item(
    item: Item,
    library: Library,
    *,
    path: str,
    status: str = "to-read",
    priority: int | None = None,
    references: Iterable[str] = (),
) -> PaperInfo:
    """Condense a Zotero item and its note location into a :class:`PaperInfo`.

    A convenience for callers that have the model item at hand; the note's own frontmatter
    (status, priority, tags the user added) should be preferred when it exists.
    """
    stem = path.rsplit("/", 1)[-1]
    if stem.endswith(".md"):
        stem = stem[:-3]
    tags = tuple(dict.fromkeys(frontmatter_tag(t.name) for t in item.tags if t.name.strip()))
    colls = tuple(sorted({"/".join(library.collection_path(c)) for c in item.collections} - {""}))
    return PaperInfo(
        key=item.key,
        title=item.title,
        link=stem,
        path=path,
        status=status,
        priority=priority,
        tags=tags,
        collections=colls,
        year=item.year,
        date_added=item.date_added,
        references=tuple(dict.fromkeys(r for r in references if r != item.key)),
        related=tuple(item.related_keys),
    )


def cited_by_counts(papers: Iterable[PaperInfo]) -> dict[str, int]:
    """How many library papers cite each paper (self-citations and duplicates ignored)."""
    plist = list(papers)
    keys = {p.key for p in plist}
    counts = dict.fromkeys(sorted(keys), 0)
    for paper in plist:
        for ref in set(paper.references):
            if ref in keys and ref != paper.key:
                counts[ref] += 1
    return counts


def strongly_connected(nodes: Sequence[str], edges: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Map each node to the id of its strongly connected component (iterative Tarjan).

    Iterative so that a long citation chain cannot hit Python's recursion limit.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comp: dict[str, int] = {}
    counter = 0
    components = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = edges.get(node, ())
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp[member] = components
                    if member == node:
                        break
                components += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return comp


class CitationGraph:
    """The references-first order over a set of papers, with cycles broken by year.

    Only edges between ``nodes`` are kept. Inside a citation cycle, an edge from a paper to
    one that is newer (by :func:`chrono_key`) is dropped, which leaves a DAG.
    """

    def __init__(self, papers: Mapping[str, PaperInfo], nodes: Iterable[str]) -> None:
        self.papers = papers
        node_list = sorted(set(nodes) & set(papers), key=lambda k: chrono_key(papers[k]))
        node_set = set(node_list)
        raw = {
            k: [r for r in dict.fromkeys(papers[k].references) if r in node_set and r != k]
            for k in node_list
        }
        comp = strongly_connected(node_list, raw)
        self.edges: dict[str, list[str]] = {}
        for k in node_list:
            mine = chrono_key(papers[k])
            kept = [r for r in raw[k] if comp[r] != comp[k] or chrono_key(papers[r]) < mine]
            # visit older references first: foundations before refinements
            self.edges[k] = sorted(kept, key=lambda r: chrono_key(papers[r]))
        self.nodes = node_list

    def order_from(self, start: str, done: set[str]) -> list[str]:
        """``start`` preceded by its not-yet-``done`` references, each after its own.

        A DFS post-order; every node in the result comes after all nodes it (transitively)
        cites, so any prefix of it is itself a valid reading order. ``done`` is updated.
        """
        out: list[str] = []
        if start in done or start not in self.edges:
            return out
        done.add(start)
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            succ = self.edges[node]
            while i < len(succ) and succ[i] in done:
                i += 1
            if i < len(succ):
                work.append((node, i + 1))
                done.add(succ[i])
                work.append((succ[i], 0))
            else:
                out.append(node)
        return out

    def order(self, rank: Callable[[str], Any] | None = None) -> list[str]:
        """All nodes, references first; roots taken in ``rank`` order (default chronological)."""
        roots = sorted(self.nodes, key=rank) if rank else list(self.nodes)
        done: set[str] = set()
        out: list[str] = []
        for node in roots:
            out.extend(self.order_from(node, done))
        return out
