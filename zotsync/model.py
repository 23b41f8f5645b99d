"""Plain data that every source produces and every renderer consumes.

All five sources (sqlite, local, web, bbt-json, demo) turn what they read into these
dataclasses, so the rest of zotsync never knows where an item came from. Field names follow
the Zotero web API JSON (``abstractNote``, ``publicationTitle``, ``DOI`` …) and always use
the *base* field name: a bookSection's ``bookTitle`` and a conferencePaper's
``proceedingsTitle`` arrive as ``publicationTitle``; a preprint's ``repository`` as
``publisher`` and its ``archiveID`` as ``number``. The type-specific names are kept too
(``fields`` holds both) so templates can use either.

Empty fields are simply absent from ``fields`` (the web API sends ``""``, the local API omits
them: sources normalise to "absent").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

LinkMode = Literal["imported_file", "imported_url", "linked_file", "linked_url", "embedded_image"]
AnnotationType = Literal["highlight", "underline", "note", "image", "ink", "text"]
#: annotation types whose rendering is an image (Zotero caches it as a PNG)
IMAGE_TYPES: frozenset[str] = frozenset({"image", "ink"})


#: type-specific field -> base field, per item type (zotero-schema v31/v40). The web API and
#: the database use the type-specific name; templates and the renderer want the base name.
BASE_FIELDS: dict[str, dict[str, str]] = {
    "bookSection": {"bookTitle": "publicationTitle"},
    "conferencePaper": {"proceedingsTitle": "publicationTitle"},
    "webpage": {"websiteTitle": "publicationTitle", "websiteType": "type"},
    "blogPost": {"blogTitle": "publicationTitle", "websiteType": "type"},
    "dictionaryEntry": {"dictionaryTitle": "publicationTitle"},
    "encyclopediaArticle": {"encyclopediaTitle": "publicationTitle"},
    "forumPost": {"forumTitle": "publicationTitle", "postType": "type"},
    "radioBroadcast": {"programTitle": "publicationTitle", "network": "publisher"},
    "tvBroadcast": {"programTitle": "publicationTitle", "network": "publisher"},
    "presentation": {"sessionTitle": "publicationTitle", "presentationType": "type"},
    "preprint": {"repository": "publisher", "archiveID": "number", "genre": "type"},
    "report": {"institution": "publisher", "reportNumber": "number", "reportType": "type"},
    "thesis": {"university": "publisher", "thesisType": "type"},
    "computerProgram": {"company": "publisher"},
    "dataset": {"repository": "publisher", "identifier": "number"},
    "patent": {"patentNumber": "number", "issueDate": "date", "issuingAuthority": "authority"},
    "case": {"caseName": "title", "dateDecided": "date", "court": "authority"},
    "statute": {"nameOfAct": "title", "dateEnacted": "date"},
    "email": {"subject": "title"},
    "manuscript": {"manuscriptType": "type"},
    "standard": {"organization": "authority"},
}


def with_base_fields(item_type: str, fields: dict[str, str]) -> dict[str, str]:
    """Return ``fields`` without empty values, plus base-field aliases for this item type.

    Every source calls this, so a bookSection read from SQLite, the web API or a BBT export
    ends up with the same ``publicationTitle``.
    """
    out = {k: v for k, v in fields.items() if isinstance(v, str) and v != ""}
    for specific, base in BASE_FIELDS.get(item_type, {}).items():
        if specific in out and base not in out:
            out[base] = out[specific]
    return out


@dataclass(frozen=True, slots=True)
class LibraryRef:
    """Which Zotero library an item lives in.

    ``type`` is ``"user"`` or ``"group"``; ``id`` is the server's group id for groups and the
    user id (0 when unknown/local) for the user library. Group ids matter for ``zotero://``
    links (``groups/<id>``); the user id never appears in links (``library``).
    """

    type: Literal["user", "group"] = "user"
    id: int = 0

    @property
    def label(self) -> str:
        """``user`` or ``group:ID`` — the form used in config, CLI and state."""
        return "user" if self.type == "user" else f"group:{self.id}"

    @property
    def uri_path(self) -> str:
        """Path segment for zotero:// links: ``library`` or ``groups/ID``."""
        return "library" if self.type == "user" else f"groups/{self.id}"


