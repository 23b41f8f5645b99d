"""Recognise the identifiers people paste into ``zotsync add``, and the ones Zotero holds.

Users type arXiv ids in every form arXiv itself shows them (``1706.03762``, ``1706.03762v5``,
``arXiv:1706.03762``, ``hep-th/9901001``, ``https://arxiv.org/abs/…``, ``…/pdf/….pdf``) and DOIs
(``10.18653/v1/N19-1423``, ``doi:…``, ``https://doi.org/…``). An arXiv DataCite DOI
(``10.48550/arXiv.1706.03762``) *is* an arXiv id, so it is returned as one: that is what lets
``add`` fetch its metadata and what makes duplicate detection see both spellings as one paper.

Library items carry their arXiv id in several places depending on how they were saved (the
translator's ``archiveID``, ``Extra`` lines ``arXiv:…``, the DataCite DOI, the abs/pdf URL);
:func:`item_arxiv_id` looks in all of them. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

#: new-style (0704.0001 onwards, 4 or 5 digits after the dot) and old-style (archive/YYMMNNN)
_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Za-z]{2})?/\d{7}"
ARXIV_ID_RE = re.compile(rf"^(?P<id>{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?$")
_ARXIV_URL_RE = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<rest>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_URL_RE = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/(?P<doi>.+)$", re.IGNORECASE)
_ARXIV_DOI_RE = re.compile(r"^10\.48550/arxiv\.(?P<id>.+)$", re.IGNORECASE)
_EXTRA_ARXIV_RE = re.compile(r"(?im)^\s*arxiv:\s*(?P<id>\S+)")

Kind = Literal["arxiv", "doi"]


@dataclass(frozen=True, slots=True)
class PaperId:
    """One identifier the user asked for: an arXiv id (without version) or a DOI."""

    kind: Kind
    value: str
    version: int | None = None
    raw: str = ""

    @property
    def key(self) -> str:
        """Lower-cased form used for duplicate checks (``1706.03762`` or a DOI)."""
        return self.value.lower()


def normalize_arxiv(text: str) -> tuple[str, int | None] | None:
    """``(id, version)`` for an arXiv id with or without ``arXiv:`` prefix, else None."""
    candidate = text.strip()
    if candidate.lower().startswith("arxiv:"):
        candidate = candidate[6:].strip()
    match = ARXIV_ID_RE.match(candidate)
    if not match:
        return None
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def normalize_doi(text: str) -> str | None:
    """A bare DOI from ``10.x/y``, ``doi:10.x/y`` or a doi.org URL, else None."""
    candidate = text.strip()
    url = _DOI_URL_RE.match(candidate)
    if url:
        candidate = unquote(url.group("doi"))
    elif candidate.lower().startswith("doi:"):
        candidate = candidate[4:].strip()
    candidate = candidate.rstrip(".,;")
    return candidate if _DOI_RE.match(candidate) else None


def parse_paper_id(text: str) -> PaperId | None:
    """Recognise one user-supplied identifier; None when it is neither arXiv nor DOI."""
    raw = text.strip()
    url = _ARXIV_URL_RE.match(raw)
    arxiv = normalize_arxiv(url.group("rest") if url else raw)
    if arxiv:
        return PaperId("arxiv", arxiv[0], arxiv[1], raw)
    doi = normalize_doi(raw)
    if doi is None:
        return None
    datacite = _ARXIV_DOI_RE.match(doi)
    if datacite:
        inner = normalize_arxiv(datacite.group("id"))
        if inner:
            return PaperId("arxiv", inner[0], inner[1], raw)
    return PaperId("doi", doi, None, raw)


def parse_paper_ids(texts: Iterable[str]) -> tuple[list[PaperId], list[str]]:
    """Split user input into recognised ids (first occurrence wins) and unrecognised strings."""
    found: list[PaperId] = []
    seen: set[str] = set()
    bad: list[str] = []
    for text in texts:
        pid = parse_paper_id(text)
        if pid is None:
            bad.append(text)
        elif pid.key not in seen:
            seen.add(pid.key)
            found.append(pid)
    return found, bad


def arxiv_id_from_fields(fields: Mapping[str, str]) -> str | None:
    """The unversioned arXiv id a Zotero item is about, from any field that can hold it."""
    archive_id = fields.get("archiveID", "")
    if archive_id:
        found = normalize_arxiv(archive_id)
        if found:
            return found[0]
    doi = fields.get("DOI", "")
    datacite = _ARXIV_DOI_RE.match(doi.strip())
    if datacite:
        found = normalize_arxiv(datacite.group("id"))
        if found:
            return found[0]
    for match in _EXTRA_ARXIV_RE.finditer(fields.get("extra", "")):
        found = normalize_arxiv(match.group("id"))
        if found:
            return found[0]
    url = _ARXIV_URL_RE.match(fields.get("url", "").strip())
    if url:
        found = normalize_arxiv(url.group("rest"))
        if found:
            return found[0]
    return None


def known_identifiers(field_maps: Iterable[Mapping[str, str]]) -> set[str]:
    """Lower-cased arXiv ids and DOIs of library items: the set duplicate checks use.

    Holds, per item, its arXiv id (``1706.03762``), its DOI (``10.18653/v1/n19-1423``) and
    for arXiv papers also the DataCite DOI, so a lookup by either spelling hits.
    """
    known: set[str] = set()
    for fields in field_maps:
        arxiv = arxiv_id_from_fields(fields)
        if arxiv:
            known.add(arxiv.lower())
            known.add(f"10.48550/arxiv.{arxiv.lower()}")
        doi = normalize_doi(fields.get("DOI", ""))
        if doi:
            known.add(doi.lower())
    return known
