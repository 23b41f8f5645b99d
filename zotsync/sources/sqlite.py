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
import shutil
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from zotsync.errors import ConfigError, SourceUnavailable
from zotsync.model import (
    Attachment,
    ChildNote,
    Collection,
    Creator,
    Item,
    Library,
    LibraryRef,
    LinkMode,
    Tag,
    with_base_fields,
)
from zotsync.sources.sqlite_rows import (
    Meta,
    Schema,
    columns,
    extra_citekey,
    iso_time,
    read_annotations,
    read_children,
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
_SIDE_FILES = ("-wal", "-journal")
NON_REGULAR = frozenset({"note", "attachment", "annotation"})


def _signature(paths: Sequence[Path]) -> tuple[tuple[int, int] | None, ...]:
    out: list[tuple[int, int] | None] = []
    for p in paths:
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def snapshot(db: Path, dest: Path, *, retries: int = 5, extra: Sequence[Path] = ()) -> Path:
    """Copy ``db`` (+ ``-wal``/``-journal`` and ``extra`` files) into ``dest``; return the copy.

    A copy is accepted only when no source file changed size or mtime while it was taken;
    otherwise it is retried with a short backoff, then :class:`SourceUnavailable` is raised.
    """
    sources = [db] + [Path(f"{db}{s}") for s in _SIDE_FILES] + list(extra)
    for attempt in range(retries):
        before = _signature(sources)
        if before[0] is None:
            raise SourceUnavailable(
                f"Zotero database not found: {db}",
                fix="check the path (--zotero-db) or run `zotsync doctor` to locate your Zotero data directory",
            )
        for p in dest.iterdir():
            p.unlink()
        try:
            for src in sources:
                target = dest / (src.name if src in extra else db.name + src.name[len(db.name) :])
                if src.exists():
                    shutil.copyfile(src, target)
        except FileNotFoundError:
            pass  # a -journal vanished mid-copy: the signature check catches it
        except OSError as exc:
            raise SourceUnavailable(
                f"cannot read the Zotero database {db}: {exc}",
                fix="check the file permissions of the Zotero data directory",
            ) from exc
        if _signature(sources) == before:
            return dest / db.name
        time.sleep(0.05 * 2**attempt)
    raise SourceUnavailable(
        f"Zotero kept changing {db} while it was being copied ({retries} attempts)",
        fix="try again in a moment (Zotero may be syncing or indexing), or close Zotero",
    )


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
    ) -> None:
        self.db_path = Path(db_path).expanduser()
        self.library = library or LibraryRef()
        self.collections = list(collections)
        self.bbt_path = Path(bbt_path) if bbt_path else self.db_path.parent / "better-bibtex.sqlite"
        self.retries = retries

    def watch_paths(self) -> list[Path]:
        """The database, its WAL/journal (Zotero 10 commits land in ``-wal``) and BBT's DB."""
        return [self.db_path, *(Path(f"{self.db_path}{s}") for s in _SIDE_FILES), self.bbt_path]

    def read(self) -> Library:
        """Snapshot, verify and read the library; raise :class:`SourceUnavailable` if we can't."""
        last_error: Exception | None = None
        with tempfile.TemporaryDirectory(prefix="zotsync-db-") as tmp:
            for _ in range(self.retries):
                extra = [self.bbt_path] if self.bbt_path.exists() else []
                copy = snapshot(self.db_path, Path(tmp), retries=self.retries, extra=extra)
                try:
                    conn = self._open(copy)
                except sqlite3.DatabaseError as exc:
                    last_error = exc  # a torn copy: take another one
                    continue
                gc_was_on = gc.isenabled()
                gc.disable()  # ~200k acyclic objects: collector passes would cost more than the read
                try:
                    return self._read(conn, Path(tmp) / self.bbt_path.name if extra else None)
                finally:
                    conn.close()
                    if gc_was_on:
                        gc.enable()
        raise SourceUnavailable(
            f"{self.db_path} is not a readable Zotero database ({last_error})",
            fix="point --zotero-db at your Zotero data directory's zotero.sqlite; if Zotero "
            "itself reports damage, restore zotero.sqlite.bak (Zotero > Help > Troubleshooting)",
        )

    def _open(self, copy: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(copy.as_uri() + "?mode=rw", uri=True)
        try:
            conn.execute("PRAGMA journal_mode")  # replays -wal / rolls back -journal in the copy
            result = [r[0] for r in conn.execute("PRAGMA quick_check")]
            if result != ["ok"]:
                raise sqlite3.DatabaseError("quick_check: " + "; ".join(map(str, result[:3])))
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

    def _read(self, conn: sqlite3.Connection, bbt_copy: Path | None) -> Library:
        lib_id, ref, lib_name = self._library_id(conn)
        schema = Schema.load(conn)
        meta = read_items(conn, schema, lib_id)  # also "is this ID a live item here?"
        fields = read_fields(conn, schema, meta)
        creators = read_creators(conn, schema, meta)
        tags = read_tags(conn, schema)
        relations = read_relations(conn, meta)
        collections, membership = self._collections(conn, lib_id, meta, schema.tables)

        notes: dict[int, list[ChildNote]] = defaultdict(list)
        for item_id, parent, html in read_children(
            conn, "itemNotes", "c.itemID, c.parentItemID, c.note", lib_id
        ):
            note = meta.get(item_id)
            if note is not None and note[1] == "note" and parent in meta:
                notes[parent].append(
                    ChildNote(note[0], str(html or ""), note[2], note[3], tags.get(item_id, []))
                )

        annotations = read_annotations(conn, schema, meta, tags)
        attachments: dict[int, list[Attachment]] = defaultdict(list)
        cols = "c.itemID, c.parentItemID, c.linkMode, c.contentType, c.path"
        for item_id, parent, mode, ctype, path in read_children(
            conn, "itemAttachments", cols, lib_id, top_level=True
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
                    annotations=annotations.get(item_id, []),
                    date_added=own_meta[2],
                )
            )

        citekeys = self._bbt_citekeys(bbt_copy, lib_id)
        items = self._items(meta, fields, creators, tags, relations, membership, attachments,
                            notes, citekeys, self._selected(collections, membership), ref)  # fmt: skip
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

    def _collections(
        self, conn: sqlite3.Connection, lib_id: int, live: dict[int, Meta], tables: set[str]
    ) -> tuple[dict[str, Collection], dict[int, list[str]]]:
        trashed = (
            "SELECT collectionID FROM deletedCollections"
            if "deletedCollections" in tables
            else "SELECT NULL"
        )
        rows = conn.execute(
            f"SELECT collectionID, key, collectionName, parentCollectionID FROM collections "
            f"WHERE libraryID = ? AND collectionID NOT IN ({trashed}) ORDER BY collectionID",
            (lib_id,),
        ).fetchall()
        keys = {cid: key for cid, key, _, _ in rows}
        collections = {
            key: Collection(key, name, keys.get(parent)) for _, key, name, parent in rows
        }
        membership: dict[int, list[str]] = defaultdict(list)
        for coll_id, item_id in conn.execute(
            "SELECT collectionID, itemID FROM collectionItems ORDER BY collectionID"
        ):
            if coll_id in keys and item_id in live:
                membership[item_id].append(keys[coll_id])
        return collections, membership

    def _selected(
        self, collections: dict[str, Collection], membership: dict[int, list[str]]
    ) -> set[str] | None:
        """Collection keys the ``collections`` option selects (with subcollections), or None."""
        if not self.collections:
            return None
        lib = Library(collections=collections)
        chosen: set[str] = set()
        problems = []
        for wanted in self.collections:
            parts = [p for p in wanted.strip("/").split("/") if p]
            hits = [
                key
                for key, coll in collections.items()
                if coll.name == wanted or lib.collection_path(key)[-len(parts) :] == parts
            ]
            if not hits:
                problems.append(f"no collection named {wanted!r} in {self.db_path}")
            for key in hits:
                chosen |= lib.descendants(key)
        if problems:
            raise ConfigError(problems)
        return chosen

    def _bbt_citekeys(self, bbt_copy: Path | None, lib_id: int) -> dict[str, str]:
        """Item key -> citekey from a copied ``better-bibtex.sqlite`` (6.7.132+ or LokiJS)."""
        if bbt_copy is None:
            return {}
        try:
            conn = sqlite3.connect(bbt_copy.as_uri() + "?mode=rw", uri=True)
        except sqlite3.Error:
            return {}
        out: dict[str, str] = {}
        try:
            names = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "citationkey" in names:
                for key, lib, citekey in conn.execute(
                    "SELECT itemKey, libraryID, citationKey FROM citationkey"
                ):
                    if citekey and (lib is None or lib == lib_id):
                        out[str(key)] = str(citekey)
            elif "better-bibtex" in names:
                row = conn.execute(
                    "SELECT data FROM \"better-bibtex\" WHERE name = 'better-bibtex.citekey'"
                ).fetchone()
                for entry in json.loads(row[0]).get("data", []) if row else []:
                    if entry.get("citekey") and entry.get("libraryID", lib_id) == lib_id:
                        out[str(entry.get("itemKey"))] = str(entry["citekey"])
        except (sqlite3.Error, ValueError, AttributeError):
            return {}  # BBT's DB is optional: a damaged one must not stop the sync
        finally:
            conn.close()
        return out
