"""The daemon's kept copy of ``zotero.sqlite``: only the WAL is copied again, and only while safe.

A kept copy that is reused when it should not be would show the library as it was, silently:
the first guarantee of the sqlite source. So besides checking that the cheap path is taken in
the common case (the desktop committing into a WAL it never checkpoints), every step of a
random sequence of commits, checkpoints, WAL restarts, closes and file replacements must read
exactly what a fresh copy reads.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from zotsync.config import Config
from zotsync.model import Library, Tag
from zotsync.sources import sqlite_copy
from zotsync.sources.factory import make_source
from zotsync.sources.sqlite import SqliteSource
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import make_zotero_db
from zotsync.testing.zotero_writer import ZoteroDbWriter, hold_exclusive


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_zotero_db(
        tmp_path / "zotero" / "zotero.sqlite", sample_library(), version=10, wal=True
    )


@pytest.fixture
def full_copies(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every full snapshot the sqlite source takes (the expensive path)."""
    taken: list[Path] = []
    real = sqlite_copy.snapshot

    def counting(db: Path, dest: Path, **kwargs: object) -> Path:
        taken.append(db)
        return real(db, dest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite_copy, "snapshot", counting)
    return taken


def _view(library: Library) -> list[tuple[str, str, list[str]]]:
    return sorted((i.key, i.title, sorted(t.name for t in i.tags)) for i in library.items)


def _paper_keys(db: Path) -> list[str]:
    return [i.key for i in SqliteSource(db).read().items]


def test_a_commit_in_the_wal_copies_only_the_wal(db: Path, full_copies: list[Path]) -> None:
    keys = _paper_keys(db)
    full_copies.clear()
    source = SqliteSource(db, keep_copy=True)
    try:
        with hold_exclusive(db) as writer:
            first = source.read_changes(None)
            assert len(full_copies) == 1
            writer.set_title(keys[0], "Retitled while the desktop holds the database")
            delta = source.read_changes(first.token)
            assert len(full_copies) == 1, "the main file was copied again"
            titles = {i.key: i.title for i in delta.library.items}
            assert titles[keys[0]] == "Retitled while the desktop holds the database"
            writer.add_tag(keys[1], "kept-copy")
            again = source.read()
            assert len(full_copies) == 1
            assert _view(again) == _view(SqliteSource(db).read())
    finally:
        source.close()


def test_a_new_wal_generation_takes_a_full_copy(db: Path, full_copies: list[Path]) -> None:
    keys = _paper_keys(db)
    full_copies.clear()
    source = SqliteSource(db, keep_copy=True)
    try:
        with hold_exclusive(db) as writer:
            source.read()
            writer.set_title(keys[0], "Before the checkpoint")
            writer.checkpoint()  # everything into the main file; the WAL starts over
            writer.set_title(keys[1], "After the checkpoint")
            library = source.read()
            assert len(full_copies) == 2
            titles = {i.key: i.title for i in library.items}
            assert titles[keys[0]] == "Before the checkpoint"
            assert titles[keys[1]] == "After the checkpoint"
    finally:
        source.close()


def test_without_keep_copy_nothing_is_left_behind(db: Path, full_copies: list[Path]) -> None:
    source = SqliteSource(db)
    source.read()
    source.read()
    assert len(full_copies) == 2
    assert source._copies._folder is None


def test_close_deletes_the_kept_copy(db: Path) -> None:
    source = SqliteSource(db, keep_copy=True)
    source.read()
    assert source._copies._folder is not None
    folder = Path(source._copies._folder.name)
    assert (folder / db.name).is_file()
    source.close()
    assert not folder.exists()


def _step(rng: random.Random, db: Path, writer: ZoteroDbWriter, keys: list[str], i: int) -> str:
    op = rng.choice(["title", "title", "tag", "passive", "truncate", "trash", "restore-file"])
    key = rng.choice(keys)
    if op == "title":
        writer.set_title(key, f"Title {i} {rng.random():.6f}")
    elif op == "tag":
        writer.add_tag(key, Tag(f"tag-{i}"))
    elif op == "passive":
        # frames copied into the main file while the WAL keeps its generation
        writer.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    elif op == "truncate":
        writer.checkpoint()
    elif op == "trash":
        writer.trash(key)
    return op


