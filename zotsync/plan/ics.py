"""The plan as an RFC 5545 calendar (``zotsync plan --ics PATH``), built with ``icalendar``.

One VEVENT per scheduled paper. Everything is derived from the plan, never from the clock,
so the same plan gives the same bytes and a re-import updates events instead of duplicating
them:

* ``UID`` — ``<week>-<item key>@zotsync`` (stable across re-runs of the same week);
* ``DTSTAMP`` — 00:00 UTC on the week's Monday (RFC 5545 requires one; a wall-clock stamp
  would make every run differ);
* ``DTSTART``/``DTEND`` — local times with ``TZID`` and a matching ``VTIMEZONE`` when the
  slots have an IANA zone; UTC when they only have a fixed offset;
* ``URL`` and the description — ``obsidian://open?vault=<name>&file=<note path without
  .md>``, both parts percent-encoded like JavaScript's ``encodeURIComponent``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from zotsync.library.weeks import normalize_week, week_start
from zotsync.plan.slots import ScheduledPick

PRODID = "-//zotsync//reading plan//EN"


def obsidian_url(vault_name: str, note_path: str) -> str:
    """``obsidian://open?vault=My%20Vault&file=Papers%2FAttention`` for a vault-relative path."""
    path = note_path[:-3] if note_path.endswith(".md") else note_path
    return f"obsidian://open?vault={quote(vault_name, safe='')}&file={quote(path, safe='')}"


def event_uid(week: str, key: str) -> str:
    """The stable UID of a paper's event in a week's plan."""
    return f"{normalize_week(week)}-{key}@zotsync"


def _when(value: datetime) -> datetime:
    """Keep IANA-zoned datetimes (icalendar writes TZID); others become UTC."""
    return value if isinstance(value.tzinfo, ZoneInfo) else value.astimezone(UTC)


def plan_calendar(
    week: str,
    rows: Sequence[ScheduledPick],
    vault_name: str,
    *,
    plan_path: str | None = None,
) -> bytes:
    """The ``.ics`` bytes for a scheduled plan; rows without a slot get no event."""
    from icalendar import Calendar, Event  # imported here: a sync never needs it

    week = normalize_week(week)
    stamp = datetime.combine(week_start(week), time(0, 0), tzinfo=UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Reading plan {week}")
    for row in rows:
        if row.slot is None:
            continue
        url = obsidian_url(vault_name, row.path)
        lines = [row.reason, url]
        if plan_path:
            lines.append(f"Plan: {obsidian_url(vault_name, plan_path)}")
        event = Event()
        event.add("uid", event_uid(week, row.key))
        event.add("dtstamp", stamp)
        event.add("dtstart", _when(row.slot.start))
        event.add("dtend", _when(row.slot.end))
        event.add("summary", f"Read: {row.title}")
        event.add("description", "\n".join(lines))
        event.add("url", url)
        cal.add_component(event)
    if any(row.slot is not None for row in rows):
        # a VTIMEZONE covering a year either side: enough for any client, and small
        monday = week_start(week)
        cal.add_missing_timezones(
            first_date=monday - timedelta(days=366), last_date=monday + timedelta(days=366)
        )
    return cal.to_ical()
