"""The ``bbt-json`` source: a Better BibTeX "BetterBibTeX JSON" (auto-)export file.

Users who keep BBT's "keep updated" export get a file rewritten on every change; the daemon
watches it (:meth:`BbtJsonSource.watch_paths`) and :meth:`BbtJsonSource.read` re-parses it
only when its ``(mtime_ns, size)`` moved.

What the format looks like (BBT ``translators/lib/bbtjson.ts``): ``{"config", "version",
"collections": {KEY: {key, name, parent, items: [itemID…], collections: [KEY…]}}, "items":
[…]}``; each item is a flat translator item — fields at the top level, ``itemID``,
``itemKey``/``key``, ``uri``, ``citationKey`` (older: ``citekey``), ``creators``, ``tags``,
``notes`` (objects or bare HTML strings), ``attachments`` (``path`` is the local file path,
``mimeType``; no link mode, no URL), ``relations`` (older: a list of ``dc:relation`` URIs;
newer: the predicate map). Dates are ``YYYY-MM-DD HH:MM:SS`` (UTC). Current BBT writes
collection membership **only** in the top-level map (by item id) and exports no annotations;
older exports have a per-item ``collections`` key list — both are read.

The file is parsed as a stream (ijson): one exported item at a time is turned into API-shaped
objects and handed to the shared JSON reader, so it ends up in the same model as the web and
local sources without the whole document (or a copy of every item as dicts) in memory. ijson
was measured against ``json``, orjson and msgspec on a 10,000-item export: about as fast as
the fastest, at a tenth of their peak memory (docs/performance.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zotsync.errors import SourceUnavailable
from zotsync.model import BASE_FIELDS, Item, Library, LibraryRef
from zotsync.sources.export_file import ExportFile
from zotsync.sources.json_guard import GuardedReader
from zotsync.sources.zotero_json import JsonObj, items_from_objects, parse_collections

#: what a BBT JSON export does not carry (see module doc)
#: (``<level>.<attribute>`` as the source contract names them). Also lost, outside the
#: comparison: imported_url vs imported_file link modes (both read as imported_file), and
#: note keys/dates when BBT wrote notes as bare HTML strings (older exports).
UNKNOWN_TO_SOURCE: frozenset[str] = frozenset({"attachment.annotations", "attachment.url"})
_STRUCTURE = frozenset(
    {
        "itemID", "itemKey", "key", "uri", "select", "libraryID", "citekey", "citationKey",
        "creators", "tags", "notes", "attachments", "relations", "collections", "version",
        "dateAdded", "dateModified", "itemType", "multi", "cslType", "autoJournalAbbreviation",
    }
)  # fmt: skip
_SQL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$")
_URI = re.compile(r"^https?://zotero\.org/(users|groups)/(?:local/)?([^/]+)/items/([^/?#]+)")
_STORAGE = re.compile(r"[/\\]storage[/\\]([A-Z0-9]{8})[/\\](.+)$")


def iso_date(value: object) -> str:
    """BBT's ``2024-01-15 09:00:00`` (UTC) → ``2024-01-15T09:00:00Z``; ISO passes through."""
    text = value if isinstance(value, str) else ""
    match = _SQL_DATE.match(text)
    return f"{match.group(1)}T{match.group(2)}Z" if match else text


def _key(entry: Mapping[str, Any], fallback: str) -> str:
    for name in ("itemKey", "key"):
        if isinstance(entry.get(name), str) and entry[name]:
            return str(entry[name])
    match = _URI.match(str(entry.get("uri") or ""))
    return match.group(3) if match else fallback


def library_ref(items: list[Mapping[str, Any]]) -> LibraryRef:
    """The library from the items' ``uri`` (``users/local/…`` and unknown → user 0)."""
    for entry in items:
        match = _URI.match(str(entry.get("uri") or ""))
        if match:
            ident = int(match.group(2)) if match.group(2).isdigit() else 0
            return LibraryRef("user" if match.group(1) == "users" else "group", ident)
    return LibraryRef()


def _fields(entry: Mapping[str, Any]) -> JsonObj:
    """Flat fields; a base name without its type-specific twin gets the twin (bookTitle …)."""
    item_type = str(entry.get("itemType") or "")
    out: JsonObj = {}
    for name, value in entry.items():
        if name in _STRUCTURE:
            continue
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n".join(value)  # BBT test exports split Extra into lines
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            out[name] = iso_date(value) if name == "accessDate" else str(value)
    for specific, base in BASE_FIELDS.get(item_type, {}).items():
        if base in out and specific not in out:
            out[specific] = out[base]
    return out


