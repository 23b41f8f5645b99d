"""Index notes: ``Tags/<tag>.md``, ``Collections/<path>.md`` and ``Papers.md``.

Each is a managed region below a user area; a note is written only when its region changes,
and a note whose tag or collection is gone is kept (marked empty) if the user wrote in it, else
moved to ``.zotsync/trash/index/``. The lists themselves come from :mod:`zotsync.index.render`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from zotsync.config import Config
from zotsync.errors import NoteError
from zotsync.index.render import (
    collection_index,
    empty_region,
    is_pristine,
    master_index,
    new_index_note,
    note_title,
    tag_index,
)
from zotsync.index.scope import IndexScope
from zotsync.library.papers import PaperInfo
from zotsync.library_notes import (
    INDEX_REGION,
    RegionConflict,
    RegionMemory,
    read_papers,
    record_library,
    vault_relative,
    write_region_note,
)
from zotsync.model import Library
from zotsync.refs.resolve import RefGraph
from zotsync.state.db import StateDB
from zotsync.state.papers import index_note_paths, replace_index_note_paths
from zotsync.vault.atomic import cleanup_temp_files
from zotsync.vault.confine import check_write

log = logging.getLogger(__name__)


# -- indexes -----------------------------------------------------------------------------------
def write_indexes(
    vault: Path,
    config: Config,
    state: StateDB,
    library: Library | None = None,
    graph: RefGraph | None = None,
    scope: IndexScope | None = None,
) -> int:
    """Write tag, collection and master index notes; return how many files were written.

    With ``scope`` (an incremental pass's, :mod:`zotsync.index.scope`), only the notes of
    those tags and collections are rendered; the others are left as they are, which is what
    a full build would write since none of their papers changed. A note a full build would
    write at a path no index note had is never left out: then everything is built.

    Every note is tried even when one fails (its markers broken by hand, a full disk); the
    failures are then raised together as one :class:`NoteError` (exit 1, partial), after
    the notes that could be written were. A note whose tag or collection is gone is moved
    to ``.zotsync/trash/index/`` when it is exactly what zotsync wrote, else its region
    says so.
    """
    if library is not None:
        record_library(state, config.library, library, graph)
    tags_folder = vault_relative(config.index.tags_folder, "index.tags-folder")
    colls_folder = vault_relative(config.index.collections_folder, "index.collections-folder")
    master = vault_relative(config.index.master, "index.master")
    papers = read_papers(vault, config, state)
    previous = index_note_paths(state)
    notes = _notes(papers, tags_folder, colls_folder, scope)
    if any(region is None and rel not in previous for rel, _, region in notes):
        notes = _notes(papers, tags_folder, colls_folder, None)
    group_by: Literal["tag", "collection"] = (
        "tag" if config.index.group_by == "tag" else "collection"
    )
    notes.append((master, "Papers", master_index(papers, group_by=group_by)))
    written = 0
    current = set()
    failed: list[str] = []
    conflicts: list[tuple[str, str]] = []
    memory = RegionMemory(state)
    cleanup_temp_files(vault / tags_folder, recursive=True)  # left by a killed run
    cleanup_temp_files(vault / colls_folder, recursive=True)
    cleanup_temp_files((vault / master).parent)
    for rel, title, region in notes:
        current.add(rel)
        if region is None:
            continue  # out of this pass's scope: already what a full build would write
        try:
            new_text = new_index_note(title, region)
            if write_region_note(vault, rel, INDEX_REGION, region, new_text, memory=memory):
                written += 1
        except RegionConflict as exc:
            conflicts += exc.paths
        except (NoteError, OSError) as exc:
            failed.append(f"{rel}: {getattr(exc, 'message', None) or exc}")
    for rel in sorted(previous - current):
        try:
            if _retire_index_note(vault, rel, colls_folder, memory):
                written += 1
        except RegionConflict as exc:
            current.add(rel)
            conflicts += exc.paths
        except (NoteError, OSError) as exc:
            current.add(rel)  # try again next time
            failed.append(f"{rel}: {getattr(exc, 'message', None) or exc}")
    replace_index_note_paths(state, current)
    memory.save()
    if failed:
        for line in failed:
            log.warning("index note not updated: %s", line)
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        raise NoteError(
            f"{len(failed)} index note{'s' if len(failed) != 1 else ''} not updated: "
            + "; ".join(failed[:3])
            + more,
            fix="repair or delete those notes (they are rebuilt), free disk space, "
            "then run `zotsync index`",
        )
    if conflicts:
        raise RegionConflict(conflicts)
    return written


def _notes(
    papers: list[PaperInfo], tags_folder: str, colls_folder: str, scope: IndexScope | None
) -> list[tuple[str, str, str | None]]:
    """(path, heading, region or ``None`` when out of ``scope``) of every tag and collection."""
    tags = tag_index(papers, tags_folder, scope.tags if scope else None)
    colls = collection_index(papers, colls_folder, scope.collections if scope else None)
    return [(n.path, n.title, n.region) for n in (*tags, *colls)]


def _retire_index_note(
    vault: Path, rel: str, colls_folder: str, memory: RegionMemory | None = None
) -> bool:
    """The tag or collection of ``rel`` is gone: trash a pristine note, else mark it empty."""
    path = vault / rel
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return False  # the user deleted (or replaced) it: nothing to retire
    title = note_title(text)
    if title is not None and is_pristine(text, title):
        trash = vault / ".zotsync" / "trash" / "index" / rel
        check_write(trash)
        trash.parent.mkdir(parents=True, exist_ok=True)
        path.replace(trash)
        return True
    name = title or Path(rel).stem
    kind: Literal["tag", "collection"] = (
        "collection" if rel.startswith(colls_folder + "/") else "tag"
    )
    return write_region_note(vault, rel, INDEX_REGION, empty_region(name, kind), "", memory=memory)
