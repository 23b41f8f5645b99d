"""Paper identifiers: DOI, arXiv id and Semantic Scholar id, normalized so they compare equal.

References are matched to library items by identifier, so two spellings of one identifier must
become one string. The rules:

* **DOI**: the ``10.NNNN/suffix`` part only — ``https://doi.org/``, ``http://dx.doi.org/``,
  ``doi:`` and ``info:doi/`` prefixes are dropped, URL escapes decoded, trailing sentence
  punctuation cut, and the whole DOI lower-cased (DOIs are case-insensitive by definition).
* **arXiv id**: the bare id without version, lower-cased: ``1706.03762`` or, for the old scheme,
  ``hep-th/9901001``. Accepted spellings: ``arXiv:1706.03762v5``, ``ARXIV:…``, the DataCite DOI
  ``10.48550/arXiv.1706.03762``, ``arxiv.org/abs|pdf|html/1706.03762v2[.pdf]`` URLs. An old-style
  id's subject class (``math.AG/0601001``) is dropped (``math/0601001``): arXiv identifies the
  paper by archive and number alone, and Semantic Scholar stores it without the class.
* **Titles** for the last-resort match: NFKD, accents and LaTeX braces removed, case folded,
  every run of non-alphanumerics one space.

For an item, the arXiv id is looked for in the DOI field (DataCite arXiv DOIs), ``archiveID``
(``arXiv:X``; the base field ``number`` when the repository is arXiv), the URL, and ``arXiv: X``
lines in Extra; a DOI in the DOI field, a ``DOI: X`` line in Extra, or a doi.org URL.
Everything here is pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from zotsync.model import Item

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|info:doi/)", re.IGNORECASE)
_DOI_BODY = re.compile(r"10\.\d{4,9}/\S+")
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_ARXIV_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(.+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_ARXIV_PREFIX = re.compile(r"^arxiv:\s*", re.IGNORECASE)
_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?")
_ARXIV_OLD = re.compile(r"([a-z][a-z-]*)(?:\.[a-z]{2})?/(\d{7})(?:v\d+)?")
_ARXIV_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf|html)/([^\s?#]+)", re.IGNORECASE)
# Zotero's arXiv translator writes "arXiv:1606.02360 [cs, math]" into Extra: the id is the
# first word after the colon, whatever follows it.
_EXTRA_LINE = re.compile(r"^[ \t]*(arxiv|doi)[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, slots=True)
class PaperIds:
    """The identifiers of one paper; any of them may be unknown (``None``)."""

    doi: str | None = None
    arxiv: str | None = None
    s2: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing can be looked up: such items get the status ``no-ids``."""
        return not (self.doi or self.arxiv or self.s2)

    def lookup_ids(self) -> list[str]:
        """Semantic Scholar ids to try, best first.

        arXiv comes before DOI because S2 keys every arXiv paper by its id, while the DataCite
        ``10.48550`` DOIs and many publisher DOIs are not always known to it. A DOI that merely
        restates the arXiv id is not tried twice.
        """
        out: list[str] = []
        if self.s2:
            out.append(self.s2)
        if self.arxiv:
            out.append(f"ARXIV:{self.arxiv}")
        if self.doi and not (self.arxiv and _ARXIV_DOI.match(self.doi)):
            out.append(f"DOI:{self.doi}")
        return out

    @property
    def cache_key(self) -> str | None:
        """The key under which this paper's reference list is cached (stable across runs)."""
        ids = [i for i in self.lookup_ids() if i != self.s2]
        return ids[0] if ids else (f"S2:{self.s2}" if self.s2 else None)


def normalize_doi(value: str | None) -> str | None:
    """Return the lower-cased bare DOI in ``value``, or None when it is not a DOI."""
    if not value:
        return None
    text = value.strip()
    if _DOI_PREFIX.match(text):
        text = _DOI_PREFIX.sub("", text, count=1)
        text = unquote(text)
    text = text.strip().rstrip(".,;")
    if not _DOI_BODY.fullmatch(text):
        return None
    return text.lower()


def normalize_arxiv(value: str | None) -> str | None:
    """Return the bare, version-less, lower-cased arXiv id in ``value``, or None."""
    if not value:
        return None
    text = value.strip()
    url = _ARXIV_URL.match(text)
    if url:
        text = url.group(1)
    else:
        doi = normalize_doi(text)
        if doi:
            arxiv_doi = _ARXIV_DOI.match(doi)
            if not arxiv_doi:
                return None
            text = arxiv_doi.group(1)
        text = _ARXIV_PREFIX.sub("", text, count=1)
    text = text.strip().lower()
    if text.endswith(".pdf"):
        text = text[:-4]
    new = _ARXIV_NEW.fullmatch(text)
    if new:
        return new.group(1)
    old = _ARXIV_OLD.fullmatch(text)
    if old:
        return f"{old.group(1)}/{old.group(2)}"
    return None


def normalize_title(value: str | None) -> str:
    """Fold a title to the form two spellings of the same title share ('' for none)."""
    if not value:
        return ""
    text = value
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _NON_ALNUM.sub(" ", text.casefold())
    return text.strip()


def _arxiv_from_item(fields: dict[str, str]) -> str | None:
    doi_arxiv = normalize_arxiv(fields.get("DOI")) if fields.get("DOI") else None
    if doi_arxiv:
        return doi_arxiv
    for name in ("archiveID", "number"):
        value = fields.get(name, "")
        if _ARXIV_PREFIX.match(value.strip()):
            found = normalize_arxiv(value)
            if found:
                return found
    repository = (fields.get("repository") or fields.get("publisher") or "").strip().lower()
    if repository == "arxiv":
        found = normalize_arxiv(fields.get("archiveID") or fields.get("number"))
        if found:
            return found
    url = _ARXIV_IN_URL.search(fields.get("url", ""))
    if url:
        found = normalize_arxiv(url.group(1))
        if found:
            return found
    return _from_extra(fields, "arxiv", normalize_arxiv)


def _from_extra(
    fields: dict[str, str], label: str, normalize: Callable[[str], str | None]
) -> str | None:
    """The first valid ``label: value`` line of Extra (as Zotero and BBT write them)."""
    for name, value in _EXTRA_LINE.findall(fields.get("extra", "")):
        if name.lower() == label:
            found = normalize(value)
            if found:
                return found
    return None


def _doi_from_item(fields: dict[str, str]) -> str | None:
    doi = normalize_doi(fields.get("DOI")) or _from_extra(fields, "doi", normalize_doi)
    if doi:
        return doi
    url = fields.get("url", "")
    if re.match(r"^https?://(?:dx\.)?doi\.org/", url, re.IGNORECASE):
        return normalize_doi(url)
    return None


def item_ids(item: Item) -> PaperIds:
    """Every identifier zotsync can read from the item itself (``s2`` comes from the cache)."""
    return PaperIds(doi=_doi_from_item(item.fields), arxiv=_arxiv_from_item(item.fields))


def ids_from_external(external: dict[str, object] | None, paper_id: str | None = None) -> PaperIds:
    """Identifiers from a Semantic Scholar ``externalIds`` object (``DOI``, ``ArXiv``)."""
    external = external or {}
    doi_raw = external.get("DOI")
    arxiv_raw = external.get("ArXiv")
    doi = normalize_doi(doi_raw) if isinstance(doi_raw, str) else None
    arxiv = normalize_arxiv(arxiv_raw) if isinstance(arxiv_raw, str) else None
    if arxiv is None and doi is not None:
        arxiv = normalize_arxiv(doi)
    return PaperIds(doi=doi, arxiv=arxiv, s2=paper_id or None)
