"""What changed in a ``zotero.sqlite`` since the last pass, from Zotero's own counters.

Every top-level item gets a signature built by a few grouped SQL statements over its *tree*
(the item, its child notes and attachments, and the attachments' annotations):

* the tree's size, its latest ``clientDateModified``, and the sums of ``version`` and (Zotero
  10) ``clientVersion``: the desktop bumps these on every save of any member, and a deleted
  child changes the size;
* the members in the trash;
* the tree's tags (names and types), the item's collections and its relations: link tables
  without counters of their own, so their rows are part of the signature;
* the item's key, type and Better BibTeX citation key.

An item whose signature differs from the token's is read again; a key the token knew that has
no signature now has left the library. Grouping runs inside SQLite over narrow columns, so it
costs a fraction of materialising the library, which is the point.

**Same-second edits.** ``clientDateModified`` has one-second resolution, and before Zotero 10
``version`` only moves on a server sync. An edit made in the same second as the snapshot the
token describes could keep the signature. So, as git does with its "racily clean" index
entries, an item modified within :data:`RACY_SECONDS` of the snapshot is stored with an empty
signature and is read again on the next pass, when its timestamp is safely in the past.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from zotsync.sources.sqlite_rows import Schema, columns

RACY_SECONDS = 3
_SEP = "\x1f"
NON_REGULAR = ("note", "attachment", "annotation")


def item_signatures(
    conn: sqlite3.Connection,
    schema: Schema,
    lib_id: int,
    citekeys: dict[str, str],
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """Key -> signature of every live top-level regular item (``""`` when racy, see above).

    Annotations (most of the rows) are folded into one row per attachment by SQLite; the
    items, notes and attachments (a few per paper) are grouped under their top item here.
    """
    tables = schema.tables
    cols = columns(conn, "items")
    client_version = "i.clientVersion" if "clientVersion" in cols else "0"
    modified = "i.clientDateModified" if "clientDateModified" in cols else "i.dateModified"
    hidden = schema.hidden
    parts: dict[int, list[str]] = defaultdict(list)  # item -> its own facts
    latest: dict[int, str] = {}
    annotated = {"itemAnnotations", "itemAttachments"} <= tables
    if annotated:
        for parent, size, last, versions, client_versions in conn.execute(
            f"SELECT a.parentItemID, count(*), max({modified}), total(i.version), "
            f"total({client_version}) FROM itemAnnotations a JOIN items i ON i.itemID = a.itemID "
            "GROUP BY a.parentItemID"
        ):
            parts[parent].append(f"a{size}.{last}.{versions}.{client_versions}")
            latest[parent] = str(last)
        if "deletedItems" in tables:  # annotations in the trash are left out of the notes
            for parent, item_id in conn.execute(
                "SELECT a.parentItemID, a.itemID FROM itemAnnotations a "
                "JOIN deletedItems d ON d.itemID = a.itemID"
            ):
                parts[parent].append(f"x{item_id}")
    if "itemTags" in tables:
        tagged = "SELECT it.{0}, group_concat({1}g.name || ':' || it.type, char(31)) FROM {2} " \
            "JOIN tags g ON g.tagID = it.tagID GROUP BY it.{0}"  # fmt: skip
        for item_id, text in conn.execute(tagged.format("itemID", "", "itemTags it")):
            parts[item_id].append("t" + str(text))
        if annotated:
            for parent, text in conn.execute(
                tagged.format(
                    "parentItemID",
                    "it.itemID || ':' || ",
                    "(SELECT t.itemID, t.tagID, t.type, a.parentItemID FROM itemAnnotations a "
                    "JOIN itemTags t ON t.itemID = a.itemID) it",
                )
            ):
                parts[parent].append("u" + str(text))
    for table, kind, sql in (
        ("collectionItems", "c", "group_concat(collectionID, ',')"),
        ("itemRelations", "r", "group_concat(predicateID || ' ' || object, char(31))"),
    ):
        if table in tables:
            for item_id, text in conn.execute(f"SELECT itemID, {sql} FROM {table} GROUP BY itemID"):
                parts[item_id].append(kind + str(text))
    parent_of: dict[int, int] = {}
    for table in ("itemAttachments", "itemNotes"):
        if table in tables:
            parent_of.update(
                conn.execute(
                    f"SELECT itemID, parentItemID FROM {table} WHERE parentItemID IS NOT NULL"
                )
            )
    names = schema.type_names
    tops: dict[int, tuple[str, int]] = {}
    trees: dict[int, list[str]] = defaultdict(list)
    newest: dict[int, str] = {}
    for item_id, key, type_id, last, version, client_v in conn.execute(
        f"SELECT i.itemID, i.key, i.itemTypeID, {modified}, i.version, {client_version} "
        # +libraryID: a plain scan in itemID order; the (libraryID, key) index would make SQLite
        # look every row up by rowid and sort them again (3× slower)
        "FROM items i WHERE +i.libraryID = ? AND i.itemTypeID NOT IN "
        "(SELECT itemTypeID FROM itemTypes WHERE typeName = 'annotation') ORDER BY i.itemID",
        (lib_id,),
    ):
        top = parent_of.get(item_id, item_id)
        if top == item_id:
            tname = names.get(type_id, "")
            if item_id in hidden or not tname or tname in NON_REGULAR:
                continue
            tops[item_id] = (key, type_id)
        stamp = max(str(last), latest.get(item_id, ""))
        if stamp > newest.get(top, ""):
            newest[top] = stamp
        trees[top].append(
            f"{item_id}.{last}.{version}.{client_v}.{item_id in hidden}."
            + _SEP.join(parts.get(item_id, ()))
        )
    racy_after = ((now or datetime.now(UTC)) - timedelta(seconds=RACY_SECONDS)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    out: dict[str, str] = {}
    for top, (key, type_id) in tops.items():
        if newest.get(top, "") >= racy_after:
            out[key] = ""  # read again next time (see the module docstring)
            continue
        text = "\n".join([key, str(type_id), citekeys.get(key, ""), *trees[top]])
        out[key] = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    return out


def library_signature(conn: sqlite3.Connection, schema: Schema, lib_id: int, identity: str) -> str:
    """What every item's rendering shares: the library, its collections and the name tables.

    When it moves (a collection renamed, another library chosen), every item may render
    differently, so the delta is complete.
    """
    digest = hashlib.blake2b(identity.encode(), digest_size=16)
    trashed = (
        "SELECT collectionID FROM deletedCollections"
        if "deletedCollections" in schema.tables
        else "SELECT NULL"
    )
    rows = conn.execute(
        "SELECT collectionID, key, collectionName, parentCollectionID, "
        f"collectionID IN ({trashed}) FROM collections WHERE libraryID = ? ORDER BY collectionID",
        (lib_id,),
    ).fetchall()
    digest.update(json.dumps(rows).encode())
    names = [sorted(schema.type_names.items()), sorted(schema.field_names.items()),
             sorted(schema.creator_types.items())]  # fmt: skip
    digest.update(json.dumps(names).encode())
    return digest.hexdigest()


def encode_token(library_sig: str, items: dict[str, str]) -> str:
    return json.dumps({"v": 1, "library": library_sig, "items": items}, separators=(",", ":"))


def decode_token(token: str | None) -> tuple[str, dict[str, str]] | None:
    """``(library signature, key -> signature)``, or None for an absent or foreign token."""
    if not token:
        return None
    try:
        data = json.loads(token)
        if data.get("v") != 1:
            return None
        return str(data["library"]), {str(k): str(v) for k, v in data["items"].items()}
    except (ValueError, KeyError, AttributeError, TypeError):
        return None


def want_items(conn: sqlite3.Connection, schema: Schema, tops: set[int]) -> None:
    """Fill ``temp.want`` with the items to read: ``tops``, their children and annotations.

    The row readers then restrict every statement to ``temp.want`` (see
    :data:`zotsync.sources.sqlite_rows.ONLY`), so a pass reads a handful of items' rows.
    """
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS want (itemID INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.want")
    conn.executemany("INSERT OR IGNORE INTO temp.want VALUES (?)", [(t,) for t in tops])
    for table in ("itemAttachments", "itemNotes"):
        if table in schema.tables:
            conn.execute(
                f"INSERT OR IGNORE INTO temp.want SELECT itemID FROM {table} "
                "WHERE parentItemID IN (SELECT itemID FROM temp.want)"
            )
    if "itemAnnotations" in schema.tables:
        conn.execute(
            "INSERT OR IGNORE INTO temp.want SELECT itemID FROM itemAnnotations "
            "WHERE parentItemID IN (SELECT itemID FROM temp.want)"
        )
