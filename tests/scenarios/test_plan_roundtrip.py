"""Plan boxes and paper statuses agree through syncs: a ticked box makes the paper read, a
``status: read`` ticks the box, an untick (remembered in the state DB) undoes it, and the
next week's plan carries over what was left unread."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import paper, sync_db, tree

from zotsync import api
from zotsync import api as planning
from zotsync.model import Library
from zotsync.plan.note import PLAN_BEGIN, PLAN_END

WEEK = "2026-W48"
PLAN = f"Reading Plans/{WEEK}.md"
BOX = re.compile(r"^- \[(?P<mark>[ xX])\] \[\[(?P<link>[^\]|#]+)\]\]", re.MULTILINE)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demo vault with no plan yet (the demo's own plan depends on today's date)."""
    vault = tmp_path / "demo-vault"
    planning.build_demo(vault)
    for note in (vault / "Reading Plans").glob("*.md"):
        note.unlink()
    return vault


def status(vault: Path, stem: str) -> str:
    text = (vault / "Papers" / f"{stem}.md").read_text(encoding="utf-8")
    data = yaml.safe_load(text.split("---\n", 2)[1])
    return str(data["status"])


def set_status(vault: Path, stem: str, old: str, new: str) -> None:
    note = vault / "Papers" / f"{stem}.md"
    text = note.read_text(encoding="utf-8")
    assert f"\nstatus: {old}\n" in text
    note.write_text(text.replace(f"\nstatus: {old}\n", f"\nstatus: {new}\n", 1), encoding="utf-8")


def plan_boxes(vault: Path, rel: str = PLAN) -> dict[str, bool]:
    """Link → ticked, for the checkbox lines in the plan note's managed region."""
    text = (vault / rel).read_text(encoding="utf-8")
    region = text[text.index(PLAN_BEGIN) : text.index(PLAN_END)]
    return {m["link"]: m["mark"] in "xX" for m in BOX.finditer(region)}


def set_box(vault: Path, link: str, ticked: bool, rel: str = PLAN) -> None:
    """Tick or untick a box the way a user does in Obsidian: by editing the note's text."""
    note = vault / rel
    text = note.read_text(encoding="utf-8")
    old, new = ("- [ ]", "- [x]") if ticked else ("- [x]", "- [ ]")
    assert f"{old} [[{link}]]" in text
    note.write_text(text.replace(f"{old} [[{link}]]", f"{new} [[{link}]]", 1), encoding="utf-8")


def remembered_boxes(vault: Path) -> dict[str, dict[str, bool]]:
    state = api.open_state(vault.resolve())
    try:
        data = json.loads(state.get_meta("plan_boxes") or "{}")
    finally:
        state.close()
    assert isinstance(data, dict)
    return data


def test_two_ticked_boxes_become_read_and_next_week_carries_the_third_first(demo: Path) -> None:
    first = planning.plan(demo, week=WEEK)
    links = [Path(row["note"]).stem for row in first.papers]
    assert len(links) == 3 and all(status(demo, s) == "to-read" for s in links)
    set_box(demo, links[0], True)
    set_box(demo, links[1], True)
    report = api.sync(demo)
    assert report.result.counts()["failed"] == 0
    assert [status(demo, s) for s in links] == ["read", "read", "to-read"]
    assert plan_boxes(demo) == {links[0]: True, links[1]: True, links[2]: False}
    assert remembered_boxes(demo)[WEEK] == plan_boxes(demo)
    before = tree(demo)
    api.sync(demo)  # agreement reached: nothing left to write
    assert tree(demo) == before
    nxt = planning.plan(demo, week="2026-W49")
    assert nxt.papers[0]["key"] == first.papers[2]["key"]
    assert "carried over" in nxt.papers[0]["reason"]
    assert not {row["key"] for row in nxt.papers} & {r["key"] for r in first.papers[:2]}


def test_setting_status_read_in_a_paper_note_ticks_its_box_on_the_next_sync(demo: Path) -> None:
    links = [Path(row["note"]).stem for row in planning.plan(demo, week=WEEK).papers]
    set_status(demo, links[2], "to-read", "read")
    api.sync(demo)
    assert plan_boxes(demo) == {links[0]: False, links[1]: False, links[2]: True}
    assert status(demo, links[2]) == "read"
    assert remembered_boxes(demo)[WEEK][links[2]] is True


