"""The ``demo`` source: a small deep-learning library bundled with zotsync.

``zotsync demo VAULT`` has to show what a synced vault looks like on a machine with no Zotero
and no network, so the library ships as package data (``zotsync/data/``) and this source turns it
into the same :class:`~zotsync.model.Library` every other source produces. Reading is a pure
function of the packaged bytes, so two runs give equal libraries (and the sync engine's second
pass writes nothing).

``demo_library.json`` — format ``zotsync-demo/1``, close to the Zotero web API JSON so it reads
like a real library, but compact::

    {"format": "zotsync-demo/1",
     "library": {"type": "user", "id": 0, "name": "Demo Library", "version": 159,
                 "relationBase": "http://zotero.org/users/local/<localUserKey>"},
     "collections": [{"key": "2S9XBEVY", "name": "Deep Learning", "parentCollection": null}, ...],
     "items": [{
        "key": "6EGR7ZHM", "version": 51, "itemType": "preprint",
        "citekey"?: "...",                             # only when not in citationKey / Extra
        "fields": {"title": ..., "abstractNote": ..., "date": "2017-06-12",   # type-specific names
                   "archiveID": "arXiv:1706.03762", "extra": "Citation Key: vaswani2017attention"},
        "creators": ["Vaswani, Ashish", ...],        # "Last, First" = author; a string without a
                                                     # comma, or {"name": ...}, is a single-field
                                                     # name; or {"creatorType", "lastName", "firstName"}
        "tags": ["nlp/transformers", {"tag": "Computer Science - Machine Learning", "type": 1}],
        "collections": ["36R4SPKV"],
        "relations": {"dc:relation": ["<relationBase>/items/KEY", ...]},   # string or list
        "dateAdded": "2024-05-01T...Z", "dateModified": "...",
        "attachments": [{"key", "title", "linkMode", "contentType", "path": "storage:<file>.pdf",
                         "url"?, "dateAdded",
                         "annotations": [{"key", "type", "text"?, "comment"?, "color", "pageLabel",
                                          "sortIndex": "ppppp|oooooo|ttttt",
                                          "position": {"pageIndex": 0, "rects": [[x1, y1, x2, y2]]},
                                          "tags"?, "authorName"?, "isExternal"?,
                                          "dateAdded", "dateModified"}]}],
        "notes": [{"key", "html": "<div data-schema-version=\\"9\\">...</div>", "dateAdded",
                   "dateModified", "tags"?}]}]}

``library`` ``type``/``id`` give the :class:`~zotsync.model.LibraryRef`; the bundled file is the
local user library ``LibraryRef("user", 0)``. Tags are strings
(manual) or ``{"tag", "type": 1}`` (automatic), as the web API writes them.
:func:`zotsync.testing.demo_json.library_to_demo_json` writes any model library in this format
(the full, non-compact spelling), so contract tests can hand a library to this source through a
file.

Citekeys come from the ``Citation Key:`` line of Extra (as for the other sources when no native
field is set). Published papers carry an ``arXiv: ID`` line in Extra, preprints an ``archiveID``.

``demo_references.json`` is a recorded Semantic Scholar ``/paper/batch`` answer (fields
``paperId, externalIds, title, year, referenceCount, references``) for the demo papers. Every
entry's ``referenceCount`` equals the length of its list, so the resolver never needs to complete
it from the network. The reference resolver reads it through :func:`load_demo_references`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from zotsync import model
from zotsync.errors import SourceUnavailable
from zotsync.sources.packed import pack
from zotsync.sources.zotero_json import (
    parse_annotation,
    parse_attachment,
    parse_creators,
    parse_relations,
    parse_tags,
)

FORMAT = "zotsync-demo/1"
LIBRARY_FILE = "demo_library.json"
REFERENCES_FILE = "demo_references.json"

CITEKEY_LINE = re.compile(r"^\s*Citation Key:\s*(\S+)\s*$", re.MULTILINE | re.IGNORECASE)
_FIX = "reinstall zotsync (pip install --force-reinstall zotsync)"


def demo_data_file(name: str) -> Traversable:
    """The packaged data file ``zotsync/data/<name>`` (works from a wheel or a zip too)."""
    return files("zotsync").joinpath("data", name)


def demo_references_path() -> Traversable:
    """Where the recorded Semantic Scholar answer for the demo papers lives."""
    return demo_data_file(REFERENCES_FILE)


def load_demo_references() -> list[dict[str, Any]]:
    """The recorded Semantic Scholar batch answer: one entry per demo paper that has references."""
    data = _load_json(demo_references_path())
    if not isinstance(data, list):
        raise SourceUnavailable(f"{REFERENCES_FILE} is not a JSON list", fix=_FIX)
    return data


class DemoSource:
    """Reads the bundled demo library (or another file in the same format, for tests)."""

    name = "demo"

    def __init__(self, path: Path | Traversable | None = None) -> None:
        self._file = path if path is not None else demo_data_file(LIBRARY_FILE)

    def read(self) -> model.Library:
        """Parse the packaged JSON into fresh model objects (equal on every call)."""
        return library_from_demo_json(_load_json(self._file))

    def watch_paths(self) -> list[Path]:
        """Package data never changes while zotsync runs, so there is nothing to watch."""
        return []


def library_from_demo_json(data: Mapping[str, Any]) -> model.Library:
    """Build a :class:`~zotsync.model.Library` from the parsed ``zotsync-demo/1`` document (pure)."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise SourceUnavailable(f"demo library is not in the {FORMAT} format", fix=_FIX)
    meta = data.get("library", {})
    try:
        kind: Literal["user", "group"] = "group" if meta.get("type") == "group" else "user"
        ref = model.LibraryRef(kind, int(meta.get("id", 0)))
        collections = {
            c["key"]: model.Collection(
                c["key"], c["name"], parent=c.get("parentCollection") or None
            )
            for c in data.get("collections", [])
        }
        items = [_item(raw, ref) for raw in data["items"]]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SourceUnavailable(f"demo library is malformed: {exc!r}", fix=_FIX) from exc
    version = meta.get("version")
    return model.Library(
        ref=ref,
        items=items,
        collections=collections,
        version=version if isinstance(version, int) else None,
        data_dir=None,
        name=str(meta.get("name", "Demo Library")),
    )


