"""Any model library as a ``zotsync-demo/1`` file, so tests can hand it to the demo source.

The inverse of :func:`zotsync.sources.demo.library_from_demo_json`, in the format's full
spelling (see :mod:`zotsync.sources.demo`). Test support: the demo source itself only reads.
"""

from __future__ import annotations

from typing import Any

from zotsync.model import Annotation, Item, Library, Tag
from zotsync.sources.demo import CITEKEY_LINE, FORMAT


def library_to_demo_json(library: Library) -> dict[str, Any]:
    """Write ``library`` in the ``zotsync-demo/1`` format (pure; inverse of the reader).

    Lets a test express any model library, e.g. the canonical sample library of the source
    contract, as a file :class:`DemoSource` reads back equal.
    """
    meta: dict[str, Any] = {"type": library.ref.type, "id": library.ref.id, "name": library.name}
    if library.version is not None:
        meta["version"] = library.version
    return {
        "format": FORMAT,
        "library": meta,
        "collections": [
            {"key": c.key, "name": c.name, "parentCollection": c.parent}
            for c in library.collections.values()
        ],
        "items": [_item_json(it) for it in library.items],
    }


def _item_json(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"key": item.key, "version": item.version, "itemType": item.item_type}
    out["fields"] = dict(item.fields)
    match = CITEKEY_LINE.search(item.fields.get("extra", ""))
    if item.citekey != (item.fields.get("citationKey") or (match.group(1) if match else "")):
        out["citekey"] = item.citekey  # only when it can't be read from the fields
    out["creators"] = [
        {"creatorType": c.creator_type, "name": c.last}
        if c.single
        else {"creatorType": c.creator_type, "lastName": c.last, "firstName": c.first}
        for c in item.creators
    ]
    out["tags"] = [_tag_json(t) for t in item.tags]
    out["collections"] = list(item.collections)
    out["relations"] = {pred: list(objs) for pred, objs in item.relations.items()}
    out["dateAdded"], out["dateModified"] = item.date_added, item.date_modified
    out["attachments"] = [
        {
            "key": a.key,
            "title": a.title,
            "linkMode": a.link_mode,
            "contentType": a.content_type,
            "path": a.path,
            "url": a.url,
            "dateAdded": a.date_added,
            "annotations": [_annotation_json(n) for n in a.annotations],
        }
        for a in item.attachments
    ]
    out["notes"] = [
        {
            "key": n.key,
            "html": n.html,
            "dateAdded": n.date_added,
            "dateModified": n.date_modified,
            "tags": [_tag_json(t) for t in n.tags],
        }
        for n in item.notes
    ]
    return out


def _tag_json(tag: Tag) -> dict[str, Any]:
    return {"tag": tag.name, "type": 1} if tag.auto else {"tag": tag.name}


def _annotation_json(ann: Annotation) -> dict[str, Any]:
    return {
        "key": ann.key,
        "type": ann.type,
        "text": ann.text,
        "comment": ann.comment,
        "color": ann.color,
        "pageLabel": ann.page_label,
        "sortIndex": ann.sort_index,
        "position": dict(ann.position),
        "authorName": ann.author,
        "isExternal": ann.is_external,
        "tags": [_tag_json(t) for t in ann.tags],
        "dateAdded": ann.date_added,
        "dateModified": ann.date_modified,
    }
