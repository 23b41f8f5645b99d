"""Carrying out one planned action on one note file.

Every write goes through :func:`zotsync.vault.atomic.write_atomic` with the signature of the
file as it was read, so an edit the user saves while zotsync works makes the write fail instead
of being overwritten (the next run picks the edit up). A file with user text is backed up before
it is replaced. Each operation fills in the item's :class:`ItemState` row and returns an
:class:`Outcome`; the engine commits the row only after the file operation succeeded (for new
notes: after their batch landed), so a crash leaves the old row and the next run converges.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zotsync.errors import NoteError
from zotsync.render.note import POLICIES, RenderedNote
from zotsync.state.db import ItemState
from zotsync.sync.merge import merge_note
from zotsync.vault.atomic import (
    BatchCreate,
    FileSig,
    backup_file,
    ensure_inside,
    file_sig,
    write_atomic,
)
from zotsync.vault.frontmatter import read_frontmatter, splice_frontmatter
from zotsync.vault.regions import parse_note, user_segments

CONFLICT_SUFFIX = " (zotsync conflict)"


@dataclass
class Outcome:
    """What happened to one note, for counts and reports."""

    kind: str  # created, updated, unchanged, renamed, trashed, marked-deleted, conflict, failed
    path: str | None = None
    detail: str = ""
    conflicts: list[str] = field(default_factory=list)


def _set_sig(state: ItemState, sig: FileSig | None) -> None:
    """Record the note's signature right after zotsync's own write (or None: no note)."""
    state.mtime_ns = sig.mtime_ns if sig else None
    state.size = sig.size if sig else None
    state.ino = sig.ino if sig else None


def has_user_text(text: str, owned: set[str] | None = None) -> bool:
    """True when the note holds anything the user wrote (PRODUCT: "User text").

    That is any byte outside the managed regions other than the initial empty ``## Notes``
    heading, or any frontmatter key zotsync does not own.
    """
    parsed = parse_note(text)
    owned = owned if owned is not None else set(POLICIES) | {"zotero-deleted"}
    if parsed.frontmatter:
        try:
            keys = set(read_frontmatter(text))
        except NoteError:
            return True
        if keys - owned:
            return True
        for line in parsed.frontmatter.splitlines():
            # zotsync writes no comments, and a plain scalar cannot hold " #": a comment is
            # the user's (a quoted value with a trailing comment is not caught; rare)
            if line.lstrip().startswith("#") or (" #" in line and not {'"', "'"} & set(line)):
                return True
    body = "".join(user_segments(text))
    return re.sub(r"\s+", "", body) not in ("", "##Notes")


class NoteWriter:
    """File operations for paper notes inside one vault."""

    def __init__(self, vault: Path, *, dry_run: bool = False) -> None:
        self.vault = vault
        self.dry_run = dry_run
        self._safe_dirs: set[str] = set()  # vault-relative folders checked in this run
        self._made_dirs: set[str] = set()  # ... and created (or found) by create()

    def abs(self, rel: str) -> Path:
        """The absolute path of a vault-relative one, refusing anything that leads outside.

        Checking a folder once per run is enough (its real location does not change while we
        hold the vault lock); the file itself must then not be a symlink that leads out.
        """
        path = self.vault / rel
        folder = os.path.dirname(rel)
        if folder not in self._safe_dirs:
            ensure_inside(self.vault, path.parent)
            self._safe_dirs.add(folder)
        if os.path.islink(path):
            ensure_inside(self.vault, path)
        return path

    def _write(self, rel: str, data: str, expect: FileSig | None) -> FileSig | None:
        path = self.abs(rel)
        if self.dry_run:
            return expect
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_atomic(path, data.encode("utf-8"), expect=expect)

    def create(
        self,
        state: ItemState,
        rendered: RenderedNote,
        target: str,
        batch: BatchCreate | None = None,
    ) -> Outcome:
        """Write a new note; with ``batch`` it is staged and lands at ``batch.commit()``."""
        sig = None
        if batch is not None and not self.dry_run:
            path = self.abs(target)
            folder = os.path.dirname(target)
            if folder not in self._made_dirs:  # a first sync creates 10,000 notes in one
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made_dirs.add(folder)
            data = rendered.new_note_text().encode("utf-8")
            try:
                batch.add(path, data)
            except FileNotFoundError:  # the folder was removed during the pass: made again
                path.parent.mkdir(parents=True, exist_ok=True)
                batch.add(path, data)
        else:
            sig = self._write(target, rendered.new_note_text(), None)
        state.path = target
        # a new note holds the rendered body as it is, so its regions hash as rendered
        state.regions = rendered.region_hashes()
        state.frontmatter = rendered.frontmatter_hashes()
        state.tombstone = False
        state.deleted = False
        state.conflict = None
        _set_sig(state, sig)
        return Outcome("created", target)

    def update(
        self,
        state: ItemState,
        rendered: RenderedNote,
        current: str,
        target: str,
        *,
        forced: dict[str, Any] | None = None,
        adopt: bool = False,
        overwrite_conflicts: bool = False,
    ) -> Outcome:
        """Splice the new rendering into the note at ``current``, moving it to ``target``."""
        path = self.abs(current)
        raw = path.read_bytes()
        sig = file_sig(path)
        text = raw.decode("utf-8")
        parsed = parse_note(text)
        if parsed.problems:
            raise NoteError(
                f"{current}: managed region markers are broken ({'; '.join(parsed.problems)})",
                fix="restore the %% zotsync:begin/end NAME %% lines (a backup is in .zotsync/backups) "
                "or delete the note to have it recreated with `zotsync sync --recreate`",
            )
        merge = merge_note(
            text,
            parsed,
            rendered,
            state,
            adopt=adopt,
            overwrite_conflicts=overwrite_conflicts,
            forced=forced,
        )  # raises NoteError on invalid YAML
        new_text, conflicts = merge.text, merge.conflicts
        if merge.adopted_foreign:
            state.named = False
            state.user_keys = merge.user_keys
        outcome = Outcome("unchanged", current)
        new_sig = sig
        if new_text != text:
            if (merge.overwrote_user_text or has_user_text(text)) and not self.dry_run:
                backup_file(self.vault, path)
            new_sig = self._write(current, new_text, sig)
            outcome = Outcome("updated", current)
        if target != current:
            new_sig = self._move(current, target)
            outcome = Outcome("renamed", target, detail=current)
        if conflicts:
            self._write_conflict(target, rendered)
            outcome.conflicts = conflicts
        state.path = target
        state.regions = merge.region_hashes
        state.frontmatter = rendered.frontmatter_hashes()
        state.deleted = False
        state.tombstone = False
        state.conflict = ",".join(conflicts) or None
        _set_sig(state, new_sig)
        return outcome

    def _move(self, current: str, target: str) -> FileSig | None:
        src, dst = self.abs(current), self.abs(target)
        if self.dry_run:
            return file_sig(src)
        if dst.exists() and dst.resolve() != src.resolve():
            raise NoteError(
                f"cannot rename {current} to {target}: the target exists",
                fix="rename or remove the other file, then sync again",
            )
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dst)
        return file_sig(dst)

    def conflict_path(self, target: str, n: int = 1) -> str:
        """The ``n``-th conflict name of ``target``: ``X (zotsync conflict).md``, then ``… 2``."""
        stem = target[: -len(".md")] if target.endswith(".md") else target
        return f"{stem}{CONFLICT_SUFFIX if n == 1 else CONFLICT_SUFFIX[:-1] + f' {n})'}.md"

    def _write_conflict(self, target: str, rendered: RenderedNote) -> str:
        """Write the new rendering beside the note; return the conflict file's path.

        A conflict file is the user's from the moment it exists (they merge by hand in it),
        and a file carrying such a name may be the user's own: none is ever written over.
        If one already holds exactly this rendering nothing is written (a repeated pass stays
        a no-op); otherwise the existing ones are backed up and the rendering goes to the first
        free name, created so that it fails rather than replace a file that appeared meanwhile.
        """
        # the key the scan finds notes by is renamed, so the copy never claims the item
        identity = "zotero-key" if "zotero-key" in rendered.frontmatter else "citekey"
        fm = {
            ("zotsync-conflict-of" if k == identity else k): v
            for k, v in rendered.frontmatter.items()
        }
        text = RenderedNote(fm, rendered.regions, rendered.body).new_note_text()
        taken: list[Path] = []
        n = 1
        while True:
            rel = self.conflict_path(target, n)
            path = self.abs(rel)
            if not os.path.lexists(path):
                break
            try:
                if path.is_file() and path.read_bytes() == text.encode("utf-8"):
                    return rel
            except OSError:
                pass
            taken.append(path)
            n += 1
        if not self.dry_run:
            for path in taken:
                if path.is_file() and not path.is_symlink():
                    backup_file(self.vault, path)
        self._write(rel, text, None)
        return rel

    def delete(self, state: ItemState, current: str, *, archive: str | None) -> Outcome:
        """Zotero deleted the item: mark the note, or move it to the trash when it has no user text."""
        path = self.abs(current)
        text = path.read_bytes().decode("utf-8")  # not read_text: it would turn CRLF into LF
        sig = file_sig(path)
        if not has_user_text(text):
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            dest_rel = f".zotsync/trash/{stamp}/{current}"
            if not self.dry_run:
                dest = self.vault / dest_rel
                ensure_inside(self.vault, dest)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.rename(path, dest)
            state.path = None
            state.deleted = True
            _set_sig(state, None)
            return Outcome("trashed", current, detail=dest_rel)
        new_text = splice_frontmatter(text, {"zotero-deleted": True})
        new_sig = sig
        if new_text != text:
            if not self.dry_run:
                backup_file(self.vault, path)
            new_sig = self._write(current, new_text, sig)
        target = current
        if archive:
            target = f"{archive.strip('/')}/{Path(current).name}"
            if target != current:
                new_sig = self._move(current, target)
        state.path = target
        state.deleted = True
        _set_sig(state, new_sig)
        return Outcome("marked-deleted", target)


__all__ = ["CONFLICT_SUFFIX", "NoteWriter", "Outcome", "has_user_text"]
