"""The reference resolver a sync uses: cache first, Semantic Scholar within the budget."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from zotsync.config import Config
from zotsync.model import Library
from zotsync.refs.cache import RefCache
from zotsync.refs.resolve import RefGraph, resolve_references
from zotsync.state.db import StateDB


def demo_references() -> list[Any]:
    from zotsync.sources.demo import load_demo_references

    return load_demo_references()


def is_offline() -> bool:
    """``ZOTSYNC_OFFLINE=1``: no request to any reference or metadata service."""
    return os.environ.get("ZOTSYNC_OFFLINE") == "1"


def make_ref_resolver(
    config: Config, state: StateDB, *, offline: bool = False, refresh: bool = False
) -> Callable[[Library], RefGraph | None]:
    """A function that resolves the library's references within the configured budget."""
    if not config.refs.enabled:
        return lambda library: None
    cache = RefCache(state.conn)
    recorded = demo_references() if config.source == "demo" else None
    client = None
    if recorded is None and not offline and not is_offline():
        from zotsync.refs.s2 import S2Client

        client = S2Client()

    def resolve(library: Library) -> RefGraph | None:
        graph = resolve_references(
            library.items,
            cache,
            client=client,
            recorded=recorded,
            deadline_s=config.refs.budget_seconds,
            refresh=refresh,
            max_age_days=config.refs.max_age_days,
        )
        if client is None:
            # offline on purpose: nothing to retry until the network is allowed again (the
            # items still show as pending in `zotsync status`)
            graph.deferred.clear()
        return graph

    return resolve
