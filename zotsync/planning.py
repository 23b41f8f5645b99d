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
import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from zotsync.config import Config
from zotsync.errors import ConfigError, NoteError, ZotsyncError
from zotsync.model import Library
from zotsync.plan.ics import plan_calendar
from zotsync.plan.index import (
    collection_index,
    empty_region,
    is_pristine,
    master_index,
    new_index_note,
    note_title,
    tag_index,
)
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
from zotsync.plan.select import Pick, PlanChoice, select_plan
from zotsync.plan.slots import SlotConfig, schedule, slots_for_week
from zotsync.plan.status import frontmatter_meta, normalize_status
from zotsync.plan.weeks import default_week, normalize_week, week_has_started
from zotsync.refs.resolve import RefGraph
from zotsync.state.db import StateDB
from zotsync.sync.context import Placement
from zotsync.vault.atomic import WriteConflict, file_sig, write_atomic
from zotsync.vault.frontmatter import read_frontmatter, splice_frontmatter
from zotsync.vault.regions import parse_note, region_block, splice_regions

log = logging.getLogger(__name__)

PLAN_REGION = "plan"
INDEX_REGION = "index"


# -- papers ------------------------------------------------------------------------------------
def record_library(
    state: StateDB,
    library_label: str,
    library: Library,
    graph: RefGraph | None,
    written: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Remember date added and in-library references per item for plans and indexes.

    Only rows that differ are written (the daemon calls this after every pass over 10,000+
    items). ``written`` maps keys of notes created in this run to ``(signature, meta JSON)``,
    so their frontmatter need not be read back from disk.
    """
    old = {
        key: (added, refs)
        for key, added, refs in state.conn.execute(
            "SELECT key, date_added, refs FROM papers WHERE library = ?", (library_label,)
        )
    }
    rows = []
    for item in library.items:
        refs: list[str] = []
        if graph is not None and item.key in graph.items:
            refs = graph.items[item.key].in_library
        row = (item.date_added, json.dumps(refs))
        if old.pop(item.key, None) != row:
            rows.append((library_label, item.key, *row))
    with state.transaction():
        state.conn.executemany(
            "DELETE FROM papers WHERE library = ? AND key = ?", [(library_label, k) for k in old]
        )
        state.conn.executemany(
            "INSERT INTO papers (library, key, date_added, refs) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(library, key) DO UPDATE SET date_added = excluded.date_added, "
            "refs = excluded.refs",
            rows,
        )
        if written:
            state.conn.executemany(
                "UPDATE papers SET note_sig = ?, note_meta = ? WHERE library = ? AND key = ?",
                [(sig, meta, library_label, key) for key, (sig, meta) in written.items()],
            )


def _note_meta(text: str) -> dict[str, Any]:
    return frontmatter_meta(read_frontmatter(text))


def _live_notes(state: StateDB, label: str) -> dict[str, str]:
    """Item key → vault-relative note path, for every item whose note zotsync keeps.

    One light query instead of :meth:`StateDB.load_items`, which decodes every item's
    hashes: plans and indexes run after each sync, over libraries of 10,000+ items.
    """
    return {
        key: path
        for key, path in state.conn.execute(
            "SELECT key, path FROM items WHERE library = ? AND path IS NOT NULL "
            "AND path != '' AND deleted = 0 AND tombstone = 0",
            (label,),
        )
    }


def read_papers(vault: Path, config: Config, state: StateDB) -> list[PaperInfo]:
    """Every live paper note as the planner sees it (frontmatter cached by signature)."""
    label = config.library
    rows = state.conn.execute(
        "SELECT i.key, i.path, i.title, p.date_added, p.refs, p.note_sig, p.note_meta "
        "FROM items i JOIN papers p ON p.library = i.library AND p.key = i.key "
        "WHERE i.library = ? AND i.path IS NOT NULL AND i.path != '' "
        "AND i.deleted = 0 AND i.tombstone = 0",
        (label,),
    ).fetchall()
    root = str(vault)
    papers: list[PaperInfo] = []
    updates = []
    for key, rel, item_title, date_added, refs, note_sig, note_meta in rows:
        path = os.path.join(root, rel)
        try:
            st = os.stat(path)
        except OSError:
            continue  # the user deleted the note since the last sync
        sig_text = f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"
        if note_sig == sig_text and note_meta:
            meta = json.loads(note_meta)
        else:
            try:
                with open(path, encoding="utf-8") as handle:
                    meta = _note_meta(handle.read())
            except (NoteError, OSError, UnicodeDecodeError):
                continue
            updates.append((sig_text, json.dumps(meta), label, key))
        papers.append(
            PaperInfo(
                key=key,
                title=meta["title"] or item_title or key,
                link=posixpath.splitext(posixpath.basename(rel))[0],
                path=rel,
                status=meta["status"],
                priority=meta["priority"],
                tags=tuple(meta["tags"]),
                collections=tuple(meta["collections"]),
                year=meta["year"],
                date_added=date_added or "",
                references=tuple(json.loads(refs)),
            )
        )
    if updates:
        with state.transaction():
            state.conn.executemany(
                "UPDATE papers SET note_sig = ?, note_meta = ? WHERE library = ? AND key = ?",
                updates,
            )
    papers.sort(key=lambda p: p.key)
    return papers


# -- writing managed notes ---------------------------------------------------------------------
def write_region_note(
    vault: Path,
    rel: str,
    region_name: str,
    content: str,
    new_text: str,
    frontmatter: Mapping[str, Any] | None = None,
) -> bool:
    """Create ``rel`` with ``new_text``, or splice ``content`` into its region. True if written."""
    path = vault / rel
    sig = file_sig(path)
    if sig is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, new_text.encode("utf-8"), expect=None)
        return True
    text = path.read_text(encoding="utf-8")
    if _region_unchanged(text, region_name, content) and not (
        frontmatter and _frontmatter_changes(text, frontmatter)
    ):
        return False  # the common case after every sync: no full parse of a big note
    parsed = parse_note(text)
    if parsed.problems:
        raise NoteError(
            f"{rel}: managed region markers are broken", fix="restore them or delete the note"
        )
    if region_name in parsed.regions:
        new = splice_regions(text, {region_name: content})
    else:
        new = text.rstrip("\n") + "\n\n" + region_block(region_name, content)
    if frontmatter:
        changes = _frontmatter_changes(new, frontmatter)
        if changes:
            new = splice_frontmatter(new, changes)
    if new == text:
        return False
    write_atomic(path, new.encode("utf-8"), expect=sig)
    return True


def _region_unchanged(text: str, name: str, content: str) -> bool:
    """True if ``text`` has exactly one zotsync region, ``name``, already holding ``content``."""
    if text.count("zotsync:begin") != 1 or text.count("zotsync:end") != 1:
        return False
    block = region_block(name, content)
    return text.startswith(block) or "\n" + block in text


def _frontmatter_changes(text: str, wanted: Mapping[str, Any]) -> dict[str, Any]:
    existing = read_frontmatter(text)
    return {k: v for k, v in wanted.items() if existing.get(k) != v}


# -- indexes -----------------------------------------------------------------------------------
def write_indexes(
    vault: Path,
    config: Config,
    state: StateDB,
    library: Library | None = None,
    graph: RefGraph | None = None,
    placements: Mapping[str, Placement] | None = None,
) -> int:
    """Write tag, collection and master index notes; return how many files were written.

    Every note is tried even when one fails (its markers broken by hand, a full disk); the
    failures are then raised together as one :class:`NoteError` (exit 1, partial), after
    the notes that could be written were. A note whose tag or collection is gone is moved
    to ``.zotsync/trash/index/`` when it is exactly what zotsync wrote, else its region
    says so.
    """
    if library is not None:
        record_library(state, config.library, library, graph)
    tags_folder = vault_relative(config.index.tags_folder, "index.tags-folder")
    colls_folder = vault_relative(config.index.collections_folder, "index.collections-folder")
    master = vault_relative(config.index.master, "index.master")
    papers = read_papers(vault, config, state)
    notes = [(n.path, n.title, n.region) for n in tag_index(papers, tags_folder)]
    notes += [(n.path, n.title, n.region) for n in collection_index(papers, colls_folder)]
    group_by: Literal["tag", "collection"] = (
        "tag" if config.index.group_by == "tag" else "collection"
    )
    notes.append((master, "Papers", master_index(papers, group_by=group_by)))
    written = 0
    current = set()
    failed: list[str] = []
    for rel, title, region in notes:
        current.add(rel)
        try:
            if write_region_note(vault, rel, INDEX_REGION, region, new_index_note(title, region)):
                written += 1
        except (NoteError, OSError) as exc:
            failed.append(f"{rel}: {getattr(exc, 'message', None) or exc}")
    previous = {r[0] for r in state.conn.execute("SELECT path FROM files WHERE kind = 'index'")}
    for rel in sorted(previous - current):
        try:
            if _retire_index_note(vault, rel, colls_folder):
                written += 1
        except (NoteError, OSError) as exc:
            current.add(rel)  # try again next time
            failed.append(f"{rel}: {getattr(exc, 'message', None) or exc}")
    with state.transaction():
        state.conn.execute("DELETE FROM files WHERE kind = 'index'")
        state.conn.executemany(
            "INSERT OR REPLACE INTO files (path, kind) VALUES (?, 'index')", [(p,) for p in current]
        )
    if failed:
        for line in failed:
            log.warning("index note not updated: %s", line)
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        raise NoteError(
            f"{len(failed)} index note{'s' if len(failed) != 1 else ''} not updated: "
            + "; ".join(failed[:3])
            + more,
            fix="repair or delete those notes (they are rebuilt), free disk space, "
            "then run `zotsync index`",
        )
    return written


def vault_relative(rel: str, setting: str) -> str:
    """A configured vault path as ``a/b``; refuses one that would lead out of the vault."""
    text = rel.replace("\\", "/").strip()
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or text.startswith("/") or ".." in parts or ":" in parts[0]:
        raise ConfigError([f"{setting}: '{rel}' must be a path inside the vault"])
    return "/".join(parts)


def _retire_index_note(vault: Path, rel: str, colls_folder: str) -> bool:
    """The tag or collection of ``rel`` is gone: trash a pristine note, else mark it empty."""
    path = vault / rel
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return False  # the user deleted (or replaced) it: nothing to retire
    title = note_title(text)
    if title is not None and is_pristine(text, title):
        trash = vault / ".zotsync" / "trash" / "index" / rel
        trash.parent.mkdir(parents=True, exist_ok=True)
        path.replace(trash)
        return True
    name = title or Path(rel).stem
    kind: Literal["tag", "collection"] = (
        "collection" if rel.startswith(colls_folder + "/") else "tag"
    )
    return write_region_note(vault, rel, INDEX_REGION, empty_region(name, kind), "")


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
        self.paths = _live_notes(state, config.library)
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
        by_key = {p.key: p for p in papers}
        stems = {p.link: p.key for p in papers}
        notes = _plan_notes(vault, config)
        rel = f"{vault_relative(config.plan.folder, 'plan.folder')}/{week}.md"
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
        try:
            result.written = write_region_note(
                vault, rel, PLAN_REGION, region, new_plan_note(week, region, fm), fm
            )
        except OSError as exc:
            raise NoteError(f"cannot write {rel}: {exc}", fix="check the disk, then rerun") from exc
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


def index(vault: Path, *, config_path: Path | None = None) -> int:
    """``zotsync index``: write the index notes from the last sync's data."""
    from zotsync import api
    from zotsync.vault.lock import VaultLock

    vault = api.check_vault(vault)
    config = api.configure(vault, config_path, None)
    with VaultLock(vault, command="index"):
        state = api.open_state(vault)
        try:
            return write_indexes(vault, config, state)
        finally:
            state.close()


def status(vault: Path) -> dict[str, Any]:
    """``zotsync status --json``."""
    from zotsync import api
    from zotsync.vault.lock import read_lock_info
    from zotsync.watch import next_plan_moment

    vault = api.check_vault(vault)
    config = api.configure(vault, None, None)
    lock = read_lock_info(vault)
    daemon = None
    if lock and lock.get("command") == "watch":
        daemon = {"pid": lock.get("pid"), "started": lock.get("started")}
    # the daemon's next weekly run (a plan already due was written when the daemon started)
    upcoming = next_plan_moment(datetime.now(), config) if daemon else None
    state = api.open_state(vault)
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
            "next_plan": default_week(upcoming.date()) if upcoming else None,
            "next_plan_at": upcoming.isoformat(timespec="minutes") if upcoming else None,
        }
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
        links = sum(len(json.loads(r[0])) for r in state.conn.execute("SELECT refs FROM papers"))
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
