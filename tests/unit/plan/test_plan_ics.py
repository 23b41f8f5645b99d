"""The plan's .ics file parses back with icalendar into the expected events, byte-stable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar

from zotsync.library.papers import PaperInfo
from zotsync.plan.ics import event_uid, obsidian_url, plan_calendar
from zotsync.plan.select import select_plan
from zotsync.plan.slots import SlotConfig, schedule, slots_for_week


def library() -> list[PaperInfo]:
    def p(key: str, title: str, refs: tuple[str, ...] = (), year: int = 2020) -> PaperInfo:
        return PaperInfo(
            key=key,
            title=title,
            link=title.replace(":", " -"),
            path=f"Papers/{title.replace(':', ' -')}.md",
            tags=("nlp",),
            year=year,
            date_added="2024-01-01T00:00:00Z",
            references=refs,
        )

    return [
        p("ATTN2345", "Attention Is All You Need", ("SEQ12345",), 2017),
        p("SEQ12345", "Sequence to Sequence Learning: with NNs", (), 2014),
        p("BERT6789", "BERT: Pre-training & Transformers, ü", ("ATTN2345",), 2018),
    ]


def calendar_bytes(zone: str = "Europe/Berlin", week: str = "2026-W48") -> bytes:
    papers = library()
    choice = select_plan(papers, count=3, topic=None, last_topic=None)
    slots = slots_for_week(week, SlotConfig(), zone, count=len(choice.picks))
    rows = schedule(choice, {p.key: p for p in papers}, slots)
    return plan_calendar(week, rows, "My Vault", plan_path=f"Reading Plans/{week}.md")


def test_calendar_has_one_event_per_slot_with_required_properties() -> None:
    cal = Calendar.from_ical(calendar_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 3
    berlin = ZoneInfo("Europe/Berlin")
    expected = [
        ("SEQ12345", datetime(2026, 11, 23, 19, 0, tzinfo=berlin)),
        ("ATTN2345", datetime(2026, 11, 25, 19, 0, tzinfo=berlin)),
        ("BERT6789", datetime(2026, 11, 26, 19, 0, tzinfo=berlin)),
    ]
    for event, (key, start) in zip(events, expected, strict=True):
        assert str(event["UID"]) == event_uid("2026-W48", key) == f"2026-W48-{key}@zotsync"
        assert event.decoded("DTSTART") == start
        assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=60)
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event.decoded("DTSTAMP") == datetime(2026, 11, 23, tzinfo=UTC)
        assert str(event["URL"]).startswith("obsidian://open?vault=My%20Vault&file=Papers%2F")
        assert str(event["URL"]) in str(event["DESCRIPTION"])
    assert str(events[2]["SUMMARY"]) == "Read: BERT: Pre-training & Transformers, ü"
    assert [c.name for c in cal.subcomponents].count("VTIMEZONE") == 1


def test_same_plan_gives_the_same_bytes() -> None:
    assert calendar_bytes() == calendar_bytes()
    assert calendar_bytes(week="2026-W49") != calendar_bytes()


def test_obsidian_url_encodes_vault_and_path_like_encode_uri_component() -> None:
    url = obsidian_url("Research & Notes", "Papers/BERT - Pre-training ü.md")
    assert url == (
        "obsidian://open?vault=Research%20%26%20Notes"
        "&file=Papers%2FBERT%20-%20Pre-training%20%C3%BC"
    )


def test_fixed_offset_slots_are_written_in_utc() -> None:
    papers = library()[1:2]
    choice = select_plan(papers, count=1, topic=None, last_topic=None)
    slots = slots_for_week("2026-W48", SlotConfig(), timezone(timedelta(hours=2)), count=1)
    data = plan_calendar("2026-W48", schedule(choice, {p.key: p for p in papers}, slots), "V")
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert b"VTIMEZONE" not in data


def test_week_53_calendar_crosses_into_the_next_year() -> None:
    cal = Calendar.from_ical(calendar_bytes("America/New_York", "2026-W53"))
    starts = [e.decoded("DTSTART") for e in cal.walk("VEVENT")]
    assert [s.date().isoformat() for s in starts] == ["2026-12-28", "2026-12-30", "2026-12-31"]
    assert all(s.utcoffset() == timedelta(hours=-5) for s in starts)
