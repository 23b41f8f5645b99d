"""Missing foundations: the papers the library cites most but does not hold (pure).

Every reference that matched no library item is grouped with the other mentions of the same
paper. Mentions are joined when they share any identifier — S2 paper id, DOI, arXiv id — or,
for titles of at least three words, the normalized title (S2 lists unmatched references with
``paperId: null`` and a title only, so the title is the one thing those mentions share). The
groups are joined transitively (union-find), counted by distinct citing library papers, and
the most cited come first (ties: older first, then title).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from zotsync.refs.match import Reference
from zotsync.refs.render import external_line
from zotsync.refs.resolve import RefGraph
from zotsync.vault.regions import region_block

#: a title shorter than this many words does not join mentions on its own ("Introduction")
MIN_TITLE_WORDS = 3


@dataclass(slots=True)
class MissingRef:
    """A paper outside the library and the library papers that cite it."""

    title: str
    year: int | None = None
    doi: str | None = None
    arxiv: str | None = None
    s2: str | None = None
    citing: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.citing)

    @property
    def add_id(self) -> str | None:
        """What to pass to ``zotsync add`` for this paper, if anything."""
        return self.arxiv or self.doi


def _tokens(ref: Reference) -> list[str]:
    tokens = []
    if ref.s2:
        tokens.append("s2:" + ref.s2)
    if ref.doi:
        tokens.append("doi:" + ref.doi)
    if ref.arxiv:
        tokens.append("arxiv:" + ref.arxiv)
    if ref.ntitle and ref.ntitle.count(" ") + 1 >= MIN_TITLE_WORDS:
        tokens.append("t:" + ref.ntitle)
    return tokens


def missing_references(graph: RefGraph, top: int, *, min_citing: int = 2) -> list[MissingRef]:
    """The ``top`` most cited outside papers cited by at least ``min_citing`` library papers."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    mentions: list[tuple[str, Reference, str]] = []  # (first token, ref, citing key)
    for key in sorted(graph.items):
        for ref in graph.items[key].references:
            if ref.key is not None:
                continue
            tokens = _tokens(ref)
            if not tokens:
                continue
            for token in tokens:
                parent.setdefault(token, token)
            root = find(tokens[0])
            for token in tokens[1:]:
                other = find(token)
                if other != root:
                    parent[other] = root
            mentions.append((tokens[0], ref, key))
    groups: dict[str, list[tuple[Reference, str]]] = {}
    for token, ref, key in mentions:
        groups.setdefault(find(token), []).append((ref, key))
    out = [_merge(members) for members in groups.values()]
    out = [m for m in out if m.count >= min_citing]
    out.sort(key=lambda m: (-m.count, m.year or 9999, m.title.casefold(), m.s2 or ""))
    return out[:top]


def _merge(members: list[tuple[Reference, str]]) -> MissingRef:
    """One paper from its mentions: the first non-empty value of each field (by citing key)."""
    members.sort(key=lambda m: (m[1], m[0].title))
    first = MissingRef(title="")
    citing: list[str] = []
    for ref, key in members:
        first.title = first.title or ref.title
        first.year = first.year or ref.year
        first.doi = first.doi or ref.doi
        first.arxiv = first.arxiv or ref.arxiv
        first.s2 = first.s2 or ref.s2
        if key not in citing:
            citing.append(key)
    first.citing = citing
    return first


def missing_note_region(missing: list[MissingRef], link: Callable[[str], str]) -> str:
    """The managed region of ``Missing references.md``: a numbered list, most cited first."""
    if not missing:
        return "_No paper outside the library is cited by several library papers._"
    lines = [
        f"**{len(missing)} papers** cited by your library but not in it, most cited first.",
        "",
    ]
    for number, paper in enumerate(missing, start=1):
        ref = Reference(paper.title, paper.year, paper.doi, paper.arxiv, paper.s2)
        citing = ", ".join(link(k) for k in paper.citing)
        line = f"{number}. {external_line(ref)} — cited by {paper.count}: {citing}"
        if paper.add_id:
            line += f" · `zotsync add {paper.add_id.replace('`', '')}`"
        lines.append(line)
    return "\n".join(lines)


def new_missing_note(region: str, name: str = "missing") -> str:
    """A new ``Missing references.md``: a heading and a line for the user, then the region.

    The region is framed by :func:`~zotsync.vault.regions.region_block`, so its end marker is
    on a line of its own with a final newline (the region text carries none) and a rerun finds
    the note exactly as it left it.
    """
    return (
        "# Missing references\n\nPapers your library cites most but does not hold. "
        "Add one with `zotsync add ID`.\n\n" + region_block(name, region)
    )
