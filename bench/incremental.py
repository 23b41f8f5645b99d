"""One changed item: the pass it triggers should cost the same at 1,000 and 40,000 items.

After the first sync and the no-op, ``bench/run.py`` calls :func:`bench_one_change` per size:

* an **in-place edit** (one abstract) and a **rename** (one title, so the note is renamed and
  links to it rewritten), each three times, every pass a fresh ``zotsync sync`` process; the
  median time and the files each pass wrote;
* two floors measured right before, in the same conditions: starting Python and importing the
  CLI (what any pass pays), and that plus copying the database with its WAL (what a pass that
  reads Zotero's database pays before it reads a row). The machine is shared, so the ratios
  to these floors say more than the seconds.

The edits are made in a child process through the fixture builder's writer, which changes
the database the way the desktop does (one transaction, ``clientDateModified`` bumped).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

from common import files_written, offline_env, run_child, tree_signature

REPEAT = 3
_EDIT = """
import sqlite3, sys, time
from zotsync.testing.zotero_writer import ZoteroDbWriter
db, index, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = sqlite3.connect(db, isolation_level=None)
key = conn.execute(
    "SELECT key FROM items WHERE itemTypeID NOT IN (SELECT itemTypeID FROM itemTypes WHERE "
    "typeName IN ('note', 'attachment', 'annotation')) AND itemID NOT IN "
    "(SELECT itemID FROM deletedItems) ORDER BY itemID LIMIT 1 OFFSET ?", (index,)
).fetchone()[0]
writer = ZoteroDbWriter(conn, autocommit=True)
if kind == "title":
    writer.set_title(key, f"Benchmark retitled {time.time_ns()}")
else:
    writer.set_field(key, "abstractNote", f"Benchmark abstract {time.time_ns()}")
conn.close()
"""
_FLOOR = """
import shutil, sys, tempfile
import zotsync.cli
if len(sys.argv) > 1:
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal"):
            try:
                shutil.copyfile(sys.argv[1] + suffix, tmp + "/db" + suffix)
            except FileNotFoundError:
                pass
"""


def _median_seconds(argv: list[str]) -> float:
    runs = []
    for _ in range(REPEAT):
        run = run_child(argv, env=offline_env())
        if run.returncode != 0:
            raise RuntimeError(f"{argv[:3]} exited {run.returncode}: {run.stderr[-2000:]}")
        runs.append(run.seconds)
    return statistics.median(runs)


_FILL = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from common import fill_refs_cache
from incremental import _papers
vault = Path(sys.argv[1])
fill_refs_cache(vault, _papers(vault))
"""


def _papers(vault: Path) -> list[tuple[str | None, str, int | None]]:
    """(cache key, title, year) of every paper, as the last full pass recorded them."""
    import sqlite3

    conn = sqlite3.connect(vault / ".zotsync" / "state.sqlite")
    try:
        return [
            (ck, ntitle, year)
            for ck, ntitle, year in conn.execute(
                "SELECT ck, ntitle, year FROM ref_idents ORDER BY ord"
            )
        ]
    finally:
        conn.close()


def bench_one_change(vault: Path, db: Path, n: int) -> dict[str, Any]:
    """Median time and files written of a pass after one in-place edit and after one rename."""
    sync = [sys.executable, "-m", "zotsync", "sync", "--vault", str(vault), "--no-refs", "-q",
            "--json"]  # fmt: skip
    # references on, from a cache of 40 references a paper (offline: no request), after one
    # settling pass that resolves the whole library
    # in a child: a parent grown by the cache it built would inflate every later child's peak
    # RSS (a forked child starts with the parent's pages)
    fill = run_child([sys.executable, "-c", _FILL, str(vault)], env=offline_env())
    if fill.returncode != 0:
        raise RuntimeError(f"filling the reference cache failed: {fill.stderr[-2000:]}")
    if run_child([*sync, "--full"], env=offline_env()).returncode != 0:
        raise RuntimeError("the settling pass failed")
    out: dict[str, Any] = {
        "import_floor_s": round(_median_seconds([sys.executable, "-c", _FLOOR]), 3),
        "copy_floor_s": round(_median_seconds([sys.executable, "-c", _FLOOR, str(db)]), 3),
    }
    for kind in ("abstract", "title"):
        times, written, summaries = [], [], []
        for rep in range(REPEAT):
            edit = run_child(
                [sys.executable, "-c", _EDIT, str(db), str(n // 2 + 7 * rep), kind],
                env=offline_env(),
            )
            if edit.returncode != 0:
                raise RuntimeError(f"edit failed: {edit.stderr[-2000:]}")
            before = tree_signature(vault)
            run = run_child(sync, env=offline_env())
            if run.returncode != 0:
                raise RuntimeError(f"zotsync sync exited {run.returncode}: {run.stderr[-2000:]}")
            written.append(files_written(before, tree_signature(vault)))
            times.append(run.seconds)
            summaries.append(run.json())
        seconds = statistics.median(times)
        out[kind] = {
            "seconds": round(seconds, 3),
            "all_s": [round(t, 3) for t in times],
            "files_written": max(written),
            "ratio_copy_floor": round(seconds / out["copy_floor_s"], 2),
            "updated": [s.get("updated", 0) + s.get("renamed", 0) for s in summaries],
        }
    return out


def render_incremental(results: dict[str, Any]) -> str:
    """The one-change rows for ``docs/performance.md`` (appended to the generated block)."""
    sizes = [s for s in results.get("sizes", []) if "one_change" in s]
    if not sizes:
        return ""
    lines = [
        "",
        "One item changed in Zotero, then one `zotsync sync` (median of "
        f"{REPEAT}; floors measured right before, same conditions):",
        "",
        "| items | import floor | import + DB copy floor | no-op | in-place edit | ratio to "
        "copy floor | files written | rename | ratio | files written |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        one = s["one_change"]
        ab, ti = one["abstract"], one["title"]
        lines.append(
            f"| {s['n']:,} | {one['import_floor_s']:.2f} s | {one['copy_floor_s']:.2f} s | "
            f"{s['noop']['seconds']:.2f} s | {ab['seconds']:.2f} s | {ab['ratio_copy_floor']:.1f}× | "
            f"{ab['files_written']} | {ti['seconds']:.2f} s | {ti['ratio_copy_floor']:.1f}× | "
            f"{ti['files_written']} |"
        )
    first, last = sizes[0], sizes[-1]
    if first is not last:
        growth = (
            last["one_change"]["abstract"]["seconds"] / first["one_change"]["abstract"]["seconds"]
        )
        lines += [
            "",
            f"In-place edit at {last['n']:,} items ÷ at {first['n']:,}: {growth:.2f}× "
            f"for {last['n'] / first['n']:.0f}× the items.",
        ]
    return "\n".join(lines) + "\n"