def _relations(raw: object) -> object:
    if isinstance(raw, list):
        return {"dc:relation": [r for r in raw if isinstance(r, str)]}
    return raw if isinstance(raw, Mapping) else {}


def _attachment(att: Mapping[str, Any], parent: str, index: int) -> JsonObj:
    path = str(att.get("path") or att.get("localPath") or "")
    stored = _STORAGE.search(path)
    key = _key(att, stored.group(1) if stored else f"{parent}-att{index}")
    data: JsonObj = {
        "key": key,
        "itemType": "attachment",
        "parentItem": parent,
        "title": str(att.get("title") or ""),
        "contentType": str(att.get("mimeType") or att.get("contentType") or ""),
        "url": str(att.get("url") or ""),
        "dateAdded": iso_date(att.get("dateAdded")),
        "version": att.get("version") or 0,
    }
    if stored:
        data.update(linkMode="imported_file", filename=stored.group(2))
    elif path:
        data.update(linkMode="linked_file", path=path)
    else:
        data["linkMode"] = "linked_url"
    return data


def _note(note: object, parent: str, index: int) -> JsonObj:
    if isinstance(note, str):
        return {"key": f"{parent}-note{index}", "itemType": "note", "parentItem": parent,
                "note": note}  # fmt: skip
    entry = note if isinstance(note, Mapping) else {}
    return {
        "key": _key(entry, f"{parent}-note{index}"),
        "itemType": "note",
        "parentItem": parent,
        "note": str(entry.get("note") or ""),
        "tags": entry.get("tags") or [],
        "dateAdded": iso_date(entry.get("dateAdded")),
        "dateModified": iso_date(entry.get("dateModified")),
        "version": entry.get("version") or 0,
    }


def _collections(raw_colls: object) -> tuple[list[JsonObj], dict[object, list[str]]]:
    """The top-level collections map → collection objects, and item id → collection keys."""
    raw_colls = raw_colls if isinstance(raw_colls, Mapping) else {}
    member_of: dict[object, list[str]] = {}
    collections: list[JsonObj] = []
    for ckey, coll in raw_colls.items():
        if not isinstance(coll, Mapping):
            continue
        key = str(coll.get("key") or ckey)
        collections.append(
            {"key": key, "name": str(coll.get("name") or ""), "parentCollection":
             coll.get("parent") or False}
        )  # fmt: skip
        for item_id in coll.get("items") or []:
            member_of.setdefault(item_id, []).append(key)
    return collections, member_of


def _entry_objects(
    entry: Mapping[str, Any], member_of: Mapping[object, list[str]], fallback: int
) -> list[JsonObj]:
    """One exported item → its API-shaped object followed by its attachments and notes."""
    item_type = str(entry.get("itemType") or "")
    if item_type in ("note", "annotation", ""):
        return []  # standalone notes are not papers
    key = _key(entry, f"BBT{entry.get('itemID', fallback)}")
    in_colls = [c for c in entry.get("collections") or [] if isinstance(c, str)]
    in_colls += [c for c in member_of.get(entry.get("itemID"), []) if c not in in_colls]
    if item_type == "attachment":  # a standalone attachment is a paper of its own
        own = _attachment(entry, "", 0)
        del own["parentItem"]
        return [{**own, "tags": entry.get("tags") or [], "collections": in_colls}]
    data: JsonObj = {
        **_fields(entry),
        "key": key,
        "itemType": item_type,
        "version": entry.get("version") or 0,
        "creators": entry.get("creators") or [],
        "tags": entry.get("tags") or [],
        "collections": in_colls,
        "relations": _relations(entry.get("relations")),
        "dateAdded": iso_date(entry.get("dateAdded")),
        "dateModified": iso_date(entry.get("dateModified")),
        "citationKey": str(entry.get("citationKey") or entry.get("citekey") or ""),
    }
    objects = [data]
    for i, att in enumerate(entry.get("attachments") or []):
        if isinstance(att, Mapping):
            objects.append(_attachment(att, key, i))
    objects += [_note(n, key, i) for i, n in enumerate(entry.get("notes") or [])]
    return objects


