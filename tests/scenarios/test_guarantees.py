"""The sync guarantees of PRODUCT.md, checked as a user would notice them.

No user text lost (byte for byte, frontmatter comments and quoting included), a second sync
writes nothing (bytes *and* mtimes), dry runs write nothing, overwrites leave backups, the
Zotero database and its folder are never written, and one writer per vault.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from conftest import (
    MemorySource,
    backups,
    folder_hash,
    note_path,
    sync_db,
    sync_memory,
    tree,
)

from zotsync import api
from zotsync.errors import EXIT_LOCKED
from zotsync.sync.engine import SyncOptions
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db

REPO = Path(__file__).resolve().parents[2]
USER_FM = "my-rating: '4/5'   # honest\nseen-at: \"2024-05-01\"\nodd:   [ a,  'b' ]\n"
USER_BODY = "\nThe key idea: *attention* replaces recurrence.\n\n```\n[[not a link]]\n```\n"


def personalise(note: Path) -> tuple[str, str]:
    """Add unowned frontmatter keys (comment, odd quoting) and text under ``## Notes``."""
    text = note.read_text("utf-8")
    head, sep, body = text.partition("\n---\n")
    note.write_text(head + "\n" + USER_FM.rstrip("\n") + sep + body + USER_BODY, "utf-8")
    return USER_FM, USER_BODY


def test_user_text_survives_title_change(vault: Path, memory_source: MemorySource) -> None:
    sync_memory(vault, memory_source)
    personalise(note_path(vault, "AAAA2222"))
    body_before = (
        note_path(vault, "AAAA2222").read_text("utf-8").partition("%% zotsync:end notes %%")[2]
    )
    memory_source.set_title("AAAA2222", "Attention Is Really All You Need")
    report = sync_memory(vault, memory_source)
    assert report.result.renamed == 1 and report.result.conflicts == 0
    note = note_path(vault, "AAAA2222")
    assert note.name == "Attention Is Really All You Need.md"
    text = note.read_text("utf-8")
    assert "\ntitle: Attention Is Really All You Need\n" in text
    assert "# Attention Is Really All You Need\n" in text
    assert USER_FM in text  # every byte of the user's keys, comment and quoting included
    assert text.endswith(body_before)


def test_owned_keys_merge_without_touching_user_values(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "BBBB3333")
    text = note.read_text("utf-8").replace("status: to-read", "status: reading  # started")
    note.write_text(text, "utf-8")
    memory_source.item("BBBB3333").fields["date"] = "2015"
    sync_memory(vault, memory_source)
    after = note.read_text("utf-8")
    assert "\nyear: 2015\n" in after
    assert "status: reading  # started" in after  # "keep" policy: the user's value wins


def _assert_second_sync_writes_nothing(vault: Path, run: Callable[[], object]) -> None:
    run()
    before = tree(vault)
    assert any(p.startswith("Papers/") for p in before)
    run()
    assert tree(vault) == before


@pytest.mark.parametrize(("version", "wal"), [(7, False), (10, True)])
def test_second_sync_writes_nothing_on_a_zotero_db(
    vault: Path, make_db: Callable[..., Path], version: int, wal: bool
) -> None:
    db = make_db(None, version=version, wal=wal)
    _assert_second_sync_writes_nothing(vault, lambda: sync_db(vault, db))


def test_second_sync_writes_nothing_on_the_sample_library_with_annotations(
    tmp_path: Path, vault: Path
) -> None:
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", version=10)
    _assert_second_sync_writes_nothing(vault, lambda: sync_db(vault, db))
    before = tree(vault)
    sync_db(vault, db, full=True)  # even the full path (no short cut) writes nothing
    assert tree(vault) == before


def test_second_sync_writes_nothing_on_the_demo_source(vault: Path) -> None:
    def run() -> object:
        return api.sync(vault, source_options=api.SourceOptions(source="demo"))

    _assert_second_sync_writes_nothing(vault, run)
    before = tree(vault)
    api.sync(vault, options=SyncOptions(full=True))
    assert tree(vault) == before


def test_unrelated_zotero_write_changes_no_note(vault: Path, make_db: Callable[..., Path]) -> None:
    db = make_db(None, version=10)
    sync_db(vault, db)
    before = tree(vault)
    with hold_exclusive(db) as zotero:
        zotero.touch_setting()  # Zotero started: the DB changed, the library did not
    report = sync_db(vault, db)
    assert report.result.created == report.result.updated == 0
    assert tree(vault) == before


