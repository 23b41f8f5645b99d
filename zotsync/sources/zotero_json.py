"""Zotero API JSON ↔ model: the one reader shared by the web, local and bbt-json sources.

Zotero speaks one JSON dialect with three accents, and every reader of it trips on the same
differences, so they are handled here once:

* the web API sends every field of the type, empty ones as ``""``; the desktop's local API
  omits them (``with_base_fields`` drops empties, so both end up "absent");
* ``relations`` values are a string for one object on the web API and always a list on the
  desktop; ``annotationPosition`` is a JSON *string* (a dict is accepted too);
* ``deleted`` is ``1`` on the web and ``true`` on the desktop: trashed items, their children
  and trashed collections never reach the model;
* children (attachments, notes, annotations) are separate objects linked by ``parentItem``;
  annotations hang off attachments, which hang off the top-level item.

:func:`library_from_objects` builds a :class:`~zotsync.model.Library` from flat object lists;
:mod:`zotsync.sources.zotero_json_out` holds the inverse (used by the test servers and the BBT
export builder, and by the round-trip property test that keeps the two honest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from zotsync.model import (
    Annotation,
    AnnotationType,
    Attachment,
    ChildNote,
    Collection,
    Creator,
    Item,
    Library,
    LibraryRef,
    LinkMode,
    Tag,
    with_base_fields,
)
from zotsync.sources.packed import pack

JsonObj = dict[str, Any]

#: keys of item ``data`` that are structure, not Zotero fields
NON_FIELD_KEYS = frozenset(
    {
        "key", "version", "itemType", "creators", "tags", "collections", "relations",
        "dateAdded", "dateModified", "deleted", "inPublications", "parentItem", "note",
        "citationKey", "lastRead", "linkMode", "contentType", "charset", "filename", "md5",
        "mtime", "path",
    }
)  # fmt: skip
CHILD_TYPES = frozenset({"attachment", "note", "annotation"})
LINK_MODES: frozenset[str] = frozenset(
    {"imported_file", "imported_url", "linked_file", "linked_url", "embedded_image"}
)
ANNOTATION_TYPES = frozenset({"highlight", "underline", "note", "image", "ink", "text"})
_CITEKEY_LINE = re.compile(r"^\s*(?:citation key|bibtex)\s*:\s*(\S+)\s*$", re.I | re.M)


def data_of(obj: Mapping[str, Any]) -> JsonObj:
    """The ``data`` part of an API envelope, or the object itself when it is bare data."""
    inner = obj.get("data")
    return dict(inner) if isinstance(inner, Mapping) else dict(obj)


def is_trashed(data: Mapping[str, Any]) -> bool:
    """``deleted`` is ``1`` on the web API and ``true`` on the desktop; both mean "in trash"."""
    return bool(data.get("deleted")) and data.get("deleted") not in ("0", "false")


def tree_place(obj: Mapping[str, Any]) -> tuple[str | None, bool]:
    """``(parent key, whether it is a live top-level item)`` of an item object (envelope or
    ``data``). A top-level item is not in the trash, has no parent and is a regular item or an
    attachment (a standalone PDF is a paper, see ``sources/standalone.py``), never a note or an
    annotation. The one rule for :func:`items_from_objects` and for the object cache's tree
    columns (``state/object_cache.py``)."""
    data = data_of(obj)
    parent = str(data.get("parentItem") or "") or None
    item_type = data.get("itemType")
    top = (
        not is_trashed(data)
        and parent is None
        and bool(item_type)
        and item_type not in ("note", "annotation")
    )
    return parent, top


def citekey_from_extra(extra: str) -> str:
    """A pinned Better BibTeX key from an Extra line ``Citation Key: x`` (or legacy ``bibtex:``)."""
    match = _CITEKEY_LINE.search(extra or "")
    return match.group(1) if match else ""


def parse_relations(raw: object) -> dict[str, list[str]]:
    """Relations as predicate → list, whether the server sent a string or a list."""
    out: dict[str, list[str]] = {}
    if not isinstance(raw, Mapping):
        return out
    for predicate, value in raw.items():
        values = [value] if isinstance(value, str) else list(value or [])
        cleaned = [v for v in values if isinstance(v, str) and v]
        if cleaned:
            out[str(predicate)] = cleaned
    return out


def parse_position(raw: object) -> dict[str, object]:
    """``annotationPosition`` is a JSON string on the wire; a dict is accepted as is."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str) and raw.strip():
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return dict(value) if isinstance(value, dict) else {}
    return {}


