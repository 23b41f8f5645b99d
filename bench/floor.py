"""The I/O floor: the least any tool could do to turn a ``zotero.sqlite`` into the same vault.

PRODUCT.md measures the first sync against "a trivial script that reads the same rows and
writes the same bytes". This is that script, run as its own process by ``bench/run.py``:

1. load the files zotsync wrote into the vault (outside ``.zotsync``) into memory — untimed:
   these are the bytes to write, not work the floor has to do;
2. timed: copy the database with its ``-wal`` (as zotsync must, the desktop holds a lock), open
   the copy, read every row zotsync reads with plain SQL (``fetchall``, no objects built), then
   write the bytes into a fresh folder with plain ``write_bytes``;
3. separately timed: write the same bytes again the durable way (fsync each file and folder),
   which is what zotsync's crash guarantee costs on this disk.

For the ``bbt-json`` source the read step is ``json.load`` of the export instead (the trivial
script that loads the same JSON); the writes are the same.

    python bench/floor.py zotero.sqlite VAULT OUT_DIR      # prints one JSON object
    python bench/floor.py export.json VAULT OUT_DIR        # the bbt-json floor
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

STATE_DIR = ".zotsync"

#: the rows SqliteSource reads, as plain joins on the library (one statement per table group)
QUERIES = (
    "SELECT i.itemID, i.itemTypeID, i.key, i.dateAdded, i.dateModified, i.clientVersion "
    "FROM items i WHERE i.libraryID = ?",
    "SELECT d.itemID, d.fieldID, v.value FROM itemData d JOIN itemDataValues v USING (valueID) "
    "JOIN items i USING (itemID) WHERE i.libraryID = ?",
    "SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ic.creatorTypeID, ic.orderIndex "
    "FROM itemCreators ic JOIN creators c USING (creatorID) JOIN items i USING (itemID) "
    "WHERE i.libraryID = ?",
    "SELECT it.itemID, t.name, it.type FROM itemTags it JOIN tags t USING (tagID) "
    "JOIN items i USING (itemID) WHERE i.libraryID = ?",
    "SELECT r.itemID, p.predicate, r.object FROM itemRelations r JOIN relationPredicates p "
    "USING (predicateID) JOIN items i USING (itemID) WHERE i.libraryID = ?",
    "SELECT collectionID, key, collectionName, parentCollectionID FROM collections "
    "WHERE libraryID = ?",
    "SELECT ci.collectionID, ci.itemID FROM collectionItems ci JOIN items i USING (itemID) "
    "WHERE i.libraryID = ?",
    "SELECT n.itemID, n.parentItemID, n.note FROM itemNotes n JOIN items i USING (itemID) "
    "WHERE i.libraryID = ?",
    "SELECT a.itemID, a.parentItemID, a.linkMode, a.contentType, a.path FROM itemAttachments a "
    "JOIN items i USING (itemID) WHERE i.libraryID = ?",
    "SELECT a.itemID, a.parentItemID, a.type, a.authorName, a.text, a.comment, a.color, "
    "a.pageLabel, a.sortIndex, a.position, a.isExternal FROM itemAnnotations a "
    "JOIN items i USING (itemID) WHERE i.libraryID = ?",
)


def load_bytes(vault: Path) -> dict[str, bytes]:
    """Every file under ``vault`` outside ``.zotsync``, by relative path."""
    out: dict[str, bytes] = {}
    for folder, dirs, files in os.walk(vault):
        if Path(folder) == vault and STATE_DIR in dirs:
            dirs.remove(STATE_DIR)
        for name in files:
            path = Path(folder) / name
            out[path.relative_to(vault).as_posix()] = path.read_bytes()
    return out


def read_rows(db: Path) -> int:
    """Copy ``db`` (+ ``-wal``) aside, open the copy, fetch every row; the row count."""
    with tempfile.TemporaryDirectory(prefix="zotsync-floor-") as tmp:
        copy = Path(tmp) / db.name
        for suffix in ("", "-wal"):
            if Path(f"{db}{suffix}").exists():
                shutil.copyfile(f"{db}{suffix}", f"{copy}{suffix}")
        conn = sqlite3.connect(copy)
        try:
            (lib_id,) = conn.execute(
                "SELECT libraryID FROM libraries WHERE type = 'user'"
            ).fetchone()
            return sum(len(conn.execute(sql, (lib_id,)).fetchall()) for sql in QUERIES)
        finally:
            conn.close()


def read_json(export: Path) -> int:
    """``json.load`` the whole export; the number of items (the trivial script's read)."""
    with open(export, encoding="utf-8") as f:
        return len(json.load(f).get("items") or [])


def write_plain(files: dict[str, bytes], out: Path) -> None:
    """Write each file with one ``write_bytes`` (folders made as needed)."""
    made: set[Path] = set()
    for rel, data in files.items():
        path = out / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)


def write_durable(files: dict[str, bytes], out: Path) -> None:
    """Write each file, fsync it, and fsync every folder once at the end."""
    made: set[Path] = set()
    for rel, data in files.items():
        path = out / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    for folder in made:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def measure(db: Path, vault: Path, out: Path) -> dict[str, float | int]:
    """Time the floor: read + plain write, and the durable write separately."""
    files = load_bytes(vault)
    t0 = time.perf_counter()
    rows = read_json(db) if db.suffix == ".json" else read_rows(db)
    t1 = time.perf_counter()
    write_plain(files, out / "plain")
    t2 = time.perf_counter()
    write_durable(files, out / "durable")
    t3 = time.perf_counter()
    return {
        "rows": rows,
        "files": len(files),
        "bytes": sum(len(b) for b in files.values()),
        "read_s": t1 - t0,
        "write_s": t2 - t1,
        "floor_s": t2 - t0,
        "durable_write_s": t3 - t2,
        "durable_floor_s": (t1 - t0) + (t3 - t2),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI: ``floor.py DB VAULT OUT`` -> one JSON object on stdout."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    db, vault, out = (Path(a) for a in args)
    print(json.dumps(measure(db, vault, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
