"""The ``csl-json`` source: a CSL-JSON file as Better BibTeX or Zotero exports it.

CSL-JSON is the citation processors' format (pandoc, Quarto, Zettlr read it): one array of
items, each with a CSL ``type``, ``title``, ``author``/``editor`` lists of name objects, an
``issued`` date (``date-parts``, ``raw`` or ``literal``), ``DOI``, ``URL`` and so on. Better
BibTeX adds ``citation-key`` (and writes the item's tags as ``keyword``); Zotero's own export has
no citekey and uses the item's URI (``http://zotero.org/users/…/items/KEY``) as ``id``.

Identity is the ``citation-key``, else the ``id`` (a Zotero item URI shortened to its item key,
so the frontmatter holds a readable identity): ``Item.key`` and ``Item.citekey`` are that
value and ``keyed_by="citekey"``, so notes carry ``citekey`` and no ``zotero-key``. CSL-JSON
carries no attachments, notes, annotations, collections or relations.

The file is streamed item by item (ijson), so a big export is never one document in memory.
The daemon watches the file; a file caught half-written (not valid JSON) is read again after
a pause, as for ``bbt-json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import ijson

from zotsync.errors import SourceUnavailable
from zotsync.model import Creator, Item, Library, Tag, with_base_fields
from zotsync.sources.export_file import ExportFile
from zotsync.sources.json_guard import GuardedReader

#: CSL type → Zotero item type (Zotero's own mapping, zotero-schema ``csl.types``)
ITEM_TYPES = {
    "article-journal": "journalArticle",
    "article-magazine": "magazineArticle",
    "article-newspaper": "newspaperArticle",
    "article": "preprint",
    "paper-conference": "conferencePaper",
    "chapter": "bookSection",
    "book": "book",
    "thesis": "thesis",
    "report": "report",
    "webpage": "webpage",
    "post-weblog": "blogPost",
    "post": "forumPost",
    "manuscript": "manuscript",
    "dataset": "dataset",
    "software": "computerProgram",
    "patent": "patent",
    "speech": "presentation",
    "entry-encyclopedia": "encyclopediaArticle",
    "entry-dictionary": "dictionaryEntry",
    "legal_case": "case",
    "legislation": "statute",
    "interview": "interview",
    "personal_communication": "letter",
    "motion_picture": "film",
    "broadcast": "tvBroadcast",
    "song": "audioRecording",
    "map": "map",
    "graphic": "artwork",
    "standard": "standard",
    "review": "journalArticle",
}
#: CSL variable → Zotero base field
FIELDS = {
    "title": "title",
    "title-short": "shortTitle",
    "abstract": "abstractNote",
    "publisher": "publisher",
    "publisher-place": "place",
    "volume": "volume",
    "issue": "issue",
    "page": "pages",
    "edition": "edition",
    "ISBN": "ISBN",
    "ISSN": "ISSN",
    "language": "language",
    "URL": "url",
    "DOI": "DOI",
    "note": "extra",
    "number": "number",
    "event-title": "conferenceName",
    "collection-title": "series",
    "source": "libraryCatalog",
}
ROLES = {
    "author": "author",
    "editor": "editor",
    "translator": "translator",
    "container-author": "bookAuthor",
    "collection-editor": "seriesEditor",
    "director": "director",
    "interviewer": "interviewer",
    "recipient": "recipient",
    "reviewed-author": "reviewedAuthor",
    "composer": "composer",
}
_ZOTERO_URI = re.compile(r"^https?://zotero\.org/(?:users|groups)/[^/]+/items/([A-Z0-9]{8})$")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def csl_date(value: object) -> str:
    """``{"date-parts": [[2017, 6, 12]]}`` → ``2017-06-12``; ``raw``/``literal`` as written."""
    if not isinstance(value, Mapping):
        return _text(value)
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        nums = []
        for part in parts[0][:3]:
            try:
                nums.append(int(str(part).strip()))
            except ValueError:
                break
        if nums:
            return "-".join([f"{nums[0]:04d}", *(f"{n:02d}" for n in nums[1:])])
    return _text(value.get("raw")) or _text(value.get("literal"))


def _creators(entry: Mapping[str, Any]) -> list[Creator]:
    creators: list[Creator] = []
    for variable, role in ROLES.items():
        names = entry.get(variable)
        for name in names if isinstance(names, list) else []:
            if not isinstance(name, Mapping):
                continue
            literal = _text(name.get("literal"))
            family = " ".join(
                p
                for p in (_text(name.get("non-dropping-particle")), _text(name.get("family")))
                if p
            )
            given = " ".join(
                p for p in (_text(name.get("given")), _text(name.get("dropping-particle"))) if p
            )
            suffix = _text(name.get("suffix"))
            if suffix:
                family = f"{family}, {suffix}" if family else suffix  # "King, Jr."
            if literal or not given:
                if literal or family:
                    creators.append(Creator(literal or family, "", role, single=True))
            else:
                creators.append(Creator(family, given, role))
    return creators


def identity(entry: Mapping[str, Any]) -> str:
    """``citation-key``, else ``id`` (a Zotero item URI shortened to its item key)."""
    key = _text(entry.get("citation-key")) or _text(entry.get("citationKey"))
    if key:
        return key
    ident = _text(entry.get("id"))
    match = _ZOTERO_URI.match(ident)
    return match.group(1) if match else ident


def entry_to_item(entry: Mapping[str, Any]) -> Item | None:
    """One CSL item → an item keyed by its identity (None without one)."""
    key = identity(entry)
    if not key:
        return None
    item_type = ITEM_TYPES.get(_text(entry.get("type")), "document")
    fields: dict[str, str] = {}
    for variable, name in FIELDS.items():
        value = _text(entry.get(variable))
        if value:
            fields[name] = value
    container = _text(entry.get("container-title"))
    if container:
        specific = {"bookSection": "bookTitle", "conferencePaper": "proceedingsTitle"}
        fields[specific.get(item_type, "publicationTitle")] = container
    if item_type == "preprint" and "number" in fields:
        fields["archiveID"] = fields.pop("number")
    if item_type == "preprint" and "publisher" in fields:
        fields["repository"] = fields.pop("publisher")
    date = csl_date(entry.get("issued"))
    if date:
        fields["date"] = date
    tags: list[Tag] = []
    for word in re.split(r"[,;]", _text(entry.get("keyword"))):
        if word.strip() and word.strip() not in {t.name for t in tags}:
            tags.append(Tag(word.strip()))
    return Item(
        key=key,
        item_type=item_type,
        fields=with_base_fields(item_type, fields),
        creators=_creators(entry),
        tags=tags,
        citekey=key,
        keyed_by="citekey",
    )


def library_from_csl(entries: Iterable[object]) -> Library:
    """CSL-JSON items → a Library; items without identity or with a repeated one are
    reported in ``Library.problems`` (by position) and left out."""
    library = Library()
    seen: set[str] = set()
    for n, entry in enumerate(entries, 1):
        item = entry_to_item(entry) if isinstance(entry, Mapping) else None
        if item is None:
            library.problems.append(f"item {n}: no citation-key or id; it was skipped")
        elif item.key in seen:
            library.problems.append(f"item {n}: a second item with the id '{item.key}' (skipped)")
        else:
            seen.add(item.key)
            library.items.append(item)
    library.items.sort(key=lambda i: i.key)
    return library


class CslJsonSource(ExportFile):
    """A CSL-JSON file, re-read when its ``(mtime_ns, size)`` changes."""

    name = "csl-json"
    what = "the CSL-JSON file"
    option = "--csl-json"
    how = (
        "pass --csl-json PATH (in Zotero: File → Export Library…, format "
        "'CSL JSON' or Better BibTeX's 'Better CSL JSON' with 'Keep updated')"
    )
    incomplete = "is not a complete JSON file"
    incomplete_fix = "wait for the export to finish, or export again as CSL JSON"
    retry_on = (ijson.JSONError, ValueError, UnicodeDecodeError, RecursionError)

    def _parse(self, last: bool) -> Library:
        """Stream the array item by item (ijson): a big export is never held as one document."""
        with open(self.path, "rb") as f:
            start = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            f.seek(0)
            if start == b"[":
                return library_from_csl(ijson.items(GuardedReader(f), "item", use_float=True))
            top_keys = (
                v for p, e, v in ijson.parse(GuardedReader(f)) if p == "" and e == "map_key"
            )
            if start == b"{" and "items" in top_keys:
                raise SourceUnavailable(
                    f"{self.path} is a Better BibTeX JSON export, not CSL-JSON",
                    fix=f"use --bbt-json {self.path} instead",
                )
        raise SourceUnavailable(
            f"{self.path} is not CSL-JSON (expected an array of items)",
            fix="export with the 'CSL JSON' or 'Better CSL JSON' format",
        )
