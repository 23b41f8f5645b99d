"""Which weekly plan the daemon writes, and when (bug 13.7 of issue #11).

A daemon first started on a Sunday before ``plan.hour`` used to plan the week that was ending
that very day; the coming week's plan then picked the same papers again. It plans the coming
week instead, and only that one.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from zotsync import api
from zotsync.commands.watch import watch_daemon
from zotsync.config import Config, PlanConfig
from zotsync.daemon.schedule import due_plan_week
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import make_zotero_db

SUNDAY_AFTERNOON = datetime(2026, 11, 22, 15, 0)  # Sunday of 2026-W47, before 18:00


@pytest.mark.parametrize(
    ("now", "day", "hour", "week"),
    [
        (SUNDAY_AFTERNOON, "Sun", 18, "2026-W48"),  # W47 ends today: the coming week
        (datetime(2026, 11, 22, 0, 1), "Sun", 18, "2026-W48"),
        (datetime(2026, 11, 21, 15, 0), "Sun", 18, "2026-W47"),  # Saturday: the current week
        (datetime(2026, 11, 29, 17, 0), "Sat", 9, "2026-W49"),  # a Sunday after a Saturday plan
        (datetime(2026, 12, 27, 10, 0), "Sun", 18, "2026-W53"),  # the ending week is W52
        (datetime(2027, 1, 3, 10, 0), "Sun", 18, "2027-W01"),  # the ending week is W53
    ],
)
def test_a_week_that_ends_today_is_never_the_due_plan(
    now: datetime, day: str, hour: int, week: str
) -> None:
    assert due_plan_week(now, Config(plan=PlanConfig(day=day, hour=hour))) == week


def test_a_daemon_first_started_on_sunday_afternoon_plans_the_coming_week(
    tmp_path: Path,
) -> None:
    db = make_zotero_db(tmp_path / "Zotero" / "zotero.sqlite", sample_library(), wal=True)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(source="sqlite", zotero_db=str(db)))
    daemon = watch_daemon(vault, debounce=0.1, now=lambda: SUNDAY_AFTERNOON)
    thread = threading.Thread(target=lambda: daemon.run(install_signals=False), daemon=True)
    thread.start()
    try:
        end = time.monotonic() + 60
        while not daemon.stats.plans_written and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        daemon.stop()
        thread.join(30)
    assert daemon.stats.plans_written == ["2026-W48"]
    plans = sorted(p.name for p in (vault / "Reading Plans").glob("*.md"))
    assert plans == ["2026-W48.md"]
