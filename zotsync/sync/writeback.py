"""Opt-in status write-back after a sync (``writeback: true``, web and local sources).

When a paper's note says ``status: read`` (set by hand or by ticking its box in a plan note),
the Zotero item gets the tag ``read`` and loses ``to-read``/``reading``. Nothing else is ever
written to Zotero. What was written back is remembered in the state DB, so each change is sent
once; a failure is reported and retried on the next sync, and never fails the sync itself.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from zotsync.config import Config
from zotsync.errors import ZotsyncError
from zotsync.library_notes import read_papers
from zotsync.sources.writeback import set_read_status
from zotsync.state.db import StateDB

log = logging.getLogger(__name__)
#: statuses that have a Zotero tag of the same name
WRITTEN_STATUSES = ("read",)


@dataclass
class WritebackReport:
    written: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def write_back(vault: Path, config: Config, state: StateDB) -> WritebackReport:
    """Send new ``read`` statuses to Zotero; see the module docstring."""
    report = WritebackReport()
    if not config.writeback or config.source not in ("web", "local"):
        return report
    from zotsync.sources.credentials import api_key

    done: dict[str, str] = json.loads(state.get_meta("writeback_done") or "{}")
    key = api_key() if config.source == "web" else None
    for paper in read_papers(vault, config, state):
        if paper.status not in WRITTEN_STATUSES or done.get(paper.key) == paper.status:
            continue
        try:
            set_read_status(
                "web" if config.source == "web" else "local",
                paper.key,
                paper.status,
                library=config.library,
                api_key=key,
            )
        except ZotsyncError as exc:
            report.errors.append(f"{paper.key}: status not written back: {exc.message}")
            log.warning("%s: status not written back: %s", paper.key, exc.message)
            continue
        done[paper.key] = paper.status
        report.written.append(paper.key)
    state.set_meta("writeback_done", json.dumps(done, sort_keys=True))
    return report
