"""Latency of the daemon: a change committed in Zotero's database → the note shows it.

Builds a Zotero 10 library (WAL) of N items with ``bench/generate.py``, a vault that syncs from
it, and starts ``zotsync watch -vv`` as a real subprocess. Once the first full sync is done, a
writer holds the database exactly like the desktop (``locking_mode=EXCLUSIVE``, WAL never
checkpointed, one connection kept open that commits each change) and commits ``--changes``
title edits, one at a time. For each, the clock runs from the commit's return to the moment the
renamed note exists with the new title in it.

The bench does not compete with the daemon for the CPU: it learns that the note appeared from
inotify (a watchdog observer on the papers folder) and blocks on an event until then, reading
the file only when the note's own name shows up. The daemon logs each pass's stage timings at
``-vv`` (``stages: event +0.000 debounce +… read +… plan +… written +…``, seconds since the
first change event of the burst); the bench collects them per change and reports their medians.

    python bench/latency.py                 # 10,000 items, 20 changes
    python bench/latency.py --items 2000 --changes 5 --workdir /tmp/lat

Prints one JSON object: ``{"items", "changes", "p50", "p95", "max", "samples", "stages", ...}``
in seconds.
The helpers here (``build``, ``start_daemon``, ``wait_for_log``) are shared with ``soak.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import fill_refs_cache
from generate import generate_library

from zotsync import api
from zotsync.refs.ids import item_ids
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db


def build(workdir: Path, n: int, seed: int = 0) -> tuple[Path, Path, list[str]]:
    """A Zotero 10 WAL database of ``n`` items and a vault configured for it; item keys."""
    library = generate_library(n, seed)
    db = make_zotero_db(workdir / "zotero" / "zotero.sqlite", library, version=10, wal=True)
    vault = workdir / "vault"
    api.init_vault(vault, api.SourceOptions(source="sqlite", zotero_db=str(db)))
    fill_refs_cache(vault, [(item_ids(i).cache_key, i.title, i.year) for i in library.items])
    return db, vault, [item.key for item in library.items]


def start_daemon(vault: Path, stderr_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    """``python -m zotsync watch --vault VAULT`` offline, its stderr kept in a file."""
    env = {**os.environ, "ZOTSYNC_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    with open(stderr_path, "ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "zotsync", "watch", "--vault", str(vault), *extra],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )


def log_path(vault: Path) -> Path:
    return vault / ".zotsync" / "zotsync.log"


def wait_for_log(vault: Path, needle: str, deadline: float, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the daemon's log holds ``needle`` (or fail if the daemon died)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"daemon exited with {proc.returncode}")
        try:
            if needle in log_path(vault).read_text(encoding="utf-8"):
                return
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"no {needle!r} in the daemon log after {deadline} s")


class NoteWatch:
    """Wait for a note to appear with a text in it, woken by inotify rather than by polling."""

    def __init__(self, folder: Path) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.folder = folder
        self.wanted: tuple[Path, str] | None = None
        self.seen_at = 0.0
        self.done = threading.Event()
        outer = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                outer._event(event)

        self.observer = Observer()
        self.observer.schedule(Handler(), str(folder), recursive=False)
        self.observer.start()

    def _event(self, event: Any) -> None:
        wanted = self.wanted
        if wanted is None or self.done.is_set():
            return
        paths = {os.fsdecode(event.src_path), os.fsdecode(getattr(event, "dest_path", "") or "")}
        if str(wanted[0]) not in paths:
            return
        try:
            if wanted[1] in wanted[0].read_text(encoding="utf-8"):
                self.seen_at = time.perf_counter()
                self.done.set()
        except (FileNotFoundError, UnicodeDecodeError):
            pass

    def expect(self, note: Path, text: str) -> None:
        """Arm the watch before the change is committed."""
        self.done.clear()
        self.wanted = (note, text)

    def wait(self, deadline: float) -> float:
        """The moment the armed note showed its text (a last direct look covers a missed event)."""
        if not self.done.wait(deadline):
            assert self.wanted is not None
            note, text = self.wanted
            return wait_for_note(note, text, 1.0)
        return self.seen_at

    def close(self) -> None:
        self.observer.stop()
        self.observer.join(5)


def wait_for_note(note: Path, text: str, deadline: float) -> float:
    """Poll (50 ms) until ``note`` exists and contains ``text``; the moment it did (soak.py)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if text in note.read_text(encoding="utf-8"):
                return time.perf_counter()
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"{note} did not show {text!r} within {deadline} s")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: one of the measured values)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def stop_daemon(proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
    proc.terminate()
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def stage_lines(log_text: str) -> list[dict[str, float]]:
    """The daemon's ``stages:`` lines (``-vv``) as ``{stage: seconds since the event}``."""
    out = []
    for line in log_text.splitlines():
        if "stages:" not in line:
            continue
        marks = line.split("stages:", 1)[1].split()
        out.append(
            {name: float(at.lstrip("+")) for name, at in zip(marks[::2], marks[1::2], strict=False)}
        )
    return out


def stages_after(log: Path, offset: int, deadline: float) -> dict[str, float]:
    """The first pass that read the source, logged after ``offset`` (looked at every 0.1 s)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with open(log, encoding="utf-8") as f:
            f.seek(offset)
            found = [c for c in stage_lines(f.read()) if "read" in c and "written" in c]
        if found:
            return found[0]
        time.sleep(0.1)
    return {}


def stage_summary(per_change: list[dict[str, float]]) -> dict[str, float]:
    """Median time of each stage since the change event, over the changes that logged it."""
    names = ["debounce", "read", "plan", "written"]
    return {
        name: round(statistics.median(v), 3)
        for name in names
        if (v := [c[name] for c in per_change if name in c])
    }


def measure(workdir: Path, n: int, changes: int, pause: float) -> dict[str, object]:
    t0 = time.perf_counter()
    db, vault, keys = build(workdir, n)
    built = time.perf_counter() - t0
    proc = start_daemon(vault, workdir / "daemon.stderr", "-vv")
    samples: list[float] = []
    per_change: list[dict[str, float]] = []
    load_start = os.getloadavg()[0]
    try:
        t1 = time.perf_counter()
        wait_for_log(vault, "sync: {", 3600, proc)
        first = time.perf_counter() - t1
        print(f"built in {built:.1f} s, first sync {first:.1f} s", file=sys.stderr, flush=True)
        time.sleep(3)  # let the indexes and the pass triggered by its own writes settle
        watch = NoteWatch(vault / "Papers")
        try:
            with hold_exclusive(db) as writer:
                for i in range(changes):
                    key = keys[(i * 487) % len(keys)]
                    title = f"Latency probe {i} of the daemon benchmark"
                    offset = log_path(vault).stat().st_size
                    watch.expect(vault / "Papers" / f"{title}.md", f"# {title}")
                    writer.set_title(key, title)
                    committed = time.perf_counter()
                    seen = watch.wait(60)
                    samples.append(seen - committed)
                    per_change.append(stages_after(log_path(vault), offset, 30))
                    time.sleep(pause)
                    print(
                        f"change {i}: {seen - committed:.3f} s, stages {per_change[-1]}",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            watch.close()
    finally:
        code = stop_daemon(proc)
    errors = sum(
        1 for line in log_path(vault).read_text(encoding="utf-8").splitlines() if " ERROR " in line
    )
    return {
        "items": n,
        "changes": changes,
        "p50": round(statistics.median(samples), 3),
        "p95": round(percentile(samples, 95), 3),
        "max": round(max(samples), 3),
        "samples": [round(s, 3) for s in samples],
        "stages": stage_summary(per_change),
        "stages_p95_written": round(
            percentile([c["written"] for c in per_change if "written" in c] or [0.0], 95), 3
        ),
        "first_sync_s": round(first, 1),
        "build_s": round(built, 1),
        "daemon_exit": code,
        "log_errors": errors,
        "load": [round(load_start, 1), round(os.getloadavg()[0], 1)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between changes")
    parser.add_argument("--workdir", type=Path, help="kept afterwards (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = measure(args.workdir, args.items, args.changes, args.pause)
    else:
        with tempfile.TemporaryDirectory(prefix="zotsync-latency-") as tmp:
            result = measure(Path(tmp), args.items, args.changes, args.pause)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
