"""``zotsync plan`` through a vault: the JSON contract, idempotent reruns, ``--force``, the
user's text, the calendar file, references first on the demo library, plans without any
references, a topic that runs short, and ``--explain`` on a kept plan."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from click.testing import Result
from conftest import paper, sync_db, tree
from icalendar import Calendar

from zotsync import api as planning
from zotsync.model import Item, Library
from zotsync.plan.note import PLAN_BEGIN, PLAN_END

WEEK = "2026-W48"
PLAN = f"Reading Plans/{WEEK}.md"
WIKILINK = re.compile(r"\[\[([^\]|#]+)(?:\|[^\]]*)?\]\]")
BOX = re.compile(
    r"^- \[(?P<mark>[ xX])\] \[\[(?P<link>[^\]|#]+)\]\] — (?P<slot>\S+ \S+) · (?P<why>.+)$"
)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demo vault without the plan ``zotsync demo`` wrote for the current week.

    That plan's week depends on the day the test runs; removing it keeps every test here
    independent of the calendar.
    """
    vault = tmp_path / "demo-vault"
    planning.build_demo(vault)
    for note in (vault / "Reading Plans").glob("*.md"):
        note.unlink()
    return vault


def frontmatter(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n", 2)[1])
    assert isinstance(data, dict)
    return data


def plan_json(run_cli: Callable[..., Result], vault: Path, *args: str) -> dict[str, object]:
    result = run_cli("plan", "--vault", vault, "--week", WEEK, "--json", *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def boxes(vault: Path, rel: str = PLAN) -> list[re.Match[str]]:
    text = (vault / rel).read_text(encoding="utf-8")
    region = text[text.index(PLAN_BEGIN) : text.index(PLAN_END)]
    return [m for line in region.splitlines() if (m := BOX.match(line))]


def in_library_references(vault: Path, stem: str) -> list[str]:
    """Wikilinks in a paper note's references region (the in-library papers it cites)."""
    text = (vault / "Papers" / f"{stem}.md").read_text(encoding="utf-8")
    match = re.search(
        r"%% zotsync:begin references %%(.*?)%% zotsync:end references %%", text, re.S
    )
    return WIKILINK.findall(match.group(1)) if match else []


# -- the contract -----------------------------------------------------------------------------
def test_plan_json_has_the_documented_shape_and_the_note_matches_it(
    demo: Path, run_cli: Callable[..., Result]
) -> None:
    data = plan_json(run_cli, demo)
    assert data["week"] == WEEK and data["path"] == PLAN
    papers = data["papers"]
    assert isinstance(papers, list) and len(papers) == 3
    for row in papers:
        assert set(row) >= {"key", "title", "note", "slot", "start", "reason"}
        assert (demo / row["note"]).is_file() and not Path(row["note"]).is_absolute()
        assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d", row["slot"])
        start = datetime.fromisoformat(row["start"])
        assert start.date().isocalendar()[:2] == (2026, 48)
        assert f"{start:%a %H:%M}" == row["slot"] and row["reason"]
    assert [row["slot"] for row in papers] == ["Mon 19:00", "Wed 19:00", "Thu 19:00"]
    lines = boxes(demo)
    assert [m["link"] for m in lines] == [Path(row["note"]).stem for row in papers]
    assert [m["slot"] for m in lines] == [row["slot"] for row in papers]
    assert all(m["mark"] == " " for m in lines)
    text = (demo / PLAN).read_text(encoding="utf-8")
    assert "```mermaid\ngantt" in text
    assert frontmatter(demo / PLAN)["week"] == WEEK


def test_the_default_week_is_the_coming_one_and_on_sunday_the_one_starting_tomorrow(
    demo: Path,
) -> None:
    assert planning.plan(demo, today=date(2026, 11, 22)).week == "2026-W48"  # a Sunday
    assert planning.plan(demo, today=date(2026, 11, 23)).week == "2026-W49"  # a Monday
    assert planning.plan(demo, today=date(2026, 11, 28)).week == "2026-W49"  # a Saturday
    assert (demo / "Reading Plans" / "2026-W49.md").is_file()


def test_a_second_run_for_the_same_week_writes_the_same_bytes_and_touches_nothing(
    demo: Path, run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    ics = tmp_path / "plan.ics"
    first = plan_json(run_cli, demo, "--ics", str(ics))
    before = {**tree(demo), "ics": (ics.read_bytes(), ics.stat().st_mtime_ns)}
    second = plan_json(run_cli, demo, "--ics", str(ics))
    after = {**tree(demo), "ics": (ics.read_bytes(), ics.stat().st_mtime_ns)}
    assert second["papers"] == first["papers"]
    assert after == before


def test_the_users_text_in_the_plan_note_is_kept_on_rerun_and_force(
    demo: Path, run_cli: Callable[..., Result]
) -> None:
    plan_json(run_cli, demo)
    note = demo / PLAN
    mine = "My goal this week: understand pre-training.\n\n"
    text = note.read_text(encoding="utf-8")
    note.write_text(
        text.replace(PLAN_BEGIN, mine + PLAN_BEGIN, 1) + "\nAfter the plan: mine too.\n"
    )
    plan_json(run_cli, demo)
    plan_json(run_cli, demo, "--force", "--count", "2")
    text = note.read_text(encoding="utf-8")
    assert mine + PLAN_BEGIN in text
    assert text.endswith(PLAN_END + "\n\nAfter the plan: mine too.\n")
    assert len(boxes(demo)) == 2


def test_a_kept_plan_ignores_new_inputs_until_force_picks_again(
    demo: Path, run_cli: Callable[..., Result]
) -> None:
    first = plan_json(run_cli, demo)
    keys = [row["key"] for row in first["papers"]]  # type: ignore[union-attr]
    kept = plan_json(run_cli, demo, "--topic", "Reinforcement Learning")
    assert [row["key"] for row in kept["papers"]] == keys  # type: ignore[union-attr]
    forced = plan_json(run_cli, demo, "--topic", "Reinforcement Learning", "--force")
    assert forced["topic"] == "Reinforcement Learning"
    new_keys = [row["key"] for row in forced["papers"]]  # type: ignore[union-attr]
    assert new_keys != keys and new_keys[0] not in keys
    first = frontmatter(demo / forced["papers"][0]["note"])  # type: ignore[index]
    assert "Reinforcement Learning" in first["collections"]  # type: ignore[operator]
    assert [m["link"] for m in boxes(demo)] == [
        Path(row["note"]).stem
        for row in forced["papers"]  # type: ignore[union-attr]
    ]


def test_explain_on_a_kept_plan_names_the_papers_not_their_keys(
    demo: Path, run_cli: Callable[..., Result]
) -> None:
    data = plan_json(run_cli, demo, "--explain")
    keys = [row["key"] for row in data["papers"]]  # type: ignore[union-attr]
    titles = [row["title"] for row in data["papers"]]  # type: ignore[union-attr]
    result = run_cli("plan", "--vault", demo, "--week", WEEK, "--explain")
    assert result.exit_code == 0 and "kept" in result.stdout
    why = result.stdout.split("why:", 1)[1]
    assert all(title in why for title in titles)
    assert not any(key in result.stdout for key in keys)


def test_the_calendar_parses_back_into_one_event_per_slot_linking_the_notes(
    demo: Path, run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    ics = tmp_path / "cal" / "week.ics"
    data = plan_json(run_cli, demo, "--ics", str(ics))
    cal = Calendar.from_ical(ics.read_bytes())
    events = list(cal.walk("VEVENT"))
    papers = data["papers"]
    assert isinstance(papers, list) and len(events) == len(papers) == 3
    assert len({str(e["UID"]) for e in events}) == 3
    for event, row in zip(events, papers, strict=True):
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND"):
            assert prop in event, prop
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == datetime.fromisoformat(row["start"])
        assert (end - start).total_seconds() == 60 * 60
        note = quote(row["note"].removesuffix(".md"), safe="")
        url = f"obsidian://open?vault={quote(demo.name, safe='')}&file={note}"
        assert str(event["URL"]) == url
        assert url in str(event["DESCRIPTION"])
        assert row["title"] in str(event["SUMMARY"])


# -- what gets picked -------------------------------------------------------------------------
def test_the_demo_plan_reads_every_unread_reference_before_the_paper_citing_it(
    demo: Path, run_cli: Callable[..., Result]
) -> None:
    data = plan_json(run_cli, demo)
    stems = [Path(row["note"]).stem for row in data["papers"]]  # type: ignore[union-attr]
    assert len(stems) == 3 and data["topic"]
    unread = {
        p.stem for p in (demo / "Papers").glob("*.md") if frontmatter(p).get("status") == "to-read"
    }
    assert set(stems) <= unread
    pulled = 0
    for i, stem in enumerate(stems):
        for ref in in_library_references(demo, stem):
            if ref in unread:
                assert ref in stems[:i], f"{stem} cites unread {ref}, not planned before it"
                pulled += 1
    assert pulled >= 1, "the demo plan should show a reference pulled in first"
    # the week's topic is what the last pick (the one the others were read for) belongs to
    last = frontmatter(demo / "Papers" / f"{stems[-1]}.md")
    assert data["topic"] in [*last.get("collections", []), *last.get("tags", [])]  # type: ignore[misc]


def _library(rows: list[tuple[str, str, int, str, tuple[str, ...]]]) -> Library:
    items: list[Item] = []
    for key, title, year, added, tags in rows:
        item = paper(key, title, year=year, tags=tags)
        item.date_added = added
        items.append(item)
    return Library(ref=items[0].library, items=items)


def _set_key(note: Path, line: str) -> None:
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("status: to-read\n", f"status: to-read\n{line}\n", 1))


def test_without_any_references_the_plan_goes_by_topic_priority_and_age(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db(
        _library(
            [
                ("AAAA2222", "Newest Robotics", 2020, "2024-03-01T00:00:00Z", ("robotics",)),
                ("BBBB2222", "Oldest Robotics", 2021, "2022-01-01T00:00:00Z", ("robotics",)),
                ("CCCC2222", "Middle Robotics", 2019, "2023-01-01T00:00:00Z", ("robotics",)),
                ("DDDD2222", "Urgent Robotics", 2022, "2024-06-01T00:00:00Z", ("robotics",)),
                ("EEEE2222", "Biology One", 2018, "2020-01-01T00:00:00Z", ("biology",)),
                ("FFFF2222", "Biology Two", 2018, "2020-01-02T00:00:00Z", ("biology",)),
            ]
        )
    )
    sync_db(vault, db)  # refs=False: the library has no references at all
    _set_key(vault / "Papers" / "Urgent Robotics.md", "priority: 1")
    data = plan_json(run_cli, vault, "--explain")
    assert data["topic"] == "robotics"  # the topic with most candidates
    titles = [row["title"] for row in data["papers"]]  # type: ignore[union-attr]
    assert titles == ["Urgent Robotics", "Oldest Robotics", "Middle Robotics"]
    assert not any("read first" in row["reason"] for row in data["papers"])  # type: ignore[union-attr]


def test_a_topic_too_small_is_filled_from_the_next_topic_and_the_plan_says_so(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db(
        _library(
            [
                ("AAAA2222", "Only Chemistry", 2020, "2021-01-01T00:00:00Z", ("chemistry",)),
                ("BBBB2222", "Physics A", 2019, "2020-01-01T00:00:00Z", ("physics",)),
                ("CCCC2222", "Physics B", 2019, "2020-02-01T00:00:00Z", ("physics",)),
                ("DDDD2222", "Physics C", 2019, "2020-03-01T00:00:00Z", ("physics",)),
                ("EEEE2222", "Maths A", 2019, "2019-01-01T00:00:00Z", ("maths",)),
                ("FFFF2222", "Maths B", 2019, "2019-02-01T00:00:00Z", ("maths",)),
            ]
        )
    )
    sync_db(vault, db)
    data = plan_json(run_cli, vault, "--topic", "chemistry")
    titles = [row["title"] for row in data["papers"]]  # type: ignore[union-attr]
    assert titles == ["Only Chemistry", "Physics A", "Physics B"]  # physics is the next largest
    text = (vault / PLAN).read_text(encoding="utf-8")
    assert "filled from: physics" in text and data["filled_from"] == ["physics"]
    result = run_cli("plan", "--vault", vault, "--week", WEEK)
    assert "filled from: physics" in result.stdout
    before = tree(vault)
    plan_json(run_cli, vault)  # a kept plan still says so, byte for byte
    assert tree(vault) == before


def test_an_empty_library_plans_nothing_and_says_why(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db(_library([("AAAA2222", "Done Already", 2020, "2021-01-01T00:00:00Z", ("read",))]))
    sync_db(vault, db)
    assert frontmatter(vault / "Papers" / "Done Already.md")["status"] == "read"
    result = run_cli("plan", "--vault", vault, "--week", WEEK)
    assert result.exit_code == 0 and "nothing to plan" in result.stdout
    assert "Nothing to plan" in (vault / PLAN).read_text(encoding="utf-8")


def test_a_bad_week_is_a_usage_error(demo: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("plan", "--vault", demo, "--week", "2026-W60")
    assert result.exit_code == 2
    assert not any((demo / "Reading Plans").glob("*.md"))


def test_an_unwritable_calendar_path_is_a_usage_error_not_a_traceback(
    demo: Path, run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    result = run_cli("plan", "--vault", demo, "--week", WEEK, "--ics", blocker / "plan.ics")
    assert result.exit_code == 2 and "--ics" in result.stderr
