"""Model → Zotero API JSON: the inverse of :mod:`zotsync.sources.zotero_json`.

The test servers, the BBT export builder and the round-trip property test speak Zotero's JSON
back from the model, in the web API's accent (``""`` for empty fields) or the desktop's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Literal

from zotsync.model import BASE_FIELDS, Collection, Item, Library, Tag
from zotsync.sources.zotero_json import JsonObj, citekey_from_extra

Style = Literal["web", "local"]


def _empty_or_omit(data: JsonObj, style: Style, extra_empty: Iterable[str]) -> JsonObj:
    """The web API spells absent fields ``""``; the desktop leaves them out."""
    if style == "web":
        for name in extra_empty:
            data.setdefault(name, "")
    return data


def _relations_json(relations: Mapping[str, list[str]], style: Style) -> JsonObj:
    if style == "local":
        return {p: list(v) for p, v in relations.items()}
    return {p: (v[0] if len(v) == 1 else list(v)) for p, v in relations.items()}


def _tags_json(tags: Iterable[Tag]) -> list[JsonObj]:
    return [{"tag": t.name, "type": 1} if t.auto else {"tag": t.name} for t in tags]


def item_to_data(item: Item, style: Style = "web") -> JsonObj:
    """The top-level item's ``data``: type-specific field names, base aliases dropped."""
    aliases = BASE_FIELDS.get(item.item_type, {})
    fields = {
        k: v
        for k, v in item.fields.items()
        if not any(base == k and spec in item.fields for spec, base in aliases.items())
    }
    creators: list[JsonObj] = [
        {"creatorType": c.creator_type, "name": c.last}
        if c.single
        else {"creatorType": c.creator_type, "firstName": c.first, "lastName": c.last}
        for c in item.creators
    ]
    data: JsonObj = {"key": item.key, "version": item.version, "itemType": item.item_type}
    data.update(fields)
    if item.citekey and citekey_from_extra(fields.get("extra", "")) != item.citekey:
        data["citationKey"] = item.citekey
    data.update(
        creators=creators,
        tags=_tags_json(item.tags),
        collections=list(item.collections),
        relations=_relations_json(item.relations, style),
        dateAdded=item.date_added,
        dateModified=item.date_modified,
    )
    return _empty_or_omit(data, style, ("abstractNote", "shortTitle", "language", "rights"))


def children_to_data(item: Item, style: Style = "web") -> list[JsonObj]:
    """Attachments, notes and annotations of ``item`` as flat objects with ``parentItem``."""
    out: list[JsonObj] = []
    for att in item.attachments:
        adata: JsonObj = {
            "key": att.key, "version": item.version, "parentItem": item.key,
            "itemType": "attachment", "linkMode": att.link_mode, "title": att.title,
            "contentType": att.content_type, "url": att.url, "tags": [], "relations": {},
            "dateAdded": att.date_added, "dateModified": att.date_added,
        }  # fmt: skip
        if att.filename:
            adata["filename"] = att.filename
        elif att.path:
            adata["path"] = att.path
        if style == "local":
            adata = {k: v for k, v in adata.items() if v != ""}
        out.append(_empty_or_omit(adata, style, ("note", "charset")))
        for ann in att.annotations:
            andata: JsonObj = {
                "key": ann.key, "version": item.version, "parentItem": att.key,
                "itemType": "annotation", "annotationType": ann.type,
                "annotationComment": ann.comment, "annotationColor": ann.color,
                "annotationPageLabel": ann.page_label, "annotationSortIndex": ann.sort_index,
                "annotationPosition": json.dumps(dict(ann.position)), "tags": _tags_json(ann.tags),
                "relations": {}, "dateAdded": ann.date_added, "dateModified": ann.date_modified,
            }  # fmt: skip
            if ann.type in ("highlight", "underline"):
                andata["annotationText"] = ann.text
            if ann.author or style == "local":
                andata["annotationAuthorName"] = ann.author
            out.append(andata)
    for note in item.notes:
        out.append(
            {"key": note.key, "version": item.version, "parentItem": item.key,
             "itemType": "note", "note": note.html, "tags": _tags_json(note.tags),
             "relations": {}, "dateAdded": note.date_added, "dateModified": note.date_modified}
        )  # fmt: skip
    return out


def collection_to_data(coll: Collection, version: int = 0) -> JsonObj:
    return {
        "key": coll.key,
        "version": version,
        "name": coll.name,
        "parentCollection": coll.parent or False,
        "relations": {},
    }


def library_to_objects(
    library: Library, style: Style = "web"
) -> tuple[list[JsonObj], list[JsonObj]]:
    """(item datas incl. children, collection datas) — what a server would hold."""
    items: list[JsonObj] = []
    for item in library.items:
        if item.item_type == "attachment":  # standalone: the attachment object is the item
            own, *children = children_to_data(item, style)
            del own["parentItem"]
            own.update(tags=_tags_json(item.tags), collections=list(item.collections))
            items += [own, *children]
            continue
        items.append(item_to_data(item, style))
        items.extend(children_to_data(item, style))
    colls = [collection_to_data(c, library.version or 0) for c in library.collections.values()]
    return items, colls
