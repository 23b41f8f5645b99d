"""Index notes: ``Tags/<tag>.md``, ``Collections/<path>.md`` and ``Papers.md``.

Each index note is the user's area on top (a heading zotsync writes once, and whatever the
user adds) followed by a fully managed region between ``%% zotsync:begin index %%`` and
``%% zotsync:end index %%``. The functions here only render region texts; the caller
writes a note only when its bytes change, and for a tag that disappeared writes
:func:`empty_region` instead of deleting a note that holds user text.

Lists are chronological — year (unknown last), then date added — one line per paper::

    - 2017 · [[Attention Is All You Need]] · to-read

``Papers.md`` groups papers by topic (top-level collection, or first non-status tag) and adds
a roadmap per topic: the topic's papers references-first (cycles broken by year) and a
Mermaid flowchart of who cites whom inside the topic, arrows from a paper to the papers
that cite it (the reading direction), read papers styled.

File names: each ``/``-separated part of a tag or collection path is made file-safe
(characters not allowed on Windows/macOS/Linux or in Obsidian links become ``-``; reserved
names and trailing dots are avoided). Two names that end up equal up to case get ``-2``,
``-3``… in sorted order, so every tag keeps its own note on case-insensitive disks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from zotsync.library.papers import CitationGraph, PaperInfo, chrono_key
from zotsync.library.status import is_status_tag
from zotsync.vault.names import safe_segment
from zotsync.vault.regions import neutralise_markers
from zotsync.vault.safe_links import alias_text, heading_text, mermaid_text, wikilink

INDEX_BEGIN = "%% zotsync:begin index %%"
INDEX_END = "%% zotsync:end index %%"
TAGS_FOLDER = "Tags"
COLLECTIONS_FOLDER = "Collections"
MASTER_PATH = "Papers.md"
MAX_FLOWCHART_NODES = 80


@dataclass(frozen=True)
class IndexNote:
    """One index note: where it goes, its heading, and its region text (``None``: out of
    the pass's scope, so the note on disk is already right; see :func:`scoped`)."""

    path: str
    title: str
    region: str | None

    def text(self) -> str:
        """The full text of this note when it does not exist yet."""
        return new_index_note(self.title, self.region or "")


def _path_for(folder: str, name: str) -> str:
    parts = [safe_segment(p) for p in name.split("/") if p.strip()]
    return f"{folder}/{'/'.join(parts or ['-'])}.md"


def _unique_paths(names: Iterable[str], folder: str) -> dict[str, str]:
    """Name → path, with case-insensitive collisions numbered in sorted name order."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names)):
        base = _path_for(folder, name)
        path, n = base, 1
        while path.casefold() in taken:
            n += 1
            path = f"{base[:-3]}-{n}.md"
        taken.add(path.casefold())
        out[name] = path
    return out


def scoped(names: Iterable[str], only: Iterable[str] | None, folder: str) -> set[str] | None:
    """The names to render when only ``only`` may have changed, or ``None`` for all of them.

    A note's path depends on the other names only through collisions (:func:`_unique_paths`),
    and a name no changed paper had or has keeps its set of colliders. So the out-of-scope
    notes keep their paths unless a name in scope collides with another name, which is rare
    (two tags equal up to case): then everything is rendered.
    """
    if only is None:
        return None
    wanted = set(only)
    bases: dict[str, str] = {}
    for name in set(names) | wanted:
        base = _path_for(folder, name).casefold()
        if base in bases and (name in wanted or bases[base] in wanted):
            return None
        bases[base] = name
    return wanted


def tag_note_path(tag: str) -> str:
    """``nlp/transformers`` → ``Tags/nlp/transformers.md`` (without collision numbering)."""
    return _path_for(TAGS_FOLDER, tag)


def collection_note_path(path: str) -> str:
    """``Deep Learning/NLP`` → ``Collections/Deep Learning/NLP.md``."""
    return _path_for(COLLECTIONS_FOLDER, path)


def _alias(text: str) -> str:
    """Text that cannot end a wikilink's alias early (nor span lines)."""
    return alias_text(text)


def _wikilink(paper: PaperInfo) -> str:
    if paper.title and paper.title != paper.link:
        return wikilink(paper.link, paper.title)
    return wikilink(paper.link)


def _heading(text: str) -> str:
    """A tag or collection name as heading text: one line, no link syntax."""
    return heading_text(text)


def _code(text: str) -> str:
    """A tag or collection name inside a code span: one line, no backtick to end it."""
    return " ".join(text.replace("`", "'").split())


def index_line(paper: PaperInfo) -> str:
    """``- 2017 · [[Attention Is All You Need]] · to-read``."""
    year = str(paper.year) if paper.year is not None else "n.d."
    return f"- {year} · {_wikilink(paper)} · {paper.status}"


def chronological(papers: Iterable[PaperInfo]) -> list[PaperInfo]:
    """Papers by year (unknown last), then date added, then key; duplicates dropped."""
    unique = {p.key: p for p in papers}
    return sorted(unique.values(), key=chrono_key)


def _list_region(intro: str, papers: Iterable[PaperInfo]) -> str:
    """``intro`` (``{n}`` is replaced by the paper count) then the chronological list."""
    ordered = chronological(papers)
    lines = [intro.replace("{n}", _count(len(ordered)), 1), ""] + [index_line(p) for p in ordered]
    return "\n".join(lines) + "\n"


def _count(n: int) -> str:
    return f"{n} paper{'s' if n != 1 else ''}"


def tag_index(
    papers: Sequence[PaperInfo], folder: str = TAGS_FOLDER, only: Iterable[str] | None = None
) -> list[IndexNote]:
    """One note per tag that any paper carries, listing exactly those papers; with ``only``,
    the other tags' regions are left unrendered (``None``, see :func:`scoped`)."""
    members: dict[str, list[PaperInfo]] = {}
    for paper in papers:
        for tag in dict.fromkeys(paper.tags):
            if tag.strip():
                members.setdefault(tag, []).append(paper)
    folder = folder.strip("/") or TAGS_FOLDER
    paths = _unique_paths(members, folder)
    render = scoped(members, only, folder)
    return [
        IndexNote(
            paths[tag],
            tag,
            _list_region("{n} tagged `" + _code(tag) + "`, oldest first:", ps)
            if render is None or tag in render
            else None,
        )
        for tag, ps in sorted(members.items())
    ]


def tag_index_notes(papers: Sequence[PaperInfo]) -> dict[str, str]:
    """Vault-relative path → region text, one per tag."""
    return {note.path: note.region or "" for note in tag_index(papers)}


def collection_index(
    papers: Sequence[PaperInfo],
    folder: str = COLLECTIONS_FOLDER,
    only: Iterable[str] | None = None,
) -> list[IndexNote]:
    """One note per collection path (ancestors included) listing its direct papers.

    A collection note also links its subcollections' notes (by vault path, so they resolve
    whatever ``folder`` is), so a folder-like collection holding no papers of its own still
    gets a note that leads somewhere. ``only`` is as for :func:`tag_index`; it must hold
    the ancestors of a changed collection too, whose subcollection lists may change.
    """
    members: dict[str, list[PaperInfo]] = {}
    for paper in papers:
        for coll in dict.fromkeys(paper.collections):
            parts = [p for p in coll.split("/") if p.strip()]
            for i in range(1, len(parts) + 1):
                members.setdefault("/".join(parts[:i]), [])
            if parts:
                members["/".join(parts)].append(paper)
    folder = folder.strip("/") or COLLECTIONS_FOLDER
    paths = _unique_paths(members, folder)
    render = scoped(members, only, folder)
    notes = []
    for coll, ps in sorted(members.items()):
        if render is not None and coll not in render:
            notes.append(IndexNote(paths[coll], coll.rsplit("/", 1)[-1], None))
            continue
        children = sorted(
            c for c in members if c.startswith(coll + "/") and "/" not in c[len(coll) + 1 :]
        )
        name = coll.rsplit("/", 1)[-1]
        if ps:
            region = _list_region("{n} in `" + _code(coll) + "`, oldest first:", ps)
        else:
            region = f"No papers directly in `{_code(coll)}`.\n"
        if children:
            links = [f"- {wikilink(paths[c][:-3], c.rsplit('/', 1)[-1])}" for c in children]
            region += "\nSubcollections:\n\n" + "\n".join(links) + "\n"
        notes.append(IndexNote(paths[coll], name, region))
    return notes


def collection_index_notes(papers: Sequence[PaperInfo]) -> dict[str, str]:
    """Vault-relative path → region text, one per collection path."""
    return {note.path: note.region or "" for note in collection_index(papers)}


def paper_groups(
    papers: Sequence[PaperInfo], group_by: Literal["collection", "tag"] = "collection"
) -> dict[str, list[PaperInfo]]:
    """Topic → papers; ``collection``: every top-level collection a paper is in (a paper
    can be in several); ``tag``: its first non-status tag. Others go to the last group."""
    rest = "Unfiled" if group_by == "collection" else "Untagged"
    groups: dict[str, list[PaperInfo]] = {}
    for paper in papers:
        if group_by == "collection":
            tops = sorted({c.split("/", 1)[0] for c in paper.collections if c.split("/", 1)[0]})
        else:
            tops = [t for t in paper.tags if t.strip() and not is_status_tag(t)][:1]
        for topic in tops or [rest]:
            groups.setdefault(topic, []).append(paper)
    order = sorted((g for g in groups if g != rest), key=lambda g: (g.casefold(), g))
    if rest in groups:
        order.append(rest)
    return {g: chronological(groups[g]) for g in order}


def _mermaid_label(title: str) -> str:
    text = mermaid_text(title).replace('"', "#quot;").replace("`", "'")
    return text if len(text) <= 60 else text[:59].rstrip() + "…"


def roadmap(topic_papers: Sequence[PaperInfo]) -> str:
    """A topic's papers references-first, plus a flowchart of citations inside the topic."""
    by_key = {p.key: p for p in topic_papers}
    order = CitationGraph(by_key, by_key).order()
    lines = [f"{i}. {_wikilink(by_key[k])} · {by_key[k].status}" for i, k in enumerate(order, 1)]
    edges = [
        (ref, k)
        for k in order
        for ref in dict.fromkeys(by_key[k].references)
        if ref in by_key and ref != k
    ]
    in_edges = {k for edge in edges for k in edge}  # a set: this was quadratic in the topic
    used = [k for k in order if k in in_edges]
    if not edges:
        return "\n".join(lines)
    if len(used) > MAX_FLOWCHART_NODES:
        lines += ["", f"(Citation chart left out: {len(used)} papers is too many to draw.)"]
        return "\n".join(lines)
    ids = {k: f"n{i}" for i, k in enumerate(used, 1)}
    chart = ["```mermaid", "flowchart TD"]
    chart += [f'    {ids[k]}["{_mermaid_label(by_key[k].title or by_key[k].link)}"]' for k in used]
    chart += [f"    {ids[a]} --> {ids[b]}" for a, b in edges]
    read = [ids[k] for k in used if by_key[k].status == "read"]
    if read:
        chart.append("    classDef read fill:#d3f0d3,stroke:#2e7d32,color:#1b4d1b")
        chart.append(f"    class {','.join(read)} read")
    chart.append("```")
    return "\n".join([*lines, "", *chart])


def master_index(
    papers: Sequence[PaperInfo], group_by: Literal["collection", "tag"] = "collection"
) -> str:
    """The ``Papers.md`` region: every topic's papers chronologically, then its roadmap."""
    groups = paper_groups(papers, group_by)
    total = len({p.key for p in papers})
    out = [f"{_count(total)} in {len(groups)} topic{'s' if len(groups) != 1 else ''}."]
    for topic, members in groups.items():
        out += ["", f"## {_heading(topic)}", ""]
        out += [index_line(p) for p in members]
        if len(members) > 1:
            out += ["", f"### Roadmap: {_heading(topic)}", "", roadmap(members)]
    return "\n".join(out) + "\n"


def empty_region(name: str, kind: Literal["tag", "collection"] = "tag") -> str:
    """The region of a tag's (or collection's) note once no paper is in it any more."""
    if kind == "collection":
        return f"No papers are in `{_code(name)}` any more.\n"
    return f"No papers are tagged `{_code(name)}` any more.\n"


def note_title(text: str) -> str | None:
    """The heading zotsync wrote on top of an index note (None if the user changed it)."""
    first, _, _ = text.partition("\n")
    return first[2:] if first.startswith("# ") else None


def new_index_note(title: str, region: str) -> str:
    """A new index note: the user's area (a heading) on top, then the managed region."""
    region = neutralise_markers(region)
    body = region if region.endswith("\n") or not region else region + "\n"
    return f"# {_heading(title)}\n\n{INDEX_BEGIN}\n{body}{INDEX_END}\n"


def is_pristine(text: str, title: str) -> bool:
    """True if nothing outside the region differs from what zotsync first wrote.

    Such a note holds no user text and may be removed when its tag is gone.
    """
    start = text.find(INDEX_BEGIN)
    end = text.find(INDEX_END, start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        return False
    region = text[start + len(INDEX_BEGIN) + 1 : end]
    return text == new_index_note(title, region)
