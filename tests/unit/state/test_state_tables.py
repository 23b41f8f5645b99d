"""The state layer owns every table: the caches come from named migrations too.

A state database made before those migrations already holds the cache tables (the caches
created them on first use); migrating it must keep their rows and record the migrations.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from zotsync.state.db import ItemState, StateDB
from zotsync.state.migrations import MIGRATIONS
from zotsync.state.papers import (
    index_note_paths,
    live_notes,
    paper_rows,
    paper_signals,
    replace_index_note_paths,
    save_note_meta,
    save_papers,
    sig_at_path,
)


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_new_state_db_has_the_cache_tables(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.sqlite")
    db.close()
    assert {"refs_cache", "arxiv_metadata", "items", "papers"} <= tables(tmp_path / "state.sqlite")
    names = [n for n, _ in MIGRATIONS]
    assert len(names) == len(set(names))  # every migration has its own name


def test_an_old_state_db_keeps_its_cache_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    old = [(n, sql) for n, sql in MIGRATIONS if n in ("0001-initial", "0002-papers")]
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, at TEXT)")
        for name, sql in old:
            conn.executescript(sql)
            conn.execute("INSERT INTO migrations VALUES (?, 'then')", (name,))
        conn.execute(
            "CREATE TABLE refs_cache (paper_id_key TEXT PRIMARY KEY, fetched_at TEXT NOT NULL,"
            " status TEXT NOT NULL, payload TEXT)"
        )
        conn.execute("INSERT INTO refs_cache VALUES ('doi:x', '2026-01-01', 'ok', '{}')")
    conn.close()
    db = StateDB(path)
    try:
        rows = db.conn.execute("SELECT paper_id_key FROM refs_cache").fetchall()
        done = {r[0] for r in db.conn.execute("SELECT name FROM migrations")}
    finally:
        db.close()
    assert rows == [("doi:x",)]
    assert {"0005-refs-cache-table", "0006-arxiv-metadata-table"} <= done
    assert list((tmp_path / "backups").iterdir())  # backed up before migrating


def test_paper_queries_round_trip(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.sqlite")
    try:
        with db.transaction():
            db.put_item(ItemState("user", "A", path="Papers/A.md", mtime_ns=1, size=2, ino=3))
            db.put_item(ItemState("user", "B", path="Papers/B.md", deleted=True))
        save_papers(db, "user", upserts=[("A", "2024", '["B"]'), ("B", None, "[]")])
        save_note_meta(db, "user", {"A": ("1:2:3", '{"title": "a"}')})
        assert live_notes(db, "user") == {"A": "Papers/A.md"}
        assert [(r.key, r.note_sig) for r in paper_rows(db, "user")] == [("A", "1:2:3")]
        assert paper_signals(db, "user")["A"] == ("2024", '["B"]')
        assert sig_at_path(db, "user", "Papers/A.md") == (1, 2, 3)
        assert sig_at_path(db, "user", "Papers/C.md") is None
        save_papers(db, "user", deletes=["B"])
        assert set(paper_signals(db, "user")) == {"A"}
        replace_index_note_paths(db, ["Tags/x.md", "Papers.md"])
        replace_index_note_paths(db, ["Papers.md"])
        assert index_note_paths(db) == {"Papers.md"}
    finally:
        db.close()


def test_finding_the_item_at_a_path_uses_an_index(tmp_path: Path) -> None:
    """Asked per rewritten file and per daemon event: a table scan each grew with the library."""
    db = StateDB(tmp_path / "state.sqlite")
    try:
        for sql in (
            "SELECT key FROM items WHERE library = ? AND path = ?",
            "SELECT mtime_ns, size, ino FROM items WHERE path = ? AND library = ?",
        ):
            plan = " ".join(
                str(r) for r in db.conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("a", "b"))
            )
            assert "items_path" in plan, plan
    finally:
        db.close()
