"""Random edits to a live ``zotero.sqlite``, made the way the desktop makes them.

Shared by the tests that compare an incremental vault with a full-pass one
(``tests/scenarios/test_incremental_*.py``).
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import paper, tree
from zotsync.model import ChildNote, Library
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_writer import ZoteroDbWriter

KEYS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def edit_library() -> Library:
    library = sample_library()
    library.items += [
        paper(f"EXTR{n}AAA", f"Extra paper {n}", year=2000 + n, tags=("extra",))
        for n in range(2, 8)
    ]
    return library


class Edits:
    """Random edits to a live Zotero database; each returns a line for the failure report."""

    def __init__(self, db: Path, rng: random.Random) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None)
        self.writer = ZoteroDbWriter(self.conn, autocommit=True)
        self.rng = rng
        self.made = 0

    def _keys(self, *, trashed: bool = False) -> list[str]:
        rows = self.conn.execute(
            "SELECT i.key FROM items i JOIN itemTypes t USING (itemTypeID) WHERE t.typeName NOT "
            "IN ('note', 'attachment', 'annotation') AND i.itemID "
            + ("IN" if trashed else "NOT IN")
            + " (SELECT itemID FROM deletedItems) ORDER BY i.key"
        )
        return [r[0] for r in rows]

    def _id(self, key: str) -> int:
        return int(
            self.conn.execute("SELECT itemID FROM items WHERE key = ?", (key,)).fetchone()[0]
        )

    def one(self) -> str:
        rng = self.rng
        keys = self._keys()
        key = rng.choice(keys)
        kind = rng.choice(
            ["title", "title", "abstract", "tag", "note", "trash", "restore", "delete", "add",
             "relation", "collection", "tag-rename", "annotation", "collection-rename"]
        )  # fmt: skip
        w = self.writer
        if kind == "title":
            # sometimes a title another item has: the names must be settled the same way
            title = rng.choice([f"Retitled {rng.randrange(1000)}", "Extra paper 3", "Shared"])
            w.set_title(key, title)
        elif kind == "abstract":
            w.set_field(key, "abstractNote", f"Abstract {rng.randrange(1000)}")
        elif kind == "tag":
            w.add_tag(key, rng.choice(["alpha", "beta", "extra", "to-read"]))
        elif kind == "note":
            target = rng.choice(keys)
            html = (
                f'<p>See <a href="zotero://select/library/items/{target}">it</a> items/{target}</p>'
            )
            self.made += 1
            w.add_note(key, ChildNote(f"NOTE{self.made:03d}Z".replace("0", "A"), html))
        elif kind == "trash":
            w.trash(key)
        elif kind == "restore":
            gone = self._keys(trashed=True)
            if gone:
                key = rng.choice(gone)
                w.restore(key)
        elif kind == "delete":
            w.delete(key)
        elif kind == "add":
            self.made += 1
            new = "".join(rng.choice(KEYS) for _ in range(8))
            w.add_item(paper(new, rng.choice(["Fresh paper", "Shared"]), year=2024))
            key = new
        elif kind == "relation":  # the desktop writes both sides; here, one, untouched
            other = rng.choice(keys)
            pred = self.conn.execute(
                "SELECT predicateID FROM relationPredicates WHERE predicate = 'dc:relation'"
            ).fetchone()
            if pred is None:
                self.conn.execute(
                    "INSERT INTO relationPredicates (predicate) VALUES ('dc:relation')"
                )
                pred = self.conn.execute("SELECT last_insert_rowid()").fetchone()
            self.conn.execute(
                "INSERT OR IGNORE INTO itemRelations VALUES (?, ?, ?)",
                (self._id(key), pred[0], f"http://zotero.org/users/424242/items/{other}"),
            )
        elif kind == "collection":  # membership only: no counter of the item moves
            coll = rng.choice(
                [r[0] for r in self.conn.execute("SELECT collectionID FROM collections")]
            )
            self.conn.execute(
                "INSERT OR IGNORE INTO collectionItems (collectionID, itemID, orderIndex) "
                "VALUES (?, ?, 0)",
                (coll, self._id(key)),
            )
        elif kind == "tag-rename":  # a tag renamed in place: its items' rows stay the same
            self.conn.execute(
                "UPDATE tags SET name = name || ?", (f"-{rng.randrange(100)}",)
            ) if rng.random() < 0.3 else self.conn.execute(
                "UPDATE tags SET name = ? WHERE tagID = (SELECT min(tagID) FROM tags)",
                (f"renamed-{rng.randrange(100)}",),
            )
        elif kind == "annotation":  # the annotation's own row and timestamp, not the paper's
            row = self.conn.execute(
                "SELECT itemID FROM itemAnnotations ORDER BY itemID LIMIT 1 OFFSET ?",
                (rng.randrange(3),),
            ).fetchone()
            if row:
                self.conn.execute(
                    "UPDATE itemAnnotations SET comment = ? WHERE itemID = ?",
                    (f"comment {rng.randrange(1000)}", row[0]),
                )
                self.conn.execute(
                    "UPDATE items SET clientDateModified = ? WHERE itemID = ?", (now(), row[0])
                )
        elif kind == "collection-rename":
            self.conn.execute(
                "UPDATE collections SET collectionName = ? WHERE collectionID = "
                "(SELECT min(collectionID) FROM collections)",
                (f"Renamed {rng.randrange(100)}",),
            )
        return f"{kind} {key}"


def user_edit(inc: Path, full: Path, rng: random.Random) -> str:
    """Mark a paper as being read and write under its ``## Notes``, in both vaults alike."""
    names = sorted(p.name for p in (inc / "Papers").glob("*.md"))
    name = rng.choice(names)
    for vault in (inc, full):
        path = vault / "Papers" / name
        text = path.read_text("utf-8").replace("status: to-read", "status: reading", 1)
        path.write_text(text + "\nMy own line.\n", "utf-8")
    return f"user edit {name}"


def vault_files(vault: Path) -> dict[str, bytes]:
    return {path: data for path, (data, _) in tree(vault).items() if path != "zotsync.yaml"}


def assert_same_vaults(a: Path, b: Path, history: list[str]) -> None:
    """Both vaults hold the same files with the same bytes (``history`` explains a failure)."""
    files_a, files_b = vault_files(a), vault_files(b)
    assert files_a.keys() == files_b.keys(), (
        f"after {history}: {sorted(files_a.keys() ^ files_b.keys())}"
    )
    differ = [p for p in files_a if files_a[p] != files_b[p]]
    assert not differ, f"after {history}: {differ}"
