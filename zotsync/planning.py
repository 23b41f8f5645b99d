"""Vault I/O for reading plans and index notes (the pure core is :mod:`zotsync.plan`).

The planner sees papers as :class:`~zotsync.plan.papers.PaperInfo`, built from two places: the
state DB (date added and the in-library references recorded by the last sync) and each paper
note's frontmatter (status, priority, tags — the user's values win). Frontmatter is cached in
the state DB by note signature, so a plan or index over 10,000 notes reads only the notes that
changed since the last time.

Plan and index notes are written like paper notes: only their managed region (and their own
frontmatter keys) change, atomically, and only when the text differs.
"""

from __future__ import annotations

import json
import logging
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from zotsync.config import Config
from zotsync.errors import ConfigError, NoteError, ZotsyncError
from zotsync.indexing import index, write_indexes
from zotsync.library.status import normalize_status
from zotsync.library_notes import (
    INDEX_REGION,
    PLAN_REGION,
    RegionMemory,
    live_notes,
    read_papers,
    record_library,
    vault_relative,
    write_region_note,
)
from zotsync.plan.ics import plan_calendar
from zotsync.plan.note import (
    apply_ticks,
    new_plan_note,
    parse_plan_region,
    plan_frontmatter,
    plan_region,
    set_ticks,
    unfinished_links,
)
from zotsync.plan.papers import PaperInfo, cited_by_counts
from zotsync.plan.select import Pick, PlanChoice, check_topic, select_plan
from zotsync.plan.slots import SlotConfig, schedule, slots_for_week
from zotsync.plan.weeks import default_week, normalize_week, week_has_started
from zotsync.state.db import StateDB
from zotsync.state.papers import reference_link_count
from zotsync.vault.atomic import WriteConflict, cleanup_temp_files, file_sig, write_atomic
from zotsync.vault.confine import user_named
from zotsync.vault.frontmatter import read_frontmatter
from zotsync.vault.regions import parse_note, splice_regions

log = logging.getLogger(__name__)

#: the vault I/O of plans lives here; papers and indexes are re-exported for callers
__all__ = [
    "INDEX_REGION",
    "PLAN_REGION",
    "PlanResult",
    "build_demo",
    "index",
    "plan",
    "read_papers",
    "record_library",
    "status",
    "status_updates_from_plans",
    "sync_plan_boxes",
    "vault_relative",
    "write_indexes",
    "write_region_note",
]


# -- plans -------------------------------------------------------------------------------------
def _plan_notes(vault: Path, config: Config) -> dict[str, Path]:
    """Week → plan note, for every ``<plan folder>/<ISO week>.md`` in the vault."""
    folder = vault / vault_relative(config.plan.folder, "plan.folder")
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.md")):
        try:
            out[normalize_week(path.stem)] = path
        except ZotsyncError:
            continue
    return out


class _Notes:
    """Paper notes by wikilink target (file stem) and their paths, read once per pass."""

    def __init__(self, state: StateDB, config: Config) -> None:
        self.paths = live_notes(state, config.library)
        self.stems = {
            posixpath.splitext(posixpath.basename(rel))[0]: key for key, rel in self.paths.items()
        }

    def statuses(self, vault: Path, links: Sequence[str]) -> dict[str, str]:
        """Link → the paper note's current ``status`` (links to no note are left out)."""
        out = {}
        for link in dict.fromkeys(links):
            key = self.stems.get(link)
            if key is None:
                continue
            try:
                fm = read_frontmatter((vault / self.paths[key]).read_text(encoding="utf-8"))
            except (OSError, NoteError, UnicodeDecodeError):
                continue
            out[link] = normalize_status(fm.get("status")) or "to-read"
        return out


