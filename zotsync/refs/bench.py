"""Reference resolution from a warm cache, timed for ``bench/`` (PRODUCT: ≤ 2 s at 10,000)."""

from __future__ import annotations

import gc
import sqlite3
import time
from typing import Any

from zotsync.model import Item
from zotsync.refs.cache import RefCache
from zotsync.refs.ids import normalize_title
from zotsync.refs.resolve import resolve_references


def bench_cached_resolution(n: int, refs_per_item: int = 40) -> float:
    """Seconds to resolve ``n`` items from a warm cache (for ``bench/``; no network).

    Synthetic library: every item has an arXiv id; each cites ``refs_per_item`` papers, a
    fifth of them library items, the rest outside papers with DOIs and titles.
    """
    from zotsync.model import with_base_fields

    items = [
        Item(
            key=f"K{i:07d}",
            item_type="preprint",
            fields=with_base_fields(
                "preprint",
                {
                    "title": f"Synthetic paper number {i}",
                    "archiveID": f"arXiv:2101.{i:05d}",
                    "date": "2021",
                },
            ),
        )
        for i in range(n)
    ]
    conn = sqlite3.connect(":memory:")
    cache = RefCache(conn)
    rows = []
    for i in range(n):
        refs: list[list[Any]] = []
        for j in range(refs_per_item):
            if j % 5 == 0:
                target = (i * 7 + j) % n
                refs.append(
                    [f"Synthetic paper number {target}", 2021, None, f"2101.{target:05d}", None, ""]
                )
            else:
                title = f"Outside work {i}-{j} on learning"
                refs.append(
                    [title, 2015, f"10.1000/x{i}.{j}", None, f"s2x{i}x{j}", normalize_title(title)]
                )
        rows.append(
            (
                f"ARXIV:2101.{i:05d}",
                "ok",
                {"paperId": f"s2k{i}", "referenceCount": refs_per_item, "refs": refs},
            )
        )
    cache.put_many(rows)
    del rows
    gc.collect()  # measure the resolution, not the collection of the setup's garbage
    started = time.perf_counter()
    graph = resolve_references(items, cache, client=None)
    elapsed = time.perf_counter() - started
    conn.close()
    if graph.deferred or len(graph.items) != n:
        raise RuntimeError("benchmark cache was not warm")
    return elapsed
