"""The project's benchmark: the figures behind PRODUCT.md's "Performance targets".

For each size N it builds a synthetic Zotero 10 library (``generate.py``: a third of the items
with a PDF full of annotations, WAL layout) and a vault configured for it, then runs, each in a
fresh process so that time and peak RSS are that step's own:

(a) the first full sync, ``zotsync sync --vault V --no-refs -q --json`` (``ZOTSYNC_OFFLINE=1``);
(b) a no-op re-sync, counting files written outside ``.zotsync`` (mtime or size changed);
(c) the I/O floor (``floor.py``): copy the DB, read the same rows with plain SQL, write the bytes
    (a) wrote; the ratio (a)/(c) is the "≤ 3× the I/O floor" target, measured in the same run;
(d) one changed item (``incremental.py``): the pass after one in-place edit and after one
    rename, against the floor of starting the CLI and copying the database;

(d) the same first sync and both floors from a Better BibTeX JSON export of the same library
    (``bench_bbt``: the floor's read is ``json.load`` of the export), with its peak RSS;

and once per run:

(e) reference resolution for 10,000 items from a warm cache (``bench_cached_resolution``);
(f) an incremental web sync after one edit in a 10,000-item library served by the loopback
    ``FakeZoteroApi``: requests made and time taken by ``WebSource.read()``;
(g) the daemon's latency (``latency.py``: commit in a desktop-held database → note updated,
    p50/p95 over 20 changes, with the stage breakdown the daemon logs at ``-vv``).

    python bench/run.py --sizes 1000 10000 [40000] --out docs/performance.md

``--out`` rewrites only the part of the file between the ``bench:begin``/``bench:end`` markers,
so the hand-written analysis around it stays. ``--json PATH`` keeps the raw figures.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    ChildRun,
    files_written,
    machine,
    offline_env,
    render_report,
    run_child,
    splice_report,
    tree_signature,
)
from generate import generate_library
from incremental import bench_one_change, render_incremental

from zotsync import api

HERE = Path(__file__).resolve().parent  # run as a script: this folder is on sys.path


def build_db(work: Path, n: int, seed: int) -> tuple[Path, float]:
    """The Zotero 10 (WAL) database for ``n`` items, reused when a previous run left it."""
    db = work / "zotero" / "zotero.sqlite"
    marker = work / "zotero" / "generated.json"
    wanted = {"n": n, "seed": seed, "version": 10}
    if db.exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        return db, 0.0
    # in a child: a forked process starts with its parent's peak RSS on Linux, so the bench
    # process must never hold a big library itself, or every figure after it would carry it
    argv = [sys.executable, str(HERE / "generate.py"), str(n), str(db), "--seed", str(seed)]
    run = run_child([*argv, "--version", "10", "--wal"], env=offline_env())
    if run.returncode != 0:
        raise RuntimeError(f"generate.py exited {run.returncode}: {run.stderr[-2000:]}")
    marker.write_text(json.dumps(wanted))
    return db, run.seconds


def _sync(vault: Path) -> ChildRun:
    argv = [sys.executable, "-m", "zotsync", "sync", "--vault", str(vault), "--no-refs", "-q"]
    run = run_child([*argv, "--json"], env=offline_env())
    if run.returncode != 0:
        raise RuntimeError(f"zotsync sync exited {run.returncode}: {run.stderr[-2000:]}")
    return run


def bench_size(work: Path, n: int, seed: int) -> dict[str, Any]:
    """(a)–(c) for one library size."""
    work.mkdir(parents=True, exist_ok=True)
    db, gen_s = build_db(work, n, seed)
    vault = work / "vault"
    shutil.rmtree(vault, ignore_errors=True)
    api.init_vault(vault, api.SourceOptions(source="sqlite", zotero_db=str(db)))

    first = _sync(vault)
    before = tree_signature(vault)
    noop = _sync(vault)
    after = tree_signature(vault)
    one_change = bench_one_change(vault, db, n)  # (d): after the no-op, before the floor

    floor_dir = work / "floor"
    shutil.rmtree(floor_dir, ignore_errors=True)
    floor_run = run_child(
        [sys.executable, str(HERE / "floor.py"), str(db), str(vault), str(floor_dir)],
        env=offline_env(),
    )
    if floor_run.returncode != 0:
        raise RuntimeError(f"floor.py exited {floor_run.returncode}: {floor_run.stderr[-2000:]}")
    floor = floor_run.json()
    shutil.rmtree(floor_dir, ignore_errors=True)
    return {
        "n": n,
        "generate_s": round(gen_s, 2),
        "db_mb": round(db.stat().st_size / 1e6, 1),
        "first": {
            "seconds": round(first.seconds, 2),
            "rss_mb": round(first.peak_rss_mb, 1),
            "summary": first.json(),
        },
        "noop": {
            "seconds": round(noop.seconds, 2),
            "rss_mb": round(noop.peak_rss_mb, 1),
            "files_written": files_written(before, after),
            "summary": noop.json(),
        },
        "one_change": one_change,
        "floor": {k: round(v, 3) if isinstance(v, float) else v for k, v in floor.items()},
        "ratio": round(first.seconds / floor["floor_s"], 2),
        "ratio_durable": round(first.seconds / floor["durable_floor_s"], 2),
    }


def run_floor(source: Path, vault: Path, work: Path) -> dict[str, Any]:
    """``floor.py`` in a child: read ``source`` (DB or JSON) and write ``vault``'s bytes twice."""
    floor_dir = work / "floor"
    shutil.rmtree(floor_dir, ignore_errors=True)
    run = run_child(
        [sys.executable, str(HERE / "floor.py"), str(source), str(vault), str(floor_dir)],
        env=offline_env(),
    )
    shutil.rmtree(floor_dir, ignore_errors=True)
    if run.returncode != 0:
        raise RuntimeError(f"floor.py exited {run.returncode}: {run.stderr[-2000:]}")
    return run.json()


