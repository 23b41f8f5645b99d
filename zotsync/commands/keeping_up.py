"""Vault glue for ``zotsync discover`` and ``zotsync add`` (the cores live in
:mod:`zotsync.discover` and :mod:`zotsync.add`).

Both need the library: discover to rank against it and leave out what is already there, add to
refuse duplicates. They read it from the configured source, and take statuses, priorities and
note names from the vault, where the user's values live.

``add`` must work in the situation it exists for — the desktop running, the user ticking boxes —
so it depends on as little as possible: when the configured source cannot be read (a web
source without a key, a moved database) the duplicate check falls back to the ``arxiv``/``doi``
frontmatter of the vault's notes, which mirror the library as of the last sync; and the web
API's user id is looked up only when the web API is really used (the desktop did not answer).
Both commands take the arXiv delay from ``discover.delay-seconds``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from zotsync.add.ids import known_identifiers
from zotsync.add.run import ALREADY, AddResult, add_papers
from zotsync.add.web_write import WebTarget
from zotsync.arxiv_api import ArxivClient
from zotsync.config import Config
from zotsync.discover import DiscoverResult, mark_inbox_added, ticked_in_inbox
from zotsync.discover import discover as run_discover
from zotsync.errors import ZotsyncError
from zotsync.library.papers import PaperInfo
from zotsync.library_notes import RegionMemory, read_papers
from zotsync.model import Library
from zotsync.sources.factory import make_source
from zotsync.vault.frontmatter import read_frontmatter
from zotsync.vault.lock import VaultLock
from zotsync.vault.scan import read_head
from zotsync.workspace import check_vault, configure, open_state

log = logging.getLogger(__name__)


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
    """Rank the new arXiv papers against the library and write ``Inbox/<week>.md``.

    Categories and queries given here replace the configured ones (both lists, so
    ``--query`` alone does not also search the configured categories).
    """
    vault = check_vault(vault)
    lock = VaultLock(vault, command="discover") if hold_lock else None
    if lock:
        lock.acquire()
    try:
        config = configure(vault, config_path, None)
        library = make_source(config, vault).read()
        state = open_state(vault)
        try:
            papers = read_papers(vault, config, state)
            memory = RegionMemory(state)
            result = _discover(
                vault, config, library, papers, categories, queries, days, top, client, memory
            )
            memory.save()
            return result
        finally:
            state.close()
    finally:
        if lock:
            lock.release()


def _discover(
    vault: Path,
    config: Config,
    library: Library,
    papers: list[PaperInfo],
    categories: list[str] | None,
    queries: list[str] | None,
    days: int | None,
    top: int | None,
    client: ArxivClient | None,
    memory: RegionMemory,
) -> DiscoverResult:
    """The ranking and the inbox note, inside the lock and with the state open."""
    cfg = config.discover
    by_key = {p.key: p for p in papers}
    given = bool(categories or queries)
    return run_discover(
        vault,
        library.items,
        client or ArxivClient(delay_seconds=cfg.delay_seconds),
        categories=(categories or []) if given else cfg.categories,
        queries=(queries or []) if given else cfg.queries,
        days=days or cfg.days,
        top_k=top or cfg.top,
        statuses={k: p.status for k, p in by_key.items()},
        priorities={k: p.priority for k, p in by_key.items() if p.priority is not None},
        note_names={k: p.link for k, p in by_key.items()},
        collection_names=_collection_names(library),
        folder=cfg.folder,
        memory=memory,
    )


def _collection_names(library: Library) -> dict[str, str]:
    return {key: "/".join(library.collection_path(key)) for key in library.collections}


def library_identifiers(vault: Path, config: Config) -> set[str]:
    """arXiv ids and DOIs (lower-case) of the library, for ``add``'s duplicate check.

    From the source when it can be read; else from the notes' frontmatter, so a source that
    is down does not stop an add through the running desktop.
    """
    try:
        library = make_source(config, vault).read()
    except ZotsyncError as exc:
        log.warning("reading the library failed (%s); checking duplicates in the vault", exc)
        return _vault_identifiers(vault, config)
    return known_identifiers(item.fields for item in library.items)


def _vault_identifiers(vault: Path, config: Config) -> set[str]:
    state = open_state(vault)
    try:
        items = state.load_items(config.library)
    finally:
        state.close()
    fields = []
    for item in items.values():
        if not item.path or item.tombstone:
            continue
        try:
            meta = read_frontmatter(read_head(vault / item.path))
        except (ZotsyncError, OSError, UnicodeDecodeError):
            continue
        arxiv, doi = str(meta.get("arxiv") or ""), str(meta.get("doi") or "")
        fields.append({"archiveID": f"arXiv:{arxiv}" if arxiv else "", "DOI": doi})
    return known_identifiers(fields)


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
    """Add papers to Zotero (connector first, else the web API); mark inbox entries added.

    Inbox entries are marked when their paper was added, and also when it turned out to be
    in the library already (saved with the browser button after ticking, say): either way it
    is in Zotero, and a tick that can never be added would make every later run exit 1.
    Nothing is marked when the add fails as a whole (no desktop, no key).
    """
    from zotsync.sources.credentials import api_key

    if not ids and not from_inbox:
        raise ZotsyncError(
            "nothing to add: no arXiv id or DOI given",
            fix="zotsync add 2611.10421 (ids, DOIs or their URLs), or zotsync add --from-inbox",
        )
    library_ids: set[str] = set()
    folder = "Inbox"
    label = "user"
    delay = Config().discover.delay_seconds
    if vault is not None:
        vault = check_vault(vault)
        config = configure(vault, config_path, None)
        folder, label = config.discover.folder, config.library
        delay = config.discover.delay_seconds
        library_ids = library_identifiers(vault, config)
        if from_inbox:
            ids = [*ids, *ticked_in_inbox(vault, folder)]
    elif from_inbox:
        raise ZotsyncError(
            "--from-inbox needs a vault and none was found",
            fix="pass --vault PATH, or run zotsync inside the vault",
        )
    if not ids:
        return AddResult()
    key = api_key()
    result = add_papers(
        ids,
        library_ids=library_ids,
        arxiv_client=client or ArxivClient(delay_seconds=delay),
        web=WebTarget(label, key) if key else None,
        collection=collection,
        tags=tags or ["to-read"],
    )
    if vault is not None:
        done = [a.id for a in result.added]
        done += [i for i, reason in result.skipped if reason == ALREADY]
        if done:
            mark_inbox_added(vault, _unversioned(done), folder)
    return result


def _unversioned(ids: list[str]) -> list[str]:
    """Inbox entries are unversioned arXiv ids; ``add 2611.00042v2`` marks ``2611.00042``."""
    from zotsync.add.ids import parse_paper_id

    out = []
    for text in ids:
        pid = parse_paper_id(text)
        out.append(pid.value if pid is not None else text)
    return out
