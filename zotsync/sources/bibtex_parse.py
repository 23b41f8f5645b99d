"""bibtexparser 2, set up for the ``bibtex`` source: which middlewares, and the two it lacks.

bibtexparser splits a file into blocks and its middlewares transform them. The stack used here:
field keys lower-cased, co-authors split on ``and``, BibLaTeX's extended name format turned
into BibTeX's (:class:`ExtendedNames`), BibTeX name parts (first / von / last / jr), LaTeX
decoded to Unicode (:class:`DecodeLatex`), month names to numbers. The stock LaTeX decoding
is adjusted in two ways: verbatim fields (``url``, ``doi``, ``file``, ``eprint``) are left as
written (a ``%20`` in a URL is not a comment), and split names are decoded too, after deciding
which ones are institutions (a name that is one braced group).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import bibtexparser
from bibtexparser import middlewares as mw
from bibtexparser.library import Library as BibLibrary
from bibtexparser.model import Block, Entry

NAME_FIELDS = ("author", "editor")
VERBATIM = frozenset({"url", "doi", "file", "eprint", "pdf", "urldate", "verba", "verbb"})
#: what LaTeX decoding changes: commands, groups, math, ties, dashes, TeX quotes
_LATEX = re.compile(r"[\\{}$~%&`]|--|''")
_EXTENDED_NAME = re.compile(r"^\s*(?:family|given|prefix|suffix)\s*=", re.I)
_NAME_PART = re.compile(r"(\w+)\s*=\s*(\{[^{}]*\}|[^,]*)")


class ExtendedNames(mw.BlockMiddleware):
    """BibLaTeX's extended name format (``family=Wijnen, given=A. J., prefix=van``), which
    Better BibLaTeX writes for names with particles, turned into BibTeX's ``von Last, Jr,
    First`` so the name-splitting middleware can read it."""

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=True)

    @classmethod
    def metadata_key(cls) -> str:
        return "zotsync_extended_names"

    def transform_entry(self, entry: Entry, library: BibLibrary) -> Block:
        for field in entry.fields:
            if field.key in NAME_FIELDS and isinstance(field.value, list):
                enclosing = field.enclosing
                field.value = [_plain_name(name) for name in field.value]
                field.enclosing = enclosing
        return entry


def _plain_name(name: object) -> object:
    if not isinstance(name, str) or not _EXTENDED_NAME.match(name):
        return name
    parts = {k.lower(): v.strip() for k, v in _NAME_PART.findall(name)}
    family = parts.get("family", "")
    if " " in family and not family.startswith("{"):
        family = "{" + family + "}"  # one unit, as the exporter meant it
    last = " ".join(p for p in (parts.get("prefix", ""), family) if p)
    return ", ".join(p for p in (last, parts.get("suffix", ""), parts.get("given", "")) if p)


class DecodeLatex(mw.LatexDecodingMiddleware):
    """bibtexparser's LaTeX decoding, minus verbatim fields, plus split name parts.

    The stock middleware decodes every field, which turns a URL's ``%20`` into a comment, and
    skips name fields once they are lists of name parts; both are fixed here, with the same
    decoder.
    """

    def transform_entry(self, entry: Entry, library: BibLibrary) -> Block:
        kept = [f for f in entry.fields if f.key.lower() in VERBATIM or f.key in NAME_FIELDS]
        for f in kept:
            entry.pop(f.key)
        block = super().transform_entry(entry, library)
        errors: list[str] = []
        for f in kept:
            if f.key in NAME_FIELDS and isinstance(f.value, list):
                f.value = [self._decode_name(part, errors) for part in f.value]
            entry.set_field(f)
        return block

    def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
        # pylatexenc is slow (most of a parse); plain text needs none of it
        if not _LATEX.search(python_string):
            return python_string, ""
        return super()._transform_python_value_string(python_string)

    def _decode_name(self, name: object, errors: list[str]) -> object:
        if not isinstance(name, mw.NameParts):
            return name
        # a name that is one braced group is an institution: one field, never split
        single = not name.first and not name.von and len(name.last) == 1
        single = single and name.last[0].startswith("{") and name.last[0].endswith("}")

        def text(parts: list[str]) -> str:
            return " ".join(self._transform_all_strings(parts, errors)).strip()

        last = " ".join(p for p in (text(name.von), text(name.last)) if p)
        last = ", ".join(p for p in (last, text(name.jr)) if p)  # "King, Jr."
        first = text(name.first)
        return PersonName(last, first, single or not first)


@dataclass(frozen=True)
class PersonName:
    """A decoded creator name: "von" and "Jr." parts stay with the last name, as Zotero
    keeps them (``van Beethoven``, ``King, Jr.``)."""

    last: str
    first: str
    single: bool


def parse_bibtex(text: str) -> BibLibrary:
    """Split and transform ``text`` with bibtexparser's middlewares (never raises on syntax)."""
    stack = [
        mw.NormalizeFieldKeys(),
        mw.SeparateCoAuthors(),
        ExtendedNames(),
        mw.SplitNameParts(),
        DecodeLatex(keep_braced_groups=False, keep_math_mode=False),
        mw.MonthIntMiddleware(),
    ]
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # problems are ours to report
    return bibtexparser.parse_string(text, append_middleware=stack)
