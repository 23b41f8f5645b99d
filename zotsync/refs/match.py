"""Matching references to library items (pure).

A :class:`LibraryIndex` is built once per run from the library's items. ``match`` tries, in
order, and stops at the first hit:

1. the Semantic Scholar paper id, when the item's id is known (from the cache);
2. the arXiv id without version;
3. the DOI, case-insensitively (both are normalized by :mod:`zotsync.refs.ids`);
4. the normalized title together with the year, allowing **±1 year**: a preprint and its
   published version routinely differ by a year, and S2 may date a paper either way. Among
   several items with that title the nearest year wins (then the smaller key, so the result is
   deterministic). When either side has no year, the title alone matches only if it is unique
   in the library and at least four words long — short titles ("Introduction") are too common
   to trust.

Ids are tried before titles because a title match is a guess and an id match is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from zotsync.model import Item
from zotsync.refs.ids import PaperIds, item_ids, normalize_title

#: how far apart the years of a title match may be (preprint vs. published version)
YEAR_TOLERANCE = 1
#: minimum words of a title that may match without a year
MIN_WORDS_WITHOUT_YEAR = 4


class Reference(NamedTuple):
    """One entry of a paper's reference list, and the library item it is (``key``) if any.

    A named tuple rather than a dataclass because a warm run builds hundreds of thousands of
    them. ``ntitle`` is the normalized title, computed once when the reference is first
    fetched (and cached with it) so that a warm run does no Unicode work.
    """

    title: str
    year: int | None = None
    doi: str | None = None
    arxiv: str | None = None
    s2: str | None = None
    key: str | None = None
    ntitle: str = ""

    @property
    def ids(self) -> PaperIds:
        return PaperIds(doi=self.doi, arxiv=self.arxiv, s2=self.s2)


class LibraryIndex:
    """Lookup tables from identifiers and titles to item keys."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.ids: dict[str, PaperIds] = {}
        self.by_s2: dict[str, str] = {}
        self.by_arxiv: dict[str, str] = {}
        self.by_doi: dict[str, str] = {}
        self.by_title: dict[str, list[tuple[int | None, str]]] = {}

    @classmethod
    def from_items(
        cls,
        items: Iterable[Item],
        s2_ids: dict[str, str] | None = None,
        ids: dict[str, PaperIds] | None = None,
    ) -> LibraryIndex:
        """Index ``items``; ``s2_ids`` maps item key -> known Semantic Scholar paper id.

        ``ids`` may carry the items' already computed :func:`item_ids` (the resolver has them).

        When two items share an identifier (duplicates in Zotero) the first one keeps it, so the
        result does not depend on dict iteration order beyond the given item order.
        """
        index = cls()
        for item in items:
            known = ids.get(item.key) if ids else None
            own = known or item_ids(item)
            s2 = (s2_ids or {}).get(item.key)
            index.add(item.key, PaperIds(own.doi, own.arxiv, s2), item.title, item.year)
        return index

    def add(self, key: str, ids: PaperIds, title: str, year: int | None) -> None:
        """Index one item (used by :meth:`from_items` and by tests building small indexes)."""
        self.add_normalized(key, ids, normalize_title(title), year)

    def add_normalized(self, key: str, ids: PaperIds, ntitle: str, year: int | None) -> None:
        """:meth:`add` with the title already normalized (as the state records it)."""
        self.keys.add(key)
        self.ids[key] = ids
        if ids.s2:
            self.by_s2.setdefault(ids.s2, key)
        if ids.arxiv:
            self.by_arxiv.setdefault(ids.arxiv, key)
        if ids.doi:
            self.by_doi.setdefault(ids.doi, key)
        if ntitle:
            self.by_title.setdefault(ntitle, []).append((year, key))

    def match(self, ref: Reference) -> str | None:
        """The key of the library item ``ref`` refers to, or None."""
        return self.match_parts(ref.title, ref.year, ref.doi, ref.arxiv, ref.s2, ref.ntitle)

    def match_parts(
        self,
        title: str,
        year: int | None,
        doi: str | None,
        arxiv: str | None,
        s2: str | None,
        ntitle: str = "",
    ) -> str | None:
        """:meth:`match` on loose fields (the resolver's hot loop avoids building tuples)."""
        key = (
            (s2 and self.by_s2.get(s2))
            or (arxiv and self.by_arxiv.get(arxiv))
            or (doi and self.by_doi.get(doi))
        )
        if key:
            return key
        ntitle = ntitle or normalize_title(title)
        candidates = self.by_title.get(ntitle) if ntitle else None
        if not candidates:
            return None
        return _pick_by_year(ntitle, year, candidates)


def _pick_by_year(
    ntitle: str, year: int | None, candidates: list[tuple[int | None, str]]
) -> str | None:
    if year is None or all(y is None for y, _ in candidates):
        if len(candidates) == 1 and ntitle.count(" ") + 1 >= MIN_WORDS_WITHOUT_YEAR:
            return candidates[0][1]
        return None
    near = [
        (abs(y - year), key)
        for y, key in candidates
        if y is not None and abs(y - year) <= YEAR_TOLERANCE
    ]
    if not near:
        return None
    return min(near)[1]


def related_links(item: Item, index: LibraryIndex) -> list[str]:
    """Keys of the item's Zotero "related" items that are in the library, in Zotero's order.

    These belong in the ``related`` region, never in ``references``: a relation says the user
    linked two items, not that one cites the other.
    """
    return [k for k in item.related_keys if k in index.keys and k != item.key]
