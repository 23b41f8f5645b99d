"""Names, links and render-input hashes for a whole library, computed before anything is written.

Renames change what other notes link to, so every item's note name is settled first (existing
notes keep theirs unless their title changed and zotsync placed them), then each item's link
context (related, references, cited-by, citations in child notes) is built from those names, and
finally a hash of everything the rendering depends on. That hash is what "changed in Zotero"
means: a touched timestamp with the same content renders the same and writes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pickle
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from zotsync.config import Config
from zotsync.model import Item, Library
from zotsync.refs.render import cited_by_region, frontmatter_links, references_region
from zotsync.refs.resolve import RefGraph
from zotsync.render.note import NoteLinks
from zotsync.state.db import ItemState
from zotsync.vault.names import (
    NameRequest,
    assign_names,
    candidates,
    format_pattern,
)


@dataclass(frozen=True)
class Placement:
    """Where an item's note is and where it should be after this run."""

    key: str
    current: str | None  # vault-relative path now, if a note exists
    target: str  # vault-relative path after this run

    @property
    def stem(self) -> str:
        return PurePosixPath(self.target).stem

    @property
    def renamed(self) -> bool:
        return self.current is not None and self.current != self.target


def _author_year(item: Item) -> str:
    last = item.creators[0].last if item.creators else ""
    parts = [p for p in (last, str(item.year or "")) if p]
    return " ".join(parts)


def desired_stem(item: Item, pattern: str) -> str:
    """The file stem the naming pattern asks for (before collision handling)."""
    return _stem(
        pattern,
        item.title or item.key,
        item.citekey or item.key,
        item.key,
        str(item.year or ""),
        item.creators[0].last if item.creators else "",
    )


@functools.lru_cache(maxsize=131072)
def _stem(pattern: str, title: str, citekey: str, key: str, year: str, author: str) -> str:
    # cached: every pass names every item, and names only change with these values
    values = {"title": title, "citekey": citekey, "key": key, "year": year, "author": author}
    return format_pattern(pattern, values)  # already passed through safe_filename


def _named_by_us(item: Item, state: ItemState, path: str, pattern: str, base: str) -> bool:
    """Whether the note at ``path`` still bears the name zotsync gave it.

    Only such a note follows title changes. The state remembers the path zotsync last saw,
    which after a sync is also a name the user chose, so the stem is checked against the names
    the previous title gave (plain or with a collision suffix); any other name is the user's.
    """
    if state.path != path or not state.named:
        return False
    if state.title is None:
        return True
    stem = PurePosixPath(path).stem
    if state.title != item.title:
        before = dataclasses.replace(item, fields={**item.fields, "title": state.title})
        base = desired_stem(before, pattern)
    elif stem == base:
        return True  # the common case, without building the candidate names
    return stem in set(candidates(NameRequest(item.key, base, _author_year(item))))


def place_notes(
    library: Library,
    current: Mapping[str, str],
    states: Mapping[str, ItemState],
    folder_names: Mapping[str, str],
    config: Config,
) -> dict[str, Placement]:
    """Decide every item's note path.

    ``current`` maps keys to the path of the note claiming them (single claimants only);
    ``folder_names`` maps casefolded stems of other files in the papers folder to their path,
    so a new note never takes a name that exists. A note the user renamed or moved keeps its
    place; one zotsync placed follows title changes when ``rename`` is on.
    """
    folder = config.papers_folder.strip("/")
    requests: list[NameRequest] = []
    fixed: dict[str, Placement] = {}
    for item in library.items:
        path = current.get(item.key)
        state = states.get(item.key)
        base = desired_stem(item, config.filename)
        if path is not None:
            placed_by_us = state is not None and _named_by_us(
                item, state, path, config.filename, base
            )
            in_folder = str(PurePosixPath(path).parent) == folder
            if not (placed_by_us and in_folder and config.rename):
                fixed[item.key] = Placement(item.key, path, path)
                continue
            requests.append(
                NameRequest(item.key, base, _author_year(item), PurePosixPath(path).stem)
            )
        else:
            requests.append(NameRequest(item.key, base, _author_year(item), None))
    taken = dict(folder_names)
    for placement in fixed.values():
        if str(PurePosixPath(placement.target).parent) == folder:
            taken[PurePosixPath(placement.target).stem.casefold()] = placement.key
    names = assign_names(requests, taken)
    out = dict(fixed)
    for req in requests:
        out[req.key] = Placement(req.key, current.get(req.key), f"{folder}/{names[req.key]}.md")
    return out


def link_contexts(
    library: Library,
    placements: Mapping[str, Placement],
    graph: RefGraph | None,
    config: Config,
) -> dict[str, NoteLinks]:
    """Per item: the names of the notes it links to, and its reference/cited-by texts."""
    stems = {key: p.stem for key, p in placements.items()}

    def link(key: str) -> str:
        return f"[[{stems[key]}]]"

    out: dict[str, NoteLinks] = {}
    for item in library.items:
        related = [stems[k] for k in item.related_keys if k in stems and k != item.key]
        links = NoteLinks(
            stem=stems[item.key],
            related=related,
            cite_links=_cited_in_notes(item, stems),
            data_dir=library.data_dir,
            base_dir=config.base_attachment_path,
            collection_paths=sorted(
                "/".join(library.collection_path(c))
                for c in item.collections
                if c in library.collections
            ),
        )
        if graph is not None:
            refs = graph.items.get(item.key)
            citing = [k for k in graph.cited_by.get(item.key, []) if k in stems]
            if refs is not None:
                links.references_text = references_region(refs, link)
                in_lib = [k for k in refs.in_library if k in stems]
                links.references_fm = frontmatter_links(in_lib, link)
            if citing:
                links.cited_by_text = cited_by_region(citing, link)
                links.cited_by_fm = frontmatter_links(citing, link)
        out[item.key] = links
    return out


_ITEM_URI = re.compile(r"items/([23456789A-Z]{8})")


def _cited_in_notes(item: Item, stems: Mapping[str, str]) -> dict[str, str]:
    """Note names of library items that the item's child notes cite (``data-citation`` URIs).

    Only these go into the link context: handing every note name to every item would make the
    render-input hash quadratic in the library size.
    """
    out: dict[str, str] = {}
    for note in item.notes:
        if "items" not in note.html:
            continue
        for key in _ITEM_URI.findall(urllib.parse.unquote(note.html)):
            if key in stems:
                out[key] = stems[key]
    return out


def input_hash(item: Item, links: NoteLinks, global_fp: str) -> str:
    """Hash of everything an item's note is rendered from."""
    # pickle is the fastest complete serialisation of these plain dataclasses (3× faster than
    # JSON here). Equal data pickles to equal bytes in practice; if it ever did not, the item
    # would only be rendered again and, its text being equal, not written.
    payload = pickle.dumps((global_fp, item, links), protocol=5)
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def link_targets(item: Item) -> set[str]:
    """Keys whose note names ``item``'s note shows: related items and items cited in its notes.

    Kept in the state's link index (whether or not the target is in the library now), so an
    incremental pass knows which notes to render again when a target appears, moves or goes.
    """
    out = set(item.related_keys)
    for note in item.notes:
        if "items" in note.html:
            out.update(_ITEM_URI.findall(urllib.parse.unquote(note.html)))
    out.discard(item.key)
    return out
