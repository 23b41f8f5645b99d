"""A source wrapper that fills in abstracts and dates from arXiv where Zotero has none.

Wrapping the source keeps the engine unaware of enrichment: the library it reads simply has
those fields. Only empty fields are filled (Zotero's values always win), answers are cached in
the state DB, and each run asks arXiv for at most :data:`MAX_FETCH` ids (one request; arXiv asks
for one request per 3 s), so a large library is completed over several runs and a sync never
waits long.

Network trouble is logged once per outage, in one line (``arxiv_outage`` in the state DB's
``meta`` table remembers it across passes, daemon loops and processes); while it lasts arXiv is
asked again only every :data:`RETRY_SECONDS`, and what the cache knows is still filled in, so a
note never loses an arXiv abstract because the network is down.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

from zotsync.arxiv_api import short_reason
from zotsync.model import Library
from zotsync.sources import NO_HOOKS, ChangeHooks, Delta, IncrementalSource, Source
from zotsync.sources.enrich import enrich_items
from zotsync.state.db import read_meta, write_meta

log = logging.getLogger(__name__)
MAX_FETCH = 100
#: during an outage, how long passes use the cache only before arXiv is tried again
RETRY_SECONDS = 600.0
OUTAGE_KEY = "arxiv_outage"


class EnrichedSource:
    """``inner`` with arXiv abstracts and dates filled in (see the module docstring)."""

    def __init__(
        self, inner: Source, conn: sqlite3.Connection, client: object, *, fetch: bool = True
    ) -> None:
        self.fetch = fetch  # False: the cache only (``sync --no-refs``), arXiv is not asked
        self.inner = inner
        self.name = inner.name
        self.conn = conn
        self.client = client

    def watch_paths(self) -> list[Path]:
        return self.inner.watch_paths()

    def read(self) -> Library:
        library = self.inner.read()
        self._fill(library)
        return library

    def _fill(self, library: Library) -> None:
        """Fill the items' empty abstracts and dates (in place) from arXiv or its cache."""
        outage = self._outage()
        fetch = self.fetch and (outage is None or time.time() - outage >= RETRY_SECONDS)
        before = getattr(self.client, "requests_made", 0)
        try:
            fills = self._enrich(library, MAX_FETCH if fetch else 0)
        except Exception as exc:
            if outage is None:
                log.warning(
                    "arXiv metadata not fetched (%s); using what is cached, retrying every %d min",
                    short_reason(exc),
                    RETRY_SECONDS // 60,
                )
            else:
                log.debug("arXiv still unreachable: %s", short_reason(exc))
            self._set_outage(time.time())
            try:
                fills = self._enrich(library, 0)  # the cache alone: never asks arXiv
            except (sqlite3.Error, OSError) as cache_exc:
                log.debug("arXiv cache unreadable: %s", cache_exc)
                return
        else:
            if outage is not None and getattr(self.client, "requests_made", 0) > before:
                log.info("arXiv reachable again")
                self._set_outage(None)
        for item in library.items:
            extra = fills.get(item.key)
            if extra:
                item.fields = {**extra, **item.fields}

    def _enrich(self, library: Library, max_fetch: int) -> dict[str, dict[str, str]]:
        return enrich_items(
            library.items,
            self.conn,
            self.client,  # type: ignore[arg-type]
            max_fetch=max_fetch,
        )

    def _outage(self) -> float | None:
        """When arXiv was last found unreachable (epoch seconds), or None."""
        try:
            value = read_meta(self.conn, OUTAGE_KEY)
            return None if value is None else float(value)
        except (sqlite3.Error, ValueError):
            return None

    def _set_outage(self, at: float | None) -> None:
        try:
            write_meta(self.conn, OUTAGE_KEY, None if at is None else str(at))
        except sqlite3.Error as exc:
            log.debug("arXiv outage not recorded: %s", exc)


class IncrementalEnrichedSource(EnrichedSource):
    """:class:`EnrichedSource` over an incremental source: only the items read are filled.

    The fill happens before ``expand`` sees the changed items, because a date arXiv supplies
    is part of what reference matching knows an item by.
    """

    def read_changes(self, token: str | None, hooks: ChangeHooks = NO_HOOKS) -> Delta:
        inner = self.inner
        assert isinstance(inner, IncrementalSource)
        expand = hooks.expand

        def filled_then_expand(library: Library, gone: set[str]) -> set[str]:
            self._fill(library)
            return expand(library, gone) if expand else set()

        delta = inner.read_changes(token, replace(hooks, expand=filled_then_expand))
        self._fill(delta.library)
        return delta


def enriched(
    inner: Source, conn: sqlite3.Connection, client: object, *, fetch: bool = True
) -> EnrichedSource:
    """``inner`` with arXiv fills, incremental when ``inner`` is."""
    kind = IncrementalEnrichedSource if isinstance(inner, IncrementalSource) else EnrichedSource
    return kind(inner, conn, client, fetch=fetch)
