"""Read a Zotero 6–10 ``zotero.sqlite`` into a :class:`~zotsync.model.Library`.

The desktop holds the database with ``locking_mode=EXCLUSIVE`` (and from Zotero 10 in WAL mode
with commits left in ``-wal`` until idle), so opening it in place either fails with "database
is locked" or, with ``immutable=1``, silently misses recent commits. Instead every read:

1. copies ``zotero.sqlite`` with its ``-wal``/``-journal`` (and ``better-bibtex.sqlite``) into a
   temporary folder, retrying when size or mtime moved during the copy (a torn copy);
2. opens the *copy* read-write, so SQLite replays the WAL or rolls back a hot journal there;
   ``PRAGMA quick_check`` must say ``ok``;
3. reads the chosen library with a handful of set-based queries, mapping type, field and
   creator-type IDs to names from the database's own tables (IDs differ between databases);
4. assembles model objects in memory and deletes the copy.

The original database and its folder are never written. WAL is recognised by the ``-wal`` file
and the journal mode of the copy, not by the Zotero version.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Collection as Keys
from pathlib import Path
from typing import TypeVar

from zotsync.errors import ConfigError, SourceUnavailable
from zotsync.model import (
    Attachment,
    ChildNote,
    Creator,
    Item,
    Library,
    LibraryRef,
    LinkMode,
    Tag,
    with_base_fields,
)
from zotsync.sources import NO_HOOKS, ChangeHooks, Delta, partial_delta
from zotsync.sources.packed import NONE
from zotsync.sources.selection import select_collections
from zotsync.sources.sqlite_changes import (
    decode_token,
    encode_token,
    item_signatures,
    library_signature,
    want_items,
)
from zotsync.sources.sqlite_copy import SIDE_FILES, Copies, bbt_citekeys, snapshot
from zotsync.sources.sqlite_rows import (
    Meta,
    Schema,
    columns,
    extra_citekey,
    iso_time,
    read_annotations,
    read_children,
    read_collections,
    read_creators,
    read_fields,
    read_items,
    read_relations,
    read_tags,
    user_date,
)

__all__ = ["SqliteSource", "extra_citekey", "iso_time", "snapshot", "user_date"]

LINK_MODES: tuple[LinkMode, ...] = (
    "imported_file",
    "imported_url",
    "linked_file",
    "linked_url",
    "embedded_image",
)
T = TypeVar("T")
NON_REGULAR = frozenset({"note", "attachment", "annotation"})


class SqliteSource:
    """The ``sqlite`` source: a consistent snapshot of a local ``zotero.sqlite``."""

    name = "sqlite"

    def __init__(
        self,
        db_path: str | Path,
        *,
        library: LibraryRef | None = None,
        collections: Sequence[str] = (),
        bbt_path: str | Path | None = None,
        retries: int = 5,
        keep_copy: bool = False,
    ) -> None:
        self.db_path = Path(db_path).expanduser()
        self.library = library or LibraryRef()
        self.collections = list(collections)
        self.bbt_path = Path(bbt_path) if bbt_path else self.db_path.parent / "better-bibtex.sqlite"
        self.retries = retries
        self._copies = Copies(keep=keep_copy)  # a daemon's source keeps one (.sqlite_copy)

    def watch_paths(self) -> list[Path]:
        """The database, its WAL/journal (Zotero 10 commits land in ``-wal``) and BBT's DB."""
        return [self.db_path, *(Path(f"{self.db_path}{s}") for s in SIDE_FILES), self.bbt_path]

    def read(self) -> Library:
        """Snapshot, verify and read the library; raise :class:`SourceUnavailable` if we can't."""
        return self._with_copy(self._read)

    def read_changes(self, token: str | None, hooks: ChangeHooks = NO_HOOKS) -> Delta:
        """The items whose signature moved since ``token`` (see :mod:`.sqlite_changes`).

        The signatures and the items come from the same verified copy, so the new token
        describes exactly what was read: a commit landing meanwhile is in the next copy.
        """

        def work(conn: sqlite3.Connection, bbt_copy: Path | None) -> Delta:
            lib_id, ref, lib_name = self._library_id(conn)
            schema = Schema.load(conn)
            keys_by_bbt = bbt_citekeys(bbt_copy, lib_id)
            identity = json.dumps([str(ref), lib_name, self.collections, str(self.db_path.parent)])
            lib_sig = library_signature(conn, schema, lib_id, identity)
            sigs = item_signatures(conn, schema, lib_id, keys_by_bbt)
            new_token = encode_token(lib_sig, sigs)
            old = decode_token(token)
            if old is None or old[0] != lib_sig or self.collections:
                if not verify:
                    _quick_check(conn)
                library = self._read(conn, bbt_copy, citekeys=keys_by_bbt)
                return Delta(library, new_token, True, live=set(sigs))
            return partial_delta(
                sigs,
                old[1],
                hooks,
                lambda keys: self._read(
                    conn, bbt_copy, citekeys=keys_by_bbt, tops=_item_ids(conn, lib_id, keys)
                ),
                new_token,
            )

        # a usable token means a small read: the whole-file quick_check would cost more than
        # the read, so a torn copy is caught by the errors it raises instead (and retried)
        verify = decode_token(token) is None
        return self._with_copy(work, verify=verify)

    def _with_copy(
        self, work: Callable[[sqlite3.Connection, Path | None], T], *, verify: bool = True
    ) -> T:
        last_error: Exception | None = None
        with self._copies.folder() as tmp:
            for _ in range(self.retries):
                extra = [self.bbt_path] if self.bbt_path.exists() else []
                copy, reused = self._copies.take(self.db_path, tmp, self.retries, extra)
                try:
                    conn = self._open(copy, verify=verify, read_only=reused)
                except sqlite3.DatabaseError as exc:
                    last_error = exc  # a torn copy: take another one
                    continue
                gc_was_on = gc.isenabled()
                gc.disable()  # ~200k acyclic objects: collector passes cost more than the read
                try:
                    result = work(conn, tmp / self.bbt_path.name if extra else None)
                except sqlite3.DatabaseError as exc:
                    if verify:
                        raise
                    last_error = exc  # unverified copy: a torn one fails here; take another
                    continue
                finally:
                    conn.close()
                    if gc_was_on:
                        gc.enable()
                self._copies.accept()
                return result
        raise SourceUnavailable(
            f"{self.db_path} is not a readable Zotero database ({last_error})",
            fix="point --zotero-db at your Zotero data directory's zotero.sqlite; if Zotero "
            "itself reports damage, restore zotero.sqlite.bak (Zotero > Help > Troubleshooting)",
        )

    def close(self) -> None:
        """Delete the kept copy (a long-lived source's; see :mod:`.sqlite_copy`)."""
        self._copies.close()

    def _open(
        self, copy: Path, *, verify: bool = True, read_only: bool = False
    ) -> sqlite3.Connection:
        # a kept copy is opened read-only: a writable connection would checkpoint into it
        conn = sqlite3.connect(copy.as_uri() + ("?mode=ro" if read_only else "?mode=rw"), uri=True)
        try:
            conn.execute("PRAGMA journal_mode")  # replays -wal / rolls back -journal in the copy
            if verify:
                _quick_check(conn)
            if not {"items", "itemData", "libraries"} <= {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }:
                raise sqlite3.DatabaseError("no Zotero tables (items, itemData, libraries)")
        except BaseException:
            conn.close()
            raise
        return conn

    # -- reading -----------------------------------------------------------------------------
    def _library_id(self, conn: sqlite3.Connection) -> tuple[int, LibraryRef, str]:
        if self.library.type == "group":
            row = conn.execute(
                "SELECT libraryID, name FROM groups WHERE groupID = ?", (self.library.id,)
            ).fetchone()
            if row is None:
                known = [f"group:{g}" for (g,) in conn.execute("SELECT groupID FROM groups")]
                raise ConfigError(
                    [
                        f"group {self.library.id} is not in {self.db_path} (known: {', '.join(known) or 'none'})"
                    ]
                )
            return int(row[0]), self.library, str(row[1])
        row = conn.execute("SELECT libraryID FROM libraries WHERE type = 'user'").fetchone()
        uid_row = conn.execute(
            "SELECT value FROM settings WHERE setting = 'account' AND key = 'userID'"
        ).fetchone()
        uid = int(uid_row[0]) if uid_row and str(uid_row[0]).isdigit() else self.library.id
        return (int(row[0]) if row else 1), LibraryRef("user", uid), "My Library"

    def _read(
        self,
        conn: sqlite3.Connection,
        bbt_copy: Path | None,
        *,
        citekeys: dict[str, str] | None = None,
        tops: set[int] | None = None,
    ) -> Library:
        """The library; with ``tops``, only those top-level items (an incremental read)."""
        lib_id, ref, lib_name = self._library_id(conn)
        schema = Schema.load(conn)
        only = tops is not None
        if tops is not None:
            want_items(conn, schema, tops)
        meta = read_items(conn, schema, lib_id, only=only)  # also "is this ID a live item here?"
        fields = read_fields(conn, schema, meta, only=only)
        creators = read_creators(conn, schema, meta, only=only)
        tags = read_tags(conn, schema, only=only)
        relations = read_relations(conn, meta, only=only)
        collections, membership = read_collections(conn, lib_id, meta, schema.tables)

        notes: dict[int, list[ChildNote]] = defaultdict(list)
        for item_id, parent, html in read_children(
            conn, "itemNotes", "c.itemID, c.parentItemID, c.note", lib_id, only=only
        ):
            note = meta.get(item_id)
            if note is not None and note[1] == "note" and parent in meta:
                notes[parent].append(
                    ChildNote(note[0], str(html or ""), note[2], note[3], tags.get(item_id, []))
                )

        annotations = read_annotations(conn, schema, meta, tags, only=only)
        attachments: dict[int, list[Attachment]] = defaultdict(list)
        cols = "c.itemID, c.parentItemID, c.linkMode, c.contentType, c.path"
        for item_id, parent, mode, ctype, path in read_children(
            conn, "itemAttachments", cols, lib_id, top_level=True, only=only
        ):
            own_meta = meta.get(item_id)
            parent = item_id if parent is None else parent  # standalone: its own paper
            parent_meta = meta.get(parent)
            if own_meta is None or parent_meta is None or parent_meta[1] in ("note", "annotation"):
                continue
            own = fields.get(item_id, {})
            link: LinkMode = (
                LINK_MODES[mode] if isinstance(mode, int) and 0 <= mode < 5 else "imported_file"
            )
            attachments[parent].append(
                Attachment(
                    key=own_meta[0],
                    title=own.get("title", ""),
                    link_mode=link,
                    content_type=str(ctype or ""),
                    path=str(path or ""),
                    url=own.get("url", ""),
                    annotations=annotations.get(item_id, NONE),
                    date_added=own_meta[2],
                )
            )

        if citekeys is None:
            citekeys = bbt_citekeys(bbt_copy, lib_id)
        chosen = select_collections(collections, self.collections, where=str(self.db_path))
        items = self._items(meta, fields, creators, tags, relations, membership, attachments,
                            notes, citekeys, chosen, ref)  # fmt: skip
        lib_cols = columns(conn, "libraries")
        lib_version = conn.execute(
            f"SELECT {'clientVersion' if 'clientVersion' in lib_cols else 'version'} "
            "FROM libraries WHERE libraryID = ?",
            (lib_id,),
        ).fetchone()
        return Library(
            ref=ref,
            items=items,
            collections=collections,
            version=int(lib_version[0]) if lib_version else None,
            data_dir=str(self.db_path.parent),
            name=lib_name,
        )

    @staticmethod
    def _items(
        meta: dict[int, Meta],
        fields: dict[int, dict[str, str]],
        creators: dict[int, list[Creator]],
        tags: dict[int, list[Tag]],
        relations: dict[int, dict[str, list[str]]],
        membership: dict[int, list[str]],
        attachments: dict[int, list[Attachment]],
        notes: dict[int, list[ChildNote]],
        citekeys: dict[str, str],
        allowed: set[str] | None,
        ref: LibraryRef,
    ) -> list[Item]:
        """Top-level regular items in itemID order, in the chosen collections if any."""
        items: list[Item] = []
        for item_id, (key, tname, added, modified, version) in meta.items():
            if (tname in NON_REGULAR and item_id not in attachments) or not tname:
                continue  # (a standalone attachment is listed under its own id)
            if allowed is not None and not (set(membership.get(item_id, [])) & allowed):
                continue
            own = with_base_fields(tname, fields.get(item_id, {}))
            citekey = (
                own.get("citationKey") or citekeys.get(key) or extra_citekey(own.get("extra", ""))
            )
            items.append(
                Item(
                    key=key,
                    item_type=tname,
                    fields=own,
                    creators=creators.get(item_id, []),
                    tags=tags.get(item_id, []),
                    collections=membership.get(item_id, []),
                    relations=relations.get(item_id, {}),
                    attachments=attachments.get(item_id, []),
                    notes=notes.get(item_id, []),
                    date_added=added,
                    date_modified=modified,
                    version=version,
                    citekey=citekey,
                    library=ref,
                )
            )
        return items


def _quick_check(conn: sqlite3.Connection) -> None:
    result = [r[0] for r in conn.execute("PRAGMA quick_check")]
    if result != ["ok"]:
        raise sqlite3.DatabaseError("quick_check: " + "; ".join(map(str, result[:3])))


def _item_ids(conn: sqlite3.Connection, lib_id: int, keys: Keys[str]) -> set[int]:
    """The ``itemID`` of each of ``keys`` in the library."""
    rows = conn.execute(
        "SELECT itemID FROM items WHERE libraryID = ? AND key IN (SELECT value FROM json_each(?))",
        (lib_id, json.dumps(sorted(keys))),
    )
    return {r[0] for r in rows}
