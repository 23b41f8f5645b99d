"""What the sqlite source reports as changed, and the file fingerprint behind the no-op.

Each edit the desktop can make (and a few it makes without touching the item's timestamp)
must move exactly the signature of the item it concerns; a partial read must give the very
items a full read gives; and the fingerprint of a database must move with every commit, even
one that keeps the file's size and timestamp.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from zotsync.model import ChildNote
from zotsync.sources import ChangeHooks
from zotsync.sources.sqlite import SqliteSource
from zotsync.sources.sqlite_changes import RACY_SECONDS, decode_token
from zotsync.sync.context import input_hash
from zotsync.sync.snapshot import files_fingerprint
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import make_zotero_db
from zotsync.testing.zotero_writer import ZoteroDbWriter, hold_exclusive

LATER = datetime.now(UTC) + timedelta(seconds=RACY_SECONDS + 2)


def _settle(db: Path) -> None:
    """Date every item in the past, so no signature is "racy" (edited this very second)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("UPDATE items SET clientDateModified = '2020-01-01 00:00:00'")
    conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = make_zotero_db(tmp_path / "zotero.sqlite", sample_library(), version=10)
    _settle(path)
    return path


def _sigs(source: SqliteSource) -> dict[str, str]:
    decoded = decode_token(source.read_changes(None).token)
    assert decoded is not None
    return decoded[1]


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        ("UPDATE itemAnnotations SET comment = 'new' WHERE itemID = "
         "(SELECT itemID FROM items WHERE key = 'ANNH2345')", "ATTN2345"),
        ("INSERT OR IGNORE INTO collectionItems (collectionID, itemID, orderIndex) SELECT "
         "(SELECT min(collectionID) FROM collections), itemID, 0 FROM items WHERE key = 'BOOK3456'",
         "BOOK3456"),
        ("DELETE FROM itemRelations WHERE itemID = (SELECT itemID FROM items WHERE key = 'BERT6789')",
         "BERT6789"),
        ("UPDATE items SET clientVersion = clientVersion + 1 WHERE key = 'NOTE2345'", "ATTN2345"),
        ("INSERT INTO deletedItems (itemID) SELECT itemID FROM items WHERE key = 'ANNH2345'",
         "ATTN2345"),
    ],
)  # fmt: skip
def test_an_edit_moves_the_signature_of_its_item_only(db: Path, edit: str, key: str) -> None:
    source = SqliteSource(db)
    before = _sigs(source)
    conn = sqlite3.connect(db, isolation_level=None)
    if "itemAnnotations SET" in edit:  # the desktop stamps the annotation, not its paper
        conn.execute(
            "UPDATE items SET clientDateModified = '2021-01-01 00:00:00' WHERE key = 'ANNH2345'"
        )
    conn.execute(edit)
    conn.close()
    after = _sigs(source)
    assert {k for k in after if after[k] != before.get(k)} == {key}


def test_a_tag_renamed_in_place_moves_every_item_that_has_it(db: Path) -> None:
    source = SqliteSource(db)
    before = _sigs(source)
    conn = sqlite3.connect(db, isolation_level=None)
    tagged = {r[0] for r in conn.execute(
        "SELECT DISTINCT p.key FROM items p WHERE p.itemID IN (SELECT itemID FROM itemTags "
        "WHERE tagID = (SELECT min(tagID) FROM tags))"
    )}  # fmt: skip
    conn.execute("UPDATE tags SET name = 'renamed' WHERE tagID = (SELECT min(tagID) FROM tags)")
    conn.close()
    after = _sigs(source)
    moved = {k for k in after if after[k] != before.get(k)}
    assert tagged & set(after) and tagged & set(after) <= moved


def test_an_item_edited_this_second_is_read_again_next_time(db: Path) -> None:
    source = SqliteSource(db)
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).set_title("RESN2345", "Same second")
    conn.close()
    token = source.read_changes(None).token
    assert decode_token(token)[1]["RESN2345"] == ""  # type: ignore[index]
    again = source.read_changes(token)
    assert [i.key for i in again.library.items] == ["RESN2345"]


def test_a_partial_read_gives_the_items_and_hashes_of_a_full_read(db: Path) -> None:
    source = SqliteSource(db)
    full = {i.key: i for i in source.read().items}
    token = source.read_changes(None).token
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).add_note("ATTN2345", ChildNote("NOTEZZZ2", "<p>x</p>"))
    conn.close()
    delta = source.read_changes(token, ChangeHooks(also=["BOOK3456"]))
    assert not delta.complete
    assert sorted(i.key for i in delta.library.items) == ["ATTN2345", "BOOK3456"]
    fresh = {i.key: i for i in source.read().items}
    for item in delta.library.items:
        assert item == fresh[item.key]
        links = _links()
        assert input_hash(item, links, "g") == input_hash(fresh[item.key], links, "g")
    assert delta.library.collections == source.read().collections
    assert full["BOOK3456"] == fresh["BOOK3456"]


def _links():  # type: ignore[no-untyped-def]
    from zotsync.render.note import NoteLinks

    return NoteLinks(stem="x")


def test_a_deleted_item_is_reported_and_a_renamed_collection_makes_the_delta_complete(
    db: Path,
) -> None:
    source = SqliteSource(db)
    token = source.read_changes(None).token
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).delete("REPT4567")
    _settle(db)
    delta = source.read_changes(token)
    assert delta.deleted == {"REPT4567"} and not delta.library.items
    conn.execute("UPDATE collections SET collectionName = 'Renamed'")
    conn.close()
    assert source.read_changes(delta.token).complete


def test_the_fingerprint_moves_with_every_commit_of_a_held_wal_database(db: Path) -> None:
    paths = SqliteSource(db).watch_paths()
    seen = {files_fingerprint(paths)}
    with hold_exclusive(db) as zotero:
        for n in range(3):
            zotero.set_title("RESN2345", f"Title {n}")
            seen.add(files_fingerprint(paths))
        zotero.checkpoint()  # the log restarts: new salts, same size possible
        seen.add(files_fingerprint(paths))
        zotero.set_title("RESN2345", "After the checkpoint")
        seen.add(files_fingerprint(paths))
    assert len(seen) == 6


def test_the_fingerprint_sees_a_commit_that_kept_size_and_mtime(tmp_path: Path) -> None:
    db = make_zotero_db(tmp_path / "zotero.sqlite", sample_library(), version=7, wal=False)
    st = os.stat(db)
    before = files_fingerprint([db])
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("UPDATE itemDataValues SET value = 'x' WHERE valueID = 1")  # same page count
    conn.close()
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(db).st_size == st.st_size
    assert files_fingerprint([db]) != before
