"""The bbt-json source reads Better BibTeX JSON exports, current and older shapes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.source_contract import MakeSource, SourceContract

from zotsync.errors import SourceUnavailable
from zotsync.model import Library
from zotsync.sources.bbt_json import UNKNOWN_TO_SOURCE, BbtJsonSource, library_from_bbt
from zotsync.sources.probe import probe_bbt
from zotsync.testing.bbt_export import bbt_export, write_bbt_export
from zotsync.testing.library_diff import library_differences
from zotsync.testing.sample_library import sample_library

#: the sample's attachments as a BBT export can show them (annotations and URLs are lost)
IGNORE = ("Attachment.annotations", "Attachment.url")


class TestBbtJsonContract(SourceContract):
    """BBT exports leave the trash out, so the trashed fixture item is simply not written."""

    UNKNOWN_TO_SOURCE = UNKNOWN_TO_SOURCE

    @pytest.fixture
    def make_source(self) -> MakeSource:
        def make(library: Library, tmp_path: Path) -> BbtJsonSource:
            return BbtJsonSource(write_bbt_export(tmp_path / "My Library.json", library))

        return make

    def test_annotations_keep_page_index_label_and_reading_order(self, read_back: Library) -> None:
        pytest.skip("Better BibTeX JSON exports carry no annotations")

    def test_children_hang_under_the_right_parent(self, read_back: Library) -> None:
        shape = {it.key: {a.key for a in it.attachments} for it in read_back.items}
        assert shape["ATTN2345"] == {"PDFA2345", "LINK2345"} and shape["BERT6789"] == {"EPUB6789"}
        # the linked URL itself is not in the export (BBT keeps only title/path/mimeType)


def test_current_export_reads_the_sample_library(tmp_path: Path) -> None:
    path = write_bbt_export(tmp_path / "library.json", sample_library(), style="current")
    library = BbtJsonSource(path).read()
    assert library_differences(library, sample_library(), IGNORE) == []
    assert all(not att.annotations for item in library.items for att in item.attachments), (
        "current BBT exports carry no annotations"
    )


def test_current_export_membership_comes_from_the_top_level_map(tmp_path: Path) -> None:
    export = bbt_export(sample_library(), style="current")
    assert all("collections" not in entry for entry in export["items"])
    library = library_from_bbt(export)
    assert {i.key: i.collections for i in library.items}["ATTN2345"] == ["COLLNLP3"]


def test_legacy_export_with_per_item_collections(tmp_path: Path) -> None:
    export = bbt_export(sample_library(), style="legacy")
    assert all("items" not in c for c in export["collections"].values())
    library = library_from_bbt(export)
    ignore = (*IGNORE, "ChildNote.key", "ChildNote.date_added", "ChildNote.date_modified")
    assert library_differences(library, sample_library(), ignore) == []


def test_flat_bbt_shapes_are_normalised() -> None:
    export = {
        "items": [
            {
                "itemID": 7, "itemType": "bookSection", "title": "Moral Theory",
                "publicationTitle": "Essays on Moral Realism", "extra": ["line one", "line two"],
                "dateAdded": "2017-09-09 20:42:32", "dateModified": "2017-09-09 22:46:12",
                "creators": [{"creatorType": "author", "firstName": "G.", "lastName": "Sayre"}],
                "tags": [{"tag": "ethics", "type": 1}], "notes": ["<p>plain</p>"],
                "uri": "http://zotero.org/groups/55/items/MORL2345", "citekey": "sayre1988",
                "relations": ["http://zotero.org/groups/55/items/OTHR2345"],
            }
        ],
        "collections": {"C1": {"key": "C1", "name": "Ethics", "items": [7], "collections": []}},
    }  # fmt: skip
    library = library_from_bbt(export)
    (item,) = library.items
    assert library.ref.type == "group" and library.ref.id == 55
    assert item.key == "MORL2345" and item.citekey == "sayre1988"
    assert item.fields["bookTitle"] == item.fields["publicationTitle"] == "Essays on Moral Realism"
    assert item.fields["extra"] == "line one\nline two"
    assert item.date_added == "2017-09-09T20:42:32Z"
    assert item.collections == ["C1"] and item.related_keys == ["OTHR2345"]
    assert item.tags[0].auto and item.notes[0].html == "<p>plain</p>"


def test_export_is_reread_only_when_it_changes(tmp_path: Path) -> None:
    path = write_bbt_export(tmp_path / "library.json", sample_library())
    source = BbtJsonSource(path)
    first = source.read()
    assert source.read() is first
    smaller = sample_library()
    smaller.items = smaller.items[:2]
    write_bbt_export(path, smaller)
    os.utime(path, ns=(1, 1))  # a different stamp even on coarse file systems
    assert len(source.read().items) == 2
    assert source.watch_paths() == [path]


def test_missing_or_half_written_export_is_source_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable) as err:
        BbtJsonSource(tmp_path / "nope.json").read()
    assert "Keep updated" in (err.value.fix or "")
    half = tmp_path / "half.json"
    half.write_text(json.dumps(bbt_export(sample_library()))[:500])
    with pytest.raises(SourceUnavailable):
        BbtJsonSource(half, retries=1).read()


def test_csl_json_is_not_mistaken_for_a_bbt_export(tmp_path: Path) -> None:
    path = tmp_path / "csl.json"
    path.write_text('[{"id": "x", "type": "article"}]')
    with pytest.raises(SourceUnavailable, match="not a Better BibTeX JSON export"):
        BbtJsonSource(path).read()


def test_doctor_flags_an_export_older_than_the_library(tmp_path: Path) -> None:
    path = write_bbt_export(tmp_path / "library.json", sample_library())
    db = tmp_path / "zotero.sqlite"
    db.write_bytes(b"")
    os.utime(path, (1_000_000, 1_000_000))
    os.utime(db, (2_000_000, 2_000_000))
    stale = probe_bbt(path, zotero_db=db, now=2_000_000)
    fresh = probe_bbt(path, now=1_000_100)
    assert stale[0].ok and not stale[1].ok and stale[1].fix
    assert all(c.ok for c in fresh)
    assert not probe_bbt(tmp_path / "missing.json")[0].ok


def test_unknown_fields_are_declared() -> None:
    assert any("annotations" in entry for entry in UNKNOWN_TO_SOURCE)
