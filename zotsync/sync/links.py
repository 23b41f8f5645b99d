"""After renames: rewrite every link to a renamed note, anywhere in the vault.

Managed regions already carry the new names (they were rendered from the settled names), so
what is left are the user's own links: in their part of paper notes, in their other notes, in
plan and index notes. Each touched file is backed up and written atomically against the
signature it had when read. For a paper note, region hashes in the state are carried over so a
link rewritten inside a region zotsync owns is not mistaken for a user edit next time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

from zotsync.library_notes import RegionMemory, region_digest
from zotsync.state.db import StateDB
from zotsync.sync.link_index import markdown_files
from zotsync.vault.atomic import WriteConflict, backup_file, file_sig, write_atomic
from zotsync.vault.links import rewrite_links
from zotsync.vault.regions import parse_note, text_hash

log = logging.getLogger(__name__)


class LinkRewrite(NamedTuple):
    """What a link pass did: files rewritten, and files that could not be (retried later)."""

    touched: int
    failed: int


def rewrite_renamed_links(
    vault: Path,
    renames: list[tuple[str, str]],
    state: StateDB,
    library: str,
    files: list[Path] | None = None,
) -> LinkRewrite:
    """Rewrite links for ``renames`` (old path, new path), in order.

    Idempotent: a file whose links already name the new notes is left alone, so a pass killed
    half-way through can simply be run again (see the rename journal in the engine).
    ``files`` limits the search to the files that may link to the old names (from the link
    index, :mod:`zotsync.sync.link_index`); without it every Markdown file is read.
    """
    if not renames:
        return LinkRewrite(0, 0)
    stems = [(Path(old).stem, Path(new).stem, old, new) for old, new in renames]
    needles = [s[0].casefold() for s in stems] + [
        s[2].replace(" ", "%20").casefold() for s in stems
    ]
    memory = RegionMemory(state)
    touched = failed = 0
    for path in [vault / p for p in markdown_files(vault)] if files is None else files:
        try:
            text = path.read_bytes().decode("utf-8")  # as it is: CRLF stays CRLF when written
        except (OSError, UnicodeDecodeError):
            continue
        folded = text.casefold()
        if not any(n in folded for n in needles):
            continue
        sig = file_sig(path)
        rel = path.relative_to(vault).as_posix()
        new_text = text
        for old_stem, new_stem, old_path, new_path in stems:
            # source= lets relative Markdown links (../Papers/Old.md) be resolved too
            new_text = rewrite_links(
                new_text, old_stem, new_stem, old_path=old_path, new_path=new_path, source=rel
            )
        if new_text == text:
            continue
        managed = _managed_digest(memory, rel, text, new_text)
        try:
            backup_file(vault, path)
            new_sig = write_atomic(path, new_text.encode("utf-8"), expect=sig)
        except (WriteConflict, OSError) as exc:
            log.warning("%s: links not rewritten (%s); run sync again", rel, exc)
            failed += 1
            continue
        touched += 1
        if managed is not None:
            memory.put(rel, managed)
        row = state.item_at(library, rel)  # one row, not all of them
        if row is not None:
            before = parse_note(text).regions
            after = parse_note(new_text).regions
            for name, region in after.items():
                old_region = before.get(name)
                if old_region is not None and row.regions.get(name) == text_hash(
                    old_region.lf_content
                ):
                    row.regions[name] = text_hash(region.lf_content)
            row.mtime_ns, row.size, row.ino = new_sig.mtime_ns, new_sig.size, new_sig.ino
            with state.transaction():
                state.put_item(row)
    memory.save()
    return LinkRewrite(touched, failed)


def _managed_digest(memory: RegionMemory, rel: str, text: str, new_text: str) -> str | None:
    """For a plan, index or inbox note whose region holds zotsync's text, the region's digest
    after the rewrite, journalled before the write: renamed links are not the user's typing."""
    if not memory.knows(rel):
        return None
    before = parse_note(text).regions
    for name, region in parse_note(new_text).regions.items():
        old = before.get(name)
        if old is not None and memory.accepts(rel, region_digest(old.lf_content)):
            digest = region_digest(region.lf_content)
            memory.expect(rel, digest)
            return digest
    return None