def parse_tags(raw: object) -> list[Tag]:
    """``[{"tag": x}, {"tag": y, "type": 1}]`` (or bare strings) → tags, order kept."""
    tags: list[Tag] = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, str) and entry:
            tags.append(Tag(entry))
        elif isinstance(entry, Mapping) and entry.get("tag"):
            tags.append(Tag(str(entry["tag"]), auto=str(entry.get("type", 0)) == "1"))
    return tags


def parse_creators(raw: object) -> list[Creator]:
    """Two-field (``firstName``/``lastName``) and single-field (``name``) creators, in order."""
    creators: list[Creator] = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, Mapping):
            continue
        role = str(entry.get("creatorType") or "author")
        if entry.get("name"):
            creators.append(Creator(str(entry["name"]), creator_type=role, single=True))
        elif entry.get("lastName") or entry.get("firstName"):
            last, first = str(entry.get("lastName") or ""), str(entry.get("firstName") or "")
            creators.append(Creator(last, first, creator_type=role))
    return creators


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _version(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("version") or 0)
    except (TypeError, ValueError):
        return 0


def parse_annotation(data: Mapping[str, Any]) -> Annotation | None:
    kind = _str(data, "annotationType")
    if kind not in ANNOTATION_TYPES:
        return None
    return Annotation(
        key=_str(data, "key"),
        type=cast(AnnotationType, kind),
        text=_str(data, "annotationText"),
        comment=_str(data, "annotationComment"),
        color=_str(data, "annotationColor") or "#ffd400",
        page_label=_str(data, "annotationPageLabel"),
        sort_index=_str(data, "annotationSortIndex"),
        position=parse_position(data.get("annotationPosition")),
        author=_str(data, "annotationAuthorName"),
        tags=parse_tags(data.get("tags")),
        date_added=_str(data, "dateAdded"),
        date_modified=_str(data, "dateModified"),
        is_external=bool(data.get("annotationIsExternal")),
    )


def parse_attachment(data: Mapping[str, Any]) -> Attachment:
    """Stored files arrive as ``filename`` and become ``storage:<filename>`` like the DB path."""
    mode = _str(data, "linkMode")
    filename, path = _str(data, "filename"), _str(data, "path")
    if mode not in LINK_MODES:  # real responses contain oddities such as "idk"
        mode = "imported_file" if filename else ("linked_file" if path else "linked_url")
    if mode in ("imported_file", "imported_url", "embedded_image") and filename:
        path = f"storage:{filename}"
    return Attachment(
        key=_str(data, "key"),
        title=_str(data, "title"),
        link_mode=cast(LinkMode, mode),
        content_type=_str(data, "contentType"),
        path=path,
        url=_str(data, "url"),
        date_added=_str(data, "dateAdded"),
    )


def parse_item(data: Mapping[str, Any], ref: LibraryRef) -> Item:
    """A top-level regular item without its children (see :func:`library_from_objects`)."""
    item_type = _str(data, "itemType")
    raw_fields = {k: v for k, v in data.items() if k not in NON_FIELD_KEYS}
    fields = with_base_fields(item_type, raw_fields)
    citekey = _str(data, "citationKey") or citekey_from_extra(fields.get("extra", ""))
    return Item(
        key=_str(data, "key"),
        item_type=item_type,
        fields=fields,
        creators=parse_creators(data.get("creators")),
        tags=parse_tags(data.get("tags")),
        collections=[c for c in data.get("collections") or [] if isinstance(c, str)],
        relations=parse_relations(data.get("relations")),
        date_added=_str(data, "dateAdded"),
        date_modified=_str(data, "dateModified"),
        version=_version(data),
        citekey=citekey,
        library=ref,
    )


