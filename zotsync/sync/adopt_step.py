"""The adoption step of a pass: which items need a note, which files could be it, and the claims.

Runs after the vault scan and the source read, before notes are named and actions planned:

1. *Wanted*: items in the source that no note claims and whose state has no note (new items,
   items back from the trash; a note the user deleted stays deleted unless ``--recreate``).
   No wanted item, nothing is read: a pass over a settled vault costs nothing here.
2. *Candidates*: every scanned Markdown file that no live item claims, outside
   ``Templates/`` and zotsync's conflict files. A file claimed by a key the source no longer
   has is a candidate too: that is how a vault built from a ``.bib`` (citekey identity) finds
   its notes again when it is synced from Zotero (item-key identity).
3. The candidates' evidence is read (:mod:`zotsync.sync.evidence`) and matched
   (:func:`zotsync.sync.adoption.match_notes`, pure).
4. :func:`claim_adopted` turns each match into a claim the planner sees (so the action is an
   ``adopt``), and *retires* the keys that used to stand for the adopted file: their state rows
   are dropped (``forget``), never handled as deleted items, which would mark or trash the
   note. A retired row's record of what zotsync wrote moves to the new key, so the note is
   updated as zotsync's own note rather than adopted as a stranger's.

Several new notes claiming one key with ``zotero-key`` are an ambiguity too (reported, exit 4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

from zotsync.model import Library
from zotsync.refs.ids import item_ids
from zotsync.state.db import ItemState
from zotsync.sync.adoption import AdoptionPlan, Ambiguity, Match, Wanted, match_notes
from zotsync.sync.apply import CONFLICT_SUFFIX
from zotsync.sync.evidence import read_evidence
from zotsync.sync.planner import NoteSeen
from zotsync.vault.scan import NoteFile

CONFLICT_MARK = f"{CONFLICT_SUFFIX}.md"
SKIP_TOP = ("templates",)


def wanted_items(
    library: Library,
    states: Mapping[str, ItemState],
    claims: Mapping[str, Sequence[NoteSeen]],
    *,
    recreate: bool = False,
) -> list[Wanted]:
    """Items the planner would create a note for."""
    out = []
    for item in library.items:
        state = states.get(item.key)
        if item.key in claims:
            continue
        if state is not None and (state.path is not None or (state.tombstone and not recreate)):
            continue
        out.append(Wanted(item.key, item.citekey, item_ids(item).doi))
    return out


def candidate_paths(
    notes: Sequence[NoteFile], source_keys: set[str], states: Mapping[str, ItemState]
) -> list[str]:
    """Files that may be adopted: claimed by no live item, not templates or conflict files."""
    live_paths = {s.path for k, s in states.items() if s.path and k in source_keys}
    out = []
    for note in notes:
        rel = note.rel
        if note.error or (note.key is not None and note.key in source_keys):
            continue
        if rel in live_paths or rel.endswith(CONFLICT_MARK):
            continue
        if "/" in rel and rel.split("/", 1)[0].casefold() in SKIP_TOP:
            continue
        out.append(rel)
    return out


def find_adoptions(
    vault: Path,
    library: Library,
    notes: Sequence[NoteFile],
    states: Mapping[str, ItemState],
    claims: Mapping[str, Sequence[NoteSeen]],
    recreate: bool = False,
    claim_field: str = "zotero-key",
) -> AdoptionPlan:
    """Match the items that need a note with the files that already stand for them.

    ``claim_field`` is the frontmatter key the scan identified notes by (``citekey`` for the
    bibtex and csl-json sources); it names the evidence of notes claimed that way.
    """
    source_keys = {i.key for i in library.items}
    plan = AdoptionPlan()
    for key in sorted(source_keys & set(claims)):
        # a new item whose note already carries its zotero-key (ZotLit, a lost state DB)
        seen = claims[key]
        state = states.get(key)
        if state is not None and state.path is not None:
            continue
        if len(seen) == 1:
            plan.matches[key] = Match(key, seen[0].path, (claim_field,))
        else:
            paths = tuple(sorted(n.path for n in seen))
            links = tuple((key, p, (claim_field,)) for p in paths)
            plan.ambiguous.append(Ambiguity((key,), paths, links))
    wanted = wanted_items(library, states, claims, recreate=recreate)
    if not wanted:
        return plan
    evidence = read_evidence(vault, candidate_paths(notes, source_keys, states))
    found = match_notes(wanted, evidence)
    plan.matches.update(found.matches)
    plan.ambiguous.extend(found.ambiguous)
    return plan


def claim_adopted(
    plan: AdoptionPlan,
    claims: dict[str, list[NoteSeen]],
    states: dict[str, ItemState],
    notes: Sequence[NoteFile],
    library: Library,
) -> dict[str, str]:
    """Make each adopted file the claim of its item; return retired key -> adopting key.

    ``claims`` and ``states`` are changed in place (in memory only; rows are written by the
    actions). A retired key's state row, if it recorded this very file, is carried over to
    the adopting key.
    """
    source_keys = {i.key for i in library.items}
    by_path = {n.rel: n for n in notes}
    # indexes by path, built once: a vault rebuilt after losing its state DB adopts every note
    claimants: dict[str, list[str]] = {}
    for other, seen in claims.items():
        if other not in source_keys:
            for n in seen:
                claimants.setdefault(n.path, []).append(other)
    rows: dict[str, list[ItemState]] = {}
    for k, s in states.items():
        if s.path and k not in source_keys:
            rows.setdefault(s.path, []).append(s)
    retired: dict[str, str] = {}
    for key, match in plan.matches.items():
        for other in claimants.get(match.path, ()):
            retired[other] = key
            kept = [n for n in claims.get(other, ()) if n.path != match.path]
            if kept:
                claims[other] = kept
            else:
                claims.pop(other, None)
        previous = [s for s in rows.get(match.path, ()) if s.key != key]
        retired.update((s.key, key) for s in previous)
        if len(previous) == 1 and key not in states:
            states[key] = dataclasses.replace(
                previous[0],
                key=key,
                input_hash=None,
                tombstone=False,
                deleted=False,
                regions=dict(previous[0].regions),
                frontmatter=dict(previous[0].frontmatter),
                user_keys=list(previous[0].user_keys),
            )
        note = by_path[match.path]
        claims[key] = [NoteSeen(match.path, (note.sig.mtime_ns, note.sig.size, note.sig.ino))]
    return retired
