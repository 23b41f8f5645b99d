"""Write a BibTeX file or a CSL-JSON array from a :class:`~zotsync.model.Library` (fixtures).

What Better BibTeX would write for the same library, as far as the tests need it: the entry
key is the item's key (the bibtex and csl-json sources key items by citekey, so the contract
can compare item by item), creators as ``Last, First`` (institutions braced), every tag in
``keywords``/``keyword``, attachments with a path in ``file``. BibTeX is written with
bibtexparser's own writer, so quoting and braces are a real writer's.
"""

from __future__ import annotations

import re
from typing import Any

import bibtexparser
from bibtexparser.model import Entry, Field

from zotsync.model import Creator, Item, Library

_ENTRY_TYPES = {
    "journalArticle": "article",
    "conferencePaper": "inproceedings",
    "bookSection": "incollection",
    "book": "book",
    "thesis": "phdthesis",
    "report": "techreport",
    "webpage": "online",
    "preprint": "misc",
    "manuscript": "unpublished",
}
_CSL_TYPES = {
    "journalArticle": "article-journal",
    "conferencePaper": "paper-conference",
    "bookSection": "chapter",
    "book": "book",
    "thesis": "thesis",
    "report": "report",
    "webpage": "webpage",
    "preprint": "article",
    "manuscript": "manuscript",
}
_BIB_FIELDS = {
    "title": "title",
    "abstractNote": "abstract",
    "publisher": "publisher",
    "volume": "volume",
    "pages": "pages",
    "edition": "edition",
    "ISBN": "isbn",
    "place": "address",
    "url": "url",
    "DOI": "doi",
}
_CSL_FIELDS = {
    "title": "title",
    "abstractNote": "abstract",
    "publisher": "publisher",
    "place": "publisher-place",
    "volume": "volume",
    "pages": "page",
    "edition": "edition",
    "ISBN": "ISBN",
    "url": "URL",
    "DOI": "DOI",
}


def _bib_name(c: Creator) -> str:
    return "{" + c.last + "}" if c.single else f"{c.last}, {c.first}"


def item_to_entry(item: Item) -> Entry:
    """One item as a BibTeX entry keyed by the item key."""
    fields: list[Field] = []
    for name, target in _BIB_FIELDS.items():
        if item.fields.get(name):
            fields.append(Field(target, item.fields[name]))
    container = item.fields.get("publicationTitle")
    if container:
        journal = item.item_type == "journalArticle"
        fields.append(Field("journal" if journal else "booktitle", container))
    if item.fields.get("institution") and item.item_type == "report":
        fields = [f for f in fields if f.key != "publisher"]
        fields.append(Field("institution", item.fields["institution"]))
    match = re.search(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", item.fields.get("date", ""))
    if match:
        fields.append(Field("date", "-".join(p for p in match.groups() if p)))
    archive = item.fields.get("archiveID", "")
    if archive.lower().startswith("arxiv:"):
        fields += [Field("eprint", archive[6:]), Field("eprinttype", "arxiv")]
    for role in ("author", "editor"):
        names = [_bib_name(c) for c in item.creators if c.creator_type == role]
        if names:
            fields.append(Field(role, " and ".join(names)))
    if item.tags:
        fields.append(Field("keywords", ", ".join(t.name for t in item.tags)))
    files = [a.path for a in item.attachments if a.path and not a.path.startswith("storage:")]
    if files:
        fields.append(Field("file", ";".join(files)))
    if item.date_added:
        fields.append(Field("dateadded", item.date_added))
    return Entry(_ENTRY_TYPES.get(item.item_type, "misc"), item.key, fields)


def bibtex_text(library: Library) -> str:
    """The whole library as BibTeX text."""
    bib = bibtexparser.Library()
    for item in library.items:
        bib.add(item_to_entry(item))
    return str(bibtexparser.write_string(bib))


def item_to_csl(item: Item, *, key_field: str = "citation-key") -> dict[str, Any]:
    """One item as a CSL-JSON object (``key_field="id"``: an export without citekeys)."""
    out: dict[str, Any] = {"id": item.key, "type": _CSL_TYPES.get(item.item_type, "document")}
    if key_field == "citation-key":
        out["citation-key"] = item.key
    for name, target in _CSL_FIELDS.items():
        if item.fields.get(name):
            out[target] = item.fields[name]
    if item.fields.get("publicationTitle"):
        out["container-title"] = item.fields["publicationTitle"]
    if item.fields.get("archiveID"):
        out["number"] = item.fields["archiveID"]
    match = re.search(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", item.fields.get("date", ""))
    if match:
        out["issued"] = {"date-parts": [[int(p) for p in match.groups() if p]]}
    for role in ("author", "editor"):
        names = [
            {"literal": c.last} if c.single else {"family": c.last, "given": c.first}
            for c in item.creators
            if c.creator_type == role
        ]
        if names:
            out[role] = names
    if item.tags:
        out["keyword"] = ", ".join(t.name for t in item.tags)
    return out


def csl_items(library: Library, *, key_field: str = "citation-key") -> list[dict[str, Any]]:
    return [item_to_csl(i, key_field=key_field) for i in library.items]
