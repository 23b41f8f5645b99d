"""Reading slots: when in the week each planned paper is read.

A slot is a wall-clock time on a weekday in one IANA time zone (default Monday, Wednesday
and Thursday at 19:00 for 60 minutes, in the local zone). Times are built with
:mod:`zoneinfo`, so 19:00 stays 19:00 across a DST change; the end is ``minutes`` of real
elapsed time later. A configured time that does not exist on a spring-forward day (02:30)
moves forward by the gap, as clocks do; an ambiguous one (autumn) is its first occurrence.

When more papers are planned than there are slot days, extra rounds are added: the second
round starts right after the first on each day (Mon 19:00, Mon 20:00, …), and all slots are
ordered by start time, so references (planned first) get the earliest slots.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zotsync.errors import ConfigError
from zotsync.library.papers import PaperInfo
from zotsync.library.weeks import week_days
from zotsync.plan.select import PlanChoice

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_ALIASES = {
    **{d.lower(): i for i, d in enumerate(DAY_NAMES)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{d[:2].lower(): i for i, d in enumerate(DAY_NAMES)},
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}


@dataclass(frozen=True)
class SlotConfig:
    """The ``plan.slots`` part of the config: weekdays, a ``HH:MM`` time, a length, a zone."""

    days: tuple[str, ...] = ("Mon", "Wed", "Thu")
    time: str = "19:00"
    minutes: int = 60
    tz: str | None = None

    def problems(self) -> list[str]:
        """Every problem with this config at once (empty when valid)."""
        out = []
        if not self.days:
            out.append("plan.slots.days is empty; give at least one day like Mon")
        for day in self.days:
            if not isinstance(day, str) or day.strip().lower() not in _DAY_ALIASES:
                out.append(f"plan.slots.days: {day!r} is not a weekday (Mon … Sun)")
        try:
            parse_time(self.time)
        except ValueError:
            out.append(f"plan.slots.time: {self.time!r} is not a time like 19:00")
        if (
            not isinstance(self.minutes, int)
            or isinstance(self.minutes, bool)
            or not (1 <= self.minutes <= 24 * 60)
        ):
            out.append(f"plan.slots.minutes: {self.minutes!r} is not 1 to 1440")
        if self.tz is not None:
            try:
                ZoneInfo(self.tz)
            except (ZoneInfoNotFoundError, ValueError):
                out.append(f"plan.slots.tz: {self.tz!r} is not an IANA time zone (Europe/Berlin)")
        return out

    def weekday_numbers(self) -> list[int]:
        """The configured days as 0=Monday … 6=Sunday, sorted, duplicates removed."""
        return sorted({_DAY_ALIASES[d.strip().lower()] for d in self.days})


@dataclass(frozen=True)
class Slot:
    """One reading session; ``start`` and ``end`` are aware datetimes in the plan's zone."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """``Mon 19:00`` — what the plan note shows."""
        return f"{DAY_NAMES[self.start.weekday()]} {self.start:%H:%M}"

    @property
    def iso(self) -> str:
        """ISO 8601 local datetime with offset, as ``plan --json`` prints it."""
        return self.start.isoformat()

    @property
    def minutes(self) -> int:
        # same-zone aware subtraction is wall-clock time in Python; go through UTC
        return int((self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds() // 60)


def parse_time(text: str) -> time:
    """``"19:00"`` or ``"7:30"`` → :class:`datetime.time`; ValueError otherwise."""
    hours, sep, minutes = str(text).strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(text)
    return time(int(hours), int(minutes))


def local_zone() -> tzinfo:
    """The machine's zone as a DST-aware :class:`ZoneInfo` when it can be named.

    ``TZ`` first, then the ``/etc/localtime`` symlink target; failing both, the current
    fixed offset (correct except across a DST change in the planned week).
    """
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    fallback = datetime.now().astimezone().tzinfo
    return fallback if fallback is not None else UTC


def resolve_zone(tz: str | tzinfo | None, cfg: SlotConfig) -> tzinfo:
    """The zone to plan in: the explicit ``tz``, else the config's, else the local one."""
    if isinstance(tz, tzinfo):
        return tz
    name = tz or cfg.tz
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError([f"time zone {name!r} is not an IANA zone name"]) from exc
    return local_zone()


def _at(day_start: datetime, zone: tzinfo) -> datetime:
    """Normalise a wall-clock time through UTC so a time in a DST gap moves forward."""
    return day_start.astimezone(UTC).astimezone(zone)


def slots_for_week(
    week: str,
    cfg: SlotConfig | None = None,
    tz: str | tzinfo | None = None,
    *,
    count: int | None = None,
) -> list[Slot]:
    """The week's slots in start order: one per configured day, or exactly ``count``."""
    cfg = cfg or SlotConfig()
    problems = cfg.problems()
    if problems:
        raise ConfigError(problems)
    zone = resolve_zone(tz, cfg)
    days = week_days(week)
    at = parse_time(cfg.time)
    weekdays = cfg.weekday_numbers()
    wanted = len(weekdays) if count is None else max(0, count)
    rounds = max(1, -(-wanted // len(weekdays)))
    slots = []
    for r in range(rounds):
        for wd in weekdays:
            first = _at(datetime.combine(days[wd], at, tzinfo=zone), zone).astimezone(UTC)
            start = (first + timedelta(minutes=r * cfg.minutes)).astimezone(zone)
            end = (start.astimezone(UTC) + timedelta(minutes=cfg.minutes)).astimezone(zone)
            slots.append(Slot(start, end))
    slots.sort(key=lambda s: s.start.astimezone(UTC))
    return slots[:wanted]


@dataclass(frozen=True)
class ScheduledPick:
    """A pick with its paper and slot: the row behind a plan line, an event and JSON."""

    key: str
    title: str
    link: str
    path: str
    reason: str
    pulled_in: bool
    topic: str | None
    slot: Slot | None

    def as_json(self) -> dict[str, object]:
        """The ``plan --json`` paper object."""
        return {
            "key": self.key,
            "title": self.title,
            "note": self.path,
            "slot": self.slot.label if self.slot else None,
            "start": self.slot.iso if self.slot else None,
            "reason": self.reason,
        }


def schedule(
    choice: PlanChoice, papers_by_key: Mapping[str, PaperInfo], slots: Sequence[Slot]
) -> list[ScheduledPick]:
    """Pair the picks with slots in order; picks beyond the slots get ``slot=None``."""
    out = []
    for i, pick in enumerate(choice.picks):
        paper = papers_by_key[pick.key]
        out.append(
            ScheduledPick(
                key=pick.key,
                title=paper.title,
                link=paper.link,
                path=paper.path,
                reason=pick.reason,
                pulled_in=pick.pulled_in,
                topic=pick.topic,
                slot=slots[i] if i < len(slots) else None,
            )
        )
    return out
