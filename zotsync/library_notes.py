"""The vault's paper notes as plans and indexes see them, and writing managed notes.

The planner sees papers as :class:`~zotsync.plan.papers.PaperInfo`, built from two places: the
state DB (date added and the in-library references recorded by the last sync) and each paper
note's frontmatter (status, priority, tags — the user's values win). Frontmatter is cached in
the state DB by note signature, so a plan or index over 10,000 notes reads only the notes that
changed since the last time.

Plan, index and inbox notes are written like paper notes: only their managed region (and their
own frontmatter keys) change, atomically, and only when the text differs.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from zotsync.config import Config
from zotsync.errors import ConfigError, NoteError
from zotsync.model import Library
from zotsync.plan.papers import PaperInfo
from zotsync.plan.status import frontmatter_meta
from zotsync.refs.resolve import RefGraph
from zotsync.state.db import StateDB
from zotsync.vault.atomic import file_sig, write_atomic
from zotsync.vault.frontmatter import read_frontmatter, splice_frontmatter
from zotsync.vault.regions import parse_note, region_block, splice_regions

log = logging.getLogger(__name__)


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
    old = {
        key: (added, refs)
        for key, added, refs in state.conn.execute(
            "SELECT key, date_added, refs FROM papers WHERE library = ?", (library_label,)
        )
    }
    rows = []
    for item in library.items:
        refs: list[str] = []
        if graph is not None and item.key in graph.items:
            refs = graph.items[item.key].in_library
        row = (item.date_added, json.dumps(refs))
        if old.pop(item.key, None) != row:
            rows.append((library_label, item.key, *row))
    with state.transaction():
        state.conn.executemany(
            "DELETE FROM papers WHERE library = ? AND key = ?", [(library_label, k) for k in old]
        )
        state.conn.executemany(
            "INSERT INTO papers (library, key, date_added, refs) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(library, key) DO UPDATE SET date_added = excluded.date_added, "
            "refs = excluded.refs",
            rows,
        )
        if written:
            state.conn.executemany(
                "UPDATE papers SET note_sig = ?, note_meta = ? WHERE library = ? AND key = ?",
                [(sig, meta, library_label, key) for key, (sig, meta) in written.items()],
            )


def _note_meta(text: str) -> dict[str, Any]:
    return frontmatter_meta(read_frontmatter(text))


def live_notes(state: StateDB, label: str) -> dict[str, str]:
    """Item key → vault-relative note path, for every item whose note zotsync keeps.

    One light query instead of :meth:`StateDB.load_items`, which decodes every item's
    hashes: plans and indexes run after each sync, over libraries of 10,000+ items.
    """
    return {
        key: path
        for key, path in state.conn.execute(
            "SELECT key, path FROM items WHERE library = ? AND path IS NOT NULL "
            "AND path != '' AND deleted = 0 AND tombstone = 0",
            (label,),
        )
    }


def read_papers(
    vault: Path, config: Config, state: StateDB, keys: Collection[str] | None = None
) -> list[PaperInfo]:
    """Every live paper note as the planner sees it (frontmatter cached by signature).

    With ``keys``, only those papers (an incremental pass compares them before and after).
    """
    label = config.library
    sql = (
        "SELECT i.key, i.path, i.title, p.date_added, p.refs, p.note_sig, p.note_meta "
        "FROM items i JOIN papers p ON p.library = i.library AND p.key = i.key "
        "WHERE i.library = ? AND i.path IS NOT NULL AND i.path != '' "
        "AND i.deleted = 0 AND i.tombstone = 0"
    )
    if keys is None:
        rows = state.conn.execute(sql, (label,)).fetchall()
    else:
        wanted = sorted(keys)
        rows = [
            row
            for at in range(0, len(wanted), 500)
            for row in state.conn.execute(
                sql + f" AND i.key IN ({','.join('?' * len(wanted[at : at + 500]))})",
                (label, *wanted[at : at + 500]),
            )
        ]
    root = str(vault)
    papers: list[PaperInfo] = []
    updates = []
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
            updates.append((sig_text, json.dumps(meta), label, key))
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
    if updates:
        with state.transaction():
            state.conn.executemany(
                "UPDATE papers SET note_sig = ?, note_meta = ? WHERE library = ? AND key = ?",
                updates,
            )
    papers.sort(key=lambda p: p.key)
    return papers


# -- writing managed notes ---------------------------------------------------------------------
def write_region_note(
    vault: Path,
    rel: str,
    region_name: str,
    content: str,
    new_text: str,
    frontmatter: Mapping[str, Any] | None = None,
) -> bool:
    """Create ``rel`` with ``new_text``, or splice ``content`` into its region. True if written."""
    path = vault / rel
    sig = file_sig(path)
    if sig is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, new_text.encode("utf-8"), expect=None)
        return True
    text = path.read_text(encoding="utf-8")
    if _region_unchanged(text, region_name, content) and not (
        frontmatter and _frontmatter_changes(text, frontmatter)
    ):
        return False  # the common case after every sync: no full parse of a big note
    parsed = parse_note(text)
    if parsed.problems:
        raise NoteError(
            f"{rel}: managed region markers are broken", fix="restore them or delete the note"
        )
    if region_name in parsed.regions:
        new = splice_regions(text, {region_name: content})
    else:
        new = text.rstrip("\n") + "\n\n" + region_block(region_name, content)
    if frontmatter:
        changes = _frontmatter_changes(new, frontmatter)
        if changes:
            new = splice_frontmatter(new, changes)
    if new == text:
        return False
    write_atomic(path, new.encode("utf-8"), expect=sig)
    return True


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