def bench_bbt(work: Path, n: int, seed: int) -> dict[str, Any]:
    """(d) first sync from a BBT JSON export of the ``n``-item library, and both floors."""
    work.mkdir(parents=True, exist_ok=True)
    export = work / "export.json"
    marker = work / "generated.json"
    wanted = {"n": n, "seed": seed, "bbt": 1}
    if not (export.exists() and marker.exists() and json.loads(marker.read_text()) == wanted):
        argv = [sys.executable, str(HERE / "generate.py"), str(n), str(work / "unused.sqlite")]
        gen = run_child([*argv, "--seed", str(seed), "--bbt-json", str(export)], env=offline_env())
        if gen.returncode != 0:
            raise RuntimeError(f"generate.py exited {gen.returncode}: {gen.stderr[-2000:]}")
        marker.write_text(json.dumps(wanted))
    vault = work / "vault"
    shutil.rmtree(vault, ignore_errors=True)
    api.init_vault(vault, api.SourceOptions(source="bbt-json", bbt_json=str(export)))
    first = _sync(vault)
    floor = run_floor(export, vault, work)
    return {
        "n": n,
        "export_mb": round(export.stat().st_size / 1e6, 1),
        "first": {"seconds": round(first.seconds, 2), "rss_mb": round(first.peak_rss_mb, 1)},
        "floor": {k: round(v, 3) if isinstance(v, float) else v for k, v in floor.items()},
        "ratio": round(first.seconds / floor["floor_s"], 2),
        "ratio_durable": round(first.seconds / floor["durable_floor_s"], 2),
    }


def bench_latency(n: int, changes: int) -> dict[str, Any]:
    """(g) ``latency.py`` in a child (it runs the daemon as its own process)."""
    argv = [sys.executable, str(HERE / "latency.py"), "--items", str(n)]
    run = run_child([*argv, "--changes", str(changes)], env=offline_env())
    if run.returncode != 0:
        raise RuntimeError(f"latency.py exited {run.returncode}: {run.stderr[-2000:]}")
    return run.json()


def bench_refs(n: int) -> dict[str, Any]:
    """(e) cached reference resolution for ``n`` items, in its own process."""
    code = (
        "import json, sys\n"
        "from zotsync.refs.bench import bench_cached_resolution\n"
        "print(json.dumps({'seconds': bench_cached_resolution(int(sys.argv[1]))}))\n"
    )
    run = run_child([sys.executable, "-c", code, str(n)], env=offline_env())
    if run.returncode != 0:
        raise RuntimeError(f"bench_cached_resolution failed: {run.stderr[-2000:]}")
    return {"n": n, "seconds": round(float(run.json()["seconds"]), 3)}


