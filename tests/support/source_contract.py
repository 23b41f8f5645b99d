"""The contract every source passes: the sample library in, the same model out.

A source's test module subclasses :class:`SourceContract` (with a ``Test`` name) and provides the
``make_source`` fixture: a factory ``(library, tmp_path) -> Source`` that expresses ``library``
in the source's own form (a ``zotero.sqlite``, API JSON, a BBT export …) **plus the trashed
item** :func:`zotsync.testing.zotero_db.trashed_item` marked as trashed the way that form marks
it (or not at all, if the form cannot hold trash). The contract then reads the source and
compares item by item through :func:`normalise`.

What a source cannot know (a BBT export has no annotation dates, say) goes into the subclass's
``UNKNOWN_TO_SOURCE``: dotted names ``<level>.<attribute>`` with level one of ``library``,
``item``, ``attachment``, ``annotation``, ``note``, ``creator`` — those are dropped on both sides
before comparing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from zotsync.model import Attachment, Item, Library
from zotsync.sources import Source
from zotsync.testing.sample_library import EXCLUDED_KEYS, sample_library

MakeSource = Callable[[Library, Path], Source]

#: attributes the contract never compares (opaque change tokens differ between sources)
UNKNOWN_TO_SOURCE: frozenset[str] = frozenset()


def _drop(record: dict[str, Any], level: str, unknown: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if f"{level}.{k}" not in unknown}


def _attachment(att: Attachment, unknown: frozenset[str]) -> dict[str, Any]:
    anns = [
        _drop(
            {
                "key": a.key,
                "type": a.type,
                "text": a.text,
                "comment": a.comment,
                "color": a.color,
                "page_label": a.page_label,
                "page_index": a.page_index,
                "sort_index": a.sort_index,
                "position": a.position,
                "author": a.author,
                "tags": sorted((t.name, t.auto) for t in a.tags),
                "date_added": a.date_added,
                "date_modified": a.date_modified,
                "is_external": a.is_external,
            },
            "annotation",
            unknown,
        )
        for a in att.annotations
    ]
    record = {
        "title": att.title,
        "link_mode": att.link_mode,
        "content_type": att.content_type,
        "path": att.path,
        "url": att.url,
        "date_added": att.date_added,
        "annotations": anns,  # in reading order: order matters
    }
    return _drop(record, "attachment", unknown)


def _item(item: Item, unknown: frozenset[str]) -> dict[str, Any]:
    record = {
        "item_type": item.item_type,
        "fields": dict(sorted(item.fields.items())),
        "creators": [
            _drop(
                {
                    "last": c.last,
                    "first": c.first,
                    "creator_type": c.creator_type,
                    "single": c.single,
                },
                "creator",
                unknown,
            )
            for c in item.creators
        ],
        "tags": sorted((t.name, t.auto) for t in item.tags),
        "collections": sorted(item.collections),
        "relations": {p: sorted(objs) for p, objs in sorted(item.relations.items())},
        "attachments": {a.key: _attachment(a, unknown) for a in item.attachments},
        "notes": {
            n.key: _drop(
                {
                    "html": n.html,
                    "date_added": n.date_added,
                    "date_modified": n.date_modified,
                    "tags": sorted((t.name, t.auto) for t in n.tags),
                },
                "note",
                unknown,
            )
            for n in item.notes
        },
        "date_added": item.date_added,
        "date_modified": item.date_modified,
        "version": item.version,
        "citekey": item.citekey,
        "library": item.library.label,
    }
    return _drop(record, "item", unknown)


def normalise(library: Library, unknown: frozenset[str] = UNKNOWN_TO_SOURCE) -> dict[str, Any]:
    """A plain, order-insensitive (except where order means something) view of ``library``.

    Creator order and annotation order are kept (they carry meaning); tags, collections,
    relations, attachments and notes are compared as sets.
    """
    record = {
        "ref": library.ref.label,
        "name": library.name,
        "version": library.version,
        "collections": {k: (c.name, c.parent) for k, c in sorted(library.collections.items())},
        "items": {it.key: _item(it, unknown) for it in library.items},
    }
    return _drop(record, "library", unknown)


class SourceContract:
    """Scenarios every source must pass; subclasses provide ``make_source``."""

    UNKNOWN_TO_SOURCE: ClassVar[frozenset[str]] = UNKNOWN_TO_SOURCE

    @pytest.fixture
    def make_source(self) -> MakeSource:
        raise NotImplementedError("a source test must provide the make_source fixture")

    @pytest.fixture
    def read_back(self, make_source: MakeSource, tmp_path: Path) -> Library:
        return make_source(sample_library(), tmp_path).read()

    def test_reads_back_every_sample_item_unchanged(self, read_back: Library) -> None:
        want = normalise(sample_library(), self.UNKNOWN_TO_SOURCE)
        got = normalise(read_back, self.UNKNOWN_TO_SOURCE)
        assert sorted(got["items"]) == sorted(want["items"])
        for key, item in want["items"].items():
            assert got["items"][key] == item, f"item {key} differs"
        assert got == want

    def test_trashed_items_are_left_out(self, read_back: Library) -> None:
        keys = {it.key for it in read_back.items}
        assert not keys & set(EXCLUDED_KEYS)
        children = {c.key for it in read_back.items for c in [*it.notes, *it.attachments]}
        assert "NTRS2345" not in children

    def test_nested_collections_keep_their_paths(self, read_back: Library) -> None:
        assert read_back.collection_path("COLLNLP3") == ["Deep Learning", "NLP"]
        assert read_back.descendants("COLLDL22") == {"COLLDL22", "COLLNLP3", "COLLCV44"}
        by_key = {it.key: it for it in read_back.items}
        assert by_key["ATTN2345"].collections == ["COLLNLP3"]
        assert by_key["REPT4567"].collections == []

    def test_related_items_point_at_each_other(self, read_back: Library) -> None:
        by_key = {it.key: it for it in read_back.items}
        assert by_key["ATTN2345"].related_keys == ["BERT6789"]
        assert by_key["BERT6789"].related_keys == ["ATTN2345"]

    def test_annotations_keep_page_index_label_and_reading_order(self, read_back: Library) -> None:
        attention = next(it for it in read_back.items if it.key == "ATTN2345")
        pdf = next(a for a in attention.attachments if a.key == "PDFA2345")
        assert [a.key for a in pdf.annotations] == ["ANNH2345", "ANNN3456", "ANNI4567"]
        assert [a.page_index for a in pdf.annotations] == [0, 2, 4]
        assert [a.page_label for a in pdf.annotations] == ["1", "iii", "3"]
        assert [a.type for a in pdf.annotations] == ["highlight", "note", "image"]
        bert = next(it for it in read_back.items if it.key == "BERT6789")
        epub = bert.attachments[0].annotations[0]
        assert epub.page_index is None
        assert str(epub.position["value"]).startswith("epubcfi(")

    def test_children_hang_under_the_right_parent(self, read_back: Library) -> None:
        shape = {
            it.key: ({a.key for a in it.attachments}, {n.key for n in it.notes})
            for it in read_back.items
        }
        assert shape["ATTN2345"] == ({"PDFA2345", "LINK2345"}, {"NOTE2345"})
        assert shape["BERT6789"] == ({"EPUB6789"}, set())
        assert shape["RESN2345"] == (set(), set())
        attention = next(it for it in read_back.items if it.key == "ATTN2345")
        link = next(a for a in attention.attachments if a.key == "LINK2345")
        assert (link.link_mode, link.url) == ("linked_url", "https://arxiv.org/abs/1706.03762")

    def test_base_fields_and_user_dates_come_through(self, read_back: Library) -> None:
        by_key = {it.key: it for it in read_back.items}
        assert (
            by_key["BOOK3456"].fields["publicationTitle"]
            == "Reinforcement Learning: An Introduction"
        )
        assert by_key["ATTN2345"].fields["number"] == "arXiv:1706.03762"
        assert by_key["BERT6789"].fields["date"] == "June 2019"
        assert by_key["BERT6789"].year == 2019
        assert by_key["REPT4567"].creators[0].single is True
