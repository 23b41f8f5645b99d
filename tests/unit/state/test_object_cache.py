"""The object cache keeps each object's place in its tree beside the JSON.

That is what lets the web and local sources tell what changed without decoding the library
(``sources/api_changes.py``), so a cache written before those columns existed must gain them,
filled from its JSON, and every write must keep them right.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from zotsync.sources.zotero_json import tree_place
from zotsync.state.object_cache import ObjectCache

OBJECTS = [
    {"key": "PAPER001", "version": 3, "itemType": "journalArticle", "title": "A"},
    {"key": "ATTACH01", "version": 4, "itemType": "attachment", "parentItem": "PAPER001"},
    {"key": "ANNOT001", "version": 5, "itemType": "annotation", "parentItem": "ATTACH01"},
    {"key": "TRASHED1", "version": 6, "itemType": "book", "deleted": 1},
    {"key": "LOOSEPDF", "version": 7, "itemType": "attachment"},  # a standalone PDF: a paper
    {"key": "LOOSENOT", "version": 8, "itemType": "note"},  # a standalone note: not one
]
TOPS = [("LOOSEPDF", 7), ("PAPER001", 3)]
CHILDREN = [("ANNOT001", "ATTACH01", 5), ("ATTACH01", "PAPER001", 4)]


def test_written_objects_know_their_tree(tmp_path: Path) -> None:
    cache = ObjectCache(tmp_path / ".zotsync" / "cache" / "web.sqlite", tree_place)
    cache.commit("users/1", upserts=[("item", d) for d in OBJECTS])
    tops, children = cache.trees("users/1")
    assert sorted(tops) == TOPS and sorted(children) == CHILDREN
    cache.commit("users/1", upserts=[("item", {**OBJECTS[0], "deleted": True, "version": 9})])
    assert sorted(cache.trees("users/1")[0]) == [("LOOSEPDF", 7)]  # trashed: not live
    assert [d["key"] for d in cache.objects_with_keys("users/1", "item", ["ATTACH01", "NONE"])] == [
        "ATTACH01"
    ]


def test_a_cache_from_before_the_tree_columns_is_filled_from_its_json(tmp_path: Path) -> None:
    path = tmp_path / ".zotsync" / "cache" / "web.sqlite"
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE objects (part TEXT, kind TEXT, key TEXT, version INT, data TEXT,"
        " PRIMARY KEY (part, kind, key));"
        "CREATE TABLE meta (part TEXT, name TEXT, value TEXT, PRIMARY KEY (part, name));"
    )
    conn.executemany(
        "INSERT INTO objects VALUES ('users/1', 'item', ?, ?, ?)",
        [(d["key"], d["version"], json.dumps(d)) for d in OBJECTS],
    )
    conn.commit()
    conn.close()
    tops, children = ObjectCache(path, tree_place).trees("users/1")
    assert sorted(tops) == TOPS and sorted(children) == CHILDREN
