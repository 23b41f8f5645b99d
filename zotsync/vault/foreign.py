"""Splicing zotsync's parts into a note another tool made (an adopted note).

Such a note has no managed regions yet, and every byte of it is the user's. Adopting it adds
the regions as one block right after the frontmatter (before the user's body, which stays
whole and in order) and adds the owned frontmatter keys the note lacks. Owned keys the note
already has keep the user's values (``tags`` and ``aliases`` are merged), then and on every
later sync: :func:`held_keys` names them for the state database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zotsync.vault.regions import newline_of, parse_note, region_block


def insert_after_frontmatter(text: str, blocks: Iterable[tuple[str, str]]) -> str:
    """``text`` with the regions ``(name, content)`` inserted where its body begins.

    Nothing of ``text`` is changed or moved: the bytes before the insertion point (BOM,
    frontmatter) and after it (the body) are copied as they are. A frontmatter whose closing
    ``---`` ends the file without a newline gets one, so the first marker starts a line.
    """
    parsed = parse_note(text)
    nl = newline_of(text)
    at = parsed.body_start
    new = "".join(region_block(name, content, newline=nl) for name, content in blocks)
    if not new:
        return text
    closed = parsed.frontmatter is not None and not text[:at].endswith("\n")
    prefix = nl if closed else ""
    return text[:at] + prefix + new + text[at:]


def held_keys(existing: Mapping[str, Any], policies: Mapping[str, str]) -> list[str]:
    """Owned keys the user's note already sets, other than the merged ``append`` ones."""
    return sorted(k for k in existing if k in policies and policies[k] != "append")


def policies_for(policies: Mapping[str, str], user_keys: Iterable[str]) -> dict[str, str]:
    """The merge policies for one note: the user's held keys become ``keep``."""
    out = dict(policies)
    for key in user_keys:
        if out.get(key) != "append":
            out[key] = "keep"
    return out
