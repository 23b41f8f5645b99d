"""The plan note ``Reading Plans/2026-W48.md``: render its managed region, read it back.

The note is frontmatter, a ``# Reading plan 2026-W48`` heading, the user's area, and the
managed region between the exact marker lines ``%% zotsync:begin plan %%`` and
``%% zotsync:end plan %%``. The region holds one checkbox line per planned paper::

    - [ ] [[Attention Is All You Need]] — Mon 19:00 · topic nlp, priority 1

followed by a Mermaid gantt chart of the week's slots. Everything here is a pure function of
its arguments, so re-rendering the same plan gives the same bytes.

Ticks are a two-way agreement between the plan note and the paper notes, decided by
:func:`apply_ticks`: a ticked box makes the paper ``read``; a paper whose note says ``read``
gets its box ticked. With the previous sync's box states, an *un*tick is understood too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from zotsync.library.papers import PaperInfo
from zotsync.library.weeks import normalize_week, week_days, week_of
from zotsync.plan.select import PlanChoice
from zotsync.plan.slots import DAY_NAMES, ScheduledPick, Slot, schedule
from zotsync.vault.safe_links import alias_text, mermaid_text, wikilink

PLAN_BEGIN = "%% zotsync:begin plan %%"
PLAN_END = "%% zotsync:end plan %%"
PLAN_FOLDER = "Reading Plans"

_LINE = re.compile(
    r"^(?P<indent>\s*[-*+]\s+\[)(?P<mark>[^\]])(?P<rest>\]\s+.*)$",
)
_LINK = re.compile(r"!?\[\[(?P<target>[^\]|#^]*)(?:[#^][^\]|]*)?(?:\|[^\]]*)?\]\]")
_SLOT = re.compile(r"\b(?P<slot>(?:" + "|".join(DAY_NAMES) + r") \d{1,2}:\d{2})\b")


@dataclass(frozen=True)
class PlanLine:
    """One checkbox line of a plan region, as the user left it."""

    link: str
    checked: bool
    slot: str | None
    reason: str


@dataclass
class TickDecision:
    """What a sync must do so plan boxes and paper statuses agree (keyed by link)."""

    statuses: dict[str, str] = field(default_factory=dict)
    tick: list[str] = field(default_factory=list)
    untick: list[str] = field(default_factory=list)


def plan_note_path(week: str) -> str:
    """``Reading Plans/2026-W48.md`` (vault-relative)."""
    return f"{PLAN_FOLDER}/{normalize_week(week)}.md"


def _gantt_name(title: str) -> str:
    """A task name Mermaid accepts: no ``:``/``;``/``#`` (they end or escape a task)."""
    name = mermaid_text(re.sub(r"[:;#`\"]+", " ", title)) or "paper"
    return name if len(name) <= 50 else name[:49].rstrip() + "…"


def plan_line(row: ScheduledPick, checked: bool) -> str:
    """``- [ ] [[Paper]] — Mon 19:00 · reason``."""
    slot = row.slot.label if row.slot else "unscheduled"
    # the reason names topics (Zotero tags and collections): it must not make a link; and it
    # is read back from the note for a kept plan, so the cleaning must be idempotent
    return f"- [{'x' if checked else ' '}] {wikilink(row.link)} — {slot} · {alias_text(row.reason)}"


def gantt(rows: Sequence[ScheduledPick], week: str, read: set[str]) -> str:
    """A Mermaid gantt chart of the scheduled picks, one section per day."""
    out = [
        "```mermaid",
        "gantt",
        f"    title Reading plan {week}",
        "    dateFormat YYYY-MM-DD HH:mm",
        "    axisFormat %a %H:%M",
    ]
    section = None
    for i, row in enumerate(rows, start=1):
        if row.slot is None:
            continue
        day = f"{DAY_NAMES[row.slot.start.weekday()]} {row.slot.start:%d %b}"
        if day != section:
            out.append(f"    section {day}")
            section = day
        tag = "done, " if row.key in read else ""
        out.append(
            f"    {_gantt_name(row.title)} :{tag}p{i}, "
            f"{row.slot.start:%Y-%m-%d %H:%M}, {row.slot.minutes}m"
        )
    out.append("```")
    return "\n".join(out)


def plan_region(
    choice: PlanChoice,
    papers_by_key: Mapping[str, PaperInfo],
    slots: Sequence[Slot],
    week: str | None = None,
) -> str:
    """The managed region's text (lines between the markers, ending in a newline).

    A box is ticked when the paper's status is already ``read``, so a re-render agrees
    with the paper notes. ``week`` titles the chart (default: from the first slot).
    """
    rows = schedule(choice, papers_by_key, slots)
    if week is None:
        week = _week_from_slots(slots)
    read = {k for k, p in papers_by_key.items() if p.status == "read"}
    lines: list[str] = []
    if choice.topic:
        lines.append(f"Topic: **{alias_text(choice.topic)}**")
    if choice.filled_from:
        lines.append(
            f"Not enough to-read papers in {alias_text(choice.topic or 'the topic')}; "
            f"filled from: {', '.join(alias_text(t) for t in choice.filled_from)}."
        )
    if lines:
        lines.append("")
    if not rows:
        lines.append("Nothing to plan: no paper has status `to-read`.")
        return "\n".join(lines) + "\n"
    lines.extend(plan_line(row, row.key in read) for row in rows)
    if any(row.slot for row in rows):
        lines.append("")
        lines.append(gantt(rows, week, read))
    return "\n".join(lines) + "\n"


