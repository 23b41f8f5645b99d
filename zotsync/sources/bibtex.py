"""The ``bibtex`` source: a BibTeX or BibLaTeX file, parsed with bibtexparser 2.

Whoever keeps their library as a ``.bib`` — Better BibTeX's "keep updated" export, JabRef, a
file written by hand — gets notes from it. bibtexparser splits the file into blocks and its
middlewares do the rest: ``@string`` macros, enclosing braces, co-author splitting and BibTeX's
name parts (first / von / last / jr), month names to numbers, and LaTeX to Unicode (through
pylatexenc); the stack is set up in ``bibtex_parse.py``. What this module adds is the mapping
to the model:

* identity is the citekey: ``Item.key`` is the entry key and ``keyed_by="citekey"``, so notes
  carry ``citekey`` and no ``zotero-key`` (no Zotero key exists);
* ``{Braced}`` capitals keep their case (decoding removes the braces, never changes case); a
  name that is one braced group (``{World Health Organization}``) is a single-field creator,
  and the "von" part stays with the last name as Zotero keeps it;
* ``date`` (BibLaTeX) or ``year`` + ``month`` become the date; ``keywords`` become tags
  (Better BibTeX writes Zotero's tags there); ``file`` becomes linked attachments, in Better
  BibTeX's form (``path;path``) or JabRef's and Zotero's (``description:path:type``);
* the arXiv id comes from ``eprint`` with ``eprinttype``/``archiveprefix = arXiv`` (the
  arXiv URL or ``10.48550/arXiv.…`` DOI forms are recognised downstream as for any source);
* verbatim fields (``url``, ``doi``, ``file``, ``eprint``) are not LaTeX-decoded: a ``%20`` in a
  URL is not a comment.

A malformed entry (or a duplicate key) is reported with its line number in
``Library.problems``; its key, when it can be read, goes to ``Library.unreadable`` so its note
is left alone rather than treated as deleted. The rest of the file syncs.
"""

from __future__ import annotations

import re
from pathlib import Path

from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

from zotsync.errors import SourceUnavailable
from zotsync.model import Attachment, Creator, Item, Library, LinkMode, Tag, with_base_fields
from zotsync.sources.bibtex_parse import NAME_FIELDS, PersonName, parse_bibtex
from zotsync.sources.export_file import ExportFile, Incomplete

#: BibTeX/BibLaTeX entry type → Zotero item type
ITEM_TYPES = {
    "article": "journalArticle",
    "book": "book",
    "mvbook": "book",
    "booklet": "book",
    "collection": "book",
    "proceedings": "book",
    "inbook": "bookSection",
    "incollection": "bookSection",
    "inproceedings": "conferencePaper",
    "conference": "conferencePaper",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "online": "webpage",
    "www": "webpage",
    "electronic": "webpage",
    "unpublished": "manuscript",
    "patent": "patent",
    "software": "computerProgram",
    "dataset": "dataset",
    "misc": "document",
}
#: plain BibTeX fields → Zotero fields (the rest are handled in :func:`entry_to_item`)
FIELD_MAP = {
    "title": "title",
    "shorttitle": "shortTitle",
    "abstract": "abstractNote",
    "publisher": "publisher",
    "volume": "volume",
    "pages": "pages",
    "edition": "edition",
    "series": "series",
    "isbn": "ISBN",
    "issn": "ISSN",
    "language": "language",
    "langid": "language",
    "url": "url",
    "address": "place",
    "location": "place",
}
_KEY_IN_RAW = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()]+)\s*,")
_STORAGE = re.compile(r"[/\\]storage[/\\]([A-Z0-9]{8})[/\\]([^/\\]+)$")
_ABSOLUTE = re.compile(r"^(?:/|[A-Za-z]:[\\/]|\\\\)")
_UNESCAPED = {";": re.compile(r"(?<!\\);"), ":": re.compile(r"(?<!\\):")}
_MIME = {".pdf": "application/pdf", ".epub": "application/epub+zip", ".html": "text/html",
         ".htm": "text/html"}  # fmt: skip


