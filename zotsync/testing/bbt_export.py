"""Write a Better BibTeX JSON export from a :class:`~zotsync.model.Library` (test fixtures).

``style="current"`` writes what BBT does today: collection membership only in the top-level
``collections`` map (by ``itemID``), ``citationKey``, relations as the predicate map, no
annotations. ``style="legacy"`` writes the older shape: a per-item ``collections`` key list
(and no ``items`` in the map), ``citekey``, relations as a list of ``dc:relation`` URIs,
notes as bare HTML strings. Dates use BBT's ``YYYY-MM-DD HH:MM:SS``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from zotsync.model import Library
from zotsync.sources.zotero_json_out import item_to_data

BBT_JSON_TRANSLATOR = "36a3b0b5-ad0a-4a0a-bcd5-3a2f6c8a4a19"  # label is what readers use


def _sql_date(iso: str) -> str:
    return iso.replace("T", " ").removesuffix("Z")


def bbt_export(
    library: Library,
    *,
    style: Literal["current", "legacy"] = "current",
    data_dir: str = "/home/reader/Zotero",
) -> dict[str, Any]:
    prefix = "users" if library.ref.type == "user" else "groups"
    base_uri = f"http://zotero.org/{prefix}/{library.ref.id}/items/"
    ids = {item.key: n for n, item in enumerate(library.items, start=1)}
    items: list[dict[str, Any]] = []
    for item in library.items:
        data = item_to_data(item, "local")
        entry: dict[str, Any] = {
            k: v for k, v in data.items() if k not in ("key", "collections", "relations",
                                                       "citationKey")
        }  # fmt: skip
        entry.update(itemID=ids[item.key], itemKey=item.key, uri=base_uri + item.key)
        entry["dateAdded"] = _sql_date(item.date_added)
        entry["dateModified"] = _sql_date(item.date_modified)
        related = item.relations.get("dc:relation", [])
        if style == "current":
            entry["citationKey"] = item.citekey
            entry["relations"] = {p: list(v) for p, v in item.relations.items()}
            entry["notes"] = [
                {"key": n.key, "uri": base_uri + n.key, "note": n.html,
                 "dateAdded": _sql_date(n.date_added),
                 "dateModified": _sql_date(n.date_modified),
                 "tags": [{"tag": t.name} for t in n.tags]}
                for n in item.notes
            ]  # fmt: skip
        else:
            entry["citekey"] = item.citekey
            entry["relations"] = list(related)
            entry["collections"] = list(item.collections)
            entry["notes"] = [n.html for n in item.notes]
        entry["attachments"] = []
        for att in item.attachments:
            out: dict[str, Any] = {
                "itemType": "attachment", "title": att.title, "uri": base_uri + att.key,
                "dateAdded": _sql_date(att.date_added), "relations": [], "tags": [],
            }  # fmt: skip
            if att.content_type:
                out["mimeType"] = att.content_type
            if att.filename:
                out["path"] = os.path.join(data_dir, "storage", att.key, att.filename)
            elif att.path:
                out["path"] = att.path
            entry["attachments"].append(out)
        if item.item_type == "attachment":  # standalone: the file is the item itself
            own = entry.pop("attachments")[0]
            entry.update({k: v for k, v in own.items() if k in ("mimeType", "path", "title")})
        items.append(entry)
    collections: dict[str, Any] = {}
    for key, coll in library.collections.items():
        record: dict[str, Any] = {
            "key": key,
            "name": coll.name,
            "collections": [c.key for c in library.collections.values() if c.parent == key],
        }
        if coll.parent:
            record["parent"] = coll.parent
        if style == "current":
            record["items"] = [ids[i.key] for i in library.items if key in i.collections]
        collections[key] = record
    return {
        "config": {"id": BBT_JSON_TRANSLATOR, "label": "BetterBibTeX JSON", "options": {}},
        "version": {"zotero": "7.0.32", "bbt": "7.0.50" if style == "current" else "6.7.100"},
        "collections": collections,
        "items": items,
    }


def write_bbt_export(path: Path, library: Library, **options: Any) -> Path:
    """Write the export (not atomically on purpose: BBT does not either)."""
    path.write_text(json.dumps(bbt_export(library, **options), indent=2), encoding="utf-8")
    return path
