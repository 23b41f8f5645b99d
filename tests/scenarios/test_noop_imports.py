"""A no-op sync imports only what it needs (issue 14: the no-op must stay under half a second).

The template engine, the HTTP stack, the arXiv client, the watcher, the calendar writer and the
render workers' process machinery are imported when a pass renders, fetches, watches, writes a
calendar or forks, never by a sync that finds nothing to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from zotsync import api

HEAVY = [
    "jinja2",
    "httpx",
    "arxiv",
    "watchdog",
    "icalendar",
    "multiprocessing",
    "concurrent.futures.process",
]

PROBE = """
import json, runpy, sys
sys.argv = ["zotsync", "sync", "--vault", sys.argv[1], "--no-refs", "-q", "--json"]
try:
    runpy.run_module("zotsync", run_name="__main__")
except SystemExit as exc:
    code = exc.code
heavy = json.loads(sys.stdin.read())
print(json.dumps({"code": code, "imported": [m for m in heavy if m in sys.modules]}))
"""


def sync_reporting_imports(vault: Path) -> tuple[dict[str, object], list[str]]:
    """One ``zotsync sync`` in a fresh interpreter: its JSON summary and the heavy modules it
    imported."""
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(vault)],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        env={**os.environ, "ZOTSYNC_OFFLINE": "1"},
        timeout=120,
        check=False,
    )
    lines = run.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    assert report["code"] in (0, None), run.stderr
    return json.loads(lines[-2]), report["imported"]


def test_a_noop_sync_leaves_the_heavy_modules_unimported(
    tmp_path: Path, make_db: Callable[..., Path]
) -> None:
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(make_db())))
    first, imported = sync_reporting_imports(vault)
    assert first["created"] == 3 and "jinja2" in imported  # the probe sees real imports
    again, imported = sync_reporting_imports(vault)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert imported == []
