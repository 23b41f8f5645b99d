"""The weekly arXiv inbox note: render, re-render keeping ticks, read ticks, mark added.

``Inbox/2026-W47.md`` (ISO week of the run date) holds one managed region between
``%% zotsync:begin inbox %%`` and ``%% zotsync:end inbox %%``; everything outside it is the
user's and is kept byte for byte. Each entry is a checkbox line ending in ``· arXiv:ID``
(how entries are found again) with indented details: authors, date, category, score, matched
topics and ``[[similar]]`` notes, an abstract extract, the arXiv link and the exact
``zotsync add`` command.

The user ticks boxes *inside* the region, so the region is not fully zotsync's: a re-run of
``discover`` for the same week carries every tick and every "added" mark over, and an entry
the user ticked that the new ranking no longer lists is kept verbatim under "Kept from an
earlier run" — a tick is never silently dropped. :func:`mark_added` appends ``· **added**``
to the entries ``add --from-inbox`` saved, so they are not added twice. All pure: text in,
text out; the same inputs give the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zotsync.discover.rank import RankedPaper
from zotsync.library.weeks import week_of
from zotsync.vault.safe_links import markdown_link, wikilink

BEGIN = "%% zotsync:begin inbox %%"
END = "%% zotsync:end inbox %%"
ADDED_MARK = " · **added**"
EXTRACT_CHARS = 280
_ENTRY_RE = re.compile(
    r"^- \[(?P<mark>[ xX])\] .*· arXiv:(?P<id>[^\s·]+)(?P<added> · \*\*added\*\*)?[ \t]*$"
)
_KEPT_HEADING = "### Kept from an earlier run"


#: ``2026-W47`` for a date: the plan notes' ISO week label, so inbox and plan agree
iso_week = week_of


def inbox_path(week: str, folder: str = "Inbox") -> str:
    """Vault-relative path of a week's inbox note."""
    return f"{folder}/{week}.md"


@dataclass(frozen=True, slots=True)
class InboxState:
    """What the user did in an inbox region: ticked ids, added ids, each entry's lines."""

    ticked: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()
    blocks: tuple[tuple[str, str], ...] = ()  # (id, entry text incl. details), region order


def _escape(text: str) -> str:
    """Plain text that stays plain in Obsidian: no emphasis, links, tags, and no math.

    Abstracts are full of LaTeX (``$f\\colon\\mathbb R^n$``); Obsidian would hand it to
    MathJax after the backslashes were doubled, so ``$`` is escaped too and the source shows
    as written. ``%%`` (a comment), ``==`` (highlight) and ``~~`` (strike) are broken up.
    """
    text = " ".join(text.split())
    text = re.sub(r"([\\`*_\[\]<>#|$])", r"\\\1", text)
    return re.sub(r"([%=~])(?=\1)", r"\1\\", text)


def extract(text: str, limit: int = EXTRACT_CHARS) -> str:
    """The start of an abstract, cut at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def _authors(names: Sequence[str]) -> str:
    if len(names) > 3:
        return ", ".join(names[:3]) + " et al."
    return ", ".join(names) or "unknown authors"


def render_entry(ranked: RankedPaper, *, ticked: bool = False, added: bool = False) -> str:
    """One inbox entry: the checkbox line and its tab-indented details."""
    p = ranked.paper
    box = "x" if ticked or added else " "
    line = f"- [{box}] **{_escape(p.title)}** · arXiv:{p.id}" + (ADDED_MARK if added else "")
    meta = f"{_escape(_authors(p.authors))} · {p.published.date().isoformat()}"
    meta += f" · {p.primary_category} · score {ranked.score:.3f}"
    details = [meta]
    why = []
    if ranked.topics:
        why.append("topics: " + ", ".join(_escape(t) for t in ranked.topics))
    if ranked.similar:
        why.append("similar to " + ", ".join(wikilink(s.note) for s in ranked.similar))
    if why:
        details.append(" · ".join(why))
    if p.summary:
        details.append("> " + _escape(extract(p.summary)))
    details.append(f"{markdown_link('arXiv', p.abs_url)} · `zotsync add {p.id}`")
    return "\n".join([line, *(f"\t- {d}" for d in details)])


def render_region(
    week: str,
    ranked: Sequence[RankedPaper],
    *,
    scope: str = "",
    candidates: int | None = None,
    previous: InboxState | None = None,
) -> str:
    """The whole managed region (markers included) for this week's ranking.

    ``scope`` says what was searched (``cs.CL · last 7 days``); ``previous`` is the state of
    the region being replaced, whose ticks and added marks carry over.
    """
    previous = previous or InboxState()
    shown = {r.paper.id for r in ranked}
    count = f"{len(ranked)} of {candidates}" if candidates is not None else str(len(ranked))
    intro = f"New on arXiv{f' ({scope})' if scope else ''}: top {count}, ranked by similarity"
    intro += " to your library. Tick a box, then run `zotsync add --from-inbox`."
    parts = [BEGIN, f"# arXiv inbox {week}", "", intro, ""]
    if not ranked:
        parts.append("_Nothing new matched this week._")
    for r in ranked:
        rid = r.paper.id
        parts.append(render_entry(r, ticked=rid in previous.ticked, added=rid in previous.added))
    kept = [
        block
        for rid, block in previous.blocks
        if rid not in shown and (rid in previous.ticked or rid in previous.added)
    ]
    if kept:
        parts += ["", _KEPT_HEADING, "", *kept]
    parts.append(END)
    return "\n".join(parts) + "\n"


def new_inbox_note(region: str) -> str:
    """A new inbox note: tag frontmatter, the region, then the user's area."""
    return f"---\ntags:\n  - inbox\n---\n{region}\n## Notes\n"


