"""Crash safety of the incremental pass: SIGKILL in the middle of one, then the rerun.

The token that lets a pass be incremental is stored only by a pass that completed, so a killed
incremental pass leaves the previous token: the rerun reads the same changes again (plus any
newer ones), finds the notes it already wrote equal to their rendering, and finishes the rest.
The vault it ends with must be byte-identical to one that followed the same history with full
passes only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import sync_db
from support.crash_helpers import (
    bench_generator,
    count_names,
    find_note,
    kill_when,
    note_versions,
    run_sync,
    start_sync,
    temp_files,
)

from zotsync import api
from zotsync.model import Library
from zotsync.sync.engine import SyncOptions
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db

pytestmark = pytest.mark.slow

ITEMS = 600
RETITLED = (1, 10, 40, 80, 120, 150)


def _files(vault: Path) -> dict[str, bytes]:
    return {
        p.relative_to(vault).as_posix(): p.read_bytes()
        for p in sorted(vault.rglob("*"))
        if p.is_file() and ".zotsync" not in p.parts and p.name != "zotsync.yaml"
    }


def refs_off(vault: Path) -> None:
    config = vault / "zotsync.yaml"
    text = config.read_text("utf-8").replace("refs:\n  enabled: true", "refs:\n  enabled: false")
    config.write_text(text, "utf-8")


def _cite_each_other(vault: Path, library: Library) -> None:
    """A cached reference list for every paper with an id, citing other papers by title and
    year, so retitles move other notes' references and cited-by regions."""
    from zotsync.refs.cache import RefCache
    from zotsync.refs.ids import item_ids, normalize_title
    from zotsync.workspace import open_state

    rows = []
    items = library.items
    for n, item in enumerate(items):
        ck = item_ids(item).cache_key
        if ck is None:
            continue
        cited = [items[(n * 7 + k) % len(items)] for k in (1, 2, 3)]
        refs = [[c.title, c.year, None, None, None, normalize_title(c.title)] for c in cited]
        rows.append((ck, "ok", {"paperId": f"S2{n}", "referenceCount": len(refs), "refs": refs}))
    assert len(rows) > len(items) // 3  # many papers have a list: the pass has links to move
    state = open_state(vault)
    RefCache(state.conn).put_many(rows)
    state.close()


def _sync_full(vault: Path, db: Path, refs: bool) -> api.SyncReport:
    if not refs:
        return sync_db(vault, db, full=True)
    return api.sync(vault, options=SyncOptions(full=True), fetch_refs=False)


@pytest.mark.parametrize("refs", [False, True], ids=["refs-off", "refs-on"])
def test_sigkill_during_an_incremental_pass_converges_to_the_full_pass_vault(
    tmp_path: Path, refs: bool
) -> None:
    library = bench_generator().generate_library(ITEMS)
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", library, version=10, wal=True)
    vault, full = tmp_path / "vault", tmp_path / "full"
    for v in (vault, full):
        api.init_vault(v, api.SourceOptions(zotero_db=str(db)))
        if refs:
            _cite_each_other(v, library)
        else:
            refs_off(v)
    run_sync(vault, "--no-refs")
    _sync_full(full, db, refs)
    papers = vault / "Papers"
    mine = find_note(papers, library.items[3].key)
    mine.write_text(mine.read_text("utf-8") + "\nMy own line ✓\n", "utf-8")
    theirs = find_note(full / "Papers", library.items[3].key)
    theirs.write_text(theirs.read_text("utf-8") + "\nMy own line ✓\n", "utf-8")

    old = note_versions(papers)
    kills = 0
    with hold_exclusive(db) as zotero:  # the desktop holds the database; commits stay in -wal
        for i, item in enumerate(library.items):
            if i % 4 == 0:
                zotero.set_title(item.key, f"Retitled {i:04d} {item.title}")
            elif i % 8 == 1:
                zotero.set_field(item.key, "abstractNote", f"Revised abstract {i}.")
            elif i % 50 == 2:
                zotero.trash(item.key)
        for n in RETITLED:
            proc = start_sync(vault, "--no-refs")  # the cache only, as offline
            kills += kill_when(proc, lambda n=n: count_names(papers, "Retitled ")() >= n)
            seen = note_versions(papers)
            assert set(seen) <= set(old)
        report = api.sync(vault, fetch_refs=False) if refs else sync_db(vault, db)
        _sync_full(full, db, refs)
    # the rerun was incremental: the killed passes never stored a token of their own
    assert report.result.incremental
    assert report.result.failed == 0, report.result.errors
    assert kills >= 4, f"only {kills} kills landed while the sync was running"
    assert not temp_files(vault)
    assert _files(vault) == _files(full), _first_difference(_files(full), _files(vault))
    assert "My own line ✓\n" in find_note(papers, library.items[3].key).read_text("utf-8")


def _first_difference(want: dict[str, bytes], got: dict[str, bytes]) -> str:
    import difflib

    if want.keys() != got.keys():
        return f"files differ: {sorted(want.keys() ^ got.keys())[:5]}"
    for path, data in want.items():
        if got[path] != data:
            diff = difflib.unified_diff(
                data.decode().splitlines(), got[path].decode().splitlines(), lineterm="", n=1
            )
            return path + "\n" + "\n".join(diff)
    return ""


class _Killed(BaseException):
    """Stands in for SIGKILL at one exact instant (nothing in zotsync may catch it)."""


def test_links_are_rewritten_after_an_incremental_pass_killed_before_its_link_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import paper, small_library

    import zotsync.sync.journal as journal
    from zotsync.testing.zotero_writer import ZoteroDbWriter

    db = make_zotero_db(
        tmp_path / "zotero" / "zotero.sqlite",
        small_library(paper("AAAA2222", "Old Name"), paper("BBBB3333", "Other")),
        version=10,
    )
    vault = tmp_path / "vault"
    api.init_vault(vault)
    sync_db(vault, db)
    other = find_note(vault / "Papers", "BBBB3333")
    other.write_text(other.read_text("utf-8") + "\nSee [[Old Name]] for the proof.\n", "utf-8")
    sync_db(vault, db)  # records the user's edit; the next pass starts from a clean token
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).set_title("AAAA2222", "New Name")
    conn.close()

    def killed(*args: object, **kwargs: object) -> int:
        raise _Killed

    with monkeypatch.context() as patch:
        patch.setattr(journal, "rewrite_renamed_links", killed)
        with pytest.raises(_Killed):
            sync_db(vault, db)
    assert (vault / "Papers" / "New Name.md").exists()  # the rename itself happened
    report = sync_db(vault, db)  # the rerun after the kill
    assert report.result.incremental
    assert "See [[New Name]] for the proof." in other.read_text("utf-8")