def test_touched_note_is_not_rewritten(vault: Path, memory_source: MemorySource) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "CCCC4444")
    st = note.stat()
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    before = tree(vault)
    report = sync_memory(vault, memory_source)
    assert report.result.updated == 0 and report.result.conflicts == 0
    assert tree(vault) == before


def test_dry_run_writes_nothing_and_lists_the_actions(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    personalise(note_path(vault, "AAAA2222"))
    sync_memory(vault, memory_source)
    memory_source.set_title("AAAA2222", "Attention, Renamed")
    memory_source.item("BBBB3333").fields["abstractNote"] = "new"
    memory_source.remove("CCCC4444")
    from conftest import paper

    memory_source.library.items.append(paper("DDDD5555", "A New Paper"))
    before = tree(vault, include_state=True)
    report = sync_memory(vault, memory_source, dry_run=True)
    after = tree(vault, include_state=True)
    after.pop(".zotsync/lock", None)
    before.pop(".zotsync/lock", None)
    assert after == before
    kinds = {(a["action"], a["key"]) for a in report.result.actions}
    assert {
        ("create", "DDDD5555"),
        ("update", "AAAA2222"),
        ("update", "BBBB3333"),
        ("delete", "CCCC4444"),
    } <= kinds


def test_dry_run_at_the_cli_prints_actions(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db()
    before = tree(vault)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--dry-run", "--no-refs")
    assert result.exit_code == 0
    assert "create" in result.stdout and "Papers/Deep Residual Learning.md" in result.stdout
    assert tree(vault) == before  # not even zotsync.yaml: the source is not recorded
    assert not list((vault / "Papers").glob("*.md"))


def test_every_overwrite_of_user_text_leaves_a_backup(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    note = note_path(vault, "BBBB3333")
    personalise(note)
    sync_memory(vault, memory_source)
    previous = note.read_bytes()
    memory_source.item("BBBB3333").fields["abstractNote"] = "Residual connections."
    memory_source.item("BBBB3333").version += 1
    assert sync_memory(vault, memory_source).result.updated == 1
    assert note.read_bytes() != previous
    assert previous in [b.read_bytes() for b in backups(vault)]


def test_note_without_user_text_is_updated_without_backup_clutter(
    vault: Path, memory_source: MemorySource
) -> None:
    sync_memory(vault, memory_source)
    memory_source.item("CCCC4444").fields["abstractNote"] = "Q-learning."
    memory_source.item("CCCC4444").version += 1
    assert sync_memory(vault, memory_source).result.updated == 1
    assert "Q-learning." in note_path(vault, "CCCC4444").read_text("utf-8")


@pytest.mark.parametrize(("version", "wal"), [(7, False), (10, True)])
def test_zotero_db_and_its_folder_are_never_written(
    vault: Path, make_db: Callable[..., Path], version: int, wal: bool
) -> None:
    db = make_db(None, version=version, wal=wal)
    folder = db.parent
    before_hash, before_tree = folder_hash(folder), tree(folder)
    sync_db(vault, db)
    sync_db(vault, db, full=True)
    assert folder_hash(folder) == before_hash
    assert tree(folder) == before_tree


def test_zotero_db_held_by_the_desktop_is_never_written(
    vault: Path, make_db: Callable[..., Path]
) -> None:
    db = make_db(None, version=10)
    with hold_exclusive(db) as zotero:
        zotero.set_title("AAAA2222", "Attention (desktop edit)")
        before = tree(db.parent)
        report = sync_db(vault, db)
        assert tree(db.parent) == before
    assert report.result.created == 3
    assert note_path(vault, "AAAA2222").name == "Attention (desktop edit).md"


@pytest.fixture
def lock_holder(vault: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the vault lock (as a running daemon would)."""
    script = (
        "import sys\nfrom pathlib import Path\nfrom zotsync.vault.lock import VaultLock\n"
        "lock = VaultLock(Path(sys.argv[1]), command='zotsync watch')\nlock.acquire()\n"
        "print('ready', flush=True)\nsys.stdin.read()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(vault)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield proc
    proc.kill()
    proc.wait(timeout=60)


def test_sync_while_another_process_holds_the_vault_exits_5_naming_the_pid(
    vault: Path,
    make_db: Callable[..., Path],
    run_cli: Callable[..., Result],
    lock_holder: subprocess.Popen[str],
) -> None:
    db = make_db()
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs")
    assert result.exit_code == EXIT_LOCKED
    assert str(lock_holder.pid) in result.stderr
    assert not list((vault / "Papers").glob("*.md"))
    as_json = run_cli("sync", "--vault", vault, "--no-refs", "--json")
    assert as_json.exit_code == EXIT_LOCKED
    assert str(lock_holder.pid) in as_json.stdout
