"""The vault's paper notes as plans and indexes see them, and writing managed notes.

The planner sees papers as :class:`~zotsync.library.papers.PaperInfo`, built from two places: the
state DB (date added and the in-library references recorded by the last sync) and each paper
note's frontmatter (status, priority, tags — the user's values win). Frontmatter is cached in
the state DB by note signature, so a plan or index over 10,000 notes reads only the notes that
changed since the last time.

Plan, index and inbox notes are written like paper notes: only their managed region (and their
own frontmatter keys) change, atomically, and only when the text differs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from zotsync.config import Config
from zotsync.errors import ConfigError, ConflictError, NoteError
from zotsync.library.papers import PaperInfo
from zotsync.library.status import frontmatter_meta
from zotsync.model import Library
from zotsync.refs.resolve import RefGraph
from zotsync.state.db import StateDB
from zotsync.state.papers import live_notes as live_notes_of
from zotsync.state.papers import (
    paper_rows,
    paper_signals,
    save_note_meta,
    save_papers,
)
from zotsync.vault.atomic import backup_file, file_sig, write_atomic
from zotsync.vault.confine import confine
from zotsync.vault.frontmatter import read_frontmatter, splice_frontmatter
from zotsync.vault.regions import neutralise_markers, parse_note, region_block, splice_regions

log = logging.getLogger(__name__)
PLAN_REGION = "plan"
INDEX_REGION = "index"


# -- papers ------------------------------------------------------------------------------------
def record_library(
    state: StateDB,
    library_label: str,
    library: Library,
    graph: RefGraph | None,
    written: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Remember date added and in-library references per item for plans and indexes.

    Only rows that differ are written (the daemon calls this after every pass over 10,000+
    items). ``written`` maps keys of notes created in this run to ``(signature, meta JSON)``,
    so their frontmatter need not be read back from disk.
    """
    old = paper_signals(state, library_label)
    rows = []
    for item in library.items:
        refs: list[str] = []
        if graph is not None and item.key in graph.items:
            refs = graph.items[item.key].in_library
        row = (item.date_added, json.dumps(refs))
        if old.pop(item.key, None) != row:
            rows.append((item.key, *row))
    save_papers(state, library_label, upserts=rows, deletes=list(old), notes=written)


def _note_meta(text: str) -> dict[str, Any]:
    return frontmatter_meta(read_frontmatter(text))


def live_notes(state: StateDB, label: str) -> dict[str, str]:
    """Item key → vault-relative note path, for every item whose note zotsync keeps.

    One light query instead of :meth:`StateDB.load_items`, which decodes every item's
    hashes: plans and indexes run after each sync, over libraries of 10,000+ items.
    """
    return live_notes_of(state, label)


def read_papers(
    vault: Path, config: Config, state: StateDB, keys: Collection[str] | None = None
) -> list[PaperInfo]:
    """Every live paper note as the planner sees it (frontmatter cached by signature).

    With ``keys``, only those papers (an incremental pass compares them before and after).
    """
    label = config.library
    rows = paper_rows(state, label, keys)
    root = str(vault)
    papers: list[PaperInfo] = []
    updates: dict[str, tuple[str, str]] = {}
    for key, rel, item_title, date_added, refs, note_sig, note_meta in rows:
        path = os.path.join(root, rel)
        try:
            st = os.stat(path)
        except OSError:
            continue  # the user deleted the note since the last sync
        sig_text = f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"
        if note_sig == sig_text and note_meta:
            meta = json.loads(note_meta)
        else:
            try:
                with open(path, encoding="utf-8") as handle:
                    meta = _note_meta(handle.read())
            except (NoteError, OSError, UnicodeDecodeError):
                continue
            updates[key] = (sig_text, json.dumps(meta))
        papers.append(
            PaperInfo(
                key=key,
                title=meta["title"] or item_title or key,
                link=posixpath.splitext(posixpath.basename(rel))[0],
                path=rel,
                status=meta["status"],
                priority=meta["priority"],
                tags=tuple(meta["tags"]),
                collections=tuple(meta["collections"]),
                year=meta["year"],
                date_added=date_added or "",
                references=tuple(json.loads(refs)),
            )
        )
    save_note_meta(state, label, updates)
    papers.sort(key=lambda p: p.key)
    return papers


