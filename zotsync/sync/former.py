"""Carrying a note over to an item's new identity (a standalone attachment given a parent).

Zotero's "Create Parent Item" turns a standalone PDF into the child of a new regular item: the
attachment's key leaves the top level and the new item has another key. The note zotsync wrote
for the PDF must become the new item's note, not stay behind as "deleted" next to a fresh
duplicate. Sources list the keys an item may have had in ``Item.former_keys``; before planning,
:func:`carry_over` moves the old key's state row and note claim to the new key, so the planner
sees an ``update`` of an existing note (its ``zotero-key`` and regions are rewritten, the user's
text is kept, and the file is renamed after the new title like any title change).

Crash safety: the engine rewrites the state row's key in the database in its own transaction
before anything else happens. If the run stops after that, the next run finds the state row
under the new key pointing at the note that still says the old key, and moves the claim again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from zotsync.model import Library
from zotsync.state.db import ItemState
from zotsync.sync.planner import NoteSeen


def carry_over(
    library: Library,
    states: dict[str, ItemState],
    claims: dict[str, list[NoteSeen]],
    source_keys: Collection[str],
) -> list[tuple[str, str]]:
    """Move former keys' state rows and note claims to their items (in place).

    A move happens only when the old key is gone from the source and the item has no note of
    its own (or its state row already points at the old key's note: an interrupted move).
    Returns the ``(old, new)`` pairs moved.
    """
    moves: list[tuple[str, str]] = []
    for item in library.items:
        for old in item.former_keys:
            if old in source_keys or old == item.key:
                continue
            old_state, old_notes = states.get(old), claims.get(old, [])
            if old_state is None and not old_notes:
                continue
            own = states.get(item.key)
            old_paths = {n.path for n in old_notes} | {old_state.path if old_state else None}
            if item.key in claims or (own is not None and own.path not in old_paths):
                continue  # the item already has its own note: nothing to carry over
            if old_state is not None:
                states[item.key] = replace(old_state, key=item.key)
                del states[old]
            if old_notes:
                claims[item.key] = claims.pop(old)
            moves.append((old, item.key))
            break
    return moves
