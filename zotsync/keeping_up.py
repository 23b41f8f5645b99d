"""Vault glue for ``zotsync discover`` and ``zotsync add`` (the cores live in
:mod:`zotsync.discover` and :mod:`zotsync.add`).

Both need the library: discover to rank against it and leave out what is already there, add to
refuse duplicates. They read it from the configured source, and take statuses, priorities and
note names from the vault, where the user's values live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zotsync import api
from zotsync.add.ids import known_identifiers
from zotsync.add.run import AddResult, add_papers
from zotsync.add.web_write import WebTarget
from zotsync.arxiv_api import ArxivClient
from zotsync.discover import DiscoverResult, mark_inbox_added, ticked_in_inbox
from zotsync.discover import discover as run_discover
from zotsync.errors import ZotsyncError
from zotsync.model import Library
from zotsync.planning import read_papers
from zotsync.vault.lock import VaultLock


def _library_and_papers(vault: Path, config_path: Path | None) -> tuple[Any, Library, list[Any]]:
    config = api.configure(vault, config_path, None)
    library = api.make_source(config, vault).read()
    state = api.open_state(vault)
    try:
        papers = read_papers(vault, config, state)
    finally:
        state.close()
    return config, library, papers


def discover(
    vault: Path,
    *,
    config_path: Path | None = None,
    categories: list[str] | None = None,
    queries: list[str] | None = None,
    days: int | None = None,
    top: int | None = None,
    hold_lock: bool = True,
    client: ArxivClient | None = None,
) -> DiscoverResult:
    """Rank the new arXiv papers against the library and write ``Inbox/<week>.md``."""
    vault = api.check_vault(vault)
    lock = VaultLock(vault, command="discover") if hold_lock else None
    if lock:
        lock.acquire()
    try:
        config, library, papers = _library_and_papers(vault, config_path)
        cfg = config.discover
        by_key = {p.key: p for p in papers}
        return run_discover(
            vault,
            library.items,
            client or ArxivClient(delay_seconds=cfg.delay_seconds),
            categories=categories if categories else ([] if queries else cfg.categories),
            queries=queries if queries else ([] if categories else cfg.queries),
            days=days or cfg.days,
            top_k=top or cfg.top,
            statuses={k: p.status for k, p in by_key.items()},
            priorities={k: p.priority for k, p in by_key.items() if p.priority is not None},
            note_names={k: p.link for k, p in by_key.items()},
            collection_names={
                key: "/".join(library.collection_path(key)) for key in library.collections
            },
            folder=cfg.folder,
        )
    finally:
        if lock:
            lock.release()


def add(
    vault: Path | None,
    ids: list[str],
    *,
    config_path: Path | None = None,
    from_inbox: bool = False,
    collection: str | None = None,
    tags: list[str] | None = None,
    client: ArxivClient | None = None,
) -> AddResult:
    """Add papers to Zotero (connector first, else the web API); mark inbox entries added."""
    from zotsync.sources.credentials import api_key

    library_ids: set[str] = set()
    folder = "Inbox"
    if vault is not None:
        vault = api.check_vault(vault)
        config, library, _ = _library_and_papers(vault, config_path)
        folder = config.discover.folder
        library_ids = known_identifiers(item.fields for item in library.items)
        if from_inbox:
            ids = [*ids, *ticked_in_inbox(vault, folder)]
    elif from_inbox:
        raise ZotsyncError("--from-inbox needs a vault", fix="pass --vault PATH")
    key = api_key()
    web = None
    if key:
        label = config.library if vault is not None else "user"
        web = WebTarget(_web_library(label, key), key)
    result = add_papers(
        ids,
        library_ids=library_ids,
        arxiv_client=client or ArxivClient(),
        web=web,
        collection=collection,
        tags=tags or ["to-read"],
    )
    if vault is not None and result.added:
        mark_inbox_added(vault, [a.id for a in result.added], folder)
    return result


def _web_library(label: str, key: str) -> str:
    """``users/ID`` or ``groups/ID`` for web writes (the user id read from /keys/current)."""
    if label.startswith("group:"):
        return f"groups/{label.split(':', 1)[1]}"
    if label.startswith("user:"):
        return f"users/{label.split(':', 1)[1]}"
    import os

    import httpx

    base = os.environ.get("ZOTSYNC_ZOTERO_API_URL", "https://api.zotero.org").rstrip("/")
    try:
        response = httpx.get(f"{base}/keys/current", headers={"Zotero-API-Key": key}, timeout=10)
        response.raise_for_status()
        return f"users/{response.json()['userID']}"
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise ZotsyncError(
            f"could not read the user id of the API key ({type(exc).__name__})",
            fix="check ZOTERO_API_KEY, or give the library as --library user:ID",
        ) from None
