"""The daemon logs each pass's stage timings at debug level (``-vv``), and its loop runs only
the tasks it is given (no sync of its own)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from zotsync import api
from zotsync.commands.watch import watch_daemon
from zotsync.config import Config
from zotsync.daemon.loop import Daemon, PassOutcome, Tasks
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db


def _run_until(daemon: Daemon, done: object, deadline: float = 60) -> None:
    thread = threading.Thread(target=lambda: daemon.run(install_signals=False), daemon=True)
    thread.start()
    try:
        end = time.monotonic() + deadline
        while not done() and time.monotonic() < end:  # type: ignore[operator]
            time.sleep(0.05)
    finally:
        daemon.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_a_source_change_logs_every_stage_in_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    library = sample_library()
    db = make_zotero_db(tmp_path / "Zotero" / "zotero.sqlite", library, wal=True)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(source="sqlite", zotero_db=str(db)))
    caplog.set_level(logging.DEBUG, logger="zotsync")
    daemon = watch_daemon(vault, debounce=0.1)
    key = next(i.key for i in library.items if i.item_type != "note")
    note = vault / "Papers" / "A title for the stage log.md"
    with hold_exclusive(db) as zotero_app:

        def changed() -> bool:
            if daemon.stats.passes >= 1 and not getattr(changed, "sent", False):
                time.sleep(0.5)
                zotero_app.set_title(key, "A title for the stage log")
                changed.sent = True  # type: ignore[attr-defined]
            return note.exists() and daemon.stats.passes >= 2

        _run_until(daemon, changed)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("stages:")]
    full = [line for line in lines if " read +" in line]
    assert full, lines
    names = full[-1].split()[1::2]
    assert names == ["event", "debounce", "read", "plan", "written"]
    times = [float(t) for t in full[-1].split()[2::2]]
    assert times == sorted(times) and times[0] == 0.0


def test_the_loop_runs_the_tasks_it_is_given(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    calls: list[str] = []

    def sync(stop: threading.Event, clock: object) -> PassOutcome:
        calls.append("sync")
        return PassOutcome(writes=2, counts={"created": 2})

    def plan(week: str, today: date) -> None:
        calls.append(f"plan {week}")

    tasks = Tasks(
        configure=lambda record: Config(),
        open_state=lambda: None,
        watch_paths=lambda config: [],
        sync=sync,
        plan=plan,
        discover=lambda: calls.append("discover"),
    )
    daemon = Daemon(vault, tasks, debounce=0.05)
    _run_until(daemon, lambda: daemon.stats.passes >= 1 and daemon.stats.plans_written)
    assert calls[0] == "sync" and calls[1].startswith("plan ")
    assert daemon.stats.writes >= 2 and "discover" not in calls  # weekly-discover is off
