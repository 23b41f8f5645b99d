"""A source wrapper that fills in abstracts and dates from arXiv where Zotero has none.

Wrapping the source keeps the engine unaware of enrichment: the library it reads simply has
those fields. Only empty fields are filled (Zotero's values always win), answers are cached in
the state DB, and each run asks arXiv for at most :data:`MAX_FETCH` ids (one request; arXiv asks
for one request per 3 s), so a large library is completed over several runs and a sync never
waits long. Network trouble is logged and the library is returned as read.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from zotsync.enrich import enrich_items
from zotsync.errors import ZotsyncError
from zotsync.model import Library
from zotsync.sources import Source

log = logging.getLogger(__name__)
MAX_FETCH = 100


class EnrichedSource:
    """``inner`` with arXiv abstracts and dates filled in (see the module docstring)."""

    def __init__(self, inner: Source, conn: sqlite3.Connection, client: object) -> None:
        self.inner = inner
        self.name = inner.name
        self.conn = conn
        self.client = client

    def watch_paths(self) -> list[Path]:
        return self.inner.watch_paths()

    def read(self) -> Library:
        library = self.inner.read()
        try:
            fills = enrich_items(
                library.items,
                self.conn,
                self.client,  # type: ignore[arg-type]
                max_fetch=MAX_FETCH,
            )
        except (ZotsyncError, OSError, sqlite3.Error) as exc:
            log.warning("arXiv metadata not fetched this time: %s", exc)
            return library
        except Exception as exc:  # the arxiv package raises its own errors on bad feeds
            log.warning("arXiv metadata not fetched this time: %s", exc)
            return library
        for item in library.items:
            extra = fills.get(item.key)
            if extra:
                item.fields = {**extra, **item.fields}
        return library