def test_unticking_a_box_sends_the_paper_back_to_to_read(demo: Path) -> None:
    links = [Path(row["note"]).stem for row in planning.plan(demo, week=WEEK).papers]
    set_box(demo, links[0], True)
    api.sync(demo)
    assert status(demo, links[0]) == "read"
    set_box(demo, links[0], False)
    api.sync(demo)
    assert status(demo, links[0]) == "to-read"
    assert plan_boxes(demo)[links[0]] is False
    assert remembered_boxes(demo)[WEEK][links[0]] is False


def test_a_read_paper_set_back_to_to_read_in_its_note_unticks_its_box(demo: Path) -> None:
    links = [Path(row["note"]).stem for row in planning.plan(demo, week=WEEK).papers]
    set_box(demo, links[1], True)
    api.sync(demo)
    set_status(demo, links[1], "read", "to-read")
    api.sync(demo)
    assert plan_boxes(demo)[links[1]] is False
    assert status(demo, links[1]) == "to-read"


def test_the_users_text_in_the_plan_note_survives_the_box_updates(demo: Path) -> None:
    links = [Path(row["note"]).stem for row in planning.plan(demo, week=WEEK).papers]
    note = demo / PLAN
    text = note.read_text(encoding="utf-8")
    head, tail = text.split(PLAN_BEGIN, 1)
    note.write_text(head + "- [ ] my own to-do, not a paper\n\n" + PLAN_BEGIN + tail + "Done!\n")
    set_status(demo, links[0], "to-read", "read")
    api.sync(demo)
    text = note.read_text(encoding="utf-8")
    assert "- [ ] my own to-do, not a paper\n\n" + PLAN_BEGIN in text
    assert text.endswith(PLAN_END + "\nDone!\n")
    assert plan_boxes(demo)[links[0]] is True


def test_a_started_week_marks_unticked_papers_reading_when_configured(demo: Path) -> None:
    config = demo / "zotsync.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("plan:\n", "plan:\n  reading-when-started: true\n", 1))
    past = "2020-W10"  # long started, whatever day the test runs
    links = [Path(row["note"]).stem for row in planning.plan(demo, week=past).papers]
    set_box(demo, links[0], True, rel=f"Reading Plans/{past}.md")
    api.sync(demo)
    assert [status(demo, s) for s in links] == ["read", "reading", "reading"]
    assert plan_boxes(demo, f"Reading Plans/{past}.md") == {
        links[0]: True,
        links[1]: False,
        links[2]: False,
    }


def test_boxes_and_statuses_agree_with_a_zotero_database_source(
    vault: Path, make_db: Callable[..., Path]
) -> None:
    items = [
        paper("AAAA2222", "First Paper", year=2019, tags=("topic",)),
        paper("BBBB2222", "Second Paper", year=2020, tags=("topic",)),
    ]
    db = make_db(Library(ref=items[0].library, items=items))
    sync_db(vault, db)
    planning.plan(vault, week=WEEK)
    assert plan_boxes(vault) == {"First Paper": False, "Second Paper": False}
    set_box(vault, "Second Paper", True)
    set_status(vault, "First Paper", "to-read", "read")
    sync_db(vault, db)
    assert plan_boxes(vault) == {"First Paper": True, "Second Paper": True}
    assert status(vault, "First Paper") == status(vault, "Second Paper") == "read"


def test_a_tick_not_yet_synced_survives_plan_runs_and_the_next_sync_reads_it(demo: Path) -> None:
    links = [Path(row["note"]).stem for row in planning.plan(demo, week=WEEK).papers]
    set_box(demo, links[0], True)
    planning.plan(demo, week=WEEK)  # the kept plan is re-rendered
    planning.plan(demo, week="2026-W49")  # another week's plan
    assert plan_boxes(demo)[links[0]] is True
    api.sync(demo)
    assert status(demo, links[0]) == "read"
    assert plan_boxes(demo)[links[0]] is True
