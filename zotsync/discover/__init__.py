"""``zotsync discover``: this week's new arXiv papers, ranked against the library, as a note.

One run: list the papers submitted in the last ``days`` days in the given categories and/or
queries (one rate-limited :class:`~zotsync.arxiv_api.ArxivClient`, paging included), drop
those already in the library (arXiv id, DataCite DOI or published DOI), rank the rest
(:mod:`zotsync.discover.rank`), and write the top K into ``Inbox/<ISO week>.md``
(:mod:`zotsync.discover.inbox`) — carrying over the user's ticks, keeping the user's area,
and not touching the file at all when nothing changed (same week, same inputs → same bytes,
same mtime).

``zotsync add --from-inbox`` uses :func:`ticked_in_inbox` and :func:`mark_inbox_added`; they
read every inbox note, because a Sunday discover (W47) is often ticked on Monday (W48).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from zotsync.add.ids import known_identifiers
from zotsync.arxiv_api import ArxivClient
from zotsync.discover.inbox import (
    END,
    has_region,
    inbox_path,
    iso_week,
    mark_added,
    new_inbox_note,
    parse_inbox,
    read_state,
    render_region,
    update_inbox_note,
)
from zotsync.discover.rank import RankedPaper, library_docs, rank_papers
from zotsync.errors import ConfigError
from zotsync.library_notes import RegionMemory, write_region_note
from zotsync.model import Item
from zotsync.vault.atomic import cleanup_temp_files, file_sig, write_atomic
from zotsync.vault.confine import confine

__all__ = [
    "DiscoverResult",
    "discover",
    "mark_inbox_added",
    "ticked_in_inbox",
]

_WEEK_FILE_RE = re.compile(r"^\d{4}-W\d{2}\.md$")


@dataclass(frozen=True, slots=True)
class DiscoverResult:
    """What a discover run did; :meth:`to_json` is the ``discover --json`` object."""

    week: str
    path: str
    papers: list[RankedPaper] = field(default_factory=list)
    candidates: int = 0
    written: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "week": self.week,
            "path": self.path,
            "papers": [p.to_json() for p in self.papers],
        }


def _inside(vault: Path, relative: str) -> Path:
    return confine(vault, vault / relative)


def write_if_changed(path: Path, text: str) -> bool:
    """Atomically replace ``path`` with ``text`` unless it already holds exactly that.

    Through :func:`~zotsync.vault.atomic.write_atomic`: a crash leaves the old or the new
    note (and a temp file the next pass removes), and a save the user made since the read
    makes the write fail rather than be overwritten. Returns whether anything was written.
    """
    data = text.encode("utf-8")
    sig = file_sig(path)  # before the read: a save after it makes the write fail
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data, expect=sig)
    return True


def discover(
    vault: Path,
    items: Sequence[Item],
    client: ArxivClient,
    *,
    categories: Sequence[str] = (),
    queries: Sequence[str] = (),
    days: int = 7,
    top_k: int = 20,
    now: datetime | None = None,
    statuses: Mapping[str, str] | None = None,
    priorities: Mapping[str, object] | None = None,
    note_names: Mapping[str, str] | None = None,
    collection_names: Mapping[str, str] | None = None,
    folder: str = "Inbox",
    dry_run: bool = False,
    memory: RegionMemory | None = None,
) -> DiscoverResult:
    """Rank new arXiv papers against ``items`` and write this week's inbox note.

    ``statuses``/``priorities``/``note_names`` come from the vault (note frontmatter and
    file names) and are keyed by item key; without them Zotero tags and titles are used.
    Raises :class:`ConfigError` when neither a category nor a query is given.
    """
    if not categories and not queries:
        raise ConfigError(
            ["discover needs at least one --category (e.g. cs.CL) or --query"],
        )
    if days < 1 or top_k < 1:
        raise ConfigError(["--days and the number of papers must be at least 1"])
    now = (now or datetime.now(UTC)).astimezone(UTC)
    week = iso_week(now.astimezone().date())  # the user's date: Sunday evening stays Sunday
    relative = inbox_path(week, folder)
    target = _inside(vault, relative)

    candidates = client.list_recent(categories, queries, days=days, now=now)
    known = known_identifiers(item.fields for item in items)
    docs = library_docs(
        items,
        statuses=statuses,
        priorities=priorities,
        note_names=note_names,
        collection_names=collection_names,
    )
    ranked = rank_papers(candidates, docs, known=known)
    top = ranked[:top_k]

    scope = " · ".join([*categories, *(f'"{q}"' for q in queries), f"last {days} days"])
    existing = target.read_bytes().decode("utf-8") if target.exists() else None
    previous = read_state(existing) if existing is not None else None
    region = render_region(week, top, scope=scope, candidates=len(ranked), previous=previous)
    text = update_inbox_note(existing, region) if existing is not None else new_inbox_note(region)
    written = False
    if not dry_run:
        cleanup_temp_files(target.parent)  # left by a killed run
        if existing is None or has_region(existing):
            # text typed inside the region is kept (a conflict), never replaced silently
            inner = region.split("\n", 1)[1].rsplit(END, 1)[0]
            written = write_region_note(vault, relative, "inbox", inner, text, memory=memory)
        else:
            written = write_if_changed(target, text)
    return DiscoverResult(week, relative, top, len(ranked), written)


def _inbox_notes(vault: Path, folder: str) -> list[Path]:
    base = _inside(vault, folder)
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_file() and _WEEK_FILE_RE.match(p.name))


def ticked_in_inbox(vault: Path, folder: str = "Inbox") -> dict[str, list[str]]:
    """Ticked, not yet added arXiv ids across all inbox notes -> notes (vault-relative)."""
    found: dict[str, list[str]] = {}
    for note in _inbox_notes(vault, folder):
        for rid in parse_inbox(note.read_bytes().decode("utf-8")):
            found.setdefault(rid, []).append(f"{folder}/{note.name}")
    return found


def mark_inbox_added(vault: Path, ids: Iterable[str], folder: str = "Inbox") -> list[str]:
    """Mark these ids added in every inbox note listing them; returns the notes changed."""
    wanted = set(ids)
    changed = []
    for note in _inbox_notes(vault, folder):
        text = note.read_bytes().decode("utf-8")
        if write_if_changed(note, mark_added(text, wanted)):
            changed.append(f"{folder}/{note.name}")
    return changed
