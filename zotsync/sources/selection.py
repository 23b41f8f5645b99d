"""The ``--collection NAME`` filter: the one way a collection name picks items.

A name selects every collection whose path ends with it, compared without case: ``NLP``,
``nlp`` and ``Deep Learning/NLP`` all pick ``Deep Learning/NLP``; each picked collection
brings its subcollections, and an item is kept when it is in any of them. A name that picks
nothing is a configuration error (all of them listed at once), never an empty library — that
would look like "everything was deleted" to the sync.

A source that can skip unselected items while reading applies it there (``sqlite`` before it
builds items, ``web`` on its cache); the engine applies it again to whatever a source returns,
which costs nothing when the source already did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from zotsync.errors import ConfigError
from zotsync.model import Collection, Library

#: how many collection names an error message lists
_SHOWN = 12


def _parts(path: str) -> list[str]:
    return [p.strip().casefold() for p in path.strip("/").split("/") if p.strip()]


def select_collections(
    collections: Mapping[str, Collection], names: Iterable[str], *, where: str = "the library"
) -> set[str] | None:
    """Keys of the collections ``names`` pick, with everything below them; None: no filter."""
    names = list(names)
    if not names:
        return None
    tree = Library(collections=dict(collections))
    paths = {key: [p.casefold() for p in tree.collection_path(key)] for key in collections}
    chosen: set[str] = set()
    missing: list[str] = []
    for name in names:
        wanted = _parts(name)
        hits = [k for k, path in paths.items() if wanted and path[-len(wanted) :] == wanted]
        if not hits:
            missing.append(name)
        for key in hits:
            chosen |= tree.descendants(key)
    if missing:
        known = sorted({c.name for c in collections.values()}, key=str.casefold)
        have = ", ".join(known[:_SHOWN]) + (", …" if len(known) > _SHOWN else "")
        raise ConfigError(
            [f"no collection named {m!r} in {where} (have: {have or 'none'})" for m in missing]
        )
    return chosen


def restrict_to_collections(library: Library, names: Iterable[str]) -> Library:
    """``library`` with only the items in the collections ``names`` pick (see module doc)."""
    chosen = select_collections(library.collections, names)
    if chosen is None:
        return library
    return replace(library, items=[i for i in library.items if chosen.intersection(i.collections)])
