"""ISO 8601 weeks: the unit a reading plan covers (``2026-W48``, Monday to Sunday).

ISO weeks start on Monday; week 1 is the week with the year's first Thursday, so a week can
span two calendar years (2026-W53 runs from Monday 28 December 2026 to Sunday 3 January 2027)
and some years have 53 weeks. :mod:`datetime` already implements the calendar
(``date.isocalendar``, ``date.fromisocalendar``); this module adds parsing with clear errors
and the rule for the default week.

**Default week** ("the coming week") is the ISO week of the *next* Monday strictly after
today: on Sunday that is tomorrow's week; on Monday–Saturday it is the week after the current
one (a plan written mid-week is for the next week, not the week already under way). Use
``--week`` with :func:`week_of` of today to plan the current week.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from zotsync.errors import ConfigError

_WEEK = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


def weeks_in_year(year: int) -> int:
    """52 or 53: 28 December always lies in the year's last ISO week."""
    return date(year, 12, 28).isocalendar().week


def parse_week(text: str) -> tuple[int, int]:
    """``"2026-W48"`` → ``(2026, 48)``; raise :class:`ConfigError` saying what is wrong.

    Accepts ``2026W48`` and a lower-case ``w`` too, as people type them.
    """
    match = _WEEK.match(text or "")
    if not match:
        raise ConfigError(
            [f"week {text!r} is not an ISO week; write it like 2026-W48 (year, -W, week number)"]
        )
    year, week = int(match.group(1)), int(match.group(2))
    if year < 1 or year > 9998:
        raise ConfigError([f"week {text!r}: year {year} is out of range"])
    last = weeks_in_year(year)
    if not 1 <= week <= last:
        raise ConfigError([f"week {text!r}: {year} has ISO weeks 1 to {last}, not {week}"])
    return year, week


def week_label(year: int, week: int) -> str:
    """``(2026, 48)`` → ``"2026-W48"`` (the form used in file names and frontmatter)."""
    return f"{year:04d}-W{week:02d}"


def week_of(day: date) -> str:
    """The ISO week a date falls in, as a label."""
    iso = day.isocalendar()
    return week_label(iso.year, iso.week)


def normalize_week(text: str) -> str:
    """Parse and re-label, so ``2026w5`` becomes ``2026-W05``."""
    return week_label(*parse_week(text))


def default_week(today: date) -> str:
    """The coming ISO week: the week of the first Monday strictly after ``today``."""
    next_monday = today + timedelta(days=7 - today.weekday())
    return week_of(next_monday)


def week_start(week: str) -> date:
    """The Monday of ``week``."""
    year, num = parse_week(week)
    return date.fromisocalendar(year, num, 1)


def week_days(week: str) -> list[date]:
    """The seven dates of ``week``, Monday first."""
    start = week_start(week)
    return [start + timedelta(days=i) for i in range(7)]


def shift_week(week: str, weeks: int) -> str:
    """The week ``weeks`` after (negative: before) ``week``, across year boundaries."""
    return week_of(week_start(week) + timedelta(weeks=weeks))


def previous_week(week: str) -> str:
    """The week before ``week`` (``2027-W01`` → ``2026-W53``)."""
    return shift_week(week, -1)


def week_has_started(week: str, today: date) -> bool:
    """True once ``today`` is on or after the week's Monday."""
    return today >= week_start(week)
