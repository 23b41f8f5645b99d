"""The bbt-json and daemon parts of the benchmark keep working (tiny sizes, no timing asserted).

``bench_bbt`` builds a BBT JSON export, syncs a vault from it in a child and measures both floors
on the same bytes; the latency bench reads the daemon's ``-vv`` stage lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from common import render_report  # noqa: E402
from latency import stage_lines, stage_summary  # noqa: E402
from run import bench_bbt  # noqa: E402


def test_bbt_first_sync_is_measured_against_both_floors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTSYNC_OFFLINE", "1")
    result = bench_bbt(tmp_path / "bbt", 120, 0)
    assert result["n"] == 120 and result["export_mb"] > 0
    assert result["first"]["rss_mb"] > 0 and result["first"]["seconds"] > 0
    floor = result["floor"]
    assert floor["rows"] == 120  # the floor json.load-ed the same export
    assert floor["files"] >= 120  # and wrote every note the sync wrote
    assert floor["floor_s"] > 0 and floor["durable_floor_s"] > 0
    assert result["ratio"] > 0 and result["ratio_durable"] > 0
    report = render_report(
        {
            "machine": {"nproc": "2", "cpu": "x", "python": "3", "os": "y", "load": "0"},
            "started": "now",
            "bbt": result,
        }
    )
    assert "bbt-json" in report and "≤ 250 MB" in report


def test_stage_lines_are_read_from_the_daemon_log() -> None:
    log = (
        "2026-12-06 05:00:00,000 DEBUG zotsync.commands.watch: stages: event +0.000 debounce +0.201 "
        "read +0.402 plan +0.500 written +0.800\n"
        "2026-12-06 05:00:01,000 INFO zotsync.commands.watch: sync: {}\n"
        "2026-12-06 05:00:02,000 DEBUG zotsync.commands.watch: stages: event +0.000 debounce +0.301 "
        "written +0.350\n"
    )
    lines = stage_lines(log)
    assert lines == [
        {"event": 0.0, "debounce": 0.201, "read": 0.402, "plan": 0.5, "written": 0.8},
        {"event": 0.0, "debounce": 0.301, "written": 0.35},
    ]
    assert stage_summary(lines) == {"debounce": 0.251, "read": 0.402, "plan": 0.5, "written": 0.575}
