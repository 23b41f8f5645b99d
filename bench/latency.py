"""Latency of the daemon: a change committed in Zotero's database → the note shows it.

Builds a Zotero 10 library (WAL) of N items with ``bench/generate.py``, a vault that syncs from
it, and starts ``zotsync watch`` as a real subprocess. Once the first full sync is done, a writer
holds the database exactly like the desktop (``locking_mode=EXCLUSIVE``, WAL never checkpointed)
and commits ``--changes`` title edits, one at a time. For each, the clock runs from the commit's
return to the moment the renamed note exists with the new title in it.

    python bench/latency.py                 # 10,000 items, 20 changes
    python bench/latency.py --items 2000 --changes 5 --workdir /tmp/lat

Prints one JSON object: ``{"items", "changes", "p50", "p95", "max", "samples", ...}`` in seconds.
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_library

from zotsync import api
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db


def build(workdir: Path, n: int, seed: int = 0) -> tuple[Path, Path, list[str]]:
    """A Zotero 10 WAL database of ``n`` items and a vault configured for it; item keys."""
    library = generate_library(n, seed)
    db = make_zotero_db(workdir / "zotero" / "zotero.sqlite", library, version=10, wal=True)
    vault = workdir / "vault"
    api.init_vault(vault, api.SourceOptions(source="sqlite", zotero_db=str(db)))
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


def wait_for_note(note: Path, text: str, deadline: float) -> float:
    """Poll (1 ms) until ``note`` exists and contains ``text``; the moment it did."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if text in note.read_text(encoding="utf-8"):
                return time.perf_counter()
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        time.sleep(0.001)
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


def measure(workdir: Path, n: int, changes: int, pause: float) -> dict[str, object]:
    t0 = time.perf_counter()
    db, vault, keys = build(workdir, n)
    built = time.perf_counter() - t0
    proc = start_daemon(vault, workdir / "daemon.stderr")
    samples: list[float] = []
    try:
        t1 = time.perf_counter()
        wait_for_log(vault, "sync: {", 3600, proc)
        first = time.perf_counter() - t1
        print(f"built in {built:.1f} s, first sync {first:.1f} s", file=sys.stderr, flush=True)
        time.sleep(3)  # let the indexes and the pass triggered by its own writes settle
        with hold_exclusive(db) as writer:
            for i in range(changes):
                key = keys[(i * 487) % len(keys)]
                title = f"Latency probe {i} of the daemon benchmark"
                writer.set_title(key, title)
                committed = time.perf_counter()
                seen = wait_for_note(vault / "Papers" / f"{title}.md", f"# {title}", 60)
                samples.append(seen - committed)
                print(f"change {i}: {seen - committed:.3f} s", file=sys.stderr, flush=True)
                time.sleep(pause)
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
        "first_sync_s": round(first, 1),
        "build_s": round(built, 1),
        "daemon_exit": code,
        "log_errors": errors,
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
