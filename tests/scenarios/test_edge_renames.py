"""Renames survive a kill (PRODUCT, guarantee 2; issue 11 item 3).

A pass that renames notes journals every planned rename (old → new) in the state DB before the
first one and clears the journal only once the link rewrite is complete; the next start replays
it. Whatever instant a kill lands at, once the next pass completes no link in the user's own
notes points at a name that no longer exists.

Three ways in:

- a real ``zotsync sync`` process on a real ``zotero.sqlite``, SIGKILLed again and again while it
  renames a couple of hundred notes (each run continuing what the last one left);
- kills at exact instants, in-process through the CLI: right after the Nth ``os.rename`` of a
  note (before its state row is committed) and right after the Nth file of the link pass;
- a rename that cannot complete its link rewrite (a file changed under it) is retried by the
  next pass, not forgotten.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import paper, small_library
from support.crash_helpers import (
    HUB,
    bench_generator,
    count_names,
    dangling_links,
    kill_when,
    run_sync,
    start_sync,
    write_hub,
)

from zotsync import api
from zotsync.model import Library
from zotsync.state.db import StateDB
from zotsync.testing.zotero_db import make_zotero_db
from zotsync.testing.zotero_writer import ZoteroDbWriter


class _Killed(BaseException):
    """Stands in for SIGKILL at one exact instant (nothing in zotsync may catch it)."""


def retitle(db: Path, library: Library, every: int) -> int:
    """Zotero retitles every ``every``-th item (each note then gets a new name)."""
    conn = sqlite3.connect(db, isolation_level=None)
    writer = ZoteroDbWriter(conn, autocommit=True)
    count = 0
    for i, item in enumerate(library.items):
        if i % every == 0:
            writer.set_title(item.key, f"Retitled {i:04d} {item.title}")
            count += 1
    conn.close()
    return count


@pytest.mark.slow
def test_sigkill_while_renaming_leaves_no_dangling_link_after_the_next_pass(
    tmp_path: Path,
) -> None:
    library = bench_generator().generate_library(300, seed=11)
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", library, version=10)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    run_sync(vault)
    linked = write_hub(vault)
    assert linked == 300 and not dangling_links(vault)
    renamed = retitle(db, library, every=2)
    probe = count_names(vault / "Papers", "Retitled ")
    kills = 0
    for at in (1, 25, 60, 100, 140):
        proc = start_sync(vault)
        kills += kill_when(proc, lambda at=at: probe() >= at)  # type: ignore[misc]
    assert kills >= 3, f"only {kills} kills landed while renaming"
    run_sync(vault)
    assert probe() == renamed
    assert dangling_links(vault) == []
    hub = (vault / HUB).read_text(encoding="utf-8")
    assert hub.count("[[Retitled ") == renamed


def _small(vault_root: Path, make_db: Callable[..., Path], n: int = 6) -> tuple[Path, Path]:
    items = [paper(f"K{i:03d}AAAA", f"Paper number {i}", year=2000 + i) for i in range(n)]
    db = make_db(small_library(*items))
    vault = vault_root / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    return vault, db


@pytest.fixture
def renaming_vault(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Any]
) -> Iterator[tuple[Path, Path]]:
    """A synced 6-paper vault with a hub note linking to all; Zotero then retitles them all."""
    vault, db = _small(tmp_path, make_db)
    assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
    write_hub(vault)
    conn = sqlite3.connect(db, isolation_level=None)
    writer = ZoteroDbWriter(conn, autocommit=True)
    for i in range(6):
        writer.set_title(f"K{i:03d}AAAA", f"Renamed paper {i}")
    conn.close()
    yield vault, db


def _kill_after(nth: int, real: Callable[..., Any]) -> Callable[..., Any]:
    calls = [0]

    def fake(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        calls[0] += 1
        if calls[0] == nth:
            raise _Killed
        return out

    return fake


@pytest.mark.parametrize("nth", [1, 3, 6])
def test_kill_right_after_a_note_rename_before_its_state_row(
    renaming_vault: tuple[Path, Path],
    run_cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    nth: int,
) -> None:
    """The file is renamed, the process dies before anything else is recorded."""
    import zotsync.sync.apply as apply

    vault, _ = renaming_vault
    with monkeypatch.context() as patch:
        patch.setattr(apply.os, "rename", _kill_after(nth, os.rename))
        with pytest.raises(_Killed):
            run_cli("sync", "--vault", vault, "-q")
    assert len(list((vault / "Papers").glob("Renamed paper *.md"))) == nth
    assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
    assert dangling_links(vault) == []
    assert (vault / HUB).read_text("utf-8").count("[[Renamed paper ") == 6


def test_two_kills_in_a_row_keep_the_first_passes_renames(
    renaming_vault: tuple[Path, Path],
    run_cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pass 1 renames two notes and dies; pass 2 renames the rest and dies in its link pass."""
    import zotsync.sync.apply as apply
    import zotsync.sync.links as links

    vault, _ = renaming_vault
    with monkeypatch.context() as patch:
        patch.setattr(apply.os, "rename", _kill_after(2, os.rename))
        with pytest.raises(_Killed):
            run_cli("sync", "--vault", vault, "-q")
    with monkeypatch.context() as patch:
        patch.setattr(links, "write_atomic", _kill_after(1, links.write_atomic))
        with pytest.raises(_Killed):
            run_cli("sync", "--vault", vault, "-q")
    assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
    assert dangling_links(vault) == []


