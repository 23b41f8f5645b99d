"""Sources: everything that can read a Zotero library into :class:`zotsync.model.Library`.

All sources implement :class:`Source`. ``read()`` returns the *whole* current library (top-level
regular items with their children; trashed items and feeds left out); incremental sources
(web, local) keep their own cache under the ``cache_dir`` they are given and only fetch what
changed, but still hand back the complete library, so the sync engine has one code path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from zotsync.model import Library


class Source(Protocol):
    """A readable Zotero library."""

    #: short name as used by ``--source``: sqlite, local, web, bbt-json, demo
    name: str

    def read(self) -> Library:
        """Return the current library; raise :class:`zotsync.errors.SourceUnavailable`."""
        ...

    def watch_paths(self) -> list[Path]:
        """Files whose change means the library may have changed (empty for HTTP sources)."""
        ...
