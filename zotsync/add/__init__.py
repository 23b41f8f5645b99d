"""``zotsync add``: save papers by arXiv id or DOI into Zotero, as the browser button would.

Public entry: :func:`zotsync.add.run.add_papers` (re-exported here), returning an
:class:`~zotsync.add.run.AddResult` that maps onto ``add --json``. The pieces: ``ids`` (what
the user typed → arXiv ids/DOIs, and what the library already holds), ``translator`` (the item
exactly as Zotero's arXiv translator shapes it), ``connector`` (the desktop's connector
protocol), ``web_write`` (web API writes with a write token).
"""

from __future__ import annotations

from zotsync.add.run import ALREADY, Added, AddResult, add_papers

__all__ = ["ALREADY", "AddResult", "Added", "add_papers"]
