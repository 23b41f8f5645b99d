"""Which kinds of tags a library has, remembered so ``status`` and ``doctor`` can advise.

A library filled through the browser connector often has only *automatic* tags (Zotero type
1, e.g. the arXiv categories the translator adds). zotsync leaves those out by default
(``automatic-tags: false``), so such a user would see an empty ``Tags/`` and not know why.
After each sync the counts are stored in the state DB's ``meta`` table (``status`` and
``doctor`` read no source), and :func:`automatic_tags_hint` turns them into advice.
"""

from __future__ import annotations

import json

from zotsync.config import Config
from zotsync.model import Library
from zotsync.state.db import StateDB

META_KEY = "tag_kinds"


def count_tag_kinds(library: Library) -> dict[str, int]:
    """Distinct manual and automatic tag names on the library's items."""
    manual: set[str] = set()
    automatic: set[str] = set()
    for item in library.items:
        for tag in item.tags:
            (automatic if tag.auto else manual).add(tag.name)
    return {"manual": len(manual), "automatic": len(automatic)}


def record_tag_kinds(state: StateDB, library: Library) -> None:
    """Store the counts (written only when they changed)."""
    value = json.dumps(count_tag_kinds(library), sort_keys=True)
    if state.get_meta(META_KEY) != value:
        state.set_meta(META_KEY, value)


def automatic_tags_hint(state: StateDB, config: Config) -> str | None:
    """Advice when the last sync saw automatic tags but no manual ones, and they are off."""
    if config.automatic_tags:
        return None
    try:
        kinds = json.loads(state.get_meta(META_KEY) or "{}")
    except ValueError:
        return None
    automatic = int(kinds.get("automatic") or 0) if isinstance(kinds, dict) else 0
    manual = int(kinds.get("manual") or 0) if isinstance(kinds, dict) else 0
    if not automatic or manual:
        return None
    return (
        f"the library has {automatic} automatic tags (added by Zotero or the connector) and "
        "no manual ones, so Tags/ stays empty; to use them, set `automatic-tags: true` in "
        "zotsync.yaml and run `zotsync sync`"
    )