# -- writing managed notes ---------------------------------------------------------------------
MEMORY_KEY = "managed_regions"
PENDING_KEY = "managed_regions_pending"
_BOX_RE = re.compile(r"(?m)^([ \t]*[-*+] )\[[xX ]\]")
_ADDED_RE = re.compile(r" · \*\*added\*\*(?=\n|$)")


class RegionMemory:
    """What zotsync last wrote into the region of each plan, index, inbox or missing note.

    The hash of that text (ticks and "added" marks left out: they are the user's to set) is
    kept in the state DB, so a region whose text is neither that nor the new rendering holds
    something the user typed, and is kept (see :func:`write_region_note`). ``state`` None
    remembers nothing: every region is then zotsync's, and is backed up before it changes.
    """

    def __init__(self, state: StateDB | None) -> None:
        self.state = state
        raw = state.get_meta(MEMORY_KEY) if state is not None else None
        self.hashes: dict[str, str] = json.loads(raw) if raw else {}
        # digests about to be written, journalled before the write: a run killed after the
        # write but before :meth:`save` leaves text the next run still knows as zotsync's
        pending = state.get_meta(PENDING_KEY) if state is not None else None
        self.pending: dict[str, list[str]] = json.loads(pending) if pending else {}
        self._changed = bool(self.pending)

    def get(self, rel: str) -> str | None:
        return self.hashes.get(rel)

    def accepts(self, rel: str, digest: str) -> bool:
        """Whether ``digest`` is text zotsync wrote there (last pass, or a killed one)."""
        return digest == self.hashes.get(rel) or digest in self.pending.get(rel, ())

    def knows(self, rel: str) -> bool:
        return rel in self.hashes or rel in self.pending

    def expect(self, rel: str, digest: str) -> None:
        """Journal ``digest`` as about to be written into ``rel`` (before the write)."""
        if self.state is None or digest in self.pending.get(rel, ()):
            return
        self.pending.setdefault(rel, []).append(digest)
        self.state.set_meta(PENDING_KEY, json.dumps(self.pending, sort_keys=True))

    def put(self, rel: str, digest: str) -> None:
        if self.hashes.get(rel) != digest:
            self.hashes[rel] = digest
            self._changed = True

    def save(self) -> None:
        if self.state is not None and self._changed:
            self.state.set_meta(MEMORY_KEY, json.dumps(self.hashes, sort_keys=True))
            self.state.set_meta(PENDING_KEY, None)
            self.pending = {}
            self._changed = False


def region_digest(content: str) -> str:
    """Hash of a region's text as zotsync compares it: LF line ends, boxes unticked."""
    text = _ADDED_RE.sub("", _BOX_RE.sub(r"\1[ ]", content.replace("\r\n", "\n")))
    return hashlib.blake2b(text.strip("\n").encode("utf-8"), digest_size=12).hexdigest()


class RegionConflict(ConflictError):
    """The user typed inside managed regions; their text was kept (exit 4)."""

    def __init__(self, paths: list[tuple[str, str]]) -> None:
        self.paths = paths
        shown = "; ".join(f"{rel} (zotsync's version: {beside})" for rel, beside in paths[:3])
        more = f" (and {len(paths) - 3} more)" if len(paths) > 3 else ""
        super().__init__(
            f"you typed inside the managed region of {shown}{more}; your text was kept",
            fix="move your text above or below the %% zotsync %% lines (or merge from the "
            "conflict file), then run the command again",
        )


