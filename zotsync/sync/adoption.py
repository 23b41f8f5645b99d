"""Which existing Markdown file stands for which paper: the pure matcher behind adoption.

People come to zotsync with literature notes made by other tools (Citations, Zotero
Integration, ZotLit, mdnotes, PaperForge). Before creating a note for an item, the engine
collects what every candidate file says about itself (:class:`Evidence`, read in
:mod:`zotsync.vault.evidence`) and asks :func:`match_notes` which file is the item's note.

Evidence, strongest first (any one of them is enough):

* ``zotero-key`` / ``zotero_key`` in the frontmatter equal to the item key;
* a ``zotero://select/…/items/KEY`` link in the body, or ``zotero://select/items/@CITEKEY``;
* ``citekey`` / ``citationKey`` / ``citation-key`` in the frontmatter, or a file named
  ``@CITEKEY.md`` or ``CITEKEY.md``;
* ``doi`` / ``DOI`` in the frontmatter (compared normalised, case-insensitively).

A file whose body links several different items is a list (a reading list, a map of content),
not the note of one paper: its links are not evidence. Everything else it says still is.

The decision: an item is adopted when exactly one file matches it and that file matches no
other item. Every other item with evidence is *ambiguous*: nothing is created or changed for
it, and the files and the evidence are reported so the user can decide. Ambiguities are
grouped by the connected items and files, so one report line tells the whole story.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Evidence:
    """What one file says about the paper it stands for (all values already normalised)."""

    path: str  # vault-relative POSIX path
    keys: frozenset[str] = frozenset()  # frontmatter zotero-key / zotero_key
    link_keys: frozenset[str] = frozenset()  # zotero://select/…/items/KEY in the body
    citekeys: frozenset[str] = frozenset()  # frontmatter citekey / citationKey / citation-key
    link_citekeys: frozenset[str] = frozenset()  # zotero://select/items/@CITEKEY
    dois: frozenset[str] = frozenset()  # frontmatter doi / DOI, normalised

    @property
    def stem(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return name[:-3] if name.lower().endswith(".md") else name

    @property
    def is_list(self) -> bool:
        """True when the body links more than one paper: its links say nothing about itself."""
        # a key link and a citekey link may well name the same paper: count each kind apart
        return len(self.link_keys) > 1 or len(self.link_citekeys) > 1


@dataclass(frozen=True)
class Wanted:
    """An item that has no note yet: the identities a file could name it by."""

    key: str
    citekey: str = ""
    doi: str | None = None  # normalised


@dataclass(frozen=True)
class Match:
    """One file adopted for one item, and why."""

    key: str
    path: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Ambiguity:
    """Items and files that point at each other in more than one way; nothing is done."""

    keys: tuple[str, ...]
    paths: tuple[str, ...]
    #: (item key, file, evidence) for every pairing found
    links: tuple[tuple[str, str, tuple[str, ...]], ...]

    @property
    def why(self) -> str:
        if len(self.paths) > 1 and len(self.keys) == 1:
            return "several files stand for this item"
        if len(self.keys) > 1 and len(self.paths) == 1:
            return "one file matches several items"
        return "several files and items match each other"

    def describe(self) -> str:
        """One line for humans: what is ambiguous and what to do."""
        pairs = "; ".join(f"{k} ← {p} ({', '.join(ev)})" for k, p, ev in self.links)
        return (
            f"{self.why}: {pairs} — nothing was created for "
            f"{', '.join(self.keys)}; keep one file per paper (or remove the identifying "
            "key, link or DOI from the others), then sync again"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "keys": list(self.keys),
            "paths": list(self.paths),
            "reason": self.why,
            "message": self.describe(),
            "evidence": [{"key": k, "path": p, "evidence": list(ev)} for k, p, ev in self.links],
        }


@dataclass
class AdoptionPlan:
    """The outcome of matching: files to adopt, and the ambiguities to report."""

    matches: dict[str, Match] = field(default_factory=dict)
    ambiguous: list[Ambiguity] = field(default_factory=list)

    @property
    def ambiguous_keys(self) -> set[str]:
        return {k for a in self.ambiguous for k in a.keys}


def evidence_for(item: Wanted, ev: Evidence) -> tuple[str, ...]:
    """The reasons why ``ev``'s file stands for ``item`` (empty: it does not)."""
    out: list[str] = []
    if item.key in ev.keys:
        out.append("zotero-key")
    if not ev.is_list and item.key in ev.link_keys:
        out.append("zotero link")
    ck = item.citekey
    if ck:
        if not ev.is_list and ck in ev.link_citekeys:
            out.append("zotero link @citekey")
        if ck in ev.citekeys:
            out.append("citekey")
        if ev.stem in (ck, f"@{ck}"):
            out.append("file name")
    if item.doi and item.doi in ev.dois:
        out.append("doi")
    return tuple(out)


