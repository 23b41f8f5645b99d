"""zotsync: keep a Zotero library and an Obsidian-style Markdown vault in step."""

from __future__ import annotations

__version__ = "0.1.0"
