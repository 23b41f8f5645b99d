"""The merge policies of owned frontmatter keys: ``replace``, ``append``, ``keep``.

Pure: the values on disk and the rendered ones in, the keys to splice out (see
:func:`zotsync.vault.frontmatter.splice_frontmatter`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zotsync.vault.frontmatter import POLICIES, same_value


def _norm(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) else v


def merge_owned(
    existing: Mapping[str, Any], rendered: Mapping[str, Any], policies: Mapping[str, str]
) -> dict[str, Any]:
    """The owned keys whose value must change, under each key's policy.

    ``replace``: the rendered value wins. ``append``: the user's list is kept in its order and
    Zotero's new values are appended (no duplicates, compared case-insensitively). ``keep``:
    the existing value stays once the key exists. Keys without a policy are ``replace``.
    """
    changed: dict[str, Any] = {}
    for key, new in rendered.items():
        policy = policies.get(key, "replace")
        if policy not in POLICIES:
            raise ValueError(f"unknown merge policy {policy!r} for key {key!r}")
        if key not in existing:
            changed[key] = list(new) if isinstance(new, tuple) else new
            continue
        old = existing[key]
        if policy == "keep":
            continue
        if policy == "replace":
            if not same_value(old, new):
                changed[key] = new
            continue
        old_list = [] if old is None else list(old) if isinstance(old, list) else [old]
        new_list = list(new) if isinstance(new, list | tuple) else [] if new is None else [new]
        seen = {_norm(v) for v in old_list if not isinstance(v, list | dict)}
        extra = []
        for v in new_list:
            if _norm(v) not in seen:
                seen.add(_norm(v))
                extra.append(v)
        if extra or (old is None and new_list):
            changed[key] = old_list + extra
    return changed
