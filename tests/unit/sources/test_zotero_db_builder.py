"""The zotero.sqlite builder writes what the desktop writes, so source tests mean something."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db, multipart, trashed_item


def _conn(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db.as_uri() + "?mode=ro", uri=True)


def _stored(db: Path, key: str, field: str) -> list[str]:
    with _conn(db) as conn:
        rows = conn.execute(
            "SELECT v.value FROM items i JOIN itemData d USING (itemID) JOIN fields f USING (fieldID) "
            "JOIN itemDataValues v USING (valueID) WHERE i.key = ? AND f.fieldName = ?",
            (key, field),
        ).fetchall()
    return [r[0] for r in rows]


def test_fresh_zotero7_database_has_the_61_tables_of_the_real_schema(tmp_path: Path) -> None:
    db = make_zotero_db(tmp_path / "zotero.sqlite", version=7)
    with _conn(db) as conn:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[
            0
        ]
        versions = dict(conn.execute("SELECT schema, version FROM version"))
    assert tables == 61
    assert (versions["userdata"], versions["globalSchema"]) == (123, 31)


def test_zotero6_and_zotero7_number_types_and_fields_differently(tmp_path: Path) -> None:
    ids = {}
    for version in (6, 7):
        db = make_zotero_db(tmp_path / f"v{version}.sqlite", version=version)
        with _conn(db) as conn:
            ids[version] = (
                conn.execute("SELECT fieldID FROM fields WHERE fieldName = 'title'").fetchone()[0],
                conn.execute("SELECT itemTypeID FROM itemTypes WHERE typeName = 'note'").fetchone()[
                    0
                ],
            )
    assert ids[6] == (110, 1)  # legacy system-107 ids
    assert ids[7] == (1, 28)  # schema.json order: title first, note 28th type


def test_zotero10_has_client_versions_normalized_columns_and_wal(tmp_path: Path) -> None:
    db = make_zotero_db(tmp_path / "zotero.sqlite", version=10)
    with _conn(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert "clientVersion" in {r[1] for r in conn.execute("PRAGMA table_info(items)")}
        assert "valueNormalized" in {
            r[1] for r in conn.execute("PRAGMA table_info(itemDataValues)")
        }
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "fulltextWords" not in names


def test_dates_are_multipart_and_base_fields_use_the_type_specific_name(tmp_path: Path) -> None:
    db = make_zotero_db(tmp_path / "zotero.sqlite", version=7)
    assert _stored(db, "BERT6789", "date") == ["2019-06-00 June 2019"]
    assert _stored(db, "ATTN2345", "date") == ["2017-06-12 2017-06-12"]
    assert _stored(db, "BOOK3456", "bookTitle") == ["Reinforcement Learning: An Introduction"]
    assert _stored(db, "BOOK3456", "publicationTitle") == []


def test_trash_feeds_and_bbt_database_are_written(tmp_path: Path) -> None:
    db = make_zotero_db(
        tmp_path / "zotero.sqlite", version=7, trashed=[trashed_item()], feeds=3, bbt="sqlite"
    )
    with _conn(db) as conn:
        trashed = conn.execute(
            "SELECT i.key FROM deletedItems JOIN items i USING (itemID)"
        ).fetchall()
        feed_items = conn.execute("SELECT count(*) FROM feedItems").fetchone()[0]
        kinds = sorted(r[0] for r in conn.execute("SELECT type FROM libraries"))
    assert trashed == [("TRSH2345",)] and feed_items == 3 and kinds == ["feed", "user"]
    with _conn(tmp_path / "better-bibtex.sqlite") as bbt:
        assert bbt.execute("SELECT itemKey, citationKey FROM citationkey").fetchall() == [
            ("ATTN2345", "vaswani2017attention")
        ]


@pytest.mark.parametrize("version", [7, 10])
def test_hold_exclusive_locks_readers_out_until_released(tmp_path: Path, version: int) -> None:
    db = make_zotero_db(tmp_path / "zotero.sqlite", version=version)
    with hold_exclusive(db) as zotero:
        zotero.set_title("RESN2345", "ResNet")
        reader = sqlite3.connect(db.as_uri() + "?mode=ro", uri=True, timeout=0.05)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            reader.execute("SELECT count(*) FROM items").fetchone()
        reader.close()
    assert _stored(db, "RESN2345", "title") == ["ResNet"]
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_trigger_still_guards_collection_membership_after_bulk_load(tmp_path: Path) -> None:
    db = make_zotero_db(tmp_path / "zotero.sqlite", version=7)
    with sqlite3.connect(db) as conn, pytest.raises(sqlite3.IntegrityError):
        # a child note may not be put in a collection
        conn.execute(
            "INSERT INTO collectionItems SELECT 1, itemID, 0 FROM items WHERE key = 'NOTE2345'"
        )


@settings(max_examples=60, deadline=None)
@given(
    year=st.integers(1000, 2999),
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    form=st.sampled_from(["iso", "month-year", "year"]),
)
def test_multipart_keeps_the_user_string_and_sorts_by_date(
    year: int, month: int, day: int, form: str
) -> None:
    names = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]  # fmt: skip
    text = {
        "iso": f"{year}-{month:02d}-{day:02d}",
        "month-year": f"{names[month - 1]} {year}",
        "year": str(year),
    }[form]
    stored = multipart(text)
    assert stored[11:] == text
    expected = {"iso": (month, day), "month-year": (month, 0), "year": (0, 0)}[form]
    assert stored[:10] == f"{year:04d}-{expected[0]:02d}-{expected[1]:02d}"