def write_region_note(
    vault: Path,
    rel: str,
    region_name: str,
    content: str,
    new_text: str,
    frontmatter: Mapping[str, Any] | None = None,
    memory: RegionMemory | None = None,
) -> bool:
    """Create ``rel`` with ``new_text``, or splice ``content`` into its region. True if written.

    Text the user typed inside the region is never lost: when the region on disk is neither
    what zotsync last wrote there (``memory``) nor the new content, the note is left as it is
    (after a backup) and the new version goes to a conflict file beside it, and
    :class:`RegionConflict` is raised. Without a memory of the region, a changed region is
    backed up before it is replaced.
    """
    path = vault / rel
    confine(vault, path)  # before reading or creating folders: a linked folder leads nowhere
    sig = file_sig(path)
    if sig is None:
        new_text = _neutral_new_text(new_text, region_name, content, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, new_text.encode("utf-8"), expect=None)
        _remember(memory, rel, new_text, region_name)
        return True
    text = path.read_text(encoding="utf-8")
    if _region_unchanged(text, region_name, content) and not (
        frontmatter and _frontmatter_changes(text, frontmatter)
    ):
        if memory is not None:  # the region holds exactly ``content`` (as region_block wrote it)
            memory.put(rel, region_digest(neutralise_markers(content)))
        return False  # the common case after every sync: no full parse of a big note
    parsed = parse_note(text)
    if parsed.problems:
        raise NoteError(
            f"{rel}: managed region markers are broken", fix="restore them or delete the note"
        )
    region = parsed.regions.get(region_name)
    if region_name in parsed.regions:
        new = splice_regions(text, {region_name: content})
    else:
        new = text.rstrip("\n") + "\n\n" + region_block(region_name, content)
    if frontmatter:
        changes = _frontmatter_changes(new, frontmatter)
        if changes:
            new = splice_frontmatter(new, changes)
    if new == text:
        _remember(memory, rel, text, region_name)
        return False
    if region is not None:
        on_disk = region_digest(region.lf_content)
        wanted = region_digest(parse_note(new).regions[region_name].lf_content)
        known = memory is not None and memory.knows(rel)
        if on_disk != wanted and not (memory is not None and memory.accepts(rel, on_disk)):
            backup_file(vault, path)  # it may hold the user's words: keep a copy first
            if known:
                beside = _write_beside(vault, rel, new)
                raise RegionConflict([(rel, beside)])
        if memory is not None:
            memory.expect(rel, wanted)
    write_atomic(path, new.encode("utf-8"), expect=sig)
    _remember(memory, rel, new, region_name)
    return True


def _remember(memory: RegionMemory | None, rel: str, text: str, name: str) -> None:
    if memory is None:
        return
    region = parse_note(text).regions.get(name)
    if region is not None:
        memory.put(rel, region_digest(region.lf_content))


def _neutral_new_text(new_text: str, name: str, content: str, rel: str) -> str:
    """``new_text`` with marker-like lines of ``content`` neutralised; refuses a broken note."""
    safe = neutralise_markers(content)
    if safe != content:
        new_text = new_text.replace(content, safe, 1)
    parsed = parse_note(new_text)
    if parsed.problems or name not in parsed.regions:
        raise NoteError(
            f"{rel}: the new note's region markers would be broken; nothing was written",
            fix="report this as a bug in zotsync",
        )
    return new_text


def _write_beside(vault: Path, rel: str, text: str) -> str:
    """Write ``text`` to the first free conflict name of ``rel`` (or find it there already)."""
    stem = rel[: -len(".md")] if rel.endswith(".md") else rel
    n = 1
    while True:
        beside = f"{stem} (zotsync conflict{'' if n == 1 else f' {n}'}).md"
        target = vault / beside
        if not os.path.lexists(target):
            write_atomic(target, text.encode("utf-8"), expect=None)
            return beside
        if target.is_file() and target.read_bytes() == text.encode("utf-8"):
            return beside
        n += 1


def _region_unchanged(text: str, name: str, content: str) -> bool:
    """True if ``text`` has exactly one zotsync region, ``name``, already holding ``content``."""
    if text.count("zotsync:begin") != 1 or text.count("zotsync:end") != 1:
        return False
    block = region_block(name, content)
    return text.startswith(block) or "\n" + block in text


def _frontmatter_changes(text: str, wanted: Mapping[str, Any]) -> dict[str, Any]:
    existing = read_frontmatter(text)
    return {k: v for k, v in wanted.items() if existing.get(k) != v}


def vault_relative(rel: str, setting: str) -> str:
    """A configured vault path as ``a/b``; refuses one that would lead out of the vault."""
    text = rel.replace("\\", "/").strip()
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or text.startswith("/") or ".." in parts or ":" in parts[0]:
        raise ConfigError([f"{setting}: '{rel}' must be a path inside the vault"])
    return "/".join(parts)
