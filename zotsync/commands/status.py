"""``zotsync status``: last sync, counts, conflicts, errors, daemon state (creates nothing)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from zotsync.library.weeks import default_week


def status(vault: Path) -> dict[str, Any]:
    """``zotsync status --json``."""
    from zotsync.daemon.schedule import next_plan_moment
    from zotsync.vault.lock import read_lock_info
    from zotsync.workspace import check_vault, configure, open_state

    vault = check_vault(vault, existing=True)
    config = configure(vault, None, None)
    lock = read_lock_info(vault)
    daemon = None
    if lock and lock.get("command") == "watch":
        daemon = {"pid": lock.get("pid"), "started": lock.get("started")}
    # the daemon's next weekly run (a plan already due was written when the daemon started)
    upcoming = next_plan_moment(datetime.now(), config) if daemon else None
    state = open_state(vault, readonly=True)  # status creates no file
    try:
        last = state.last_run("sync")
        reasons: dict[str, int] = json.loads(state.get_meta("refs_reasons") or "{}")
        data: dict[str, Any] = {
            "daemon": daemon,
            "last_sync": last,
            "syncs_total": state.count_runs("sync"),
            "conflicts": state.count_conflicts(),
            "missing_refs": int(state.get_meta("refs_pending") or 0),
            "missing_refs_reasons": reasons,
            "lock": lock,
            "state_damaged": state.recovered[0] if state.recovered else None,
            "next_plan": default_week(upcoming.date()) if upcoming else None,
            "next_plan_at": upcoming.isoformat(timespec="minutes") if upcoming else None,
        }
        from zotsync.library.tag_kinds import automatic_tags_hint

        data["automatic_tags_hint"] = automatic_tags_hint(state, config)
        return data
    finally:
        state.close()