@pytest.mark.parametrize("nth", [1, 2])
def test_kill_during_the_link_rewrite_is_replayed_on_the_next_start(
    tmp_path: Path,
    make_db: Callable[..., Path],
    run_cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    nth: int,
) -> None:
    """Several user notes link to the renamed notes; the kill lands after the Nth rewritten."""
    import zotsync.sync.links as links

    vault, db = _small(tmp_path, make_db)
    assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
    write_hub(vault)
    for n in range(3):
        (vault / f"Log {n}.md").write_text(f"Day {n}: read [[Paper number {n}]].\n", "utf-8")
    conn = sqlite3.connect(db, isolation_level=None)
    writer = ZoteroDbWriter(conn, autocommit=True)
    for i in range(6):
        writer.set_title(f"K{i:03d}AAAA", f"Renamed paper {i}")
    conn.close()
    with monkeypatch.context() as patch:
        patch.setattr(links, "write_atomic", _kill_after(nth, links.write_atomic))
        with pytest.raises(_Killed):
            run_cli("sync", "--vault", vault, "-q")
    state = StateDB(vault / ".zotsync" / "state.sqlite")
    try:
        assert len(state.journalled_renames("user")) == 6  # still journalled after the kill
    finally:
        state.close()
    assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
    assert dangling_links(vault) == []
    for n in range(3):
        assert (vault / f"Log {n}.md").read_text(
            "utf-8"
        ) == f"Day {n}: read [[Renamed paper {n}]].\n"
    # the journal is cleared once the rewrite completed, and the next sync writes nothing
    state = StateDB(vault / ".zotsync" / "state.sqlite")
    try:
        assert state.journalled_renames("user") == []
    finally:
        state.close()
    before = {p: p.stat().st_mtime_ns for p in vault.rglob("*.md")}
    assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in vault.rglob("*.md")} == before


def test_old_meta_journal_is_migrated_to_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state DB from before the journal table: its JSON list of pending renames is kept."""
    import zotsync.state.db as db

    path = tmp_path / "state.sqlite"
    with monkeypatch.context() as patch:
        patch.setattr(db, "MIGRATIONS", [m for m in db.MIGRATIONS if m[0] < "0003"])
        old = StateDB(path)
        old.set_meta(
            "pending_renames", '[["Papers/A.md", "Papers/B.md"], ["Papers/C.md", "Papers/D.md"]]'
        )
        old.close()
    state = StateDB(path)
    try:
        assert state.journalled_renames("user") == [
            ("Papers/A.md", "Papers/B.md"),
            ("Papers/C.md", "Papers/D.md"),
        ]
        assert state.get_meta("pending_renames") is None
    finally:
        state.close()


def _kill_after_in(folder: Path, nth: int, real: Callable[..., Any]) -> Callable[..., Any]:
    """Like ``_kill_after``, counting only operations whose target is inside ``folder``."""
    calls = [0]

    def fake(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        out = real(src, dst, *args, **kwargs)
        if Path(os.fspath(dst)).parent == folder:
            calls[0] += 1
            if calls[0] == nth:
                raise _Killed
        return out

    return fake


@pytest.mark.parametrize("moment", ["update", "create"])
def test_a_kill_after_a_write_then_a_zotero_change_makes_no_conflict(
    tmp_path: Path,
    make_db: Callable[..., Path],
    run_cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
) -> None:
    """Killed between writing a note and recording it; Zotero then changes the item again.

    The next pass must know the note's regions for its own write (journalled before it), not
    take them for the user's edit: no conflict, and the note shows Zotero's latest abstract.
    (Found by the state machine: a kill followed by a Zotero edit made a conflict.)
    """
    import zotsync.vault.atomic as atomic

    vault, db = _small(tmp_path, make_db, n=3)
    papers = vault / "Papers"
    if moment == "update":
        assert run_cli("sync", "--vault", vault, "-q").exit_code == 0
        conn = sqlite3.connect(db, isolation_level=None)
        ZoteroDbWriter(conn, autocommit=True).set_field("K001AAAA", "abstractNote", "First edit.")
        conn.close()
        op, real = "replace", os.replace
    else:
        op, real = "link", os.link  # new notes land by hard link, then the state rows follow
    with monkeypatch.context() as patch:
        patch.setattr(atomic.os, op, _kill_after_in(papers, 1 if moment == "update" else 3, real))
        with pytest.raises(_Killed):
            run_cli("sync", "--vault", vault, "-q")
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).set_field("K001AAAA", "abstractNote", "Second edit.")
    conn.close()
    result = run_cli("sync", "--vault", vault, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["conflicts"] == 0
    assert not list(papers.glob("*conflict*"))
    assert "Second edit." in (papers / "Paper number 1.md").read_text("utf-8")
