"""What ``zotsync watch`` runs: the daemon loop (:mod:`zotsync.daemon`) given this vault's tasks.

The loop decides *when* to act; this module decides *what* an action is: a sync pass through
:func:`zotsync.api.sync`, the weekly plan through :func:`zotsync.planning.plan`, and discovery
through :func:`zotsync.keeping_up.discover`, all with the daemon already holding the vault lock.
The source object is kept across passes (re-made only when the configuration changes), so a
source that remembers what it read can read only what moved; a timing wrapper around it marks
the ``read`` stage for the ``-vv`` stage log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from zotsync import api
from zotsync.config import Config
from zotsync.daemon.logs import StageClock
from zotsync.daemon.loop import Daemon, PassOutcome, Tasks
from zotsync.model import Library
from zotsync.sources import Source
from zotsync.state.db import StateDB
from zotsync.sync.engine import REFS_RETRY_SECONDS, SyncOptions


class _TimedSource:
    """``inner`` unchanged, but each ``read()`` marks the ``read`` stage on the pass's clock."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name
        self.clock: StageClock | None = None

    def read(self) -> Library:
        library = self.inner.read()
        if self.clock is not None:
            self.clock.mark("read")
        return library

    def watch_paths(self) -> list[Path]:
        return self.inner.watch_paths()

    def __getattr__(self, name: str) -> Any:  # anything else a source offers (incremental reads)
        attr = getattr(self.inner, name)  # AttributeError when the source has no such thing
        if name != "read_changes":
            return attr

        def read_changes(*args: Any, **kwargs: Any) -> Any:
            delta = attr(*args, **kwargs)
            if self.clock is not None:
                self.clock.mark("read")
            return delta

        return read_changes


def sync_outcome(report: api.SyncReport) -> PassOutcome:
    """The loop's view of a sync report: how many files were written, counts, errors."""
    result = report.result
    counts = result.counts()
    writes = (
        counts["created"]
        + counts["updated"]
        + counts["renamed"]
        + counts["trashed"]
        + counts["adopted"]
        + report.index_written
        + report.plan_updates
    )
    return PassOutcome(
        writes=writes,
        counts=None if result.short_circuit else counts,
        errors=[*result.errors, *(f"ambiguous: {a['message']}" for a in result.ambiguous)],
        report=report,
    )


def vault_tasks(
    vault: Path, config_path: Path | None, source_options: api.SourceOptions | None
) -> Tasks:
    """The daemon's tasks for ``vault`` (the lock is held by the daemon, not by each task)."""
    cached: dict[str, Any] = {}

    def configure(record: bool) -> Config:
        return api.configure(vault, config_path, source_options if record else None)

    def open_state() -> StateDB | None:
        if not (api.state_dir(vault) / "state.sqlite").is_file():
            return None
        return api.open_state(vault)

    def watch_paths(config: Config) -> list[Path]:
        return api.make_source(config, vault).watch_paths()

    def source_for(config: Config) -> _TimedSource:
        if cached.get("config") != config:
            cached["source"] = _TimedSource(api.make_source(config, vault))
            cached["config"] = config
        source: _TimedSource = cached["source"]
        return source

    def sync(stop: threading.Event, clock: StageClock) -> PassOutcome:
        source = source_for(configure(False))
        source.clock = clock

        def progress(done: int, total: int) -> None:
            clock.mark("plan")  # the first call comes once the actions are decided

        try:
            report = api.sync(
                vault,
                config_path=config_path,
                options=SyncOptions(refs_retry_seconds=REFS_RETRY_SECONDS),
                hold_lock=False,
                stop=stop,
                source=source,
                progress=progress,
            )
        finally:
            source.clock = None
        return sync_outcome(report)

    def plan(week: str, today: date) -> None:
        from zotsync import planning

        planning.plan(vault, week=week, config_path=config_path, hold_lock=False, today=today)

    def discover() -> None:
        from zotsync import keeping_up

        keeping_up.discover(vault, config_path=config_path, hold_lock=False)

    return Tasks(configure, open_state, watch_paths, sync, plan, discover)


def watch_daemon(
    vault: Path,
    *,
    config_path: Path | None = None,
    source_options: api.SourceOptions | None = None,
    debounce: float | None = None,
    poll: float | None = None,
    now: Callable[[], datetime] = datetime.now,
    on_pass: Callable[[Any], None] | None = None,
) -> Daemon:
    """The daemon for ``vault`` with the sync, plan and discover tasks wired in."""
    vault = api.check_vault(vault)
    return Daemon(
        vault,
        vault_tasks(vault, config_path, source_options),
        debounce=debounce,
        poll=poll,
        now=now,
        on_pass=on_pass,
    )