def match_notes(items: Iterable[Wanted], evidence: Sequence[Evidence]) -> AdoptionPlan:
    """Pair items needing a note with the files that stand for them (see module docstring)."""
    by_key: dict[str, Wanted] = {}
    for item in items:
        by_key.setdefault(item.key, item)
    # index the files by every identity they carry, so matching is linear, not items × files
    index: dict[tuple[str, str], list[int]] = {}
    for n, ev in enumerate(evidence):
        ids: list[tuple[str, str]] = [("key", k) for k in ev.keys]
        ids += [("ck", c) for c in ev.citekeys]
        ids.append(("ck", ev.stem))
        if ev.stem.startswith("@"):
            ids.append(("ck", ev.stem[1:]))
        ids += [("doi", d) for d in ev.dois]
        if not ev.is_list:
            ids += [("key", k) for k in ev.link_keys] + [("ck", c) for c in ev.link_citekeys]
        for ident in set(ids):
            index.setdefault(ident, []).append(n)
    pairs: dict[tuple[str, str], tuple[str, ...]] = {}
    files_of: dict[str, list[str]] = {}
    items_of: dict[str, list[str]] = {}
    for key in sorted(by_key):
        item = by_key[key]
        candidates: set[int] = set(index.get(("key", key), ()))
        if item.citekey:
            candidates.update(index.get(("ck", item.citekey), ()))
        if item.doi:
            candidates.update(index.get(("doi", item.doi), ()))
        for n in sorted(candidates, key=lambda i: evidence[i].path):
            reasons = evidence_for(item, evidence[n])
            if reasons:
                path = evidence[n].path
                pairs[(key, path)] = reasons
                files_of.setdefault(key, []).append(path)
                items_of.setdefault(path, []).append(key)
    plan = AdoptionPlan()
    grouped: set[str] = set()
    for key in sorted(files_of):
        paths = files_of[key]
        if len(paths) == 1 and len(items_of[paths[0]]) == 1:
            plan.matches[key] = Match(key, paths[0], pairs[(key, paths[0])])
            continue
        if key in grouped:
            continue
        keys, files = _component(key, files_of, items_of)
        grouped.update(keys)
        links = tuple((k, p, pairs[(k, p)]) for k in keys for p in files_of[k])
        plan.ambiguous.append(Ambiguity(tuple(keys), tuple(files), links))
    return plan


def _component(
    start: str, files_of: dict[str, list[str]], items_of: dict[str, list[str]]
) -> tuple[list[str], list[str]]:
    """All items and files connected to ``start`` through shared evidence, sorted."""
    keys: set[str] = set()
    files: set[str] = set()
    todo = [start]
    while todo:
        key = todo.pop()
        if key in keys:
            continue
        keys.add(key)
        for path in files_of.get(key, ()):
            if path not in files:
                files.add(path)
                todo.extend(items_of[path])
    return sorted(keys), sorted(files)
