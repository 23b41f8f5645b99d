"""Atomic conditional writes: old or new, never half; never over a file changed behind us."""

from __future__ import annotations

import errno
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from zotsync.errors import NoteError
from zotsync.vault.atomic import (
    TEMP_MARK,
    WriteConflict,
    backup_file,
    backup_stamp,
    cleanup_temp_files,
    ensure_inside,
    file_sig,
    is_inside,
    write_atomic,
)
from zotsync.vault.disk import DiskError


def temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if TEMP_MARK in p.name]


def test_new_note_is_created_and_its_signature_returned(tmp_path: Path) -> None:
    target = tmp_path / "Paper.md"
    sig = write_atomic(target, b"hello\n", expect=None)
    assert target.read_bytes() == b"hello\n"
    assert sig == file_sig(target)
    assert temps(tmp_path) == []


def test_create_only_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "Paper.md"
    target.write_bytes(b"user wrote this")
    with pytest.raises(WriteConflict):
        write_atomic(target, b"render", expect=None)
    assert target.read_bytes() == b"user wrote this"
    assert temps(tmp_path) == []


def test_create_only_without_hard_links_still_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    write_atomic(tmp_path / "a.md", b"a", expect=None)
    assert (tmp_path / "a.md").read_bytes() == b"a"
    with pytest.raises(WriteConflict):
        write_atomic(tmp_path / "a.md", b"b", expect=None)
    assert (tmp_path / "a.md").read_bytes() == b"a"
    assert temps(tmp_path) == []


def test_unchanged_file_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "Paper.md"
    target.write_bytes(b"old")
    sig = write_atomic(target, b"new", expect=file_sig(target))
    assert target.read_bytes() == b"new"
    assert sig == file_sig(target)


def test_user_edit_after_read_is_a_conflict_not_an_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "Paper.md"
    target.write_bytes(b"old")
    seen = file_sig(target)
    target.write_bytes(b"old plus the user's new sentence")
    with pytest.raises(WriteConflict, match="changed since it was read"):
        write_atomic(target, b"render", expect=seen)
    assert target.read_bytes() == b"old plus the user's new sentence"
    assert temps(tmp_path) == []


def test_file_deleted_after_read_is_a_conflict(tmp_path: Path) -> None:
    target = tmp_path / "Paper.md"
    target.write_bytes(b"old")
    seen = file_sig(target)
    target.unlink()
    with pytest.raises(WriteConflict):
        write_atomic(target, b"render", expect=seen)
    assert not target.exists()
    assert temps(tmp_path) == []


@pytest.mark.parametrize("failing", ["write", "fsync", "replace", "chmod"])
def test_injected_failure_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "Paper.md"
    target.write_bytes(b"old content")
    seen = file_sig(target)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, f"injected {failing} failure")

    monkeypatch.setattr(os, failing, boom)
    if failing == "chmod":  # best effort only: the write still succeeds
        write_atomic(target, b"new content", expect=seen)
        assert target.read_bytes() == b"new content"
    else:
        with pytest.raises(DiskError, match="disk is full"):  # one stop, not a per-note error
            write_atomic(target, b"new content", expect=seen)
        assert target.read_bytes() == b"old content"
    assert temps(tmp_path) == []


def test_interrupt_during_write_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "x.md", b"data", expect=None)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_permission_bits_of_the_old_file_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "Paper.md"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_atomic(target, b"new", expect=file_sig(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_backup_goes_under_zotsync_backups_and_never_overwrites(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / "Papers").mkdir(parents=True)
    note = vault / "Papers" / "A.md"
    note.write_bytes(b"version 1")
    stamp = backup_stamp(datetime(2026, 1, 5, 19, 30, tzinfo=UTC))
    assert stamp == "20260105T193000Z"
    first = backup_file(vault, note, stamp=stamp)
    assert first == vault / ".zotsync" / "backups" / stamp / "Papers" / "A.md"
    note.write_bytes(b"version 2")
    second = backup_file(vault, Path("Papers/A.md"), stamp=stamp)
    assert second.name == "A.md.1"
    assert first.read_bytes() == b"version 1" and second.read_bytes() == b"version 2"


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlinks_out_of_the_vault_are_refused(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    outside = tmp_path / "outside"
    vault.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text("not yours")
    (vault / "Escape").symlink_to(outside)
    (vault / "Papers").mkdir()
    (vault / "Papers" / "link.md").symlink_to(outside / "secret.md")
    assert is_inside(vault, vault / "Papers" / "new.md")
    assert is_inside(vault, Path("Papers/new.md"))
    assert not is_inside(vault, vault / "Escape" / "x.md")
    assert not is_inside(vault, vault / "Papers" / "link.md")
    assert not is_inside(vault, Path("Papers/../../outside/x.md"))
    with pytest.raises(NoteError, match="outside the vault"):
        ensure_inside(vault, vault / "Escape" / "x.md")
    with pytest.raises(NoteError):
        backup_file(vault, vault / "Papers" / "link.md")
    assert not (vault / ".zotsync").exists()


def test_cleanup_removes_only_our_own_temp_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    ours = [
        tmp_path / ".A.md.zotsync-tmp-0123abcd",
        tmp_path / "sub" / ".B.md.zotsync-tmp-deadbeef",
    ]
    others = [
        tmp_path / "A.md",
        tmp_path / ".A.md.zotsync-tmp-notours",
        tmp_path / "A.md.zotsync-tmp-0123abcd",
        tmp_path / ".obsidian-tmp",
    ]
    for p in ours + others:
        p.write_text("x")
    assert cleanup_temp_files(tmp_path) == 1
    assert cleanup_temp_files(tmp_path, recursive=True) == 1
    assert all(not p.exists() for p in ours)
    assert all(p.exists() for p in others)
    assert cleanup_temp_files(tmp_path / "missing") == 0
