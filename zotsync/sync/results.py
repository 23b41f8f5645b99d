"""What a sync pass is asked to do (:class:`SyncOptions`) and what it did (:class:`SyncResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from zotsync.index.scope import IndexScope
from zotsync.model import Library
from zotsync.sync.context import Placement

#: new notes land in batches: one flush to disk per batch instead of two fsyncs per note
BATCH_SIZE = 500
#: how long a pass that could not fetch some reference lists waits before retrying them
REFS_RETRY_SECONDS = 600


@dataclass
class SyncOptions:
    """The choices of one pass (the ``sync`` flags; the daemon sets the retry delay)."""

    dry_run: bool = False
    force_delete: bool = False
    recreate: bool = False
    overwrite_conflicts: bool = False
    status_updates: dict[str, str] = field(default_factory=dict)
    full: bool = False
    #: after a pass that deferred reference lists, skip the retry for this long (the daemon
    #: uses :data:`REFS_RETRY_SECONDS`; a manual sync retries at once)
    refs_retry_seconds: float = 0.0


@dataclass
class SyncResult:
    """Counts (the ``sync --json`` contract) plus details for humans.

    The counts add up: each of the ``items`` in Zotero is exactly one of ``created``,
    ``updated``, ``renamed``, ``unchanged``, ``tombstoned`` (the user deleted its note; it is
    not recreated) or a failure. ``trashed`` counts notes of items gone from Zotero that this
    pass marked deleted or moved to the trash: those items are not among ``items``, and a note
    marked on an earlier pass is in no count. ``conflicts`` is a subset of the item counts;
    ``failed`` also holds failures that belong to no item (a broken note, an index note).
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    renamed: int = 0
    trashed: int = 0
    conflicts: int = 0
    failed: int = 0
    items: int = 0
    #: existing files that became an item's note (see zotsync.sync.adoption)
    adopted: int = 0
    #: items left alone because several files/items match each other (exit 4), as dicts
    ambiguous: list[dict[str, object]] = field(default_factory=list)
    tombstoned: int = 0
    #: notes whose managed region still holds the user's edit (a conflict not yet resolved)
    conflicts_open: int = 0
    actions: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    conflict_paths: list[str] = field(default_factory=list)
    renames: list[tuple[str, str]] = field(default_factory=list)
    short_circuit: bool = False
    #: how many items had an action other than "unchanged" (0: no note can have changed)
    acted: int = 0
    interrupted: bool = False
    #: an incremental pass: ``library`` holds only the items it worked on, and it recorded
    #: their rows for plans and indexes itself
    incremental: bool = False
    #: an incremental pass found every paper as the index notes see it unchanged (title, tags,
    #: collections, status, path...), so the index notes need not be rebuilt
    index_unchanged: bool = False
    #: otherwise, for an incremental pass that found the index notes up to date before it:
    #: the tags and collections whose notes it may have changed (the rest stay as they are)
    index_scope: IndexScope | None = None
    library: Library | None = None
    placements: dict[str, Placement] = field(default_factory=dict)
    #: planner metadata (JSON) of notes created in this run with their signature, so plans
    #: and indexes need not read them back; kept as short strings for memory's sake
    written_frontmatter: dict[str, tuple[str, str]] = field(default_factory=dict)

    def grouped_errors(self, at_least: int = 3) -> list[str]:
        """:attr:`errors` for a person to read: one line per message that ``at_least`` notes
        share (``40 notes: <message> (KEY1, KEY2, KEY3, …)``), the rest as they are.

        A cause outside the notes (a notes folder that leads out of the vault) fails every
        note the same way; forty identical lines would hide any other error among them.
        """
        parsed = [error.partition(": ") for error in self.errors]
        subjects: dict[str, list[str]] = {}
        for subject, sep, message in parsed:
            if sep:
                subjects.setdefault(message, []).append(subject)
        out: list[str] = []
        shown: set[str] = set()
        for error, (_, sep, message) in zip(self.errors, parsed, strict=True):
            many = subjects.get(message, []) if sep else []
            if len(many) < at_least:
                out.append(error)
            elif message not in shown:
                shown.add(message)
                named = ", ".join(many[:3]) + (", …" if len(many) > 3 else "")
                out.append(f"{len(many)} notes: {message} ({named})")
        return out

    def counts(self) -> dict[str, int]:
        keys = (
            "created",
            "updated",
            "unchanged",
            "renamed",
            "trashed",
            "conflicts",
            "failed",
            "items",
            "adopted",
            "tombstoned",
            "conflicts_open",
        )
        return {k: getattr(self, k) for k in keys}