class _Assembler:
    """Builds the Library one exported item at a time, so no whole export is ever held.

    Only the model items themselves accumulate; each entry's dicts are dropped as soon as its
    :class:`~zotsync.model.Item` exists.
    """

    def __init__(self, raw_colls: object) -> None:
        collections, self.member_of = _collections(raw_colls)
        self.colls = parse_collections(collections)
        self.items: dict[str, Item] = {}
        self.ref: LibraryRef | None = None
        self.data_dir: str | None = None
        self.count = 0

    def add(self, entry: object) -> None:
        if not isinstance(entry, Mapping):
            return
        if self.ref is None and _URI.match(str(entry.get("uri") or "")):
            self.ref = library_ref([entry])
        if self.data_dir is None:
            self.data_dir = _data_dir([entry])
        objects = _entry_objects(entry, self.member_of, self.count)
        self.count += len(objects)
        self.items.update(items_from_objects(objects, self.colls, LibraryRef()))

    def library(self) -> Library:
        ref = self.ref or LibraryRef()
        items = sorted(self.items.values(), key=lambda i: i.key)
        for item in items:
            item.library = ref
        top_version = max((item.version for item in items), default=0)
        library = Library(ref=ref, items=items, collections=self.colls,
                          version=top_version or None)  # fmt: skip
        library.data_dir = self.data_dir
        return library


def library_from_bbt(export: Mapping[str, Any]) -> Library:
    """A parsed BBT JSON export → Library (pure; see the module doc for the format)."""
    assembler = _Assembler(export.get("collections"))
    for entry in export.get("items") or []:
        assembler.add(entry)
    return assembler.library()


def _data_dir(entries: list[Any]) -> str | None:
    """Zotero's data folder, from the absolute path of a stored attachment (…/storage/KEY/f).

    BBT exports stored files with their full path; knowing the folder gives the notes the
    same ``file://`` links as the sqlite source (and lets annotation images be found).
    """
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        for att in entry.get("attachments") or []:
            if not isinstance(att, Mapping):
                continue
            path = str(att.get("path") or att.get("localPath") or "")
            match = _STORAGE.search(path)
            if match and os.path.isabs(path):
                return path[: match.start()] or None
    return None


def stream_library(path: Path) -> Library:
    """Parse the export at ``path`` item by item (ijson); ValueError if it is not whole JSON.

    Two passes over the file: the small top-level ``collections`` map first (it may come
    after ``items``), then each entry of ``items`` in turn. Memory stays at the size of the
    resulting library, whatever the size of the file.
    """
    import ijson

    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip()
            if not head:
                raise ValueError("empty")  # BBT truncates the file before rewriting it
            if head[:1] != b"{":
                raise _NotBbt
            f.seek(0)
            raw_colls: object = next(
                ijson.items(GuardedReader(f), "collections", use_float=True), {}
            )
            f.seek(0)
            assembler = _Assembler(raw_colls)
            seen = False
            for entry in ijson.items(GuardedReader(f), "items.item", use_float=True):
                seen = True
                assembler.add(entry)
            if not seen:
                f.seek(0)
                keys = {k for k, _ in ijson.kvitems(f, "", use_float=True) if k == "items"}
                if not keys:
                    raise _NotBbt
    except ijson.JSONError as exc:
        raise ValueError(str(exc)) from None
    return assembler.library()


class _NotBbt(Exception):
    """The file is JSON-ish but not an object with ``items``."""


class BbtJsonSource(ExportFile):
    """A BBT JSON export file, re-read (as a stream) when it changes."""

    name = "bbt-json"
    what = "the Better BibTeX export"
    option = "--bbt-json"
    how = (
        "in Zotero: File → Export Library…, format 'Better BibTeX JSON', tick "
        "'Keep updated', save it there (or pass --bbt-json PATH)"
    )
    incomplete = "is not a complete JSON export"
    incomplete_fix = "wait for Better BibTeX to finish writing it, or re-export"

    def _parse(self, last: bool) -> Library:
        try:
            return stream_library(self.path)
        except _NotBbt:
            raise SourceUnavailable(
                f"{self.path} is not a Better BibTeX JSON export (no 'items')",
                fix="export with the 'Better BibTeX JSON' format, not CSL JSON or BibTeX",
            ) from None
