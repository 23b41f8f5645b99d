"""Reading status and priority: the one vocabulary, seeded from Zotero, read from frontmatter.

Everything that names a status imports it from here: the planner and the indexes (which tags
are statuses, never topics), discover's ranking, the note renderer (the seed) and the Zotero
write-back (:data:`STATUS_TAGS`, the tags it sets).

``status`` and ``priority`` are frontmatter keys with the ``keep`` policy: zotsync seeds them
once, when the note is created, and from then on the user's value wins. The seed comes from
what the user already recorded in Zotero:

* tags ``to-read`` / ``reading`` / ``read`` (also ``unread``, ``in-progress``, ``skip``,
  ``not-reading``; case, ``#`` and spaces/underscores ignored);
* the Zotero Reading List plugin's Extra line ``Read_Status: <name>`` with its default
  statuses ``New`` and ``To Read`` (→ ``to-read``), ``In Progress`` (→ ``reading``), ``Read``
  (→ ``read``) and ``Not Reading`` (→ ``skip``). Custom status names are ignored.

When signals disagree the most advanced one wins — ``read`` over ``reading`` over ``skip``
over ``to-read`` — because any sign that a paper was read means it must not be planned again.
Without any signal the status is ``to-read``, which makes a new paper a plan candidate.

Priority is 1–5 with **1 the most urgent** (like P1); it is seeded from an Extra line
``Priority: N`` or a tag ``priority/N`` (also ``priority:N``, ``priority-N``). The planner
treats a missing priority as 3, so marking a paper 4 or 5 pushes it behind unmarked ones.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

VALID_STATUSES: tuple[str, ...] = ("to-read", "reading", "read", "skip")
DEFAULT_STATUS = "to-read"
#: the tags the write-back sets in Zotero, one at a time (``skip`` stays in the vault)
STATUS_TAGS: tuple[str, ...] = ("to-read", "reading", "read")
DEFAULT_PRIORITY = 3

#: how far along each status is; the highest signal wins when seeding
_ADVANCE = {"to-read": 0, "skip": 1, "reading": 2, "read": 3}

_ALIASES = {
    "to-read": "to-read",
    "toread": "to-read",
    "unread": "to-read",
    "new": "to-read",
    "reading": "reading",
    "in-progress": "reading",
    "read": "read",
    "done": "read",
    "skip": "skip",
    "skipped": "skip",
    "not-reading": "skip",
}

#: tag names that seed a status (a narrower set than frontmatter aliases: "new"/"done"
#: are too common as ordinary tags to mean a reading status)
_TAG_STATUSES = {
    "to-read": "to-read",
    "toread": "to-read",
    "unread": "to-read",
    "reading": "reading",
    "in-progress": "reading",
    "read": "read",
    "skip": "skip",
    "not-reading": "skip",
}

_EXTRA_LINE = re.compile(r"^\s*read_status\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_PRIORITY_LINE = re.compile(r"^\s*priority\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_PRIORITY_TAG = re.compile(r"^#?priority\s*[/:\-\s]\s*(\d+)$", re.IGNORECASE)


def _slug(value: str) -> str:
    """Lower case, ``#`` dropped, runs of spaces/underscores/dashes as one ``-``."""
    return re.sub(r"[\s_\-]+", "-", value.strip().lstrip("#").lower()).strip("-")


def normalize_status(value: object) -> str | None:
    """A frontmatter ``status`` value as one of :data:`VALID_STATUSES`, or None.

    Tolerant of how people type (``Read``, ``to read``, ``In progress``), so a user's
    edit in Obsidian is understood; anything else is None (the caller keeps the user's
    text and treats the paper as not a candidate).
    """
    if not isinstance(value, str):
        return None
    return _ALIASES.get(_slug(value))


def normalize_priority(value: object) -> int | None:
    """A frontmatter ``priority`` as an int 1–5, or None (bools and out-of-range ignored)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return None
        value = int(value)
    if isinstance(value, int) and 1 <= value <= 5:
        return value
    return None


def reading_list_status(extra: str) -> str | None:
    """The status recorded by the Reading List plugin in Extra, mapped to ours."""
    for match in _EXTRA_LINE.finditer(extra or ""):
        # the plugin can show an icon before the name; tolerate one pasted in
        name = _slug(re.sub(r"^[^\w]+", "", match.group(1)))
        mapped = {
            "new": "to-read",
            "to-read": "to-read",
            "in-progress": "reading",
            "read": "read",
            "not-reading": "skip",
        }.get(name)
        if mapped:
            return mapped
    return None


def seed_status(tags: Iterable[str], extra: str = "") -> str:
    """The initial ``status`` of a new note from Zotero tags and the Extra field."""
    signals = [_TAG_STATUSES[s] for s in map(_slug, tags) if s in _TAG_STATUSES]
    from_extra = reading_list_status(extra)
    if from_extra:
        signals.append(from_extra)
    if not signals:
        return DEFAULT_STATUS
    return max(signals, key=lambda s: _ADVANCE[s])


def seed_priority(extra: str = "", tags: Iterable[str] = ()) -> int | None:
    """The initial ``priority`` (1–5) from an Extra ``Priority:`` line, else a tag.

    Among several priority tags the most urgent (lowest number) wins.
    """
    for match in _PRIORITY_LINE.finditer(extra or ""):
        value = normalize_priority(match.group(1))
        if value is not None:
            return value
    found = []
    for tag in tags:
        tag_match = _PRIORITY_TAG.match(tag.strip())
        if tag_match:
            value = normalize_priority(tag_match.group(1))
            if value is not None:
                found.append(value)
    return min(found) if found else None


@functools.lru_cache(maxsize=4096)
def is_status_tag(tag: str) -> bool:
    """True for tags that record reading status or priority (never a topic).

    Cached: a library reuses a small pool of tags, asked about once per paper per plan.
    """
    return _slug(tag) in _TAG_STATUSES or bool(_PRIORITY_TAG.match(tag.strip()))


def frontmatter_meta(fm: Mapping[str, Any]) -> dict[str, Any]:
    """What the planner needs from a paper note's frontmatter (the user's values)."""
    tags = fm.get("tags") or []
    collections = fm.get("collections") or []
    year = fm.get("year")
    return {
        "title": str(fm.get("title") or ""),
        "status": normalize_status(fm.get("status")) or DEFAULT_STATUS,
        "priority": normalize_priority(fm.get("priority")),
        "tags": [str(t).lstrip("#") for t in tags] if isinstance(tags, list) else [str(tags)],
        "collections": [str(c) for c in collections] if isinstance(collections, list) else [],
        "year": year if isinstance(year, int) and not isinstance(year, bool) else None,
    }
