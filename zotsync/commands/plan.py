"""``zotsync plan``: choose, schedule and write a week's reading plan (core: :mod:`zotsync.plan`).

The planner sees papers as :class:`~zotsync.library.papers.PaperInfo`, built from two places: the
state DB (date added and the in-library references recorded by the last sync) and each paper
note's frontmatter (status, priority, tags — the user's values win). Frontmatter is cached in
the state DB by note signature, so a plan or index over 10,000 notes reads only the notes that
changed since the last time.

Plan and index notes are written like paper notes: only their managed region (and their own
frontmatter keys) change, atomically, and only when the text differs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from zotsync.config import Config
from zotsync.errors import ConfigError, NoteError
from zotsync.library.papers import PaperInfo, cited_by_counts
from zotsync.library.weeks import default_week, normalize_week
from zotsync.library_notes import (
    PLAN_REGION,
    RegionMemory,
    read_papers,
    vault_relative,
    write_region_note,
)
from zotsync.plan.boxes import plan_notes, remember_boxes
from zotsync.plan.ics import plan_calendar
from zotsync.plan.note import (
    new_plan_note,
    parse_plan_region,
    plan_frontmatter,
    plan_region,
    set_ticks,
    unfinished_links,
)
from zotsync.plan.select import Pick, PlanChoice, check_topic, select_plan
from zotsync.plan.slots import SlotConfig, schedule, slots_for_week
from zotsync.vault.atomic import cleanup_temp_files, file_sig, write_atomic
from zotsync.vault.confine import user_named
from zotsync.vault.frontmatter import read_frontmatter

log = logging.getLogger(__name__)


@dataclass
class PlanResult:
    """``plan --json``: week, note path and the papers with slots."""

    week: str
    path: str
    papers: list[dict[str, Any]] = field(default_factory=list)
    topic: str | None = None
    filled_from: list[str] = field(default_factory=list)
    explain: list[str] = field(default_factory=list)
    written: bool = False
    kept: bool = False
    ics: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "path": self.path,
            "papers": self.papers,
            "topic": self.topic,
            "filled_from": self.filled_from,
        }


def _slot_config(config: Config) -> SlotConfig:
    return SlotConfig(
        days=tuple(config.plan.slots.days),
        time=config.plan.slots.time,
        minutes=config.plan.slots.minutes,
        tz=config.plan.timezone,
    )


def _existing_choice(
    text: str, stems: Mapping[str, str], by_key: Mapping[str, PaperInfo]
) -> PlanChoice | None:
    lines = parse_plan_region(text)
    picks = [
        Pick(stems[line.link], line.reason or "planned", topic=None)
        for line in lines
        if line.link in stems and stems[line.link] in by_key
    ]
    if not picks:
        return None
    fm = read_frontmatter(text)
    topic = fm.get("topic") if isinstance(fm.get("topic"), str) else None
    filled = fm.get("filled-from")
    filled_from = [str(t) for t in filled] if isinstance(filled, list) else []
    return PlanChoice(topic=topic, picks=picks, filled_from=filled_from)


def plan(
    vault: Path,
    *,
    week: str | None = None,
    count: int | None = None,
    topic: str | None = None,
    force: bool = False,
    ics: Path | None = None,
    config_path: Path | None = None,
    hold_lock: bool = True,
    today: date | None = None,
) -> PlanResult:
    """Write (or keep) the reading plan of ``week`` (PRODUCT: ``zotsync plan``)."""
    from zotsync.vault.lock import VaultLock
    from zotsync.workspace import check_vault, configure, open_state

    vault = check_vault(vault)
    config = configure(vault, config_path, None)
    lock = VaultLock(vault, command="plan") if hold_lock else None
    if lock:
        lock.acquire()
    state = open_state(vault)
    try:
        week = normalize_week(week) if week else default_week(today or date.today())
        papers = read_papers(vault, config, state)
        if topic:
            check_topic(papers, topic)  # exit 2 with the topics, before anything is written
        by_key = {p.key: p for p in papers}
        stems = {p.link: p.key for p in papers}
        notes = plan_notes(vault, config)
        rel = f"{vault_relative(config.plan.folder, 'plan.folder')}/{week}.md"
        cleanup_temp_files((vault / rel).parent)  # left by a killed run
        result = PlanResult(week=week, path=rel)
        choice = None
        old_text = notes[week].read_text(encoding="utf-8") if week in notes else ""
        if old_text and not force:
            choice = _existing_choice(old_text, stems, by_key)
            result.kept = choice is not None
        if choice is None:
            carried: list[str] = []
            last_topic = None
            for other, path in notes.items():
                if other >= week:
                    continue
                text = path.read_text(encoding="utf-8")
                for link in unfinished_links(parse_plan_region(text)):
                    key = stems.get(link)
                    if key and by_key[key].status in ("to-read", "reading") and key not in carried:
                        carried.append(key)
                fm_topic = read_frontmatter(text).get("topic")
                last_topic = fm_topic if isinstance(fm_topic, str) else last_topic
            choice = select_plan(
                papers,
                count=count or config.plan.count,
                topic=topic,
                last_topic=last_topic,
                carried=carried,
                cited_by_count=cited_by_counts(papers),
            )
        slots = slots_for_week(week, _slot_config(config), count=max(1, len(choice.picks)))
        rows = schedule(choice, by_key, slots)
        # boxes are the user's until a sync reconciles them: a tick not yet synced must stay
        marks = {line.link: line.checked for line in parse_plan_region(old_text)}
        region = set_ticks(plan_region(choice, by_key, slots, week), marks)
        fm = plan_frontmatter(week, choice.topic, choice.filled_from)
        memory = RegionMemory(state)
        try:
            result.written = write_region_note(
                vault, rel, PLAN_REGION, region, new_plan_note(week, region, fm), fm, memory
            )
        except OSError as exc:
            raise NoteError(f"cannot write {rel}: {exc}", fix="check the disk, then rerun") from exc
        memory.save()
        remember_boxes(state, week, region, marks)
        result.topic = choice.topic
        result.filled_from = list(choice.filled_from)
        result.papers = [row.as_json() for row in rows]
        if result.kept:
            result.explain = [f"kept the picks already in {rel} (--force picks again)"] + [
                f"{by_key[p.key].title}: {p.reason}" for p in choice.picks
            ]
        else:
            result.explain = list(choice.explain)
        if ics is not None:
            data = plan_calendar(week, rows, vault.name, plan_path=rel)
            target = ics if ics.is_absolute() else Path.cwd() / ics
            try:
                if not target.exists() or target.read_bytes() != data:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with user_named(target):  # the user's own file, maybe outside
                        write_atomic(target, data, expect=file_sig(target))
            except OSError as exc:
                raise ConfigError([f"--ics {ics}: cannot write the calendar ({exc})"]) from exc
            result.ics = str(target)
        return result
    finally:
        state.close()
        if lock:
            lock.release()
