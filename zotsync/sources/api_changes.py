"""Incremental reads for the sources that keep Zotero's JSON in an object cache (web, local).

After a source has brought its cache up to date (``since`` and ``/deleted`` on the web,
Zotero 10's local versions or content hashes on the desktop), the cache knows every object's
version, parent and whether it is a live top-level item (``state/object_cache.py`` keeps those
beside the JSON). So what changed since the last pass can be told without decoding the
library:

* every live top-level item gets a signature: the keys and versions of its *tree* (the item,
  its notes and attachments, and the attachments' annotations). Zotero moves an object's
  version on every change of it, trashing included, and a deleted child leaves the tree;
* the library's signature covers its collections (their content: a renamed collection
  changes the folders of every item in it), its name and the source's identity. When it
  moves, or the token was made for another partition (another library, another desktop
  database), the answer is the whole library;
* otherwise only the trees whose signature moved are decoded, with the items the caller
  asks for (``also``, ``dependents``, ``expand``), all from the same cache state.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable

from zotsync.model import Library
from zotsync.sources import NO_HOOKS, ChangeHooks, Delta, partial_delta
from zotsync.state.object_cache import ObjectCache


def trees(cache: ObjectCache, part: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Signature and member keys of every live top-level item's tree."""
    tops, children = cache.trees(part)
    parent_of = {key: parent for key, parent, _ in children}
    members: dict[str, list[str]] = {key: [key] for key, _ in tops}
    parts: dict[str, list[str]] = defaultdict(list)
    for key, version in tops:
        parts[key].append(f"{key}:{version}")
    for key, parent, version in children:
        owner = parent
        for _ in range(3):  # an annotation's parent is an attachment, whose parent is the item
            if owner in members or owner not in parent_of:
                break
            owner = parent_of[owner]
        if owner in members:
            members[owner].append(key)
            parts[owner].append(f"{key}:{version}")
    sigs = {
        key: hashlib.blake2b("\n".join(sorted(parts[key])).encode(), digest_size=8).hexdigest()
        for key in members
    }
    return sigs, members


def library_signature(cache: ObjectCache, part: str, identity: str) -> str:
    """What every item's rendering shares: the collections, the library's name, the source.

    The collections' content, not their versions: Zotero 7–9's local API reports synced
    versions, which do not move when a collection is renamed on the desktop (a few hundred
    small objects at most, so decoding them costs nothing).
    """
    collections = sorted(json.dumps(c, sort_keys=True) for c in cache.objects(part, "collection"))
    shared = [
        identity,
        collections,
        cache.meta(part, "name"),
        cache.meta(part, "library_id"),
    ]
    return hashlib.blake2b(json.dumps(shared).encode(), digest_size=16).hexdigest()


def read_cached_changes(
    cache: ObjectCache,
    part: str,
    identity: str,
    build: Callable[[list[str] | None], Library],
    token: str | None,
    hooks: ChangeHooks = NO_HOOKS,
) -> Delta:
    """The :class:`Delta` since ``token`` from the cache's partition ``part``.

    ``build`` assembles a library from the given objects' keys (every item for ``None``).
    """
    sigs, members = trees(cache, part)
    lib_sig = library_signature(cache, part, identity)
    new_token = json.dumps({"v": 1, "part": part, "library": lib_sig, "items": sigs})
    old = _decode(token)
    if old is None or old.get("part") != part or old.get("library") != lib_sig:
        return Delta(build(None), new_token, True, live=set(sigs))
    items = old.get("items")
    known: dict[str, str] = items if isinstance(items, dict) else {}
    return partial_delta(
        sigs,
        known,
        hooks,
        lambda keys: build([member for key in sorted(keys) for member in members[key]]),
        new_token,
    )


def _decode(token: str | None) -> dict[str, object] | None:
    if not token:
        return None
    try:
        value = json.loads(token)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value.get("v") == 1 else None
