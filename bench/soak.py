"""Soak: the daemon running for a long time against a database that keeps changing.

Starts ``zotsync watch`` as a subprocess on a Zotero 10 WAL library (``--items``, default 2,000)
held open by a desktop-like writer, and commits one change every ``--interval`` seconds (title
edits, new tags, new items, now and then a trashed item) for ``--duration`` seconds. Every
``--sample`` seconds it records the daemon's resident memory (``VmRSS``). At the end it checks
that the last change reached the vault, stops the daemon with SIGTERM and counts ERROR lines and
tracebacks in the daemon's log and stderr.

    python bench/soak.py                                  # 30 minutes, a change every 3 s
    python bench/soak.py --duration 120 --items 500       # a quick one

Prints one JSON object: RSS samples in MB, first/last/max, the growth over the second half (the
figure that shows a leak: the first half includes warm-up), syncs run, errors, exit code.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_library
from latency import build, log_path, start_daemon, stop_daemon, wait_for_log, wait_for_note

from zotsync import api as planning
from zotsync.model import Tag
from zotsync.testing.zotero_db import hold_exclusive


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def soak(
    workdir: Path, n: int, duration: float, interval: float, sample: float
) -> dict[str, object]:
    db, vault, keys = build(workdir, n)
    stderr_path = workdir / "daemon.stderr"
    proc = start_daemon(vault, stderr_path)
    rng = random.Random(1)
    extra = generate_library(int(duration / interval / 10) + 10, seed=99).items  # items to add
    samples: list[tuple[float, float]] = []
    changes = 0
    last_title = ""
    try:
        wait_for_log(vault, "sync: {", 600, proc)
        start = time.monotonic()
        next_sample = start
        with hold_exclusive(db) as writer:
            while (now := time.monotonic()) - start < duration:
                if proc.poll() is not None:
                    break
                if now >= next_sample:
                    samples.append((round(now - start, 1), round(rss_mb(proc.pid), 1)))
                    print(
                        f"t={samples[-1][0]} s rss={samples[-1][1]} MB", file=sys.stderr, flush=True
                    )
                    next_sample += sample
                roll = changes % 20
                key = rng.choice(keys)
                if roll == 7 and extra:
                    writer.add_item(extra.pop())
                elif roll == 13:
                    writer.trash(key)
                    keys.remove(key)
                elif roll % 3 == 0:
                    writer.add_tag(key, Tag(f"soak-{changes}"))
                else:
                    last_title = f"Soak change {changes} title"
                    writer.set_title(key, last_title)
                changes += 1
                time.sleep(interval)
            converged = False
            if last_title and proc.poll() is None:
                wait_for_note(vault / "Papers" / f"{last_title}.md", f"# {last_title}", 120)
                converged = True
        samples.append((round(time.monotonic() - start, 1), round(rss_mb(proc.pid), 1)))
    finally:
        alive = proc.poll() is None
        code = stop_daemon(proc)
    text = log_path(vault).read_text(encoding="utf-8") + stderr_path.read_text(encoding="utf-8")
    errors = [line for line in text.splitlines() if " ERROR " in line or "Traceback" in line]
    try:
        syncs: object = planning.status(vault)["syncs_total"]
    except Exception as exc:  # the figures above matter more than this one
        syncs = f"unknown ({exc})"
    values = [v for _, v in samples]
    half = [v for t, v in samples if t >= duration / 2]
    return {
        "items": n,
        "duration_s": duration,
        "changes": changes,
        "syncs_total": syncs,
        "rss_first_mb": values[0],
        "rss_last_mb": values[-1],
        "rss_max_mb": max(values),
        "rss_growth_second_half_mb": round(half[-1] - half[0], 1) if len(half) > 1 else None,
        "rss_samples": samples,
        "errors": len(errors),
        "error_lines": errors[:10],
        "converged": converged,
        "alive_at_end": alive,
        "daemon_exit": code,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--duration", type=float, default=1800)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--sample", type=float, default=30.0)
    parser.add_argument("--workdir", type=Path, help="kept afterwards (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = soak(args.workdir, args.items, args.duration, args.interval, args.sample)
    else:
        with tempfile.TemporaryDirectory(prefix="zotsync-soak-") as tmp:
            result = soak(Path(tmp), args.items, args.duration, args.interval, args.sample)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