def _region_span(text: str) -> tuple[int, int] | None:
    """Byte offsets of the region (begin marker line start, end marker line end)."""
    begin = re.search(rf"(?m)^{re.escape(BEGIN)}[ \t]*$", text)
    if not begin:
        return None
    end = re.search(rf"(?m)^{re.escape(END)}[ \t]*(?:\r?\n|$)", text[begin.end() :])
    if not end:
        return None
    return begin.start(), begin.end() + end.end()


def has_region(text: str) -> bool:
    """True when ``text`` holds the inbox region (both marker lines)."""
    return _region_span(text) is not None


def read_state(text: str) -> InboxState:
    """Ticks, added marks and entry blocks of the inbox region (empty if there is none)."""
    span = _region_span(text)
    if span is None:
        return InboxState()
    ticked: set[str] = set()
    added: set[str] = set()
    blocks: list[tuple[str, list[str]]] = []
    for line in text[span[0] : span[1]].splitlines():
        match = _ENTRY_RE.match(line)
        if match:
            rid = match.group("id")
            if match.group("added"):
                added.add(rid)
            elif match.group("mark") in "xX":
                ticked.add(rid)
            blocks.append((rid, [line]))
        elif blocks and line.startswith(("\t", "  ")):
            blocks[-1][1].append(line)
        elif blocks and not line.startswith("- ["):
            blocks.append(("", []))  # a heading or text ends the previous block
    return InboxState(
        frozenset(ticked),
        frozenset(added),
        tuple((rid, "\n".join(lines)) for rid, lines in blocks if rid),
    )


def update_inbox_note(text: str, region: str) -> str:
    """Replace the region in an existing note; every byte outside it stays as it was.

    A note whose region was deleted gets the region back after its frontmatter.
    """
    span = _region_span(text)
    if span is not None:
        return text[: span[0]] + region + text[span[1] :]
    fm = re.match(r"---\r?\n.*?\r?\n---[ \t]*(?:\r?\n|$)", text, re.DOTALL)
    cut = fm.end() if fm else 0
    return text[:cut] + region + text[cut:]


def parse_inbox(text: str) -> list[str]:
    """arXiv ids ticked in the region and not yet added, in the order they appear."""
    state = read_state(text)
    order = [rid for rid, _ in state.blocks]
    return [rid for rid in dict.fromkeys(order) if rid in state.ticked]


def mark_added(text: str, ids: Iterable[str]) -> str:
    """Mark these entries added (ticked, ``· **added**``); the rest of the file is unchanged."""
    wanted = set(ids)
    span = _region_span(text)
    if span is None or not wanted:
        return text
    region = text[span[0] : span[1]]
    out = []
    for line in region.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        match = _ENTRY_RE.match(body)
        if match and match.group("id") in wanted and not match.group("added"):
            newline = line[len(body) :]
            body = "- [x]" + body[5:].rstrip() + ADDED_MARK
            line = body + newline
        out.append(line)
    return text[: span[0]] + "".join(out) + text[span[1] :]
