"""The pure merge: a note's text, its new rendering and what the state recorded → new text.

This is where every per-region decision of an ``update`` is made, with no file in sight
(:class:`zotsync.sync.apply.NoteWriter` reads the note, calls :func:`merge_note`, then writes,
backs up, moves and writes conflict files as the result says). For each managed region:

===============================================  ======================================
the region on disk                               decision
===============================================  ======================================
equals the new rendering (spliced or as new)     keep it, record its hash
adopting another tool's note, nothing recorded   conflict (the user's text wins)
hashes to what zotsync last wrote                replace it with the new rendering
anything else (the user edited it)               conflict, unless ``overwrite_conflicts``
                                                 (then replaced, and the old text backed up)
===============================================  ======================================

An adopted note with no regions at all gets them inserted after its frontmatter, its body
whole. Owned frontmatter keys are merged by their policies (:mod:`zotsync.vault.frontmatter_merge`);
a key zotsync set before and no longer renders is removed; ``zotero-deleted`` goes when the
item is back; a status set from a plan checkbox (``forced``) wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zotsync.render.note import POLICIES, RenderedNote
from zotsync.state.db import ItemState
from zotsync.vault.foreign import held_keys, insert_after_frontmatter, policies_for
from zotsync.vault.frontmatter import read_frontmatter, splice_frontmatter
from zotsync.vault.frontmatter_merge import merge_owned
from zotsync.vault.regions import ParsedNote, landed_hash, parse_note, splice_regions, text_hash


@dataclass
class Merge:
    """What :func:`merge_note` decided."""

    text: str  # the note's new text (equal to the old when nothing changes)
    region_hashes: dict[str, str]  # what the state records for each region after the write
    conflicts: list[str] = field(default_factory=list)  # regions the user edited, kept
    overwrote_user_text: bool = False  # a region the user edited is replaced: back it up
    adopted_foreign: bool = False  # regions inserted into another tool's note
    user_keys: list[str] = field(default_factory=list)  # owned keys such a note already had


def merge_note(
    text: str,
    parsed: ParsedNote,
    rendered: RenderedNote,
    state: ItemState,
    *,
    adopt: bool = False,
    overwrite_conflicts: bool = False,
    forced: dict[str, Any] | None = None,
) -> Merge:
    """Decide the note's new text (see the module docstring). Raises
    :class:`~zotsync.errors.NoteError` for invalid frontmatter YAML."""
    existing = read_frontmatter(text)
    new_regions: dict[str, str] = {}
    merge = Merge(text, dict(state.regions))
    for name, content in rendered.regions.items():
        region = parsed.regions.get(name)
        if region is None:
            continue
        on_disk = text_hash(region.lf_content)  # a CRLF note compares by content
        wanted = landed_hash(content)
        if on_disk in (wanted, text_hash(content)):  # spliced, or as a new note holds it
            merge.region_hashes[name] = on_disk  # the state knows what is on disk
        elif adopt and not state.regions:
            merge.conflicts.append(name)
        elif on_disk == state.regions.get(name) or overwrite_conflicts:
            # overwriting a region the user edited: that edit must survive in a backup
            merge.overwrote_user_text |= on_disk != state.regions.get(name)
            new_regions[name] = content
            merge.region_hashes[name] = wanted
        else:
            merge.conflicts.append(name)
    new_text = splice_regions(text, new_regions) if new_regions else text
    if new_regions:  # the hashes of what landed (the splice normalises final newlines)
        landed = parse_note(new_text).regions
        merge.region_hashes.update({n: text_hash(landed[n].lf_content) for n in new_regions})
    user_keys = state.user_keys
    if adopt and not parsed.regions and not state.regions:
        # another tool's note: regions go in above the user's body, which stays whole;
        # the owned keys the user already set stay theirs (see vault/foreign.py)
        new_text = insert_after_frontmatter(text, rendered.regions.items())
        inserted = parse_note(new_text).regions
        merge.region_hashes = {n: text_hash(r.lf_content) for n, r in inserted.items()}
        merge.adopted_foreign = True
        user_keys = held_keys(existing, POLICIES)
    merge.user_keys = list(user_keys)
    policies = policies_for(POLICIES, user_keys)
    fm_changes = merge_owned(existing, rendered.frontmatter, policies)
    remove = [
        k
        for k, pol in policies.items()
        if pol == "replace"
        and k in existing
        and k not in rendered.frontmatter
        and k in state.frontmatter
    ]
    if "zotero-deleted" in existing:
        remove.append("zotero-deleted")
    if forced:
        fm_changes.update({k: v for k, v in forced.items() if existing.get(k) != v})
    if fm_changes or remove:
        new_text = splice_frontmatter(new_text, fm_changes, remove=remove)
    merge.text = new_text
    return merge
