"""Value forms of ``zotero.sqlite``: multipart dates, SQL timestamps, folded search text.

The desktop does not store what the user typed: dates become ``YYYY-MM-DD original``, times
lose their ``T``/``Z``, and Zotero 10 keeps case- and accent-folded copies for search. The
fixture writers share these helpers so every table gets the same forms a real database has.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ANNOTATION_TYPES", "LINK_MODES", "multipart", "norm", "note_title", "sql_time"]

LINK_MODES = ("imported_file", "imported_url", "linked_file", "linked_url", "embedded_image")
ANNOTATION_TYPES = ("", "highlight", "note", "image", "ink", "underline", "text")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MULTIPART = re.compile(r"^\d{4}-\d{2}-\d{2} ")


def sql_time(iso: str, default: str = "2024-01-01 00:00:00") -> str:
    """ISO 8601 UTC (``2024-01-02T03:04:05Z``) -> Zotero's ``2024-01-02 03:04:05``."""
    return iso.replace("T", " ").removesuffix("Z")[:19] if iso else default


def multipart(date: str) -> str:
    """A user date string -> Zotero's multipart ``YYYY-MM-DD original`` (common forms only)."""
    if _MULTIPART.match(date):
        return date
    y = m = d = 0
    iso = re.fullmatch(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*", date)
    if iso:
        y, m, d = (int(g) if g else 0 for g in iso.groups())
    else:
        year = re.search(r"(?<!\d)(\d{4})(?!\d)", date)
        y = int(year.group(1)) if year else 0
        words = re.findall(r"[A-Za-z]+", date.lower())
        m = next((i + 1 for w in words for i, mo in enumerate(_MONTHS) if w.startswith(mo)), 0)
        day = re.search(r"(?<!\d)(\d{1,2})(?!\d)", date)
        d = int(day.group(1)) if day and m else 0
    return f"{y:04d}-{m:02d}-{d:02d} {date}"


def norm(text: str | None) -> str | None:
    """Zotero 10's ``*Normalized`` search columns: case- and accent-folded."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def note_title(html: str) -> str:
    """The ``itemNotes.title`` the desktop derives: the first non-empty line, at most 120."""
    text = re.sub(r"</(p|div|h\d|li)>|<br\s*/?>", "\n", html)
    text = re.sub(r"<[^>]+>", "", text)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:120]
