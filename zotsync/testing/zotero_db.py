"""Build real-schema ``zotero.sqlite`` files from :class:`zotsync.model.Library` objects.

Tests (and the benchmark) need Zotero databases of several ages without checking in binary
files, and they need to compare what a source reads with what went in. So the builder takes
the same model the sources produce and writes it the way the desktop stores it: type-specific
fields only (``bookTitle``, never ``publicationTitle``), dates in multipart form
(``2019-06-00 June 2019``), SQL UTC timestamps, de-duplicated values/creators/tags, ``dc:relation``
URIs, annotations under their attachment, trash in ``deletedItems``, feeds and groups as their own
libraries, citation keys natively, in ``better-bibtex.sqlite`` or in Extra.

:func:`hold_exclusive` opens a database like a running desktop does (``locking_mode=EXCLUSIVE``,
WAL kept un-checkpointed for Zotero 10) and hands out a :class:`ZoteroDbWriter` for further
writes, so tests can make "Zotero" change the library while a reader copies it.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from zotsync.model import (
    ChildNote,
    Collection,
    Creator,
    Item,
    Library,
    LibraryRef,
    Tag,
    with_base_fields,
)
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_schema import (
    DATE_FIELDS,
    TRIGGERS,
    VERSIONS,
    install_schema,
    write_settings,
)

__all__ = [
    "BbtMode",
    "ZoteroDbWriter",
    "hold_exclusive",
    "make_zotero_db",
    "multipart",
    "sql_time",
    "trashed_item",
    "write_bbt_loki",
    "write_bbt_sqlite",
]

BbtMode = Literal["native", "sqlite", "loki", "extra"] | None

_KEY_CHARS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


LINK_MODES = ("imported_file", "imported_url", "linked_file", "linked_url", "embedded_image")
ANNOTATION_TYPES = ("", "highlight", "note", "image", "ink", "underline", "text")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MULTIPART = re.compile(r"^\d{4}-\d{2}-\d{2} ")


def sql_time(iso: str, default: str = "2024-01-01 00:00:00") -> str:
    """ISO 8601 UTC (``2024-01-02T03:04:05Z``) -> Zotero's ``2024-01-02 03:04:05``."""
    return iso.replace("T", " ").removesuffix("Z")[:19] if iso else default


