"""``zotsync refs``: refresh reference lists now, and list the missing foundations.

A refresh is a sync pass whose resolver ignores the cache age, so the notes' ``references`` and
``cited-by`` regions are rewritten in the same run. ``--missing`` then writes the managed note
``Missing references.md``: the papers outside the library that its papers cite most — the
"read the references first" stack, ready for ``zotsync add``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zotsync.commands.sync import sync as run_sync
from zotsync.library_notes import RegionMemory, write_region_note
from zotsync.refs.missing import missing_note_region, missing_references, new_missing_note
from zotsync.sync.engine import SyncOptions
from zotsync.workspace import check_vault, open_state

MISSING_NOTE = "Missing references.md"
MISSING_REGION = "missing"


def run(
    vault: Path,
    *,
    config_path: Path | None = None,
    refresh: bool = False,
    missing: bool = False,
    top: int = 30,
) -> dict[str, Any]:
    """Refresh (or just resolve) references and report; see the module docstring."""
    report = run_sync(
        vault, config_path=config_path, options=SyncOptions(full=True), refresh_refs=refresh
    )
    graph = report.graph
    out: dict[str, Any] = {
        "with_refs": 0,
        "pending": report.refs_pending,
        "no_ids": 0,
        "reasons": report.refs_reasons,
        "requests": graph.requests if graph else 0,
        "missing": [],
        "missing_note": None,
        "conflicts": report.result.conflicts,
    }
    if graph is None:
        return out
    out["with_refs"] = sum(1 for r in graph.items.values() if r.status == "ok")
    out["no_ids"] = sum(1 for r in graph.items.values() if r.status == "no-ids")
    if missing:
        placements = report.result.placements
        rows = missing_references(graph, top, min_citing=1)

        def link(key: str) -> str:
            placement = placements.get(key)
            return f"[[{placement.stem}]]" if placement else key

        region = missing_note_region(rows, link)
        state = open_state(vault)
        try:
            memory = RegionMemory(state)
            write_region_note(
                check_vault(vault),
                MISSING_NOTE,
                MISSING_REGION,
                region,
                new_missing_note(region, MISSING_REGION),
                memory=memory,
            )
            memory.save()
        finally:
            state.close()
        out["missing_note"] = MISSING_NOTE
        out["missing"] = [
            {"title": r.title, "year": r.year, "id": r.add_id, "count": r.count, "citing": r.citing}
            for r in rows
        ]
    return out