def _week_from_slots(slots: Sequence[Slot]) -> str:
    if not slots:
        return ""
    return week_of(slots[0].start)


def _inside(text: str) -> str:
    """The text between the plan markers when present, else all of it."""
    start = text.find(PLAN_BEGIN)
    if start < 0:
        return text
    body = text[start + len(PLAN_BEGIN) :]
    end = body.find(PLAN_END)
    return body if end < 0 else body[:end]


def parse_plan_region(text: str) -> list[PlanLine]:
    """Checkbox lines with a wikilink, from a region or a whole note.

    Tolerant: the reason may be edited or gone, the dash may be ``-`` or ``—``, the box may
    be ``[X]``; only ``x``/``X`` count as ticked (Obsidian's ``[/]`` or ``[-]`` do not).
    A line without a wikilink (the user's own to-do) is not a plan line.
    """
    out = []
    for raw in _inside(text).splitlines():
        match = _LINE.match(raw)
        if not match:
            continue
        rest = match.group("rest")
        link = _LINK.search(rest)
        if not link or not link.group("target").strip():
            continue
        after = rest[link.end() :]
        slot = _SLOT.search(after)
        _, dot, reason = after.partition("·")
        out.append(
            PlanLine(
                link=link.group("target").strip(),
                checked=match.group("mark") in "xX",
                slot=slot.group("slot") if slot else None,
                reason=reason.strip() if dot else "",
            )
        )
    return out


def unfinished_links(lines: Sequence[PlanLine]) -> list[str]:
    """Links of unticked lines: what an earlier week carries over (in plan order)."""
    return list(dict.fromkeys(line.link for line in lines if not line.checked))


def apply_ticks(
    lines: Sequence[PlanLine],
    statuses: Mapping[str, str],
    *,
    previous: Mapping[str, bool] | None = None,
    week_started: bool = False,
    mark_reading: bool = False,
) -> TickDecision:
    """Decide status changes and box changes so both sides agree (pure; keyed by link).

    ``statuses`` are the papers' current frontmatter statuses; ``previous`` the box states
    this plan note had after the last sync (None when unknown). Rules per line:

    * ticked, paper not ``read``: if the box was already ticked last time, the user changed
      the paper's status since, so the box is unticked; otherwise the paper becomes ``read``;
    * unticked, paper ``read``: if the box was ticked last time, the user unticked it, so the
      paper goes back to ``to-read``; otherwise the box is ticked;
    * unticked, paper ``to-read``, the week has started and ``mark_reading``: ``reading``.

    Links without a known status (the note is gone) are left alone.
    """
    out = TickDecision()
    prev = previous or {}
    for line in lines:
        status = statuses.get(line.link)
        if status is None or line.link in out.statuses:
            continue
        was_ticked = prev.get(line.link)
        if line.checked and status != "read":
            if was_ticked:
                out.untick.append(line.link)
            else:
                out.statuses[line.link] = "read"
        elif not line.checked and status == "read":
            if was_ticked:
                out.statuses[line.link] = "to-read"
            else:
                out.tick.append(line.link)
        elif not line.checked and status == "to-read" and week_started and mark_reading:
            out.statuses[line.link] = "reading"
    return out


def set_ticks(region: str, checked: Mapping[str, bool]) -> str:
    """``region`` with the boxes of the given links set; every other byte unchanged."""
    parts = region.splitlines(keepends=True)
    for i, raw in enumerate(parts):
        body = raw.rstrip("\r\n")
        match = _LINE.match(body)
        if not match:
            continue
        link = _LINK.search(match.group("rest"))
        if not link:
            continue
        want = checked.get(link.group("target").strip())
        if want is None or (match.group("mark") in "xX") == want:
            continue
        mark = "x" if want else " "
        parts[i] = match.group("indent") + mark + match.group("rest") + raw[len(body) :]
    return "".join(parts)


def plan_frontmatter(
    week: str, topic: str | None, filled_from: Sequence[str] = ()
) -> dict[str, Any]:
    """The plan note's managed frontmatter keys (``topic`` is read back as last week's).

    ``filled-from`` (only when the topic ran short) lets a kept plan be re-rendered with
    its "filled from" sentence, so a rerun writes the same bytes.
    """
    days = week_days(week)
    data: dict[str, Any] = {"week": normalize_week(week)}
    if topic:
        data["topic"] = topic
    if filled_from:
        data["filled-from"] = list(filled_from)
    data["start"] = days[0]
    data["end"] = days[-1]
    data["tags"] = ["reading-plan"]
    return data


def new_plan_note(week: str, region: str, frontmatter: Mapping[str, Any] | None = None) -> str:
    """The full text of a new plan note: frontmatter, heading, user area, region."""
    week = normalize_week(week)
    meta = dict(frontmatter) if frontmatter is not None else plan_frontmatter(week, None)
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    body = region if region.endswith("\n") or not region else region + "\n"
    return f"---\n{head}---\n# Reading plan {week}\n\n{PLAN_BEGIN}\n{body}{PLAN_END}\n"
