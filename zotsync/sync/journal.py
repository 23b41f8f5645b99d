"""The journals of a pass: renames recorded before they are made, and notes before they are
written, so that a kill at any instant leaves the next pass able to finish the work.

**Renames.**
A pass that renames notes must also rewrite every link to them. Both cannot be one atomic step,
so every rename the plan holds goes into the state DB's ``rename_journal`` before the first one
(:func:`planned_renames`), and :func:`finish_renames` — at the end of the pass and first thing in
the next one — rewrites links for those that happened and clears the journal once nothing is
left to do. A kill at any instant in between therefore leaves no link dangling after the next
complete pass; rewriting is idempotent, so a replay killed in turn is simply replayed again.

**Writes.** A note is written first and its state row (with the hashes of the regions written)
recorded after. A kill in between used to leave regions whose hashes the state did not know:
if Zotero then changed the item, the next pass took zotsync's own write for a user's edit and
made a conflict. :func:`remember_writes` records the region hashes before the write, and
:func:`recognise_own_write` lets the next pass take a region that matches them for its own.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from zotsync.state.db import ItemState, StateDB
from zotsync.sync.context import Placement
from zotsync.sync.link_index import files_linking_to
from zotsync.sync.links import rewrite_renamed_links
from zotsync.sync.planner import Action
from zotsync.vault.regions import landed_hash, parse_note, text_hash

log = logging.getLogger(__name__)


def finish_renames(vault: Path, state: StateDB, library: str) -> bool:
    """Rewrite links for every journalled rename that happened; True if there were any.

    A journalled rename that did not happen (killed before it, or it failed) is dropped: links
    to the old name are still right, and the pass that makes it journals it anew. The journal
    is kept when a file could not be rewritten (the user was saving it), so the next pass
    retries.
    """
    journal = state.journalled_renames(library)
    if not journal:
        return False
    done = [(old, new) for old, new in _chained(journal) if _rename_happened(vault, old, new)]
    # only the files the link index says may name an old note are read (sync/link_index.py)
    files = files_linking_to(vault, state, [Path(old).stem for old, _ in done]) if done else []
    rewrite = rewrite_renamed_links(vault, done, state, library, files)
    log.info("rewrote links in %d files", rewrite.touched)
    if not rewrite.failed:
        with state.transaction():
            state.clear_rename_journal(library)
    return True


def remember_writes(
    state: StateDB, library: str, regions: dict[str, dict[str, str]], *, hashed: bool = False
) -> None:
    """Record, before writing, the regions (key → name → content, or hash) notes will get."""
    if not hashed:
        regions = {
            key: {name: landed_hash(content) for name, content in by_name.items()}
            for key, by_name in regions.items()
        }
    state.put_pending_writes(library, regions)


def recognise_own_write(
    vault: Path, item: ItemState, path: str | None, pending: dict[str, str] | None
) -> None:
    """Take the note's regions that equal a pending write of a killed pass as zotsync's.

    Sets their hashes in ``item.regions`` (the planner's "what zotsync last wrote"), so the
    update that follows replaces them like any region zotsync owns; a region the user edited
    since matches no hash and stays a conflict.
    """
    if not pending or not path:
        return
    try:
        text = (vault / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for name, region in parse_note(text).regions.items():
        if pending.get(name) == text_hash(region.lf_content):
            item.regions[name] = pending[name]


def planned_renames(
    actions: list[Action], placements: dict[str, Placement]
) -> list[tuple[str, str]]:
    """(current path, target path) of every note the actions will move (see ``_execute``)."""
    out = []
    for a in actions:
        if a.kind in ("update", "adopt") and a.path and a.key in placements:
            target = placements[a.key].target
            if target and target != a.path:
                out.append((a.path, target))
    return out


def _chained(journal: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each journalled rename followed to its last name (A→B then B→C: A→C and B→C).

    A journal kept across passes (a file could not be rewritten) may hold such chains; the
    note is then only at C, and links to A must go there.
    """
    out = []
    for i, (old, new) in enumerate(journal):
        for later_old, later_new in journal[i + 1 :]:
            if later_old == new:
                new = later_new
        out.append((old, new))
    return out


def _rename_happened(vault: Path, old: str, new: str) -> bool:
    """The note is at ``new`` and no longer at ``old`` (or both name one file: case-only)."""
    new_path, old_path = vault / new, vault / old
    try:
        if not new_path.is_file():
            return False
        return not old_path.exists() or os.path.samefile(old_path, new_path)
    except OSError:
        return False
