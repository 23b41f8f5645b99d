"""The two link indexes of the state DB.

``links``: which items' notes name which items, so an incremental pass knows which notes to
render again when a note they name appears, moves or goes (:mod:`zotsync.sync.incremental`).
``vault_files``/``vault_links``: which vault files link to which note names, and the file
signatures they were read at, so a rename finds the files to rewrite without reading the vault
(:mod:`zotsync.sync.link_index`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable

from zotsync.state.db import StateDB

__all__ = ["LinkIndex", "VaultLinks"]


class LinkIndex:
    """The ``links`` table: which notes name which items."""

    def __init__(self, state: StateDB, label: str) -> None:
        self.state = state
        self.label = label

    def sources_of(self, keys: set[str]) -> set[str]:
        """Keys of the items whose notes link to any of ``keys``."""
        rows = self.state.conn.execute(
            "SELECT DISTINCT src FROM links WHERE library = ? "
            "AND dst IN (SELECT value FROM json_each(?))",
            (self.label, json.dumps(sorted(keys))),
        )
        return {r[0] for r in rows}

    def replace(self, targets: dict[str, set[str]], gone: set[str], *, full: bool = False) -> None:
        """Record ``targets`` (src -> dsts); drop rows of ``gone`` sources (all, when ``full``)."""
        conn = self.state.conn
        if full:
            conn.execute("DELETE FROM links WHERE library = ?", (self.label,))
        else:
            conn.executemany(
                "DELETE FROM links WHERE library = ? AND src = ?",
                [(self.label, k) for k in [*targets, *gone]],
            )
        conn.executemany(
            "INSERT OR IGNORE INTO links (library, src, dst) VALUES (?, ?, ?)",
            [(self.label, src, dst) for src, dsts in targets.items() for dst in sorted(dsts)],
        )


class VaultLinks:
    """The tables ``vault_files`` (path -> signature when read) and ``vault_links``."""

    def __init__(self, state: StateDB) -> None:
        self.conn = state.conn

    def signatures(self) -> dict[str, tuple[int, int, int]]:
        rows = self.conn.execute("SELECT path, mtime_ns, size, ino FROM vault_files")
        return {path: (m, s, i) for path, m, s, i in rows}

    def forget(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.conn.execute("DELETE FROM vault_files WHERE path = ?", (path,))
            self.conn.execute("DELETE FROM vault_links WHERE path = ?", (path,))

    def record(self, path: str, sig: tuple[int, int, int], names: Collection[str]) -> None:
        """``path``, read at ``sig``, links to ``names`` (and to nothing else)."""
        self.conn.execute("DELETE FROM vault_links WHERE path = ?", (path,))
        self.conn.executemany(
            "INSERT OR IGNORE INTO vault_links (path, name) VALUES (?, ?)",
            [(path, name) for name in sorted(names)],
        )
        self.conn.execute(
            "INSERT OR REPLACE INTO vault_files (path, mtime_ns, size, ino) VALUES (?,?,?,?)",
            (path, *sig),
        )

    def files_naming(self, names: Collection[str]) -> set[str]:
        """Paths of the files that link to any of ``names`` (casefolded)."""
        rows = self.conn.execute(
            "SELECT DISTINCT path FROM vault_links WHERE name IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(names)),),
        )
        return {r[0] for r in rows}