def _load_json(resource: Path | Traversable) -> Any:
    try:
        return json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceUnavailable(
            f"cannot read the bundled demo data {resource}: {exc}", fix=_FIX
        ) from exc


def _item(raw: Mapping[str, Any], ref: model.LibraryRef) -> model.Item:
    item_type = raw["itemType"]
    fields = model.with_base_fields(item_type, dict(raw.get("fields", {})))
    match = CITEKEY_LINE.search(fields.get("extra", ""))
    derived = fields.get("citationKey") or (match.group(1) if match else "")
    citekey = raw.get("citekey", derived)
    return model.Item(
        key=raw["key"],
        item_type=item_type,
        fields=fields,
        creators=[c for raw_c in raw.get("creators", []) for c in _creators(raw_c)],
        tags=parse_tags(raw.get("tags", [])),
        collections=list(raw.get("collections", [])),
        relations=parse_relations(raw.get("relations", {})),
        attachments=[_attachment(a) for a in raw.get("attachments", [])],
        notes=[_note(n) for n in raw.get("notes", [])],
        date_added=raw.get("dateAdded", ""),
        date_modified=raw.get("dateModified", raw.get("dateAdded", "")),
        version=int(raw.get("version", 0)),
        citekey=citekey,
        library=ref,
    )


def _creators(raw: str | Mapping[str, str]) -> list[model.Creator]:
    """A creator as Zotero JSON has it, or the demo's shorthand ``"Last, First"``."""
    if isinstance(raw, str):
        last, sep, first = raw.partition(", ")
        return [model.Creator(last, first) if sep else model.Creator(raw, single=True)]
    return parse_creators([raw])


#: the demo's short annotation keys, and the Zotero API names they stand for
_ANNOTATION_KEYS = {
    "type": "annotationType", "text": "annotationText", "comment": "annotationComment",
    "color": "annotationColor", "pageLabel": "annotationPageLabel",
    "sortIndex": "annotationSortIndex", "position": "annotationPosition",
    "authorName": "annotationAuthorName", "isExternal": "annotationIsExternal",
}  # fmt: skip


def _attachment(raw: Mapping[str, Any]) -> model.Attachment:
    """The demo spells attachments and annotations as the API does, but for shorter annotation
    keys and a ``path`` given whole: renamed, they go through the API readers, so the demo can
    never read a child differently from the web and local sources."""
    attachment = parse_attachment({"linkMode": "imported_file", **raw})
    annotations = []
    for entry in raw.get("annotations", []):
        data = {_ANNOTATION_KEYS.get(k, k): v for k, v in entry.items()}
        data.setdefault("dateModified", entry.get("dateAdded", ""))
        annotation = parse_annotation(data)
        if annotation is None:
            raise ValueError(f"annotation {entry.get('key')!r} has an unknown type")
        annotations.append(annotation)
    attachment.annotations = pack(annotations)
    return attachment


def _note(raw: Mapping[str, Any]) -> model.ChildNote:
    return model.ChildNote(
        key=raw["key"],
        html=raw["html"],
        date_added=raw.get("dateAdded", ""),
        date_modified=raw.get("dateModified", raw.get("dateAdded", "")),
        tags=parse_tags(raw.get("tags", [])),
    )
