"""Text of the ``references`` and ``cited-by`` regions and of the link properties (pure).

The output depends only on the arguments — never on the order Semantic Scholar happened to send
references in — so a re-fetch that reorders a list does not rewrite the note:

* library papers first, as ``link(key)`` (e.g. ``[[Attention Is All You Need]]``), sorted by
  that link text;
* then the others by normalized title and year, each with its year and a DOI
  (``https://doi.org/…``) or arXiv (``https://arxiv.org/abs/…``) link when known;
* a count line, ``**42 references** · 5 in library``, and a line in italics when the list is
  pending, failed, incomplete or impossible (no identifiers).

Titles are escaped so that a title can never open a link, a tag, a math span, or close the
region (``%%``). No heading is included: the template decides where the region sits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from zotsync.refs.match import Reference
from zotsync.vault.safe_links import arxiv_url, doi_url, markdown_link

if TYPE_CHECKING:
    from zotsync.refs.resolve import ItemRefs

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ESCAPE = re.compile(r"([\\\[\]*_`<>$#|~=])")

_REASONS = {
    "rate-limited": "Semantic Scholar asked us to slow down",
    "unreachable": "Semantic Scholar could not be reached",
    "timeout": "the time budget for references ran out",
    "not-found": "Semantic Scholar does not know this paper",
}


def escape_text(text: str) -> str:
    """One line of literal Markdown text: whitespace collapsed, markup characters escaped."""
    text = _CONTROL.sub("", text)  # PDF-extracted titles carry C1 controls (cp1252 quotes)
    text = _SPACE.sub(" ", text).strip()
    text = _ESCAPE.sub(r"\\\1", text)
    return text.replace("%%", "%\\%")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def external_line(ref: Reference) -> str:
    """A reference outside the library: title, year and the best link."""
    parts = [escape_text(ref.title) or "Untitled"]
    if ref.year:
        parts[0] += f" ({ref.year})"
    if ref.arxiv:
        parts.append(markdown_link(f"arXiv:{ref.arxiv}", arxiv_url(ref.arxiv) or ""))
    elif ref.doi:
        parts.append(markdown_link(f"doi:{ref.doi}", doi_url(ref.doi) or ""))
    return " · ".join(parts)


def _status_line(refs: ItemRefs) -> str | None:
    if refs.status == "no-ids":
        return "_No DOI or arXiv id on this item, so its references cannot be looked up._"
    if refs.status == "pending":
        why = _REASONS.get(refs.reason, refs.reason or "not fetched yet")
        return f"_References pending: {why}; the next sync or `zotsync refs` tries again._"
    if refs.status.startswith("failed"):
        reason = refs.status.partition(":")[2].strip()
        why = _REASONS.get(reason, reason or "the lookup failed")
        return f"_References unavailable: {why}._"
    if not refs.complete:
        why = _REASONS.get(refs.reason, "not fetched yet")
        return f"_Only part of the list is shown ({why}); the rest follows on a later run._"
    return None


def references_region(refs: ItemRefs, link: Callable[[str], str]) -> str:
    """The body of the ``references`` region for one item (no trailing newline)."""
    status = _status_line(refs)
    if refs.status != "ok":
        return status or ""
    inside = sorted(
        {link(ref.key) for ref in refs.references if ref.key is not None}, key=_link_order
    )
    outside = sorted(
        (ref for ref in refs.references if ref.key is None),
        key=lambda r: (r.ntitle or r.title.casefold(), r.year or 0, r.doi or "", r.arxiv or ""),
    )
    total = len(inside) + len(outside)
    head = f"**{_plural(total, 'reference')}** · {len(inside)} in library"
    if refs.reference_count is not None and refs.reference_count > total:
        head += f" · Semantic Scholar counts {refs.reference_count}"
    lines = [head]
    if status:
        lines += ["", status]
    if total:
        lines.append("")
        lines += [f"- {text}" for text in inside]
        lines += [f"- {external_line(ref)}" for ref in outside]
    return "\n".join(lines)


def _link_order(text: str) -> tuple[str, str]:
    return (text.casefold(), text)


def cited_by_region(keys: Iterable[str], link: Callable[[str], str]) -> str:
    """The body of the ``cited-by`` region: library papers citing this one, in given order."""
    links = frontmatter_links(keys, link)
    if not links:
        return "_No paper in the library cites this one yet._"
    head = f"**Cited by {_plural(len(links), 'paper')} in the library**"
    return "\n".join([head, "", *(f"- {text}" for text in links)])


def frontmatter_links(keys: Iterable[str], link: Callable[[str], str]) -> list[str]:
    """``"[[Note]]"`` strings for the ``references:``/``cited-by:`` properties, each once."""
    out: list[str] = []
    seen: set[str] = set()
    for key in keys:
        text = link(key)
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return out
