"""Zotero API JSON → model: the web and desktop accents read the same."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.model import Creator, Item, Library, LibraryRef, Tag, with_base_fields
from zotsync.sources.selection import restrict_to_collections
from zotsync.sources.zotero_json import (
    citekey_from_extra,
    library_from_objects,
    parse_attachment,
    parse_position,
    parse_relations,
)
from zotsync.sources.zotero_json_out import library_to_objects
from zotsync.testing.library_diff import library_differences
from zotsync.testing.sample_library import USER_ID, sample_library

REF = LibraryRef("user", USER_ID)


def read_back(library: Library, style: str) -> Library:
    items, colls = library_to_objects(library, style)  # type: ignore[arg-type]
    return library_from_objects(items, colls, ref=library.ref, version=library.version)


def test_web_and_desktop_json_read_to_the_same_sample_library() -> None:
    for style in ("web", "local"):
        assert library_differences(read_back(sample_library(), style), sample_library()) == []


def test_web_json_spells_empty_fields_and_single_relations_its_own_way() -> None:
    web, _ = library_to_objects(sample_library(), "web")
    local, _ = library_to_objects(sample_library(), "local")
    attention_web = next(d for d in web if d["key"] == "ATTN2345")
    attention_local = next(d for d in local if d["key"] == "ATTN2345")
    assert attention_web["shortTitle"] == "" and "shortTitle" not in attention_local
    assert isinstance(attention_web["relations"]["dc:relation"], str)
    assert isinstance(attention_local["relations"]["dc:relation"], list)


def test_relations_as_string_or_list() -> None:
    assert parse_relations({"dc:relation": "u1", "owl:sameAs": ["a", "b"], "x": []}) == {
        "dc:relation": ["u1"],
        "owl:sameAs": ["a", "b"],
    }


def test_annotation_position_as_json_string_dict_or_garbage() -> None:
    assert parse_position('{"pageIndex": 3, "rects": []}') == {"pageIndex": 3, "rects": []}
    assert parse_position({"pageIndex": 1}) == {"pageIndex": 1}
    assert parse_position("{not json") == {} and parse_position(None) == {}


def test_trash_children_and_trashed_collections_stay_out() -> None:
    objects = [
        {"key": "KEEP2345", "version": 3, "itemType": "book", "title": "Kept",
         "collections": ["GONE2345", "LIVE2345"]},
        {"key": "TRSH2345", "version": 4, "itemType": "book", "title": "Trashed", "deleted": 1},
        {"key": "TNOT2345", "version": 4, "itemType": "note", "parentItem": "TRSH2345",
         "note": "x"},
        {"key": "DNOT2345", "version": 5, "itemType": "note", "parentItem": "KEEP2345",
         "note": "gone", "deleted": True},
        {"key": "LOOS2345", "version": 5, "itemType": "note", "note": "standalone"},
    ]  # fmt: skip
    colls = [
        {"key": "GONE2345", "name": "Old", "parentCollection": False, "deleted": True},
        {"key": "LIVE2345", "name": "Live", "parentCollection": False},
    ]
    library = library_from_objects(objects, colls, ref=REF)
    (item,) = library.items
    assert item.key == "KEEP2345" and item.notes == [] and item.collections == ["LIVE2345"]
    assert list(library.collections) == ["LIVE2345"]
    assert item.version == 3  # a trashed child does not move its paper


def test_real_world_oddities_are_tolerated() -> None:
    odd = parse_attachment(
        {"key": "TM8QRS36", "itemType": "attachment", "linkMode": "idk", "title": "Page",
         "contentType": "text/html", "filename": "page.html", "mtime": 1326311686000}
    )  # fmt: skip
    assert odd.link_mode == "imported_file" and odd.path == "storage:page.html"
    item = library_from_objects(
        [{"key": "PQKB2345", "itemType": "journalArticle", "title": "T", "volume": "",
          "creators": [{"creatorType": "author", "firstName": "", "lastName": "R. C. Buck"}],
          "tags": [], "relations": {}, "dateAdded": "2011-02-02T22:25:04Z"}]
    ).items[0]  # fmt: skip
    assert "volume" not in item.fields and item.creators == [Creator("R. C. Buck")]


def test_citekey_from_native_field_then_extra() -> None:
    assert citekey_from_extra("tex.x: 1\nCitation Key: doe2021\n") == "doe2021"
    assert citekey_from_extra("bibtex: old2001") == "old2001"
    native = library_from_objects(
        [{"key": "NATV2345", "itemType": "preprint", "citationKey": "native",
          "extra": "Citation Key: pinned"}]
    ).items[0]  # fmt: skip
    assert native.citekey == "native" and "citationKey" not in native.fields


def test_collection_filter_takes_names_and_paths() -> None:
    library = sample_library()
    assert {i.key for i in restrict_to_collections(library, ["deep learning/nlp"]).items} == {
        "ATTN2345",
        "BERT6789",
    }


keys = st.text("23456789ABCDEFGHIJKLMNPQRSTUVWXYZ", min_size=8, max_size=8)
text = st.text(st.characters(codec="utf-8"), max_size=20)


@st.composite
def items(draw: st.DrawFn) -> Item:
    item_type = draw(st.sampled_from(["journalArticle", "bookSection", "preprint", "report"]))
    raw = draw(st.dictionaries(st.sampled_from(["title", "date", "bookTitle", "repository",
                                                "institution", "extra", "DOI"]), text))  # fmt: skip
    creators = draw(st.lists(st.builds(Creator, text.filter(bool), text,
                                       st.sampled_from(["author", "editor"]), st.booleans()),
                             max_size=3))  # fmt: skip
    creators = [Creator(c.last, "" if c.single else c.first, c.creator_type, c.single)
                for c in creators]  # fmt: skip
    tags = draw(st.lists(st.builds(Tag, text.filter(bool), st.booleans()), max_size=3))
    relations = draw(st.dictionaries(st.sampled_from(["dc:relation", "owl:sameAs"]),
                                     st.lists(text.filter(bool), min_size=1, max_size=2)))  # fmt: skip
    fields = with_base_fields(item_type, raw)
    return Item(draw(keys), item_type, fields, creators, tags, relations=relations,
                date_added="2024-01-01T00:00:00Z", version=draw(st.integers(0, 99)),
                citekey=draw(st.sampled_from(["", "key2024"])), library=REF)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(items(), max_size=4, unique_by=lambda i: i.key), st.sampled_from(["web", "local"]))
def test_model_survives_a_round_trip_through_api_json(batch: list[Item], style: str) -> None:
    for item in batch:  # the reader derives the citekey from Extra when it is pinned there
        item.citekey = item.citekey or citekey_from_extra(item.fields.get("extra", ""))
    library = Library(REF, batch, {}, None)
    items_json, colls = library_to_objects(library, style)  # type: ignore[arg-type]
    wire = json.loads(json.dumps(items_json))
    assert library_differences(library_from_objects(wire, colls, ref=REF), library) == []