@pytest.fixture
def coarse_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system whose timestamps never move (HFS+ and FAT keep whole seconds): only the
    WAL's generation can tell the kept copy is out of date."""
    monkeypatch.setattr(sqlite_copy, "_file_id", lambda path: (1, 1, 1, 1))


def test_a_new_generation_is_seen_without_timestamps(
    db: Path, full_copies: list[Path], coarse_clock: None
) -> None:
    keys = _paper_keys(db)
    source = SqliteSource(db, keep_copy=True)
    try:
        with hold_exclusive(db) as writer:
            source.read()
            writer.add_tag(keys[0], Tag("checkpointed"))  # pages the next commit won't touch
            writer.checkpoint()
            writer.set_title(keys[1], "In the new WAL")
            items = {i.key: i for i in source.read().items}
            assert "checkpointed" in {t.name for t in items[keys[0]].tags}
            assert items[keys[1]].title == "In the new WAL"
    finally:
        source.close()


@pytest.mark.parametrize("coarse", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_read_equals_a_fresh_copy(
    db: Path, tmp_path: Path, seed: int, coarse: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if coarse:
        monkeypatch.setattr(sqlite_copy, "_file_id", lambda path: (1, 1, 1, 1))
    rng = random.Random(seed)
    keys = _paper_keys(db)
    source = SqliteSource(db, keep_copy=True)
    token = None
    backup = tmp_path / "backup.sqlite"
    try:
        for round_ in range(3):
            with hold_exclusive(db) as writer:
                for i in range(8):
                    op = _step(rng, db, writer, keys, round_ * 100 + i)
                    if op == "restore-file":
                        continue  # done between rounds, when the desktop is closed
                    delta = source.read_changes(token)
                    token = delta.token
                    fresh = SqliteSource(db).read()
                    assert _view(source.read()) == _view(fresh), (seed, round_, i, op)
                    assert {i.key for i in delta.library.items} <= {i.key for i in fresh.items}
            # the desktop closed (checkpoint, WAL deleted); sometimes a backup is restored
            if rng.random() < 0.5 and backup.exists():
                shutil.copyfile(backup, db)
            shutil.copyfile(db, backup)
            assert _view(source.read()) == _view(SqliteSource(db).read())
    finally:
        source.close()


@pytest.mark.parametrize("seed", range(5))
def test_patching_a_copy_gives_the_source_bytes(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    src, target = tmp_path / "src", tmp_path / "target"
    old = bytearray(rng.randbytes(rng.randrange(0, 5000)))
    target.write_bytes(old)
    new = bytearray(old)
    for _ in range(rng.randrange(0, 4)):  # a few pages rewritten in place
        at = rng.randrange(0, max(1, len(new)))
        new[at : at + 64] = rng.randbytes(len(new[at : at + 64]))
    if rng.random() < 0.5:  # grown or shrunk (a vacuum, a restored backup)
        new = new + bytearray(rng.randbytes(rng.randrange(0, 3000)))
    else:
        new = new[: rng.randrange(0, len(new) + 1)]
    src.write_bytes(bytes(new))
    rewritten = sqlite_copy.patch_copy(src, target, chunk=256)
    assert target.read_bytes() == bytes(new)
    if bytes(new) == bytes(old):
        assert rewritten == 0


def test_only_the_daemons_source_keeps_a_copy(db: Path, tmp_path: Path) -> None:
    config = Config(source="sqlite", zotero_db=str(db))
    daemon = make_source(config, tmp_path / "vault", long_lived=True)
    one_shot = make_source(config, tmp_path / "vault")
    assert isinstance(daemon, SqliteSource) and isinstance(one_shot, SqliteSource)
    assert daemon._copies.keep and not one_shot._copies.keep
