"""Packed annotations: a read-only sequence equal to the list it was made from, whose pickle is
the same bytes in every process (the render-input hash pickles it), and which sources hand out
in reading order."""

from __future__ import annotations

import pickle
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from zotsync.model import Annotation, Attachment, Position, Tag
from zotsync.sources.packed import NONE, PackedAnnotations, has_image_annotations, pack
from zotsync.sources.sqlite import SqliteSource
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import make_zotero_db


def _annotations() -> list[Annotation]:
    return [
        Annotation("AAAA2345", "highlight", "text", "a comment", "#ff6666", "3", "00002|1|2",
                   Position('{"pageIndex":2,"rects":[[1.5,2,3,4]]}'), "Ann", [Tag("k", True)],
                   "2024-01-02T03:04:05Z", "2024-01-03T03:04:05Z", True),
        Annotation("BBBB2345", "image", position={"pageIndex": 0, "type": "x"}),
        Annotation("CCCC2345", "note", comment="ünïcode ✓", tags=[Tag("a"), Tag("b")]),
    ]  # fmt: skip


def test_a_packed_sequence_reads_back_equal_to_its_list() -> None:
    anns = _annotations()
    packed = pack(anns)
    assert isinstance(packed, PackedAnnotations)
    assert len(packed) == 3
    assert list(packed) == anns
    assert packed == anns and anns == packed
    assert packed[1] == anns[1] and packed[-1] == anns[-1] and packed[1:] == anns[1:]
    assert packed[0].page_index == 2 and packed[1].page_index == 0
    assert packed != anns[:2] and packed != [*anns[:2], replace(anns[2], text="changed")]
    assert Attachment("ATT12345", annotations=packed) == Attachment("ATT12345", annotations=anns)
    assert pack([]) is NONE and NONE == [] and not NONE


def test_reading_a_packed_sequence_twice_gives_fresh_objects() -> None:
    packed = pack(_annotations())
    first = packed[0]
    first.tags.append(Tag("mine"))
    assert packed[0].tags == [Tag("k", True)]


def test_image_annotations_are_known_without_unpacking() -> None:
    anns = _annotations()
    assert has_image_annotations(pack(anns)) and has_image_annotations(anns)
    text_only = [a for a in anns if a.type != "image"]
    assert not has_image_annotations(pack(text_only)) and not has_image_annotations(text_only)
    assert pack(anns).types == {"highlight", "image", "note"}


_PICKLE = """
import pickle, sys
from zotsync.model import Annotation
from zotsync.sources.packed import pack
kinds = ["highlight", "image", "note", "ink", "underline", "text"]
anns = [Annotation(f"K{i:07d}", kinds[i % 6], text=str(i)) for i in range(12)]
sys.stdout.buffer.write(pickle.dumps(pack(anns), protocol=5))
"""


def test_equal_annotations_pickle_to_equal_bytes_under_any_hash_seed() -> None:
    outs = [
        subprocess.run(
            [sys.executable, "-c", _PICKLE],
            capture_output=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2", "3", "4")
    ]
    assert len(set(outs)) == 1
    assert len(pickle.loads(outs[0])) == 12


@pytest.mark.parametrize("version", [6, 7, 10])
def test_the_sqlite_source_packs_each_attachment_in_reading_order(
    tmp_path: Path, version: int
) -> None:
    """Annotations whose item ids interleave between attachments, some with equal sort
    indexes, still come out grouped by attachment, by sort index, ties by item id."""
    db = make_zotero_db(tmp_path / "zotero.sqlite", sample_library(), version=version)
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT itemID, parentItemID FROM itemAnnotations ORDER BY itemID"
    ).fetchall()
    parents = sorted({p for _, p in rows})
    assert len(rows) >= 3 and parents
    with conn:  # every annotation on alternate attachments, the last two with one sort index
        for n, (item_id, _) in enumerate(rows):
            parent = parents[n % len(parents)]
            sort = "00000|000000|00000" if n >= len(rows) - 2 else f"00000|000000|{99 - n:05d}"
            conn.execute(
                "UPDATE itemAnnotations SET parentItemID = ?, sortIndex = ? WHERE itemID = ?",
                (parent, sort, item_id),
            )
    want: dict[str, list[str]] = {}
    for item_id, parent in conn.execute(
        "SELECT a.itemID, p.key FROM itemAnnotations a "
        "JOIN items p ON p.itemID = a.parentItemID ORDER BY a.sortIndex, a.itemID"
    ):
        key = conn.execute("SELECT key FROM items WHERE itemID = ?", (item_id,)).fetchone()[0]
        want.setdefault(parent, []).append(key)
    conn.close()
    got: dict[str, list[str]] = {}
    for item in SqliteSource(db).read().items:
        for att in item.attachments:
            assert isinstance(att.annotations, PackedAnnotations)
            if att.annotations:
                got[att.key] = [a.key for a in att.annotations]
    assert got == want