def status_updates_from_plans(vault: Path, config: Config, state: StateDB) -> dict[str, str]:
    """Ticked boxes in plan notes → paper statuses to set in this sync (keyed by item key)."""
    notes = _plan_notes(vault, config)
    if not notes:
        return {}
    papers = _Notes(state, config)
    previous = json.loads(state.get_meta("plan_boxes") or "{}")
    out: dict[str, str] = {}
    today = date.today()
    for week, path in notes.items():
        try:
            lines = parse_plan_region(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        decision = apply_ticks(
            lines,
            papers.statuses(vault, [line.link for line in lines]),
            previous=previous.get(week),
            week_started=week_has_started(week, today),
            mark_reading=config.plan.reading_when_started,
        )
        for link, status in decision.statuses.items():
            if link in papers.stems:
                out[papers.stems[link]] = status
    return out


def sync_plan_boxes(vault: Path, config: Config, state: StateDB | None = None) -> int:
    """After a sync: make every plan note's boxes agree with the papers' statuses.

    The box states written are remembered (meta ``plan_boxes``) so the next sync can tell a
    box the user unticked from one that was never ticked. A plan note the user is editing
    right now (changed between read and write) or whose markers are broken is left for the
    next sync.
    """
    from zotsync import api

    own = state is None
    state = state or api.open_state(vault)
    try:
        papers = _Notes(state, config)
        boxes: dict[str, dict[str, bool]] = {}
        written = 0
        for week, path in _plan_notes(vault, config).items():
            sig = file_sig(path)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            parsed = parse_note(text)
            region = parsed.regions.get(PLAN_REGION)
            if region is None or parsed.problems:
                continue
            lines = parse_plan_region(region.content)
            statuses = papers.statuses(vault, [line.link for line in lines])
            want = {
                line.link: statuses[line.link] == "read" for line in lines if line.link in statuses
            }
            boxes[week] = {line.link: want.get(line.link, line.checked) for line in lines}
            new_region = set_ticks(region.content, want)
            if new_region == region.content:
                continue
            try:
                new_text = splice_regions(text, {PLAN_REGION: new_region})
                write_atomic(path, new_text.encode("utf-8"), expect=sig)
            except (WriteConflict, NoteError, OSError) as exc:
                log.warning("plan note not updated, the next sync will: %s", exc)
                boxes[week] = {line.link: line.checked for line in lines}
                continue
            written += 1
        state.set_meta("plan_boxes", json.dumps(boxes, sort_keys=True))
        return written
    finally:
        if own:
            state.close()


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
    from zotsync import api
    from zotsync.vault.lock import VaultLock

    vault = api.check_vault(vault)
    config = api.configure(vault, config_path, None)
    lock = VaultLock(vault, command="plan") if hold_lock else None
    if lock:
        lock.acquire()
    state = api.open_state(vault)
    try:
        week = normalize_week(week) if week else default_week(today or date.today())
        papers = read_papers(vault, config, state)
        if topic:
            check_topic(papers, topic)  # exit 2 with the topics, before anything is written
        by_key = {p.key: p for p in papers}
        stems = {p.link: p.key for p in papers}
        notes = _plan_notes(vault, config)
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
        _remember_boxes(state, week, region, marks)
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


def _remember_boxes(state: StateDB, week: str, region: str, marks: Mapping[str, bool]) -> None:
    """Record the plan's boxes as a sync would, so the next sync can tell an untick.

    A box that was already in the note keeps what the last sync recorded for it (the user
    may have ticked it since; only the sync decides what that means); a new line is
    recorded as rendered.
    """
    boxes = json.loads(state.get_meta("plan_boxes") or "{}")
    before = boxes.get(week) or {}
    now: dict[str, bool] = {}
    for line in parse_plan_region(region):
        if line.link not in marks:
            now[line.link] = line.checked
        elif line.link in before:
            now[line.link] = bool(before[line.link])
    boxes[week] = now
    state.set_meta("plan_boxes", json.dumps(boxes, sort_keys=True))


def status(vault: Path) -> dict[str, Any]:
    """``zotsync status --json``."""
    from zotsync import api
    from zotsync.daemon.schedule import next_plan_moment
    from zotsync.vault.lock import read_lock_info

    vault = api.check_vault(vault, existing=True)
    config = api.configure(vault, None, None)
    lock = read_lock_info(vault)
    daemon = None
    if lock and lock.get("command") == "watch":
        daemon = {"pid": lock.get("pid"), "started": lock.get("started")}
    # the daemon's next weekly run (a plan already due was written when the daemon started)
    upcoming = next_plan_moment(datetime.now(), config) if daemon else None
    state = api.open_state(vault, readonly=True)  # status creates no file
    try:
        last = state.last_run("sync")
        reasons: dict[str, int] = json.loads(state.get_meta("refs_reasons") or "{}")
        data: dict[str, Any] = {
            "daemon": daemon,
            "last_sync": last,
            "syncs_total": state.count_runs("sync"),
            "conflicts": state.count_conflicts(),
            "missing_refs": int(state.get_meta("refs_pending") or 0),
            "missing_refs_reasons": reasons,
            "lock": lock,
            "state_damaged": state.recovered[0] if state.recovered else None,
            "next_plan": default_week(upcoming.date()) if upcoming else None,
            "next_plan_at": upcoming.isoformat(timespec="minutes") if upcoming else None,
        }
        from zotsync.tag_kinds import automatic_tags_hint

        data["automatic_tags_hint"] = automatic_tags_hint(state, config)
        return data
    finally:
        state.close()


def build_demo(vault_dir: Path) -> dict[str, Any]:
    """``zotsync demo``: init + sync from the bundled library + indexes + a plan (offline)."""
    from zotsync import api

    api.init_vault(vault_dir, api.SourceOptions(source="demo"))
    report = api.sync(vault_dir)
    result = plan(vault_dir)
    state = api.open_state(vault_dir.resolve())
    try:
        links = reference_link_count(state)
    finally:
        state.close()
    counts = report.result.counts()
    return {
        "vault": str(vault_dir.resolve()),
        "notes": counts["items"],
        "created": counts["created"],
        "reference_links": links,
        "plan": result.path,
        "index_written": report.index_written,
    }
