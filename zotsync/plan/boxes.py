"""Plan checkboxes and paper statuses, kept in agreement (vault I/O of the plan notes).

A ticked box marks its paper ``read`` on the next sync (:func:`status_updates_from_plans`),
and after each sync every plan note's boxes are set from the papers' statuses
(:func:`sync_plan_boxes`). The box states written are remembered, so the next sync tells a box
the user unticked from one that was never ticked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

from zotsync.config import Config
from zotsync.errors import NoteError, ZotsyncError
from zotsync.library.status import normalize_status
from zotsync.library.weeks import normalize_week, week_has_started
from zotsync.library_notes import (
    PLAN_REGION,
    live_notes,
    vault_relative,
)
from zotsync.plan.note import (
    apply_ticks,
    parse_plan_region,
    set_ticks,
)
from zotsync.state.db import StateDB
from zotsync.vault.atomic import WriteConflict, file_sig, write_atomic
from zotsync.vault.frontmatter import read_frontmatter
from zotsync.vault.regions import parse_note, splice_regions

log = logging.getLogger(__name__)


# -- plans -------------------------------------------------------------------------------------
def plan_notes(vault: Path, config: Config) -> dict[str, Path]:
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
    """Paper notes by wikilink target (file stem) and their paths, read once per pass, and
    only when a plan note names one (a daemon pass on a library without plans skips it)."""

    def __init__(self, state: StateDB, config: Config) -> None:
        self._state, self._library = state, config.library

    @cached_property
    def paths(self) -> dict[str, str]:
        return live_notes(self._state, self._library)

    @cached_property
    def stems(self) -> dict[str, str]:
        # ``Papers/A b.md`` -> ``A b``: a plain split (posixpath costs 2 µs a note, per pass)
        return {rel.rpartition("/")[2].removesuffix(".md"): k for k, rel in self.paths.items()}

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
    notes = plan_notes(vault, config)
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


def sync_plan_boxes(vault: Path, config: Config, state: StateDB) -> int:
    """After a sync: make every plan note's boxes agree with the papers' statuses.

    The box states written are remembered (meta ``plan_boxes``) so the next sync can tell a
    box the user unticked from one that was never ticked. A plan note the user is editing
    right now (changed between read and write) or whose markers are broken is left for the
    next sync.
    """
    papers = _Notes(state, config)
    boxes: dict[str, dict[str, bool]] = {}
    written = 0
    for week, path in plan_notes(vault, config).items():
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
        want = {line.link: statuses[line.link] == "read" for line in lines if line.link in statuses}
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


def remember_boxes(state: StateDB, week: str, region: str, marks: Mapping[str, bool]) -> None:
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
