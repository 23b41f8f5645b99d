"""The reference resolver a sync uses: cache first, Semantic Scholar within the budget."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from zotsync.config import Config
from zotsync.model import Library
from zotsync.refs.cache import RefCache
from zotsync.refs.delta import RefDelta
from zotsync.refs.resolve import RefGraph, resolve_references
from zotsync.state.db import StateDB

if TYPE_CHECKING:
    from zotsync.refs.s2 import S2Client


def demo_references() -> list[Any]:
    from zotsync.sources.demo import load_demo_references

    return load_demo_references()


def is_offline() -> bool:
    """``ZOTSYNC_OFFLINE=1``: no request to any reference or metadata service."""
    return os.environ.get("ZOTSYNC_OFFLINE") == "1"


class RefResolver:
    """Resolves a whole library's references, or hands out an incremental pass's share."""

    def __init__(
        self,
        config: Config,
        state: StateDB,
        client: S2Client | None,
        recorded: list[Any] | None,
        refresh: bool,
    ) -> None:
        self.config = config
        self.state = state
        self.cache = RefCache(state.conn)
        self.client = client
        self.recorded = recorded
        self.refresh = refresh

    def __call__(self, library: Library) -> RefGraph | None:
        graph = resolve_references(
            library.items,
            self.cache,
            client=self.client,
            recorded=self.recorded,
            deadline_s=self.config.refs.budget_seconds,
            refresh=self.refresh,
            max_age_days=self.config.refs.max_age_days,
        )
        if self.client is None:
            # offline on purpose: nothing to retry until the network is allowed again (the
            # items still show as pending in `zotsync status`)
            graph.deferred.clear()
        return graph

    def delta(self) -> RefDelta | None:
        """The reference work of an incremental pass; None when only full passes will do (a
        recorded answer, as the demo ships, or a forced refresh)."""
        if self.recorded is not None or self.refresh:
            return None
        return RefDelta(
            self.state,
            self.config.library,
            self.cache,
            self.client,
            deadline_s=self.config.refs.budget_seconds,
            max_age_days=self.config.refs.max_age_days,
        )


def make_ref_resolver(
    config: Config, state: StateDB, *, offline: bool = False, refresh: bool = False
) -> RefResolver | None:
    """The resolver of a sync, within the configured budget; None when references are off."""
    if not config.refs.enabled:
        return None
    recorded = demo_references() if config.source == "demo" else None
    client = None
    if recorded is None and not offline and not is_offline():
        from zotsync.refs.s2 import S2Client

        client = S2Client()
    return RefResolver(config, state, client, recorded, refresh)
