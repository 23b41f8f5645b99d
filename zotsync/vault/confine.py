"""Confinement: the one check that keeps every write and every user-file read inside the vault.

PRODUCT guarantee 4: every path zotsync writes (notes, index, plan and inbox folders,
attachments, ``.zotsync/`` and everything in it) and every user file it reads (templates and
their includes) must resolve, through symlinks, inside the vault's real path. A folder or file
that is a symlink pointing elsewhere is refused with :class:`OutsideVault` and nothing is
written there.

There is exactly one function that decides it, :func:`confine`. The lowest layers call it:

* ``vault/atomic.py`` (every note, index, plan and inbox write, backups, moves) and
  ``vault/lock.py`` (the lock) through :func:`check_write`, which uses the vault of the lock
  this process holds. The low-level writers are not told the vault on every call, so the vault
  lock publishes it (:func:`confined_to`) for as long as it is held: every writing command takes
  the lock first, so no write can happen before the check is armed;
* ``api.open_state`` (the state DB), the log handler, the HTTP sources' caches and the template
  loader call :func:`confine` with the vault they were given.

Exit code: :class:`OutsideVault` is a :class:`~zotsync.errors.NoteError` (one note refused, the
sync goes on, exit 1 overall), but with exit code 2 when it stops a whole command (the state
folder or the lock lead out of the vault): the vault's layout is wrong, which is a
configuration problem the user fixes by removing the link.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zotsync.errors import EXIT_USAGE, NoteError


class OutsideVault(NoteError):
    """A path zotsync would write or read resolves outside the vault (through a symlink)."""

    exit_code = EXIT_USAGE


def real_root(vault: Path) -> Path:
    """The vault's real path (symlinks resolved); the reference every check compares with."""
    return Path(os.path.realpath(vault))


def is_inside(vault: Path, path: Path) -> bool:
    """Whether ``path`` (absolute, or relative to the vault) really lies inside the vault."""
    root = real_root(vault)
    target = path if path.is_absolute() else vault / path
    real = Path(os.path.realpath(target))
    return real == root or real.is_relative_to(root)


def confine(vault: Path, path: Path, *, action: str = "write") -> Path:
    """The real path of ``path``; :class:`OutsideVault` if it resolves outside ``vault``.

    ``path`` may be absolute or vault-relative and need not exist: a missing file inside a
    linked folder resolves through the link, so a new note cannot land outside either.
    """
    target = path if path.is_absolute() else vault / path
    real = Path(os.path.realpath(target))
    root = real_root(vault)
    if real == root or real.is_relative_to(root):
        return real
    raise OutsideVault(
        f"refusing to {action} {target}: it resolves to {real}, outside the vault {root}",
        fix="replace the symlink with a real folder or file inside the vault "
        "(or change the folder in zotsync.yaml)",
    )


_lock = threading.Lock()
_active: list[Path] = []
_user_named: set[Path] = set()


def push(vault: Path) -> None:
    """Arm the check for ``vault`` (the vault lock calls this when it is taken)."""
    with _lock:
        _active.append(Path(vault))


def pop(vault: Path) -> None:
    """Disarm what :func:`push` armed (the vault lock calls this when it is released)."""
    with _lock:
        if Path(vault) in _active:
            _active.remove(Path(vault))


def check_write(path: Path, checked: set[str] | None = None) -> None:
    """Refuse ``path`` unless it lies inside the vault whose lock this process holds.

    With no vault lock held (unit tests of the low-level writers, the ``--ics`` file a user
    names after the lock is released) there is nothing to compare with and the call is a no-op.
    ``checked`` lets a batch of writes resolve each folder once (its folders are made by the
    same pass, a moment before).
    """
    with _lock:
        vault = _active[-1] if _active else None
        named = Path(os.path.abspath(path)) in _user_named
    if vault is None or named:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if checked is not None and folder in checked and not os.path.islink(path):
        return  # the folder was checked in this batch, and the name is no link: inside too
    confine(vault, path)
    if checked is not None:
        checked.add(folder)


@contextmanager
def user_named(path: Path) -> Iterator[None]:
    """Let a file the user named on the command line (``plan --ics PATH``) be written.

    PRODUCT: outside the vault zotsync writes only such files; this is the one way past the
    check, and it admits that one path, not its folder.
    """
    key = Path(os.path.abspath(path))
    with _lock:
        _user_named.add(key)
    try:
        yield
    finally:
        with _lock:
            _user_named.discard(key)