def parse_collection(data: Mapping[str, Any]) -> Collection:
    parent = data.get("parentCollection")
    return Collection(_str(data, "key"), _str(data, "name"), parent if parent else None)


def library_from_objects(
    items: Iterable[Mapping[str, Any]],
    collections: Iterable[Mapping[str, Any]] = (),
    *,
    ref: LibraryRef | None = None,
    version: int | None = None,
    name: str = "My Library",
) -> Library:
    """Assemble a Library from flat API objects (envelopes or bare ``data``), trash left out.

    ``Item.version`` is the highest version in the item's tree, so an edited annotation or
    child note moves its paper's version — the cheap change signal the sync engine reads.
    """
    ref = ref or LibraryRef()
    colls = parse_collections(collections)
    top = items_from_objects(items, colls, ref)
    ordered = sorted(top.values(), key=lambda i: i.key)
    return Library(ref=ref, items=ordered, collections=colls, version=version, name=name)


def parse_collections(collections: Iterable[Mapping[str, Any]]) -> dict[str, Collection]:
    """Collection objects (envelopes or ``data``) by key, trashed ones left out."""
    colls = {}
    for raw in collections:
        cdata = data_of(raw)
        if cdata.get("key") and not is_trashed(cdata):
            colls[cdata["key"]] = parse_collection(cdata)
    return colls


def items_from_objects(
    items: Iterable[Mapping[str, Any]], colls: Mapping[str, Collection], ref: LibraryRef
) -> dict[str, Item]:
    """The top-level items among ``items`` with their children attached, by key.

    Works on any self-contained group of objects: the whole library, or (for a streamed
    export) one item with its own attachments and notes.
    """
    datas = [data_of(o) for o in items]
    by_key: dict[str, JsonObj] = {str(d["key"]): d for d in datas if d.get("key")}
    trashed = {k for k, d in by_key.items() if is_trashed(d)}
    top: dict[str, Item] = {}
    for key, data in by_key.items():
        if not tree_place(data)[1]:
            continue
        item = parse_item(data, ref)
        item.collections = [c for c in item.collections if c in colls]
        top[key] = item
    attachments: dict[str, Attachment] = {}
    for key, data in by_key.items():
        standalone = data.get("itemType") == "attachment" and key in top
        parent = key if standalone else str(data.get("parentItem") or "")
        if key in trashed or parent not in top or parent in trashed:
            continue
        item = top[parent]
        if data.get("itemType") == "attachment":
            attachments[key] = parse_attachment(data)
            item.attachments.append(attachments[key])
        elif data.get("itemType") == "note":
            item.notes.append(
                ChildNote(key, _str(data, "note"), _str(data, "dateAdded"),
                          _str(data, "dateModified"), parse_tags(data.get("tags")))
            )  # fmt: skip
        item.version = max(item.version, _version(data))
    found: dict[str, list[Annotation]] = {}
    for key, data in by_key.items():
        parent = str(data.get("parentItem") or "")
        if data.get("itemType") != "annotation" or key in trashed or parent not in attachments:
            continue
        annotation = parse_annotation(data)
        owner = top[by_key[parent].get("parentItem") or parent]
        if annotation is not None:
            found.setdefault(parent, []).append(annotation)
            owner.version = max(owner.version, _version(data))
    for parent, in_any_order in found.items():
        attachments[parent].annotations = pack(
            sorted(in_any_order, key=lambda a: (a.sort_index, a.key))
        )
    for item in top.values():
        item.attachments.sort(key=lambda a: (a.date_added, a.key))
        item.notes.sort(key=lambda n: (n.date_added, n.key))
    return top