def bench_web(n: int, seed: int) -> dict[str, Any]:
    """(f) one edit in an ``n``-item web library: requests and time of the next source read.

    Runs last and in this process (the loopback server is a thread here): it is the one step
    whose memory is not measured, so holding the library here does not skew any RSS figure.
    """
    from zotsync.sources.web import WebSource
    from zotsync.testing.fake_zotero_api import FakeZoteroApi

    library = generate_library(n, seed)
    edited = library.items[n // 2].key
    with (
        tempfile.TemporaryDirectory(prefix="zotsync-bench-web-") as tmp,
        FakeZoteroApi(library) as server,
    ):
        source = WebSource("user", api_key=server.api_key, cache_dir=Path(tmp),
                           base_url=server.url)  # fmt: skip
        start = time.perf_counter()
        full = source.read()
        full_s, full_requests = time.perf_counter() - start, server.count()

        server.reset_requests()
        start = time.perf_counter()
        source.read()
        unchanged_s, unchanged_requests = time.perf_counter() - start, server.count()

        server.edit(edited, title="An edited title for the benchmark")
        server.reset_requests()
        start = time.perf_counter()
        after = source.read()
        edit_s, edit_requests = time.perf_counter() - start, server.count()
    titles = {item.key: item.title for item in after.items}
    if titles.get(edited) != "An edited title for the benchmark" or len(full.items) != n:
        raise RuntimeError("web benchmark: the edit did not arrive")
    return {
        "n": n,
        "full_s": round(full_s, 2),
        "full_requests": full_requests,
        "unchanged_s": round(unchanged_s, 3),
        "unchanged_requests": unchanged_requests,
        "edit_s": round(edit_s, 3),
        "edit_requests": edit_requests,
    }


def main(argv: list[str] | None = None) -> int:
    """CLI: run the benchmark, print the figures as JSON, optionally write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--out", type=Path, help="Markdown report to (re)write, e.g. docs/performance.md"
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--workdir", type=Path, help="keep databases and vaults here (reused)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refs-n", type=int, default=10000, help="items for (e); 0 skips it")
    parser.add_argument("--web-n", type=int, default=10000, help="items for (f); 0 skips it")
    parser.add_argument(
        "--bbt-n", type=int, help="items for (d); 0 skips it (default: 10,000, or the largest size)"
    )
    parser.add_argument(
        "--latency-n", type=int, help="items for (g); 0 skips it (default: 10,000 if in --sizes)"
    )
    args = parser.parse_args(argv)
    # byte-compile the package once, as an install does: with PYTHONDONTWRITEBYTECODE set (CI,
    # some shells) every step would otherwise recompile ~200 modules, a fixed cost no user pays
    compileall.compile_dir(Path(api.__file__).parent, quiet=1)
    if args.bbt_n is None:
        args.bbt_n = 10000 if 10000 in args.sizes else max(args.sizes)
    if args.latency_n is None:
        args.latency_n = 10000 if 10000 in args.sizes else 0

    started = dt.datetime.now().astimezone()
    results: dict[str, Any] = {
        "machine": machine(),
        "started": started.isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory(prefix="zotsync-bench-") as tmp:
        root = args.workdir or Path(tmp)
        results["sizes"] = []
        for n in args.sizes:
            print(f"[bench] N={n} …", file=sys.stderr, flush=True)
            results["sizes"].append(bench_size(root / f"n{n}", n, args.seed))
            print(f"[bench] N={n}: {json.dumps(results['sizes'][-1])}", file=sys.stderr, flush=True)
        if args.bbt_n:
            results["bbt"] = bench_bbt(root / f"bbt{args.bbt_n}", args.bbt_n, args.seed)
            print(f"[bench] bbt-json: {json.dumps(results['bbt'])}", file=sys.stderr, flush=True)
    if args.latency_n:
        results["latency"] = bench_latency(args.latency_n, 20)
        print(f"[bench] latency: {json.dumps(results['latency'])}", file=sys.stderr, flush=True)
    if args.refs_n:
        results["refs"] = bench_refs(args.refs_n)
        print(f"[bench] refs: {json.dumps(results['refs'])}", file=sys.stderr, flush=True)
    if args.web_n:
        results["web"] = bench_web(args.web_n, args.seed)
        print(f"[bench] web: {json.dumps(results['web'])}", file=sys.stderr, flush=True)
    results["machine"]["load_end"] = machine()["load"]
    results["command"] = "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.out:
        old = args.out.read_text() if args.out.exists() else None
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = render_report(results) + render_incremental(results)
        args.out.write_text(splice_report(old, report))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
