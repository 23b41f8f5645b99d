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
import re
import shutil
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from zotsync.errors import ConfigError, SourceUnavailable
from zotsync.model import (
    Annotation,
    AnnotationType,
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

LINK_MODES: tuple[LinkMode, ...] = (
    "imported_file",
    "imported_url",
    "linked_file",
    "linked_url",
    "embedded_image",
)
ANNOTATION_TYPES: dict[int, AnnotationType] = {
    1: "highlight",
    2: "note",
    3: "image",
    4: "ink",
    5: "underline",
    6: "text",
}
DATE_FIELDS = frozenset({"date", "filingDate", "dateDecided", "issueDate", "dateEnacted"})
_MULTIPART = re.compile(r"^[0-9]{4}-(0[0-9]|10|11|12)-(0[0-9]|[1-2][0-9]|30|31) ")
_decode_json = json.JSONDecoder().decode
_EXTRA_KEY = re.compile(r"^\s*citation key\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_EXTRA_BIBTEX = re.compile(r"^\s*bibtex\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_SIDE_FILES = ("-wal", "-journal")
NON_REGULAR = frozenset({"note", "attachment", "annotation"})


def iso_time(value: object) -> str:
    """Zotero's ``YYYY-MM-DD HH:MM:SS`` (UTC) -> ``YYYY-MM-DDTHH:MM:SSZ``."""
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":
        return value[:10] + "T" + value[11:] + "Z"  # hot path: ~10 per item
    return str(value or "")


def user_date(value: str) -> str:
    """The user's date string from a multipart ``2019-06-00 June 2019``."""
    return value[11:] if _MULTIPART.match(value) else value


def extra_citekey(extra: str) -> str:
    """A pinned key from Extra: ``Citation Key: x`` (BBT's legacy ``bibtex: x`` as a fallback)."""
    match = _EXTRA_KEY.search(extra) or _EXTRA_BIBTEX.search(extra)
    return match.group(1) if match else ""


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


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _col(cols: set[str], name: str, alias: str | None = None) -> str:
    """``name`` if the column exists, else ``NULL`` — read columns defensively."""
    return name if name in cols else f"NULL AS {alias or name}"


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
        q = conn.execute
        tables = {r[0] for r in q("SELECT name FROM sqlite_master WHERE type='table'")}
        type_table = "itemTypesCombined" if "itemTypesCombined" in tables else "itemTypes"
        field_table = "fieldsCombined" if "fieldsCombined" in tables else "fields"
        type_names: dict[int, str] = dict(q(f"SELECT itemTypeID, typeName FROM {type_table}"))
        field_names: dict[int, str] = dict(q(f"SELECT fieldID, fieldName FROM {field_table}"))
        if len(type_names) < len(dict(q("SELECT itemTypeID, typeName FROM itemTypes"))):
            type_names = dict(q("SELECT itemTypeID, typeName FROM itemTypes"))
        if len(field_names) < len(dict(q("SELECT fieldID, fieldName FROM fields"))):
            field_names = dict(q("SELECT fieldID, fieldName FROM fields"))
        creator_types: dict[int, str] = dict(
            q("SELECT creatorTypeID, creatorType FROM creatorTypes")
        )
        item_cols = _columns(conn, "items")
        version_col = "clientVersion" if "clientVersion" in item_cols else "version"
        trash = "SELECT itemID FROM deletedItems" if "deletedItems" in tables else "SELECT NULL"
        live = f"i.libraryID = ? AND i.itemID NOT IN ({trash})"
        if "feedItems" in tables:
            live += " AND i.itemID NOT IN (SELECT itemID FROM feedItems)"

        rows = q(  # annotations (most rows) carry their own key and dates: see _annotations
            f"SELECT i.itemID, i.itemTypeID, i.key, i.dateAdded, i.dateModified, i.{version_col} "
            f"FROM items i WHERE {live} AND i.itemTypeID NOT IN "
            f"(SELECT itemTypeID FROM itemTypes WHERE typeName = 'annotation') ORDER BY i.itemID",
            (lib_id,),
        ).fetchall()
        kind: dict[int, str] = {}
        meta: dict[int, tuple[str, str, str, str, int]] = {}
        for item_id, type_id, key, added, modified, version in rows:
            tname = type_names.get(type_id, "")
            kind[item_id] = tname
            meta[item_id] = (key, tname, iso_time(added), iso_time(modified), int(version or 0))

        fields: dict[int, dict[str, str]] = defaultdict(dict)
        for item_id, field_id, value in q(
            f"SELECT d.itemID, d.fieldID, v.value FROM itemData d JOIN itemDataValues v "
            f"USING (valueID) JOIN items i USING (itemID) WHERE {live}",
            (lib_id,),
        ):
            name = field_names.get(field_id)
            if name is None or value is None:
                continue
            text = str(value)
            if name in DATE_FIELDS:
                text = user_date(text)
            elif name == "accessDate":
                text = iso_time(text)
            fields[item_id][name] = text

        creators: dict[int, list[Creator]] = defaultdict(list)
        for item_id, first, last, mode, ctype in q(
            f"SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ic.creatorTypeID "
            f"FROM itemCreators ic JOIN creators c USING (creatorID) JOIN items i USING (itemID) "
            f"WHERE {live} ORDER BY ic.itemID, ic.orderIndex",
            (lib_id,),
        ):
            single = mode == 1
            creators[item_id].append(
                Creator(
                    last or "",
                    "" if single else first or "",
                    creator_types.get(ctype, "author"),
                    single,
                )
            )

        tags: dict[int, list[Tag]] = defaultdict(list)
        for item_id, name, ttype in q(
            f"SELECT it.itemID, t.name, it.type FROM itemTags it JOIN tags t USING (tagID) "
            f"JOIN items i USING (itemID) WHERE {live} ORDER BY it.rowid",
            (lib_id,),
        ):
            tags[item_id].append(Tag(name, auto=ttype == 1))

        relations: dict[int, dict[str, list[str]]] = defaultdict(dict)
        for item_id, predicate, obj in q(
            f"SELECT r.itemID, p.predicate, r.object FROM itemRelations r "
            f"JOIN relationPredicates p USING (predicateID) JOIN items i USING (itemID) "
            f"WHERE {live} ORDER BY r.rowid",
            (lib_id,),
        ):
            relations[item_id].setdefault(predicate, []).append(obj)

        collections, membership = self._collections(conn, lib_id, live, tables)

        notes: dict[int, list[ChildNote]] = defaultdict(list)
        for item_id, parent, html in q(
            f"SELECT n.itemID, n.parentItemID, n.note FROM itemNotes n JOIN items i USING (itemID) "
            f"WHERE {live} AND n.parentItemID IS NOT NULL ORDER BY i.dateAdded, i.itemID",
            (lib_id,),
        ):
            if kind.get(item_id) == "note" and parent in kind:
                _, _, added, modified, _ = meta[item_id]
                notes[parent].append(
                    ChildNote(meta[item_id][0], html or "", added, modified, tags.get(item_id, []))
                )

        annotations = self._annotations(conn, lib_id, live, meta, tags)
        attachments: dict[int, list[Attachment]] = defaultdict(list)
        for item_id, parent, mode, ctype, path in q(
            f"SELECT a.itemID, a.parentItemID, a.linkMode, a.contentType, a.path "
            f"FROM itemAttachments a JOIN items i USING (itemID) "
            f"WHERE {live} AND a.parentItemID IS NOT NULL ORDER BY i.dateAdded, i.itemID",
            (lib_id,),
        ):
            if parent not in kind or kind[parent] in NON_REGULAR:
                continue
            own = fields.get(item_id, {})
            link: LinkMode = (
                LINK_MODES[mode] if isinstance(mode, int) and 0 <= mode < 5 else "imported_file"
            )
            attachments[parent].append(
                Attachment(
                    key=meta[item_id][0],
                    title=own.get("title", ""),
                    link_mode=link,
                    content_type=ctype or "",
                    path=path or "",
                    url=own.get("url", ""),
                    annotations=sorted(annotations.get(item_id, []), key=lambda a: a.sort_index),
                    date_added=meta[item_id][2],
                )
            )

        citekeys = self._bbt_citekeys(bbt_copy, lib_id)
        allowed = self._selected(collections, membership)
        items: list[Item] = []
        for item_id, (key, tname, added, modified, version) in meta.items():
            if tname in NON_REGULAR or not tname:
                continue
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
        lib_cols = _columns(conn, "libraries")
        lib_version = q(
            f"SELECT {'clientVersion' if 'clientVersion' in lib_cols else 'version'} FROM libraries WHERE libraryID = ?",
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

    def _collections(
        self, conn: sqlite3.Connection, lib_id: int, live: str, tables: set[str]
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
            f"SELECT ci.collectionID, ci.itemID FROM collectionItems ci JOIN items i USING (itemID) "
            f"WHERE {live} ORDER BY ci.collectionID",
            (lib_id,),
        ):
            if coll_id in keys:
                membership[item_id].append(keys[coll_id])
        return collections, membership

    def _annotations(
        self,
        conn: sqlite3.Connection,
        lib_id: int,
        live: str,
        meta: dict[int, tuple[str, str, str, str, int]],
        tags: dict[int, list[Tag]],
    ) -> dict[int, list[Annotation]]:
        """Annotations by attachment itemID; they are most rows, so key and ISO dates come from SQL."""
        if "itemAnnotations" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}:
            return {}
        cols = _columns(conn, "itemAnnotations")
        iso = "CASE WHEN length({0}) = 19 THEN substr({0}, 1, 10) || 'T' || substr({0}, 12) || 'Z' ELSE {0} END"
        sql = (
            f"SELECT a.itemID, i.key, {iso.format('i.dateAdded')}, {iso.format('i.dateModified')}, "
            f"a.parentItemID, a.type, {_col(cols, 'authorName')}, a.text, a.comment, a.color, "
            f"a.pageLabel, a.sortIndex, a.position, {_col(cols, 'isExternal')} "
            f"FROM itemAnnotations a JOIN items i USING (itemID) WHERE {live}"
        )
        out: dict[int, list[Annotation]] = defaultdict(list)
        for row in conn.execute(sql, (lib_id,)):
            item_id, key, added, modified, parent, atype, author, text, comment = row[:9]
            color, label, sort, pos, ext = row[9:]
            if parent not in meta:
                continue
            try:
                position = _decode_json(pos) if pos else {}
            except ValueError:
                position = {}
            out[parent].append(
                Annotation(
                    key=key,
                    type=ANNOTATION_TYPES.get(atype, "highlight"),
                    text=text or "",
                    comment=comment or "",
                    color=color or "#ffd400",
                    page_label=label or "",
                    sort_index=sort or "",
                    position=position if isinstance(position, dict) else {},
                    author=author or "",
                    tags=tags.get(item_id, []),
                    date_added=added or "",
                    date_modified=modified or "",
                    is_external=bool(ext),
                )
            )
        return out

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
