"""The pure planner: (old state, Zotero snapshot, vault snapshot) → one action per item.

Nothing here touches the disk. The decision table (Z = Zotero, V = vault):

===========================  ==========================  =================================
Z                            V                           action
===========================  ==========================  =================================
new (no state row)           no note with its key        ``create`` (never over an existing path)
new (no state row)           one note with its key       ``adopt`` (match → record, else conflict)
changed or unchanged         note changed or Z changed   ``update`` (splice managed parts only;
                                                         user-edited regions kept → conflict)
unchanged                    note unchanged              ``unchanged``
unchanged                    note deleted by the user    ``tombstone`` (respected; ``--recreate``
                                                         creates it again)
deleted / trashed            note present                ``delete`` (user text → mark
                                                         ``zotero-deleted``; none → ``.zotsync/trash``)
deleted / trashed            no note                     ``forget``
any                          two notes claim one key     ``duplicate`` (refused, both reported)
source empty                 state knows items           whole run refused (``--force-delete``)
===========================  ==========================  =================================

Then the pass's own facts (:func:`plan_actions`): ``unchanged`` becomes ``update`` for a note
to be renamed or whose status a plan checkbox sets; an item the source could not read this time,
or whose adoption is ambiguous, is ``skip``; a key whose note was adopted by another is
``forget``.

``update`` decides per region at execution time, when the file is read: a region whose text
still hashes to what zotsync last wrote is replaced; one that already equals the new rendering
is left; anything else is the user's edit, kept, and reported as a conflict with the new
rendering written beside the note. With ``--overwrite-conflicts`` an item whose state still
records such a conflict is planned as ``update`` even when nothing else changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from zotsync.state.db import ItemState

ActionKind = Literal[
    "create", "adopt", "update", "unchanged", "tombstone", "skip", "delete", "forget", "duplicate"
]


@dataclass(frozen=True)
class NoteSeen:
    """One note in the vault that claims an item key."""

    path: str
    sig: tuple[int, int, int]


@dataclass(frozen=True)
class Action:
    """What to do for one item key; ``path`` is the note's current path if any."""

    kind: ActionKind
    key: str
    path: str | None = None
    paths: tuple[str, ...] = ()
    reason: str = ""


def decide(
    key: str,
    *,
    in_source: bool,
    input_hash: str | None,
    state: ItemState | None,
    notes: Sequence[NoteSeen],
    recreate: bool = False,
    overwrite_conflicts: bool = False,
) -> Action:
    """Decide the action for one item (see the module docstring's table)."""
    if len(notes) > 1:
        paths = tuple(sorted(n.path for n in notes))
        return Action("duplicate", key, paths=paths, reason="several notes claim this key")
    note = notes[0] if notes else None
    if in_source:
        if note is None and state is not None and state.tombstone:
            # checked before "no path → create": a tombstone row has no path either
            if recreate:
                return Action("create", key, reason="recreate")
            return Action("skip", key, reason="note deleted by the user")
        if state is None or state.path is None:
            if note is None:
                return Action("create", key)
            return Action("adopt", key, path=note.path)
        if note is None:
            if recreate:
                return Action("create", key, reason="recreate")
            return Action("tombstone", key, path=state.path, reason="note deleted by the user")
        if state.deleted:
            return Action("update", key, path=note.path, reason="back in Zotero")
        if state.input_hash != input_hash:
            return Action("update", key, path=note.path, reason="changed in Zotero")
        if overwrite_conflicts and state.conflict:
            return Action("update", key, path=note.path, reason="overwrite conflict")
        if state.sig != note.sig or state.path != note.path:
            return Action("update", key, path=note.path, reason="note changed")
        return Action("unchanged", key, path=note.path)
    # not in the source any more
    if state is None:
        return Action("skip", key, path=note.path if note else None, reason="not in this library")
    if note is None:
        return Action("forget", key, reason="deleted in Zotero, no note")
    if state.deleted and state.sig == note.sig:
        return Action("unchanged", key, path=note.path)
    return Action("delete", key, path=note.path, reason="deleted in Zotero")


def plan_actions(
    *,
    source_keys: Sequence[str],
    input_hashes: Mapping[str, str],
    states: Mapping[str, ItemState],
    notes: Mapping[str, Sequence[NoteSeen]],
    recreate: bool = False,
    overwrite_conflicts: bool = False,
    renamed: Collection[str] = (),
    forced: Collection[str] = (),
    unreadable: Collection[str] = (),
    retired: Mapping[str, str] | None = None,
    ambiguous: Collection[str] = (),
) -> list[Action]:
    """One action per key known to the source, the state or the vault, in a stable order.

    Besides the table (:func:`decide`), the pass's own facts: an unchanged item whose note is
    to be ``renamed`` (its title moved) or whose status a plan checkbox ``forced`` is updated;
    an item the source could not read now (``unreadable``) or whose adoption is ``ambiguous``
    is skipped, nothing is done for it; a ``retired`` key (its note now stands for the adopting
    key) is forgotten, never deleted.
    """
    in_source = set(source_keys)
    keys = list(source_keys)
    seen = set(keys)
    for key in sorted(set(states) | set(notes)):
        if key not in seen:
            keys.append(key)
            seen.add(key)
    retired = retired or {}
    out: list[Action] = []
    for key in keys:
        action = decide(
            key,
            in_source=key in in_source,
            input_hash=input_hashes.get(key),
            state=states.get(key),
            notes=notes.get(key, ()),
            recreate=recreate,
            overwrite_conflicts=overwrite_conflicts,
        )
        if key in retired:
            action = Action("forget", key, reason=f"its note now stands for {retired[key]}")
        elif key in ambiguous:
            action = Action("skip", key, path=action.path, reason="ambiguous adoption")
        elif key in unreadable:
            action = Action("skip", key, path=action.path, reason="unreadable in the source now")
        elif action.kind == "unchanged" and key in renamed:
            action = Action("update", key, path=action.path, reason="title changed: renamed")
        elif action.kind == "unchanged" and key in forced:
            action = Action("update", key, path=action.path, reason="status set in a plan")
        out.append(action)
    return out


def mass_deletion(source_count: int, states: Mapping[str, ItemState]) -> int:
    """How many live notes an empty source would delete (0 when the source is not empty)."""
    if source_count:
        return 0
    return sum(1 for s in states.values() if s.path and not s.deleted and not s.tombstone)
