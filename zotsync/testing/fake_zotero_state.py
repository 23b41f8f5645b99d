"""What the loopback Zotero API server keeps: the requests it saw, the faults it is told to
inject, and each library's objects, version and deletion log (see :mod:`fake_zotero_api`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from zotsync.model import Item, Library
from zotsync.sources.zotero_json_out import children_to_data, item_to_data, library_to_objects

JsonObj = dict[str, Any]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass
class Fault:
    """Answer matching requests with ``status`` (or, with ``status=None``, add ``headers``)."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    path: str = ""
    method: str = "GET"
    times: int = 1
    body: str = ""


class ServedLibrary:
    """One library's server-side state: objects by kind and key, version, deletion log."""

    def __init__(
        self, library: Library, style: Literal["web", "local"], trashed: Sequence[Item] = ()
    ) -> None:
        self.ref = library.ref
        self.name = library.name
        self.style = style
        items, colls = library_to_objects(library, style)
        for item in trashed:  # in the trash: flagged, children alongside, like Zotero
            datas = [item_to_data(item, style), *children_to_data(item, style)]
            datas[0]["deleted"] = True if style == "local" else 1
            items += datas
        self.objects: dict[str, dict[str, JsonObj]] = {
            "item": {d["key"]: d for d in items},
            "collection": {d["key"]: d for d in colls},
        }
        versions = [int(d.get("version") or 0) for d in items + colls]
        self.version = max([library.version or 0, *versions])
        self.deleted: list[tuple[int, str, str]] = []
