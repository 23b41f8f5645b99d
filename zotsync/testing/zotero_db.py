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

This module is the entry point; the pieces live beside it: :mod:`.zotero_schema` (DDL and
type tables), :mod:`.zotero_values` (stored value forms), :mod:`.zotero_staging` (bulk rows)
and :mod:`.zotero_writer` (live edits, :func:`hold_exclusive`). Every public name stays
importable from here.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from zotsync.model import ChildNote, Creator, Item, Library, LibraryRef, Tag, with_base_fields
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_schema import TRIGGERS, VERSIONS, install_schema, write_settings
from zotsync.testing.zotero_staging import ZoteroDbStaging
from zotsync.testing.zotero_values import ANNOTATION_TYPES, LINK_MODES, multipart, sql_time
from zotsync.testing.zotero_writer import ZoteroDbWriter, hold_exclusive

__all__ = [
    "ANNOTATION_TYPES",
    "LINK_MODES",
    "BbtMode",
    "ZoteroDbStaging",
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
