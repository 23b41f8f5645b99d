"""Two libraries compared field by field, for the source contract tests: a source must read a
library back exactly as it was written (what it cannot know is named and left out)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from zotsync.model import Library


def library_differences(
    actual: Library, expected: Library, ignore: tuple[str, ...] = ()
) -> list[str]:
    """Human-readable differences between two libraries, items matched by key.

    ``ignore`` names attributes a source cannot know, as ``"Class.attr"`` (``"Attachment.url"``,
    ``"Attachment.annotations"``); they are compared as absent on both sides.
    """
    skip: dict[str, set[str]] = {}
    for entry in ignore:
        cls, _, attr = entry.partition(" ")[0].partition(".")
        skip.setdefault(cls, set()).add(attr)

    def clean(value: Any, cls: str) -> Any:
        out = {k: v for k, v in value.items() if k not in skip.get(cls, set())}
        if cls == "Item":
            out["attachments"] = [clean(a, "Attachment") for a in out.get("attachments", [])]
            out["notes"] = [clean(n, "ChildNote") for n in out.get("notes", [])]
        if cls == "Attachment" and "annotations" in out:
            # a source's packed annotations are a sequence that ``asdict`` leaves as it is
            out["annotations"] = [
                clean(a if isinstance(a, dict) else asdict(a), "Annotation")
                for a in out["annotations"]
            ]
        return out

    problems: list[str] = []
    if actual.ref != expected.ref:
        problems.append(f"ref {actual.ref} != {expected.ref}")
    if actual.collections != expected.collections:
        problems.append(f"collections {actual.collections} != {expected.collections}")
    got = {i.key: clean(asdict(i), "Item") for i in actual.items}
    want = {i.key: clean(asdict(i), "Item") for i in expected.items}
    if set(got) != set(want):
        problems.append(f"item keys {sorted(got)} != {sorted(want)}")
    for key in sorted(set(got) & set(want)):
        for attr in want[key]:
            if got[key].get(attr) != want[key][attr]:
                problems.append(f"{key}.{attr}: {got[key].get(attr)!r} != {want[key][attr]!r}")
    return problems
