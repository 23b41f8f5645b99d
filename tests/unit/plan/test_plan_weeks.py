"""ISO weeks (week 53, year boundaries, the default week) and reading slots (zones, DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.errors import ConfigError
from zotsync.library.weeks import (
    default_week,
    normalize_week,
    parse_week,
    previous_week,
    shift_week,
    week_days,
    week_has_started,
    week_label,
    week_of,
    weeks_in_year,
)
from zotsync.plan.slots import SlotConfig, local_zone, slots_for_week


def test_parse_week_accepts_the_usual_spellings() -> None:
    assert parse_week("2026-W48") == (2026, 48)
    assert parse_week("2026w5") == (2026, 5)
    assert normalize_week(" 2026-w05 ") == "2026-W05"
    assert week_label(2026, 5) == "2026-W05"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-48", "ISO week"),
        ("W48", "ISO week"),
        ("2026-W00", "1 to 53"),
        ("2025-W53", "1 to 52"),
        ("", "ISO week"),
    ],
)
def test_parse_week_rejects_bad_weeks_with_a_clear_message(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_week(text)
    assert says in str(err.value)


def test_week_53_spans_the_year_boundary() -> None:
    assert weeks_in_year(2026) == 53 and weeks_in_year(2025) == 52
    days = week_days("2026-W53")
    assert days[0] == date(2026, 12, 28) and days[-1] == date(2027, 1, 3)
    assert week_of(date(2027, 1, 1)) == "2026-W53"
    assert previous_week("2027-W01") == "2026-W53"
    assert shift_week("2026-W53", 1) == "2027-W01"


def test_week_1_can_start_in_the_previous_year() -> None:
    assert week_days("2025-W01")[0] == date(2024, 12, 30)
    assert week_of(date(2024, 12, 31)) == "2025-W01"


def test_a_sunday_run_plans_the_week_starting_tomorrow() -> None:
    sunday = date(2026, 11, 22)
    assert default_week(sunday) == "2026-W48"
    assert week_days(default_week(sunday))[0] == sunday + timedelta(days=1)


def test_a_midweek_run_plans_the_coming_week_not_the_current_one() -> None:
    assert default_week(date(2026, 11, 23)) == "2026-W49"  # Monday
    assert default_week(date(2026, 11, 28)) == "2026-W49"  # Saturday
    assert default_week(date(2026, 12, 27)) == "2026-W53"  # Sunday before week 53
    assert default_week(date(2027, 1, 3)) == "2027-W01"


def test_week_has_started_from_its_monday() -> None:
    assert not week_has_started("2026-W48", date(2026, 11, 22))
    assert week_has_started("2026-W48", date(2026, 11, 23))


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_property_default_week_starts_within_the_next_seven_days(today: date) -> None:
    monday = week_days(default_week(today))[0]
    assert monday.weekday() == 0
    assert 1 <= (monday - today).days <= 7
    assert parse_week(week_of(today)) == today.isocalendar()[:2]


# --- slots ---------------------------------------------------------------------------------


def test_default_slots_are_mon_wed_thu_at_19_for_an_hour() -> None:
    slots = slots_for_week("2026-W48", SlotConfig(), "Europe/Berlin")
    assert [s.label for s in slots] == ["Mon 19:00", "Wed 19:00", "Thu 19:00"]
    assert slots[0].iso == "2026-11-23T19:00:00+01:00"
    assert all(s.minutes == 60 for s in slots)


def test_slots_keep_wall_clock_time_across_spring_dst() -> None:
    # Europe/Berlin moves to summer time on Sunday 29 March 2026
    cfg = SlotConfig(days=("Sat", "Sun", "Mon"), time="19:00")
    slots = slots_for_week("2026-W13", cfg, "Europe/Berlin")
    assert [s.start.strftime("%a %d %H:%M %z") for s in slots] == [
        "Mon 23 19:00 +0100",
        "Sat 28 19:00 +0100",
        "Sun 29 19:00 +0200",
    ]
    offsets = [s.start.utcoffset() for s in slots]
    assert offsets == [timedelta(hours=1), timedelta(hours=1), timedelta(hours=2)]
    assert [s.label for s in slots] == ["Mon 19:00", "Sat 19:00", "Sun 19:00"]


def test_a_slot_in_the_spring_gap_moves_forward_and_lasts_its_minutes() -> None:
    cfg = SlotConfig(days=("Sun",), time="02:30", minutes=60)
    (slot,) = slots_for_week("2026-W13", cfg, "Europe/Berlin")
    assert slot.start.isoformat() == "2026-03-29T03:30:00+02:00"
    assert slot.minutes == 60


def test_a_slot_across_the_autumn_change_lasts_real_minutes() -> None:
    cfg = SlotConfig(days=("Sun",), time="02:30", minutes=60)
    (slot,) = slots_for_week("2026-W43", cfg, "Europe/Berlin")  # 25 October 2026
    assert slot.start.isoformat() == "2026-10-25T02:30:00+02:00"
    assert slot.end.isoformat() == "2026-10-25T02:30:00+01:00"
    assert slot.minutes == 60


def test_same_week_in_other_zones_is_the_same_local_time() -> None:
    for zone in ("America/New_York", "Asia/Kolkata", "Pacific/Auckland", "UTC"):
        (slot,) = slots_for_week("2026-W48", SlotConfig(days=("Wed",)), zone)
        assert slot.start.strftime("%Y-%m-%d %H:%M") == "2026-11-25 19:00"
        assert slot.start.tzinfo == ZoneInfo(zone)


def test_more_papers_than_slot_days_adds_rounds_in_start_order() -> None:
    slots = slots_for_week("2026-W48", SlotConfig(), "UTC", count=5)
    assert [s.label for s in slots] == [
        "Mon 19:00",
        "Mon 20:00",
        "Wed 19:00",
        "Wed 20:00",
        "Thu 19:00",
    ]
    assert [s.label for s in slots_for_week("2026-W48", SlotConfig(), "UTC", count=1)] == [
        "Mon 19:00"
    ]


def test_week_53_slots_fall_in_two_calendar_years() -> None:
    slots = slots_for_week("2026-W53", SlotConfig(days=("Mon", "Sun")), "UTC")
    assert [s.start.date() for s in slots] == [date(2026, 12, 28), date(2027, 1, 3)]


def test_config_tz_is_used_and_an_explicit_zone_wins() -> None:
    cfg = SlotConfig(days=("Mon",), tz="Asia/Tokyo")
    assert slots_for_week("2026-W48", cfg)[0].start.utcoffset() == timedelta(hours=9)
    fixed = timezone(timedelta(hours=-3))
    assert slots_for_week("2026-W48", cfg, fixed)[0].start.utcoffset() == timedelta(hours=-3)


def test_local_zone_follows_tz_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/Chicago")
    assert local_zone() == ZoneInfo("America/Chicago")
    (slot,) = slots_for_week("2026-W48", SlotConfig(days=("Mon",)))
    assert slot.start.astimezone(UTC) == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def test_bad_slot_config_lists_every_problem() -> None:
    cfg = SlotConfig(days=("Mon", "Funday"), time="7pm", minutes=0, tz="Mars/Olympus")
    with pytest.raises(ConfigError) as err:
        slots_for_week("2026-W48", cfg)
    assert len(err.value.problems) == 4