def multipart(date: str) -> str:
    """A user date string -> Zotero's multipart ``YYYY-MM-DD original`` (common forms only)."""
    if _MULTIPART.match(date):
        return date
    y = m = d = 0
    iso = re.fullmatch(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*", date)
    if iso:
        y, m, d = (int(g) if g else 0 for g in iso.groups())
    else:
        year = re.search(r"(?<!\d)(\d{4})(?!\d)", date)
        y = int(year.group(1)) if year else 0
        words = re.findall(r"[A-Za-z]+", date.lower())
        m = next((i + 1 for w in words for i, mo in enumerate(_MONTHS) if w.startswith(mo)), 0)
        day = re.search(r"(?<!\d)(\d{1,2})(?!\d)", date)
        d = int(day.group(1)) if day and m else 0
    return f"{y:04d}-{m:02d}-{d:02d} {date}"


def _norm(text: str | None) -> str | None:
    """Zotero 10's ``*Normalized`` search columns: case- and accent-folded."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _note_title(html: str) -> str:
    text = re.sub(r"</(p|div|h\d|li)>|<br\s*/?>", "\n", html)
    text = re.sub(r"<[^>]+>", "", text)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:120]


_FLUSH_ORDER = [
    "relationPredicates",
    "itemDataValues",
    "creators",
    "tags",
    "collections",
    "items",
    "itemData",
    "itemCreators",
    "itemTags",
    "itemRelations",
    "itemNotes",
    "itemAttachments",
    "itemAnnotations",
    "collectionItems",
    "deletedItems",
    "groupItems",
    "feedItems",
]


class ZoteroDbWriter:
    """Writes model objects into an open Zotero database the way the desktop stores them.

    Bulk building stages rows and inserts them with ``executemany`` in :meth:`flush` (10,000
    items in a few seconds). With ``autocommit`` every public edit is its own transaction, as
    in the running desktop; Zotero 10 databases get ``clientVersion`` bumped per transaction.
    IDs are looked up *by name* from the database, so it works on any database the builder made.
    """

    def __init__(
        self, conn: sqlite3.Connection, *, autocommit: bool = True, user_id: int | None = None
    ) -> None:
        self.conn = conn
        self.autocommit = autocommit
        self.v10 = "clientVersion" in {r[1] for r in conn.execute("PRAGMA table_info(items)")}
        q = conn.execute
        self.types: dict[str, int] = dict(q("SELECT typeName, itemTypeID FROM itemTypes"))
        self.fields: dict[str, int] = dict(q("SELECT fieldName, fieldID FROM fields"))
        self.creator_types: dict[str, int] = dict(
            q("SELECT creatorType, creatorTypeID FROM creatorTypes")
        )
        self.type_fields = set(q("SELECT itemTypeID, fieldID FROM itemTypeFields"))
        self.type_creators = set(q("SELECT itemTypeID, creatorTypeID FROM itemTypeCreatorTypes"))
        self.base_to_specific: dict[str, dict[str, str]] = defaultdict(dict)
        for tname, base, spec in q(
            "SELECT it.typeName, bf.fieldName, f.fieldName FROM baseFieldMappings b "
            "JOIN itemTypes it USING (itemTypeID) JOIN fields bf ON bf.fieldID = b.baseFieldID "
            "JOIN fields f ON f.fieldID = b.fieldID"
        ):
            self.base_to_specific[tname][base] = spec
        self.values: dict[object, int] = {
            v: i for i, v in q("SELECT valueID, value FROM itemDataValues")
        }
        self.creators = {
            (ln, fn, m): i
            for i, fn, ln, m in q("SELECT creatorID, firstName, lastName, fieldMode FROM creators")
        }
        self.tags: dict[str, int] = {n: i for i, n in q("SELECT tagID, name FROM tags")}
        self.predicates: dict[str, int] = {
            p: i for i, p in q("SELECT predicateID, predicate FROM relationPredicates")
        }
        self.item_ids = {(lib, k): i for i, lib, k in q("SELECT itemID, libraryID, key FROM items")}
        self.collection_ids = {
            (lib, k): i for i, lib, k in q("SELECT collectionID, libraryID, key FROM collections")
        }
        self.group_libs = {r[0] for r in q("SELECT libraryID FROM libraries WHERE type = 'group'")}
        if user_id is None:
            row = q(
                "SELECT value FROM settings WHERE setting='account' AND key='userID'"
            ).fetchone()
            user_id = int(row[0]) if row else 0
        self.user_id = user_id
        self._next = {
            "item": (q("SELECT MAX(itemID) FROM items").fetchone()[0] or 0) + 1,
            "value": (q("SELECT MAX(valueID) FROM itemDataValues").fetchone()[0] or 0) + 1,
            "creator": (q("SELECT MAX(creatorID) FROM creators").fetchone()[0] or 0) + 1,
            "tag": (q("SELECT MAX(tagID) FROM tags").fetchone()[0] or 0) + 1,
            "predicate": (q("SELECT MAX(predicateID) FROM relationPredicates").fetchone()[0] or 0)
            + 1,
            "collection": (q("SELECT MAX(collectionID) FROM collections").fetchone()[0] or 0) + 1,
        }
        self.rows: dict[str, list[tuple[object, ...]]] = defaultdict(list)
        self.staged_items: dict[int, list[Item]] = defaultdict(list)

    # -- ids -------------------------------------------------------------------------------
    def _take(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    def item_id(self, library_id: int, key: str) -> int:
        """The itemID of ``key`` (KeyError if absent)."""
        return self.item_ids[(library_id, key)]

    def _field_id(self, type_id: int, name: str) -> int:
        """Field ID, registering unknown fields for the type the way a schema update would."""
        fid = self.fields.get(name)
        if fid is None:
            fid = (self.conn.execute("SELECT MAX(fieldID) FROM fields").fetchone()[0] or 0) + 1
            self.conn.execute("INSERT INTO fields VALUES (?, ?, NULL)", (fid, name))
            self.conn.execute(
                "INSERT INTO fieldsCombined VALUES (?, ?, NULL, NULL, 0)", (fid, name)
            )
            self.fields[name] = fid
        if (type_id, fid) not in self.type_fields:
            order = self.conn.execute(
                "SELECT COALESCE(MAX(orderIndex), -1) + 1 FROM itemTypeFields WHERE itemTypeID = ?",
                (type_id,),
            ).fetchone()[0]
            for table in ("itemTypeFields", "itemTypeFieldsCombined"):
                self.conn.execute(f"INSERT INTO {table} VALUES (?, ?, 0, ?)", (type_id, fid, order))
            self.type_fields.add((type_id, fid))
        return fid

    def _creator_type_id(self, type_id: int, name: str) -> int:
        cid = self.creator_types.get(name)
        if cid is None:
            cid = (
                self.conn.execute("SELECT MAX(creatorTypeID) FROM creatorTypes").fetchone()[0] or 0
            ) + 1
            self.conn.execute("INSERT INTO creatorTypes VALUES (?, ?)", (cid, name))
            self.creator_types[name] = cid
        if (type_id, cid) not in self.type_creators:
            self.conn.execute("INSERT INTO itemTypeCreatorTypes VALUES (?, ?, 0)", (type_id, cid))
            self.type_creators.add((type_id, cid))
        return cid

    def _value_id(self, value: str) -> int:
        vid = self.values.get(value)
        if vid is None:
            vid = self.values[value] = self._take("value")
            row = (vid, value, _norm(value)) if self.v10 else (vid, value)
            self.rows["itemDataValues"].append(row)
        return vid

    def _tag_id(self, name: str) -> int:
        tid = self.tags.get(name)
        if tid is None:
            tid = self.tags[name] = self._take("tag")
            self.rows["tags"].append((tid, name, _norm(name)) if self.v10 else (tid, name))
        return tid

    def _predicate_id(self, predicate: str) -> int:
        pid = self.predicates.get(predicate)
        if pid is None:
            pid = self.predicates[predicate] = self._take("predicate")
            self.rows["relationPredicates"].append((pid, predicate))
        return pid

    # -- staging ---------------------------------------------------------------------------
    def add_library(self, library_id: int, kind: str, *, version: int = 0) -> None:
        """A ``libraries`` row (user, group or feed)."""
        cols = "libraryID, type, editable, filesEditable, version"
        vals: tuple[object, ...] = (library_id, kind, 1, int(kind != "feed"), version)
        if self.v10:
            cols, vals = cols + ", clientVersion", (*vals, version)
        self.conn.execute(
            f"INSERT INTO libraries ({cols}) VALUES ({','.join('?' * len(vals))})", vals
        )
        if kind == "group":
            self.group_libs.add(library_id)

    def stage_collections(self, library_id: int, collections: Iterable[Collection]) -> None:
        """Collections, parents before children (the trigger checks the parent's library)."""
        pending = list(collections)
        keys = {c.key for c in pending}
        while pending:
            ready = [
                c
                for c in pending
                if not c.parent
                or c.parent not in keys
                or (library_id, c.parent) in self.collection_ids
            ]
            if not ready:  # a cycle: cut it
                ready = pending[:1]
            for coll in ready:
                cid = self.collection_ids[(library_id, coll.key)] = self._take("collection")
                parent = self.collection_ids.get((library_id, coll.parent)) if coll.parent else None
                row: tuple[object, ...] = (
                    cid,
                    coll.name,
                    parent,
                    "2024-01-01 00:00:00",
                    library_id,
                    coll.key,
                    0,
                )
                self.rows["collections"].append((*row, 0, 1) if self.v10 else (*row, 1))
                pending.remove(coll)

    def _new_item(
        self, key: str, type_name: str, library_id: int, added: str, modified: str, version: int
    ) -> tuple[int, int]:
        item_id = self.item_ids[(library_id, key)] = self._take("item")
        type_id = self.types[type_name]
        row: tuple[object, ...] = (
            item_id,
            type_id,
            sql_time(added),
            sql_time(modified or added),
            sql_time(modified or added),
            library_id,
            key,
            version,
        )
        self.rows["items"].append((*row, version, 1) if self.v10 else (*row, 1))
        if library_id in self.group_libs:
            self.rows["groupItems"].append((item_id, self.user_id or None, self.user_id or None))
        return item_id, type_id

    def _db_fields(self, item: Item, citekey_mode: str | None) -> dict[str, str]:
        """The fields as stored: type-specific names only, base aliases dropped."""
        b2s = self.base_to_specific.get(item.item_type, {})
        out: dict[str, str] = {}
        for name, value in item.fields.items():
            if not value:
                continue
            spec = b2s.get(name)
            if spec:
                if item.fields.get(spec):
                    continue
                name = spec
            out[name] = value
        if citekey_mode == "native" and item.citekey:
            out["citationKey"] = item.citekey
        extra = out.get("extra", "")
        if (
            citekey_mode == "extra"
            and item.citekey
            and not re.search(r"(?im)^citation key:", extra)
        ):
            out["extra"] = (extra + "\n" if extra else "") + f"Citation Key: {item.citekey}"
        return out

    def _stage_fields(self, item_id: int, type_id: int, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            if name in DATE_FIELDS:
                value = multipart(value)
            elif name == "accessDate" and "T" in value:
                value = sql_time(value)
            self.rows["itemData"].append(
                (item_id, self._field_id(type_id, name), self._value_id(value))
            )

    def _stage_tags(self, item_id: int, tags: Iterable[Tag]) -> None:
        seen: set[str] = set()
        for tag in tags:
            if tag.name not in seen:
                seen.add(tag.name)
                self.rows["itemTags"].append((item_id, self._tag_id(tag.name), int(tag.auto)))

    def stage_item(
        self,
        item: Item,
        library_id: int = 1,
        *,
        citekey_mode: str | None = None,
        group_item: bool = False,
        trashed: bool = False,
    ) -> int:
        """Stage a top-level item with all its children; returns its itemID."""
        lib = library_id
        item_id, type_id = self._new_item(
            item.key, item.item_type, lib, item.date_added, item.date_modified, item.version
        )
        self._stage_fields(item_id, type_id, self._db_fields(item, citekey_mode))
        for order, c in enumerate(item.creators):
            mode = int(c.single)
            ident = (c.last, "" if c.single else c.first, mode)
            cid = self.creators.get(ident)
            if cid is None:
                cid = self.creators[ident] = self._take("creator")
                row: tuple[object, ...] = (cid, ident[1], ident[0], mode)
                self.rows["creators"].append(
                    (*row, _norm(ident[1]), _norm(ident[0])) if self.v10 else row
                )
            self.rows["itemCreators"].append(
                (item_id, cid, self._creator_type_id(type_id, c.creator_type), order)
            )
        self._stage_tags(item_id, item.tags)
        for order, ckey in enumerate(item.collections):
            if (lib, ckey) in self.collection_ids:
                self.rows["collectionItems"].append(
                    (self.collection_ids[(lib, ckey)], item_id, order)
                )
        for predicate, objects in item.relations.items():
            for obj in objects:
                self.rows["itemRelations"].append((item_id, self._predicate_id(predicate), obj))
        for note in item.notes:
            self._stage_note(note, item_id, lib, item.version)
        for att in item.attachments:
            att_id, att_type = self._new_item(
                att.key, "attachment", lib, att.date_added, att.date_added, item.version
            )
            self._stage_fields(
                att_id, att_type, {k: v for k, v in (("title", att.title), ("url", att.url)) if v}
            )
            mode = LINK_MODES.index(att.link_mode)
            self.rows["itemAttachments"].append(
                (
                    att_id,
                    item_id,
                    mode,
                    att.content_type or None,
                    att.path or None,
                    2 if mode < 2 else 0,
                )
            )
            for ann in att.annotations:
                ann_id, _ = self._new_item(
                    ann.key, "annotation", lib, ann.date_added, ann.date_modified, item.version
                )
                pos = json.dumps(ann.position, separators=(",", ":"))
                row = (
                    ann_id,
                    att_id,
                    ANNOTATION_TYPES.index(ann.type),
                    ann.author or None,
                    ann.text or None,
                    ann.comment or None,
                    ann.color,
                    ann.page_label,
                    ann.sort_index,
                    pos,
                    int(ann.is_external),
                )
                self.rows["itemAnnotations"].append(
                    (*row, _norm(ann.text or None), _norm(ann.comment or None)) if self.v10 else row
                )
                self._stage_tags(ann_id, ann.tags)
        if trashed:
            self.rows["deletedItems"].append((item_id, sql_time(item.date_modified)))
        self.staged_items[lib].append(item)
        return item_id

    def _stage_note(self, note: ChildNote, parent_id: int | None, lib: int, version: int) -> int:
        note_id, _ = self._new_item(
            note.key, "note", lib, note.date_added, note.date_modified, version
        )
        self.rows["itemNotes"].append((note_id, parent_id, note.html, _note_title(note.html)))
        self._stage_tags(note_id, note.tags)
        return note_id

    def flush(self) -> None:
        """Insert every staged row (``executemany`` per table, in foreign-key order)."""
        for table in _FLUSH_ORDER:
            rows = self.rows.pop(table, [])
            if not rows:
                continue
            width = len(rows[0])
            if table == "itemAttachments":
                sql = f"INSERT INTO {table} (itemID, parentItemID, linkMode, contentType, path, syncState) VALUES (?,?,?,?,?,?)"
            else:
                sql = f"INSERT INTO {table} VALUES ({','.join('?' * width)})"
            self.conn.executemany(sql, rows)
        self.rows.clear()

    # -- live edits (one transaction each, like the desktop) -------------------------------
    @contextmanager
    def _tx(self) -> Iterator[None]:
        if not self.autocommit:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.flush()
            self.conn.execute("COMMIT")
        except BaseException:
            self.rows.clear()
            self.conn.execute("ROLLBACK")
            raise

    def _lookup(self, key: str, library_id: int) -> tuple[int, int]:
        row = self.conn.execute(
            "SELECT itemID, itemTypeID FROM items WHERE key = ? AND libraryID = ?",
            (key, library_id),
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return int(row[0]), int(row[1])

    def _touch(self, item_id: int, library_id: int) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        self.conn.execute(
            "UPDATE items SET dateModified = ?, clientDateModified = ?, synced = 0 WHERE itemID = ?",
            (now, now, item_id),
        )
        if self.v10:
            self.conn.execute(
                "UPDATE libraries SET clientVersion = clientVersion + 1 WHERE libraryID = ?",
                (library_id,),
            )
            self.conn.execute(
                "UPDATE items SET clientVersion = (SELECT clientVersion FROM libraries WHERE libraryID = ?) WHERE itemID = ?",
                (library_id, item_id),
            )

    def touch_setting(self) -> None:
        """A harmless write (the desktop records its version at start-up)."""
        with self._tx():
            self.conn.execute(
                "INSERT OR REPLACE INTO settings VALUES ('client', 'lastStartup', ?)",
                (datetime.now(UTC).isoformat(),),
            )

    def set_field(self, key: str, field: str, value: str, library_id: int = 1) -> None:
        """Change (or with ``""`` remove) one field of an item."""
        with self._tx():
            item_id, type_id = self._lookup(key, library_id)
            fid = self._field_id(type_id, field)
            self.conn.execute(
                "DELETE FROM itemData WHERE itemID = ? AND fieldID = ?", (item_id, fid)
            )
            if value:
                self._stage_fields(item_id, type_id, {field: value})
            self._touch(item_id, library_id)

    def set_title(self, key: str, title: str, library_id: int = 1) -> None:
        """Rename an item (the commonest edit in the daemon tests)."""
        self.set_field(key, "title", title, library_id)

    def add_tag(self, key: str, tag: Tag | str, library_id: int = 1) -> None:
        """Tag an item (manual unless ``tag.auto``)."""
        tag = Tag(tag) if isinstance(tag, str) else tag
        with self._tx():
            item_id, _ = self._lookup(key, library_id)
            self.conn.execute(
                "DELETE FROM itemTags WHERE itemID = ? AND tagID = ?",
                (item_id, self.tags.get(tag.name, -1)),
            )
            self._stage_tags(item_id, [tag])
            self._touch(item_id, library_id)

    def add_item(self, item: Item, library_id: int = 1) -> int:
        """Add a new top-level item with its children; returns its itemID."""
        with self._tx():
            item_id = self.stage_item(item, library_id)
            self.flush()
            self._touch(item_id, library_id)
        return item_id

    def add_note(self, parent_key: str, note: ChildNote, library_id: int = 1) -> None:
        """Add a child note to an existing item."""
        with self._tx():
            parent_id, _ = self._lookup(parent_key, library_id)
            self._stage_note(note, parent_id, library_id, 0)
            self._touch(parent_id, library_id)

    def add_standalone_note(self, note: ChildNote, library_id: int = 1) -> None:
        """Add a note with no parent (not a paper: sources must leave it out)."""
        with self._tx():
            note_id = self._stage_note(note, None, library_id, 0)
            self.flush()
            self._touch(note_id, library_id)

    def trash(self, key: str, library_id: int = 1) -> None:
        """Move an item (or a child) to the trash."""
        with self._tx():
            item_id, _ = self._lookup(key, library_id)
            self.conn.execute("INSERT OR IGNORE INTO deletedItems (itemID) VALUES (?)", (item_id,))
            self._touch(item_id, library_id)

    def restore(self, key: str, library_id: int = 1) -> None:
        """Take an item out of the trash."""
        with self._tx():
            item_id, _ = self._lookup(key, library_id)
            self.conn.execute("DELETE FROM deletedItems WHERE itemID = ?", (item_id,))
            self._touch(item_id, library_id)

    def delete(self, key: str, library_id: int = 1) -> None:
        """Erase an item and its children for good (emptying the trash)."""
        with self._tx():
            item_id, _ = self._lookup(key, library_id)
            ids = [item_id] + [
                r[0]
                for r in self.conn.execute(
                    "SELECT itemID FROM itemNotes WHERE parentItemID = ? UNION SELECT itemID FROM itemAttachments WHERE parentItemID = ?",
                    (item_id, item_id),
                )
            ]
            ids += [
                r[0]
                for r in self.conn.execute(
                    f"SELECT itemID FROM itemAnnotations WHERE parentItemID IN ({','.join('?' * len(ids))})",
                    ids,
                )
            ]
            marks = ",".join("?" * len(ids))
            for table in (
                "itemData",
                "itemCreators",
                "itemTags",
                "itemRelations",
                "itemNotes",
                "itemAttachments",
                "itemAnnotations",
                "collectionItems",
                "deletedItems",
                "groupItems",
                "items",
            ):
                self.conn.execute(f"DELETE FROM {table} WHERE itemID IN ({marks})", ids)
            self.conn.execute(
                "INSERT OR IGNORE INTO syncDeleteLog (syncObjectTypeID, libraryID, key) VALUES (3, ?, ?)",
                (library_id, key),
            )

    def checkpoint(self) -> None:
        """Checkpoint the WAL into the main file (what Zotero 10 does when idle)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def trashed_item(ref: LibraryRef | None = None) -> Item:
    """The sample's trashed journal article (``TRSH2345``), with a child note that goes with it."""
    return Item(
        key="TRSH2345",
        item_type="journalArticle",
        fields=with_base_fields(
            "journalArticle",
            {"title": "A Paper The User Threw Away", "date": "2020", "DOI": "10.1000/trash"},
        ),
        creators=[Creator("Bin", "Rubbish")],
        tags=[Tag("to-read")],
        notes=[
            ChildNote("NTRS2345", "<p>gone</p>", "2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z")
        ],
        date_added="2024-05-01T00:00:00Z",
        date_modified="2024-05-01T00:00:00Z",
        version=15,
        library=ref or LibraryRef("user", 1234567),
    )


def _random_key(rng: random.Random) -> str:
    return "".join(rng.choice(_KEY_CHARS) for _ in range(8))


def make_zotero_db(
    path: str | Path,
    library: Library | None = None,
    *,
    version: int = 7,
    wal: bool | None = None,
    trashed: Sequence[Item] = (),
    groups: dict[int, Library] | None = None,
    feeds: int = 0,
    bbt: BbtMode = None,
    user_id: int | None = None,
) -> Path:
    """Write ``library`` (default: the sample library) as Zotero ``version`` (6–10) would.

    ``path`` is the database file or a folder (then ``<folder>/zotero.sqlite``). ``wal``
    defaults to on for Zotero 10. ``trashed`` items are written and listed in ``deletedItems``;
    ``groups`` maps a group id to its library; ``feeds`` adds a feed library with that many
    feed items. ``bbt`` says where each item's ``citekey`` goes: ``native`` (the
    ``citationKey`` field), ``sqlite`` (``better-bibtex.sqlite`` ``citationkey`` table, BBT
    6.7.132+), ``loki`` (BBT's older LokiJS store), ``extra`` (a ``Citation Key:`` line);
    ``None`` writes only what the item's fields already hold. Returns the database path.
    """
    if version not in VERSIONS:
        raise ValueError(f"unsupported Zotero version {version}; use one of {sorted(VERSIONS)}")
    library = sample_library() if library is None else library
    db = Path(path)
    if db.is_dir():
        db = db / "zotero.sqlite"
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-journal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    wal = version >= 10 if wal is None else wal
    uid = user_id if user_id is not None else (library.ref.id if library.ref.type == "user" else 0)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=MEMORY")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MB: index inserts stay in memory
        install_schema(conn, version)  # executescript commits on its own
        conn.execute("BEGIN")
        write_settings(conn, version, uid)
        writer = ZoteroDbWriter(conn, autocommit=False, user_id=uid)
        writer.add_library(1, "user", version=library.version or 0)
        _stage_library(writer, 1, library, trashed, bbt)
        next_lib = 2
        for group_id, group in (groups or {}).items():
            writer.add_library(next_lib, "group", version=group.version or 0)
            conn.execute(
                "INSERT INTO groups VALUES (?, ?, ?, '', ?)",
                (group_id, next_lib, group.name, group.version or 0),
            )
            _stage_library(writer, next_lib, group, (), bbt, group_item=True)
            next_lib += 1
        if feeds:
            _stage_feed(writer, conn, next_lib, feeds)
        writer.flush()
        for trigger in TRIGGERS:  # as _initializeSchema does: triggers.sql after the data
            conn.execute(trigger)
        conn.execute("COMMIT")
        conn.execute(f"PRAGMA journal_mode={'WAL' if wal else 'DELETE'}")
        if bbt in ("sqlite", "loki"):
            rows = [
                (writer.item_id(lib, it.key), it.key, lib, it.citekey)
                for lib, items in writer.staged_items.items()
                for it in items
                if it.citekey
            ]
            target = db.parent / "better-bibtex.sqlite"
            (write_bbt_sqlite if bbt == "sqlite" else write_bbt_loki)(target, rows)
    finally:
        conn.close()
    return db


def _stage_library(
    writer: ZoteroDbWriter,
    library_id: int,
    library: Library,
    trashed: Sequence[Item],
    bbt: BbtMode,
    *,
    group_item: bool = False,
) -> None:
    writer.stage_collections(library_id, library.collections.values())
    for item in library.items:
        writer.stage_item(item, library_id, citekey_mode=bbt, group_item=group_item)
    for item in trashed:
        writer.stage_item(item, library_id, citekey_mode=bbt, group_item=group_item, trashed=True)


def _stage_feed(writer: ZoteroDbWriter, conn: sqlite3.Connection, lib: int, count: int) -> None:
    writer.add_library(lib, "feed", version=0)
    conn.execute(
        "INSERT INTO feeds (libraryID, name, url, refreshInterval) VALUES (?, ?, ?, 60)",
        (lib, "arXiv cs.CL", "https://export.arxiv.org/rss/cs.CL"),
    )
    rng = random.Random(lib)
    for n in range(count):
        item = Item(
            key=_random_key(rng),
            item_type="journalArticle",
            fields={"title": f"Feed paper {n}", "url": f"https://arxiv.org/abs/2401.{n:05d}"},
            creators=[Creator("Feedwriter", "Fay")],
            date_added="2024-06-01T00:00:00Z",
            date_modified="2024-06-01T00:00:00Z",
        )
        item_id = writer.stage_item(item, lib)
        writer.rows["feedItems"].append(
            (item_id, f"https://arxiv.org/abs/2401.{n:05d}", None, None)
        )


def write_bbt_sqlite(path: Path, rows: Iterable[tuple[int, str, int, str]]) -> None:
    """Write a BBT 6.7.132+ ``better-bibtex.sqlite``: ``(itemID, itemKey, libraryID, citekey)``."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(
            """
            CREATE TABLE citationkey (itemID NOT NULL PRIMARY KEY, itemKey NOT NULL,
              libraryID NOT NULL, citationKey NOT NULL CHECK (citationKey <> ''),
              pinned CHECK (pinned in (0,1)), UNIQUE (libraryID, itemKey));
            CREATE INDEX citationkey_itemKey ON citationkey(itemKey);
            CREATE INDEX citationkey_citationKey ON citationkey(citationKey);
            """
        )
        conn.executemany(
            "INSERT INTO citationkey VALUES (?, ?, ?, ?, 0)",
            [(i, k, lib, ck) for i, k, lib, ck in rows],
        )
        conn.commit()
    finally:
        conn.close()


def write_bbt_loki(path: Path, rows: Iterable[tuple[int, str, int, str]]) -> None:
    """Write a BBT ≤6.7.131 LokiJS store (``"better-bibtex"`` table of JSON collections)."""
    path.unlink(missing_ok=True)
    data = [
        {
            "itemID": i,
            "libraryID": lib,
            "itemKey": k,
            "pinned": False,
            "citekey": ck,
            "$loki": n + 1,
        }
        for n, (i, k, lib, ck) in enumerate(rows)
    ]
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            'CREATE TABLE "better-bibtex" (name TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL)'
        )
        conn.executemany(
            'INSERT INTO "better-bibtex" VALUES (?, ?)',
            [
                (
                    "better-bibtex",
                    json.dumps(
                        {"filename": "better-bibtex", "collections": ["better-bibtex.citekey"]}
                    ),
                ),
                ("better-bibtex.citekey", json.dumps({"name": "citekey", "data": data})),
            ],
        )
        conn.commit()
    finally:
        conn.close()


@contextmanager
def hold_exclusive(path: str | Path) -> Iterator[ZoteroDbWriter]:
    """Open ``path`` like a running desktop: exclusive lock held, WAL left un-checkpointed.

    While the block runs, ordinary readers get ``database is locked``; every write made through
    the yielded writer is committed at once (for a WAL database it stays in ``-wal``, as Zotero
    10 leaves it until idle). Leaving the block closes the connection, which checkpoints.
    """
    conn = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal":
            conn.execute("PRAGMA wal_autocheckpoint=0")
        writer = ZoteroDbWriter(conn, autocommit=True)
        # the desktop writes at start-up; the first write takes the exclusive lock for good
        writer.touch_setting()
        yield writer
    finally:
        conn.close()