def _value(entry: Entry, name: str) -> str:
    field = entry.fields_dict.get(name)
    if field is None:
        for f in entry.fields:
            if f.key.lower() == name:
                field = f
                break
    if field is None or isinstance(field.value, list):
        return ""
    return " ".join(str(field.value).split())


def _creators(entry: Entry) -> list[Creator]:
    creators: list[Creator] = []
    for role in NAME_FIELDS:
        field = entry.fields_dict.get(role)
        if field is None or not isinstance(field.value, list):
            continue
        for name in field.value:
            if not isinstance(name, PersonName) or not (name.last or name.first):
                continue
            if name.single:
                creators.append(Creator(name.last or name.first, "", role, single=True))
            else:
                creators.append(Creator(name.last, name.first, role))
    return creators


def _date(entry: Entry) -> str:
    """BibLaTeX ``date`` (``2019-06-03``, ``2019-06``, a range's start), else year and month."""
    date = _value(entry, "date")
    if date:
        return date.split("/", 1)[0].strip()
    year = _value(entry, "year")
    month_field = entry.fields_dict.get("month")
    month = month_field.value if month_field is not None else None
    if year and isinstance(month, int) and 1 <= month <= 12:
        return f"{year}-{month:02d}"
    return year


def _arxiv(entry: Entry) -> str:
    kind = (_value(entry, "eprinttype") or _value(entry, "archiveprefix")).lower()
    eprint = _value(entry, "eprint")
    if kind == "arxiv" and eprint:
        return re.sub(r"^arxiv:\s*", "", eprint, flags=re.IGNORECASE)
    return ""


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\:;{}])", r"\1", text)


def file_attachments(raw: str) -> list[Attachment]:
    """The ``file`` field → linked attachments.

    Better BibTeX writes paths separated by ``;``; JabRef and Zotero's own export write
    ``description:path:type`` with ``\\:``/``\\;`` escapes. A stored Zotero file
    (``…/storage/KEY/name``) keeps its attachment key, so the reader link still opens it.
    """
    out: list[Attachment] = []
    for part in _UNESCAPED[";"].split(raw):
        part = part.strip()
        if not part:
            continue
        pieces = _UNESCAPED[":"].split(part)
        title, mime, path = "", "", part
        if len(pieces) >= 3 and not re.fullmatch(r"[A-Za-z]", pieces[0]):
            title, path, mime = pieces[0], ":".join(pieces[1:-1]), pieces[-1]
        path = _unescape(path).strip()
        if not path:
            continue
        if "/" not in mime:
            mime = _MIME.get(Path(path).suffix.lower(), "")
        stored = _STORAGE.search(path)
        name = stored.group(2) if stored else re.split(r"[/\\]", path)[-1]
        mode: LinkMode = "linked_file"
        out.append(
            Attachment(
                key=stored.group(1) if stored else "",
                title=_unescape(title) or name,
                link_mode=mode,
                content_type=mime,
                path=path,
            )
        )
    return out


