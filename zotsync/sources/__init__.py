"""Sources: everything that can read a Zotero library into :class:`zotsync.model.Library`.

All sources implement :class:`Source`. ``read()`` returns the *whole* current library (top-level
regular items with their children; trashed items and feeds left out); incremental sources
(web, local) keep their own cache under the ``cache_dir`` they are given and only fetch what
changed, but still hand back the complete library, so the sync engine has one code path.

A source may also offer ``read_changes(token, hooks)`` (:class:`IncrementalSource`): given the
token its previous answer carried, it returns only the items that changed since, the keys that
left the library, and a new token. The engine then works on those items alone. A source
without it, or a ``None``/unusable token, gets the complete library (``Delta.complete``), so an
incremental pass can always fall back to a full one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

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


@dataclass
class Delta:
    """A source's answer to "what changed since this token?".

    ``library`` holds the changed or new items (every item when ``complete``), with the library's
    collections, reference and data folder in full. ``deleted`` are keys the token knew that are
    no longer live items (deleted, trashed). ``token`` describes exactly the snapshot read, to be
    passed to the next call once everything it says has been carried out.
    """

    library: Library
    token: str
    complete: bool
    deleted: set[str] = field(default_factory=set)
    #: every live item's key (known without reading the items)
    live: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ChangeHooks:
    """What an incremental read is asked for besides the changed items (see
    :meth:`IncrementalSource.read_changes`)."""

    also: Collection[str] = ()
    dependents: Callable[[set[str]], set[str]] | None = None
    expand: Callable[[Library, set[str]], set[str]] | None = None


NO_HOOKS = ChangeHooks()


@runtime_checkable
class IncrementalSource(Source, Protocol):
    """A source that can say what changed since its last answer."""

    def read_changes(self, token: str | None, hooks: ChangeHooks = NO_HOOKS) -> Delta:
        """The items changed since ``token``, plus the items ``hooks.also`` names (if live).

        ``hooks.dependents`` maps changed, new or deleted keys (and ``also``) to the keys of items
        whose notes render something of theirs (links); those are read in the same snapshot.
        ``hooks.expand`` is then given the items read and the deleted keys, and names more items to
        read in that snapshot: those whose reference lists the changed items' data touch.

        With ``token=None`` or a token that no longer applies (another library, collections or
        citation keys changed), the delta is ``complete``. Raises like :meth:`Source.read`.
        """
        ...


def partial_delta(
    sigs: dict[str, str],
    known: dict[str, str],
    hooks: ChangeHooks,
    read: Callable[[set[str]], Library],
    token: str,
) -> Delta:
    """The incremental :class:`Delta` from per-item signatures, now and at the last token.

    One implementation for every incremental source: an item is read when its signature
    moved (an empty one always is), when ``hooks.also`` names it, when ``hooks.dependents``
    links it to a changed or deleted item, or when ``hooks.expand`` asks for it after seeing
    the items read. ``read`` reads the given live keys from the same state of the library.
    """
    changed = {k for k, sig in sigs.items() if not sig or known.get(k) != sig}
    deleted = set(known) - sigs.keys()
    changed |= set(hooks.also) & sigs.keys()
    if hooks.dependents is not None and (changed or deleted):
        changed |= hooks.dependents(changed | deleted | set(hooks.also)) & sigs.keys()
    library = read(changed)
    more = hooks.expand(library, deleted) & sigs.keys() - changed if hooks.expand else set()
    if more:  # from the same state, so the pass sees one state of the library
        extra = read(more)
        library.items.extend(extra.items)
        library.problems.extend(extra.problems)
        library.unreadable |= extra.unreadable
    return Delta(library, token, False, deleted=deleted, live=set(sigs))
