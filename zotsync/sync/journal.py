"""The rename journal: renames are recorded before they are made, links rewritten after.

A pass that renames notes must also rewrite every link to them. Both cannot be one atomic step,
so every rename the plan holds goes into the state DB's ``rename_journal`` before the first one
(:func:`planned_renames`), and :func:`finish_renames` — at the end of the pass and first thing in
the next one — rewrites links for those that happened and clears the journal once nothing is
left to do. A kill at any instant in between therefore leaves no link dangling after the next
complete pass; rewriting is idempotent, so a replay killed in turn is simply replayed again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from zotsync.state.db import StateDB
from zotsync.sync.context import Placement
from zotsync.sync.links import rewrite_renamed_links
from zotsync.sync.planner import Action

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
    rewrite = rewrite_renamed_links(vault, done, state, library)
    log.info("rewrote links in %d files", rewrite.touched)
    if not rewrite.failed:
        with state.transaction():
            state.clear_rename_journal(library)
    return True


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