def entry_to_item(entry: Entry) -> Item:
    """One parsed entry → an item keyed by its citekey."""
    kind = entry.entry_type.lower()
    arxiv = _arxiv(entry)
    item_type = ITEM_TYPES.get(kind, "document")
    container = _value(entry, "journaltitle") or _value(entry, "journal")
    booktitle = _value(entry, "booktitle")
    if arxiv and not container and kind in ("misc", "online", "article", "unpublished"):
        item_type = "preprint"
    fields: dict[str, str] = {}
    for name, target in FIELD_MAP.items():
        value = _value(entry, name)
        if value and target not in fields:
            fields[target] = value
    if container:
        fields["publicationTitle"] = container
    if booktitle:
        fields["bookTitle" if item_type == "bookSection" else "proceedingsTitle"] = booktitle
        fields["publicationTitle"] = booktitle
    number = _value(entry, "number")
    if number:
        fields["issue" if item_type == "journalArticle" else "number"] = number
    for name in ("school", "institution", "organization"):
        if _value(entry, name) and "publisher" not in fields:
            specific = {"report": "institution", "thesis": "university"}.get(item_type)
            fields[specific or "publisher"] = _value(entry, name)
            break
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", _value(entry, "doi"), flags=re.I)
    if doi:
        fields["DOI"] = doi
    date = _date(entry)
    if date:
        fields["date"] = date
    if arxiv:
        if item_type == "preprint":
            fields.update(archiveID=f"arXiv:{arxiv}", repository="arXiv")
        else:
            fields["extra"] = f"arXiv: {arxiv}"
    tags: list[Tag] = []
    for word in re.split(r"[,;]", _value(entry, "keywords")):
        if word.strip() and word.strip() not in {t.name for t in tags}:
            tags.append(Tag(word.strip()))
    added = _value(entry, "dateadded") or _value(entry, "timestamp")
    return Item(
        key=entry.key,
        item_type=item_type,
        fields=with_base_fields(item_type, fields),
        creators=_creators(entry),
        tags=tags,
        attachments=file_attachments(_value_raw(entry, "file")),
        date_added=added,
        date_modified=_value(entry, "date-modified") or added,
        citekey=entry.key,
        keyed_by="citekey",
    )


def _value_raw(entry: Entry, name: str) -> str:
    field = entry.fields_dict.get(name)
    return str(field.value) if field is not None and isinstance(field.value, str) else ""


def _failure(block: ParsingFailedBlock) -> tuple[str, str | None]:
    """``line N: what`` for a block bibtexparser could not read, and its key if visible."""
    line = (block.start_line or 0) + 1
    raw = block.raw or ""
    match = _KEY_IN_RAW.match(raw.lstrip())
    key = match.group(1) if match else None
    if isinstance(block, DuplicateBlockKeyBlock):
        return f"line {line}: a second entry with the key '{key}' (the first one is used)", None
    what = str(block.error).strip().splitlines()[0] if str(block.error).strip() else ""
    where = f"the entry '{key}'" if key else "an entry"
    why = f" ({what})" if what else " (unbalanced braces or a missing comma?)"
    return f"line {line}: {where} could not be read{why}; fix it in the .bib file", key


def library_from_bibtex(text: str, *, base: Path | None = None) -> Library:
    """The whole file → a Library (pure; see the module doc).

    ``base`` is the file's folder: JabRef writes ``file`` paths relative to it.
    """
    parsed = parse_bibtex(text)
    library = Library()
    for entry in parsed.entries:
        item = entry_to_item(entry)
        for att in item.attachments:
            if base is not None and not _ABSOLUTE.match(att.path):
                att.path = str(base / att.path)
        library.items.append(item)
    for block in parsed.failed_blocks:
        problem, key = _failure(block)
        library.problems.append(problem)
        if key:
            library.unreadable.add(key)
    library.unreadable -= {i.key for i in library.items}
    library.items.sort(key=lambda i: i.key)
    return library


class BibtexSource(ExportFile):
    """A ``.bib`` file, re-read when its ``(mtime_ns, size)`` changes."""

    name = "bibtex"
    what = "the BibTeX file"
    option = "--bibtex"
    how = (
        "pass --bibtex PATH (in Zotero with Better BibTeX: File → Export Library…, "
        "format 'Better BibLaTeX', tick 'Keep updated')"
    )
    incomplete = "stops inside an entry (half-written?)"
    incomplete_fix = "wait for the export to finish, or export again"
    retry_on = (Incomplete,)

    def _parse(self, last: bool) -> Library:
        try:
            text = self.path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise SourceUnavailable(
                f"{self.path} is not UTF-8 text", fix="save the .bib file as UTF-8"
            ) from None
        library = library_from_bibtex(text, base=self.path.parent)
        # a file caught half-written (the exporter is rewriting it) stops inside an entry: read
        # it again after a pause; the last try keeps what it found (its problems are reported)
        if library.problems and not text.rstrip().endswith(("}", ")")) and not last:
            raise Incomplete("stops inside an entry")
        return library
