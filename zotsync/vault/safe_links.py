"""Building Markdown and wiki links from Zotero values that nobody has checked.

A DOI, URL, arXiv id, attachment title or path, creator or collection name comes from a
library anyone can write into (a shared group, an imported BibTeX file, a web page the
connector saved). Put raw into ``[text](target)`` or ``[[target|alias]]``, a value like
``10.1/x)](javascript:alert(1)) [[Evil]]`` ends the link early, starts a ``javascript:`` link
and adds a wikilink. So every link zotsync writes is built here:

* a **target** is kept only with a scheme zotsync means to link to (``http``, ``https``,
  ``zotero``, ``file``, ``obsidian``), and every character that can end a Markdown link target
  or a URL (space, parentheses, brackets, angle brackets, quotes, controls…) is
  percent-encoded, which browsers and doi.org decode again; anything else is dropped;
* a **text** is one line, with the characters that open or close a link escaped;
* a **wikilink alias** cannot hold ``]`` or ``|`` at all (Obsidian reads no escapes there), so
  they become ``)`` and ``-``.

The functions are pure, so a re-render writes the same bytes.
"""

from __future__ import annotations

import re
from urllib.parse import quote

#: the only link schemes a note may contain
SCHEMES = ("http", "https", "zotero", "file", "obsidian")

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# what stays literal in a target: RFC 3986 reserved and unreserved characters except the
# ones Markdown or Obsidian give a meaning inside ``(...)`` (parentheses, brackets)
_TARGET_SAFE = "!#$%&'*+,-./:;=?@_~"
_TEXT_ESCAPE = re.compile(r"([\\\[\]<>`])")


def safe_target(url: str) -> str | None:
    """``url`` fit for ``[text](url)``, or None when its scheme is not one of :data:`SCHEMES`.

    The scheme is matched case-insensitively and written in lower case; whitespace at the ends
    is dropped, any inside is encoded (a pasted URL with a space still works).
    """
    url = _CONTROL.sub("", url).strip()
    match = _SCHEME_RE.match(url)
    if not match or match.group(1).lower() not in SCHEMES:
        return None
    scheme = match.group(1).lower()
    return scheme + ":" + quote(url[match.end() :], safe=_TARGET_SAFE)


def url_part(value: str) -> str:
    """``value`` (a DOI, an arXiv id) encoded to sit inside a target after a fixed prefix."""
    safe = _TARGET_SAFE.replace("#", "").replace("?", "")
    return quote(_CONTROL.sub("", value).strip(), safe=safe)


def doi_url(doi: str) -> str | None:
    """``https://doi.org/<doi>`` with the DOI encoded; None for an empty DOI."""
    return f"https://doi.org/{url_part(doi)}" if doi.strip() else None


def arxiv_url(arxiv: str) -> str | None:
    """``https://arxiv.org/abs/<id>``; None for an empty id."""
    return f"https://arxiv.org/abs/{url_part(arxiv)}" if arxiv.strip() else None


def link_text(text: str) -> str:
    """One line of text that cannot end or open a link (``[ ] < > ` \\`` escaped, ``%%`` split)."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return _TEXT_ESCAPE.sub(r"\\\1", text).replace("%%", "%\\%")


def heading_text(text: str) -> str:
    """A title for a ``# heading``: one line, no ``[[…]]``, ``[…](…)``, ``[…][…]``, ``<a:…>``.

    Only the brackets that would make a link are escaped (``[draft]`` stays as typed); HTML
    markup Zotero allows in titles (``<i>``, ``<sub>``) is left to render. Idempotent, so a
    heading read back from a note gives the same heading again.
    """
    return defuse_links(" ".join(_CONTROL.sub(" ", text).split()))


def defuse_links(text: str) -> str:
    """``text`` (lines kept) with every sequence that would make a link escaped: ``[[``,
    ``](``, ``][`` and ``<scheme:``. Idempotent; ``[draft]`` stays as typed."""
    if "[" not in text and "]" not in text and "<" not in text:
        return text  # most text: nothing that could make a link
    text = re.sub(r"(?<!\\)\[\[", r"\\[\\[", text)
    text = re.sub(r"(?<!\\)<(?=[A-Za-z][A-Za-z0-9+.-]{1,31}:)", r"\\<", text)  # <scheme:…>
    return re.sub(r"(?<!\\)\](?=[(\[])", r"\\]", text)


def markdown_link(text: str, url: str) -> str:
    """``[text](url)`` with both made safe; just the text when the URL is not allowed."""
    target = safe_target(url)
    shown = link_text(text) or (target or "")
    return f"[{shown}]({target})" if target else shown


def alias_text(text: str) -> str:
    """Text for ``[[note|alias]]``: one line, no ``[``, ``]`` or ``|``."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text.replace("|", "-").replace("]", ")").replace("[", "(").replace("%%", "%-%")


def mermaid_text(text: str) -> str:
    """Text for a line of a Mermaid chart: one line, and no ``%%``, which starts a Mermaid
    comment wherever it stands and would cut the rest of the line (the node or the task)."""
    return re.sub(r"%{2,}", "%", " ".join(_CONTROL.sub(" ", text).split()))


def wikilink(target: str, alias: str | None = None) -> str:
    """``[[target]]`` or ``[[target|alias]]``; the target loses what would end the link."""
    target = re.sub(r"[\[\]|#^]", "", " ".join(_CONTROL.sub(" ", target).split()))
    if alias is None:
        return f"[[{target}]]"
    return f"[[{target}|{alias_text(alias)}]]"


__all__ = [
    "SCHEMES",
    "alias_text",
    "arxiv_url",
    "doi_url",
    "heading_text",
    "link_text",
    "markdown_link",
    "safe_target",
    "url_part",
    "wikilink",
]
