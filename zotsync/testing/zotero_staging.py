"""Bulk staging of model objects into an open ``zotero.sqlite`` (the builder's fast path).

:class:`ZoteroDbStaging` turns :class:`zotsync.model.Item` objects into the rows the desktop
would have written and inserts them per table with ``executemany`` in foreign-key order, so a
10,000-item fixture builds in seconds. Live, one-transaction-per-edit changes live in
:mod:`zotsync.testing.zotero_writer`, which subclasses this.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable

from zotsync.model import Attachment, ChildNote, Collection, Item, Tag
from zotsync.testing.zotero_schema import DATE_FIELDS
from zotsync.testing.zotero_values import (
    ANNOTATION_TYPES,
    LINK_MODES,
    multipart,
    norm,
    note_title,
    sql_time,
)

__all__ = ["ZoteroDbStaging"]

#: tables with one row set per item (an item's rows are deleted from all of them together)
ITEM_TABLES = (
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
)

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


class ZoteroDbStaging:
    """Writes model objects into an open Zotero database the way the desktop stores them.

    Bulk building stages rows and inserts them with ``executemany`` in :meth:`flush` (10,000
    items in a few seconds). ``autocommit`` is kept for the live edits of the subclass
    :class:`~zotsync.testing.zotero_writer.ZoteroDbWriter`. IDs are looked up *by name* from the database, so it works on any database the builder made.
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
            row = (vid, value, norm(value)) if self.v10 else (vid, value)
            self.rows["itemDataValues"].append(row)
        return vid

    def _tag_id(self, name: str) -> int:
        tid = self.tags.get(name)
        if tid is None:
            tid = self.tags[name] = self._take("tag")
            self.rows["tags"].append((tid, name, norm(name)) if self.v10 else (tid, name))
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
        """Stage a top-level item with all its children; returns its itemID.

        An item of type ``attachment`` is a standalone attachment: its one attachment (same
        key) is written as a top-level attachment row, with its annotations."""
        lib = library_id
        standalone = item.item_type == "attachment"
        if standalone:
            item_id = self._stage_attachment(item.attachments[0], None, lib, item.version)
            type_id = self.types["attachment"]
        else:
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
                    (*row, norm(ident[1]), norm(ident[0])) if self.v10 else row
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
        for att in [] if standalone else item.attachments:
            self._stage_attachment(att, item_id, lib, item.version)
        if trashed:
            self.rows["deletedItems"].append((item_id, sql_time(item.date_modified)))
        self.staged_items[lib].append(item)
        return item_id

    def _stage_attachment(
        self, att: Attachment, parent_id: int | None, lib: int, version: int
    ) -> int:
        att_id, att_type = self._new_item(
            att.key, "attachment", lib, att.date_added, att.date_added, version
        )
        self._stage_fields(
            att_id, att_type, {k: v for k, v in (("title", att.title), ("url", att.url)) if v}
        )
        mode = LINK_MODES.index(att.link_mode)
        self.rows["itemAttachments"].append(
            (att_id, parent_id, mode, att.content_type or None, att.path or None,
             2 if mode < 2 else 0)
        )  # fmt: skip
        for ann in att.annotations:
            ann_id, _ = self._new_item(
                ann.key, "annotation", lib, ann.date_added, ann.date_modified, version
            )
            pos = json.dumps(dict(ann.position), separators=(",", ":"))
            row = (ann_id, att_id, ANNOTATION_TYPES.index(ann.type), ann.author or None,
                   ann.text or None, ann.comment or None, ann.color, ann.page_label,
                   ann.sort_index, pos, int(ann.is_external))  # fmt: skip
            self.rows["itemAnnotations"].append(
                (*row, norm(ann.text or None), norm(ann.comment or None)) if self.v10 else row
            )
            self._stage_tags(ann_id, ann.tags)
        return att_id

    def _stage_note(self, note: ChildNote, parent_id: int | None, lib: int, version: int) -> int:
        note_id, _ = self._new_item(
            note.key, "note", lib, note.date_added, note.date_modified, version
        )
        self.rows["itemNotes"].append((note_id, parent_id, note.html, note_title(note.html)))
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
