"""``zotsync demo``: init + sync from the bundled library + references + indexes + a plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zotsync.commands.plan import plan
from zotsync.state.papers import reference_link_count


def build_demo(vault_dir: Path) -> dict[str, Any]:
    """``zotsync demo``: init + sync from the bundled library + indexes + a plan (offline)."""
    from zotsync.commands.init import init_vault
    from zotsync.commands.sync import sync as run_sync
    from zotsync.workspace import SourceOptions, open_state

    init_vault(vault_dir, SourceOptions(source="demo"))
    report = run_sync(vault_dir)
    result = plan(vault_dir)
    state = open_state(vault_dir.resolve())
    try:
        links = reference_link_count(state)
    finally:
        state.close()
    counts = report.result.counts()
    return {
        "vault": str(vault_dir.resolve()),
        "notes": counts["items"],
        "created": counts["created"],
        "reference_links": links,
        "plan": result.path,
        "index_written": report.index_written,
    }
