"""What ``zotsync watch`` runs: the daemon loop (:mod:`zotsync.daemon`) given this vault's tasks.

The loop decides *when* to act; this module decides *what* an action is: a sync pass through
:func:`zotsync.commands.sync.sync`, the weekly plan through :func:`zotsync.commands.plan.plan`, and discovery
through :func:`zotsync.commands.keeping_up.discover`, all with the daemon already holding the vault lock.
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

from zotsync.commands.sync import SyncReport
from zotsync.commands.sync import sync as run_sync
from zotsync.config import Config
from zotsync.daemon.logs import StageClock
from zotsync.daemon.loop import Daemon, PassOutcome, Tasks
from zotsync.model import Library
from zotsync.sources import Source
from zotsync.sources.factory import make_source
from zotsync.state.db import StateDB
from zotsync.sync.engine import REFS_RETRY_SECONDS, SyncOptions
from zotsync.vault.layout import state_dir
from zotsync.workspace import SourceOptions, check_vault, configure, open_state


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


def sync_outcome(report: SyncReport) -> PassOutcome:
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
    vault: Path, config_path: Path | None, source_options: SourceOptions | None
) -> Tasks:
    """The daemon's tasks for ``vault`` (the lock is held by the daemon, not by each task)."""
    cached: dict[str, Any] = {}

    def load_config(record: bool) -> Config:
        return configure(vault, config_path, source_options if record else None)

    def state_if_any() -> StateDB | None:
        if not (state_dir(vault) / "state.sqlite").is_file():
            return None
        return open_state(vault)

    def watch_paths(config: Config) -> list[Path]:
        return make_source(config, vault).watch_paths()

    def source_for(config: Config) -> _TimedSource:
        if cached.get("config") != config:
            cached["source"] = _TimedSource(make_source(config, vault, long_lived=True))
            cached["config"] = config
        source: _TimedSource = cached["source"]
        return source

    def sync(stop: threading.Event, clock: StageClock) -> PassOutcome:
        source = source_for(load_config(False))
        source.clock = clock

        def progress(done: int, total: int) -> None:
            clock.mark("plan")  # the first call comes once the actions are decided

        try:
            report = run_sync(
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
        from zotsync.commands import plan as planning

        planning.plan(vault, week=week, config_path=config_path, hold_lock=False, today=today)

    def discover() -> None:
        from zotsync.commands import keeping_up

        keeping_up.discover(vault, config_path=config_path, hold_lock=False)

    return Tasks(load_config, state_if_any, watch_paths, sync, plan, discover)


def watch_daemon(
    vault: Path,
    *,
    config_path: Path | None = None,
    source_options: SourceOptions | None = None,
    debounce: float | None = None,
    poll: float | None = None,
    now: Callable[[], datetime] = datetime.now,
    on_pass: Callable[[Any], None] | None = None,
) -> Daemon:
    """The daemon for ``vault`` with the sync, plan and discover tasks wired in."""
    vault = check_vault(vault)
    return Daemon(
        vault,
        vault_tasks(vault, config_path, source_options),
        debounce=debounce,
        poll=poll,
        now=now,
        on_pass=on_pass,
    )
