"""The link index: which items' notes name which items (table ``links``).

Kept so an incremental pass knows which notes to render again when a note they name appears,
moves or goes (:mod:`zotsync.sync.incremental`), without reading the library.
"""

from __future__ import annotations

from zotsync.state.db import StateDB

__all__ = ["LinkIndex"]


class LinkIndex:
    """The ``links`` table: which notes name which items."""

    def __init__(self, state: StateDB, label: str) -> None:
        self.state = state
        self.label = label

    def sources_of(self, keys: set[str]) -> set[str]:
        """Keys of the items whose notes link to any of ``keys``."""
        out: set[str] = set()
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            out.update(
                r[0]
                for r in self.state.conn.execute(
                    f"SELECT src FROM links WHERE library = ? AND dst IN "
                    f"({','.join('?' * len(chunk))})",
                    (self.label, *chunk),
                )
            )
        return out

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