@dataclass(frozen=True, slots=True)
class Creator:
    """One creator in order. Single-field names (institutions) have ``first == ""``."""

    last: str
    first: str = ""
    creator_type: str = "author"
    single: bool = False

    @property
    def name(self) -> str:
        if self.single or not self.first:
            return self.last
        return f"{self.first} {self.last}"


@dataclass(frozen=True, slots=True)
class Tag:
    """A Zotero tag; ``auto`` is Zotero's type 1 (automatic), manual tags are type 0."""

    name: str
    auto: bool = False


class Position(Mapping[str, object]):
    """An annotation's ``position``, kept as Zotero's JSON text and parsed when read.

    A big library has hundreds of thousands of annotations, and their parsed positions (dicts of
    lists of float rectangles) were a third of the memory a 40,000-item library takes, while
    rendering only ever reads ``pageIndex``, ``type`` or ``value``. It is a read-only mapping
    equal to the dict it encodes, so code and tests treat it like one.
    """

    __slots__ = ("_raw",)

    def __init__(self, raw: str | Mapping[str, object] = "") -> None:
        self._raw: str | dict[str, object] = raw if isinstance(raw, str) else dict(raw)

    def _data(self) -> dict[str, object]:
        if isinstance(self._raw, dict):
            return self._raw
        if not self._raw:
            return {}
        try:
            value = json.loads(self._raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def __getitem__(self, key: str) -> object:
        return self._data()[key]

    @property
    def raw(self) -> str:
        """The position as compact JSON text (what Zotero stores)."""
        if isinstance(self._raw, str):
            return self._raw
        return json.dumps(self._raw, separators=(",", ":")) if self._raw else ""

    def as_dict(self) -> dict[str, object]:
        """A plain dict, parsed once (``dict(position)`` would parse once per key)."""
        return dict(self._data())

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"Position({self._data()!r})"

    def __reduce__(self) -> tuple[type[Position], tuple[str | dict[str, object]]]:
        return (Position, (self._raw,))


@dataclass(slots=True)
class Annotation:
    """A PDF/EPUB/snapshot annotation, child of an attachment.

    ``position`` is the parsed JSON (a dict, or a :class:`Position` that parses Zotero's JSON
    text on access). ``page_index``
    is 0-based and comes from ``position["pageIndex"]`` — never from ``page_label``.
    """

    key: str
    type: AnnotationType
    text: str = ""
    comment: str = ""
    color: str = "#ffd400"
    page_label: str = ""
    sort_index: str = ""
    position: Mapping[str, object] = field(default_factory=dict)
    author: str = ""
    tags: list[Tag] = field(default_factory=list)
    date_added: str = ""
    date_modified: str = ""
    is_external: bool = False

    @property
    def page_index(self) -> int | None:
        value = self.position.get("pageIndex")
        return value if isinstance(value, int) else None


@dataclass(slots=True)
class Attachment:
    """A child attachment (or the file of a top-level attachment we do not sync).

    ``path`` is Zotero's raw path string: ``storage:<file>`` for stored files,
    an absolute path or ``attachments:<relative>`` for linked files, empty for linked URLs.
    """

    key: str
    title: str = ""
    link_mode: LinkMode = "imported_file"
    content_type: str = ""
    path: str = ""
    url: str = ""
    #: in reading order; sources hand a packed, read-only sequence (``sources.packed``)
    annotations: Sequence[Annotation] = field(default_factory=list)
    date_added: str = ""

    @property
    def filename(self) -> str:
        if self.path.startswith("storage:"):
            return self.path[len("storage:") :]
        return ""


@dataclass(slots=True)
class ChildNote:
    """A Zotero child note; ``html`` is the note as Zotero stores it."""

    key: str
    html: str
    date_added: str = ""
    date_modified: str = ""
    tags: list[Tag] = field(default_factory=list)


@dataclass(slots=True)
class Collection:
    """A collection; nesting through ``parent`` (a collection key or None)."""

    key: str
    name: str
    parent: str | None = None


@dataclass(slots=True)
class Item:
    """A top-level regular item (never a note, attachment or annotation).

    ``fields`` maps Zotero field names to non-empty strings, as built by
    :func:`with_base_fields` (type-specific names plus base aliases). ``date`` is the user's
    date string (``2017-06-12``, ``June 2017``), never SQLite's multipart form. ``date_added``/``date_modified`` are ISO 8601 UTC
    (``2024-01-02T03:04:05Z``). ``relations`` maps a predicate (``dc:relation``) to object URIs.
    """

    key: str
    item_type: str
    fields: dict[str, str] = field(default_factory=dict)
    creators: list[Creator] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    relations: dict[str, list[str]] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[ChildNote] = field(default_factory=list)
    date_added: str = ""
    date_modified: str = ""
    version: int = 0
    citekey: str = ""
    library: LibraryRef = field(default_factory=LibraryRef)
    #: what ``key`` is: a Zotero item key, or (``bibtex``/``csl-json`` sources, which have no
    #: Zotero keys) the citekey — then notes get no ``zotero-key`` and no ``zotero://`` links
    keyed_by: Literal["zotero", "citekey"] = "zotero"
    #: keys this item was known by before (a standalone attachment that was given a parent
    #: item: its note becomes the parent's note)
    former_keys: list[str] = field(default_factory=list)

    @property
    def has_zotero_key(self) -> bool:
        return self.keyed_by == "zotero"

    @property
    def title(self) -> str:
        return self.fields.get("title", "")

    @property
    def year(self) -> int | None:
        """Year from the user date string (``2017``, ``2017-06-12``, ``June 2017``)."""
        match = re.search(r"(?<!\d)(\d{4})(?!\d)", self.fields.get("date", ""))
        return int(match.group(1)) if match else None

    @property
    def related_keys(self) -> list[str]:
        """Keys of ``dc:relation`` related items (URIs end in ``/items/KEY``)."""
        keys = []
        for uri in self.relations.get("dc:relation", []):
            tail = uri.rstrip("/").rsplit("/", 1)[-1]
            if tail and tail not in keys:
                keys.append(tail)
        return keys


@dataclass(slots=True)
class Library:
    """What a source read: a library's top-level items and its collections.

    ``version`` is an opaque change token when the source has one (library version for the
    web API, ``None`` otherwise). ``data_dir`` is the Zotero data directory when known (the
    sqlite source knows it; needed to copy annotation images and build ``file://`` links).
    """

    ref: LibraryRef = field(default_factory=LibraryRef)
    items: list[Item] = field(default_factory=list)
    collections: dict[str, Collection] = field(default_factory=dict)
    version: int | None = None
    data_dir: str | None = None
    name: str = "My Library"
    #: entries the source could not read, one line each (``line 12: …``): reported as failed
    #: items while the rest syncs
    problems: list[str] = field(default_factory=list)
    #: keys of items that exist in the source but could not be read this time: their notes
    #: are left as they are (neither updated nor treated as deleted)
    unreadable: set[str] = field(default_factory=set)

    def collection_path(self, key: str) -> list[str]:
        """Names from the top-level collection down to ``key`` (cycles are cut)."""
        names: list[str] = []
        seen: set[str] = set()
        current: str | None = key
        while current and current in self.collections and current not in seen:
            seen.add(current)
            coll = self.collections[current]
            names.append(coll.name)
            current = coll.parent
        return list(reversed(names))

    def descendants(self, key: str) -> set[str]:
        """``key`` and every collection nested below it."""
        children: dict[str, list[str]] = {}
        for coll in self.collections.values():
            if coll.parent:
                children.setdefault(coll.parent, []).append(coll.key)
        found = {key}
        stack = [key]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found
