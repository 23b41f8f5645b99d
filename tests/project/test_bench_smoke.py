"""The benchmark keeps working: a tiny run (200 items) end to end, and its counting helpers.

No timing is asserted (the machine may be busy); only that every figure is produced, that the
no-op re-sync really wrote nothing, that the floor wrote what the sync wrote, and that the
report lands between its markers without touching the hand-written text around it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from common import BEGIN, END, files_written, splice_report, tree_signature  # noqa: E402

from zotsync.sources.sqlite_rows import iso_time, parse_position  # noqa: E402


def test_tiny_benchmark_run_reports_every_figure(tmp_path: Path) -> None:
    report = tmp_path / "performance.md"
    report.write_text("# Performance\n\nHand-written analysis.\n")
    raw = tmp_path / "bench.json"
    env = {**os.environ, "ZOTSYNC_OFFLINE": "1"}
    argv = [sys.executable, str(BENCH / "run.py"), "--sizes", "200", "--refs-n", "200"]
    argv += ["--web-n", "200", "--workdir", str(tmp_path / "work"), "--out", str(report)]
    done = subprocess.run(
        [*argv, "--json", str(raw)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads(raw.read_text())
    (size,) = results["sizes"]
    assert size["first"]["summary"]["created"] == 200
    assert size["first"]["summary"]["failed"] == 0
    assert size["first"]["rss_mb"] > 0
    assert size["noop"]["summary"]["unchanged"] == 200
    assert size["noop"]["files_written"] == 0
    assert size["floor"]["files"] >= 200  # every note, plus index notes and the config
    assert size["floor"]["rows"] > 200
    assert size["ratio"] > 0 and size["ratio_durable"] > 0
    assert results["refs"]["n"] == 200 and results["refs"]["seconds"] >= 0
    web = results["web"]
    assert web["unchanged_requests"] == 1  # If-Modified-Since-Version -> 304
    assert 1 < web["edit_requests"] <= 5  # versions, collections, one batch, deleted

    text = report.read_text()
    assert text.startswith("# Performance\n\nHand-written analysis.\n")
    assert BEGIN in text and END in text
    assert "| 200 |" in text
    assert results["machine"]["cpu"] in text


def test_files_written_counts_new_changed_and_removed_files_outside_state(
    tmp_path: Path,
) -> None:
    (tmp_path / ".zotsync").mkdir()
    (tmp_path / "Papers").mkdir()
    (tmp_path / "Papers" / "A.md").write_text("a")
    (tmp_path / "Papers" / "B.md").write_text("b")
    (tmp_path / ".zotsync" / "state.sqlite").write_text("s")
    before = tree_signature(tmp_path)
    assert set(before) == {"Papers/A.md", "Papers/B.md"}

    (tmp_path / ".zotsync" / "state.sqlite").write_text("state changes do not count")
    assert files_written(before, tree_signature(tmp_path)) == 0
    (tmp_path / "Papers" / "A.md").write_text("a, longer")
    (tmp_path / "Papers" / "B.md").unlink()
    (tmp_path / "Papers" / "C.md").write_text("c")
    assert files_written(before, tree_signature(tmp_path)) == 3


def test_report_is_replaced_between_markers_and_kept_around_them() -> None:
    first = splice_report("# Perf\n\nintro\n", "figures one\n")
    assert first.startswith("# Perf\n\nintro\n") and "figures one" in first
    second = splice_report(first + "\n## Analysis\nkept\n", "figures two\n")
    assert "figures one" not in second and "figures two" in second
    assert second.startswith("# Perf\n\nintro\n") and second.endswith("## Analysis\nkept\n")
    assert splice_report(None, "x\n").startswith("# Performance\n")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            '{"pageIndex": 3, "rects": [[1.5, 2, 3, 4]]}',
            {"pageIndex": 3, "rects": [[1.5, 2, 3, 4]]},
        ),
        (' \n{"pageIndex": 0}', {"pageIndex": 0}),  # leading whitespace: the full decoder
        ('{"pageIndex": 1} ', {"pageIndex": 1}),  # trailing whitespace
        (b'{"type": "FragmentSelector"}', {"type": "FragmentSelector"}),
        ('{"pageIndex": 1} junk', {}),
        ("[1, 2]", {}),
        ("not json", {}),
        ("", {}),
        (None, {}),
    ],
)
def test_annotation_position_fast_path_agrees_with_the_json_module(
    raw: object, expected: dict[str, object]
) -> None:
    assert parse_position(raw) == expected


def test_sql_timestamps_become_iso_and_anything_else_passes_through() -> None:
    assert iso_time("2024-05-06 07:08:09") == "2024-05-06T07:08:09Z"
    assert iso_time("2024-05-06T07:08:09Z") == "2024-05-06T07:08:09Z"
    assert iso_time("2024 05-06 07:08:0") == "2024 05-06 07:08:0"
    assert iso_time(None) == ""
