"""Crash-safe, conditional file writes confined to the vault.

Every note is written the same way, so a kill at any instant leaves the old file or the new
one, never half of either::

    temp file in the same folder (.<name>.zotsync-tmp-<hex>) -> write -> fsync
    -> check the target still has the signature we read (else WriteConflict)
    -> os.replace -> fsync the folder

The signature check is what keeps a user's save in the editor from being overwritten by a
render computed from an older read: ``(mtime_ns, size, inode)`` is compared, and any change
is a conflict the engine retries on the next pass. Creating a note (``expect=None``) uses a
hard link where the file system allows it, which fails atomically if the name was taken in the
meantime. Whatever fails, the temp file is removed; leftovers of a killed run are removed by
:func:`cleanup_temp_files`.

:func:`ensure_inside` (``vault/confine.py``, the one confinement check) resolves symlinks so
that no write can leave the vault through a linked folder or a crafted name; every writer here
also calls :func:`~zotsync.vault.confine.check_write` against the vault whose lock is held.
A full, read-only or failing disk becomes one :class:`~zotsync.vault.disk.DiskError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from zotsync.errors import EXIT_PARTIAL, ZotsyncError
from zotsync.vault.confine import check_write
from zotsync.vault.confine import confine as ensure_inside
from zotsync.vault.confine import is_inside as is_inside
from zotsync.vault.disk import stop_on_disk_error

TEMP_MARK = ".zotsync-tmp-"
_TEMP_RE = re.compile(r"^\..+\.zotsync-tmp-[0-9a-f]{8}\Z")
BACKUP_DIR = Path(".zotsync") / "backups"


@dataclass(frozen=True)
class FileSig:
    """What we knew about a file when we read it; any change means someone else wrote it."""

    mtime_ns: int
    size: int
    ino: int


class WriteConflict(ZotsyncError):
    """The target changed (or appeared) between our read and our write."""

    exit_code = EXIT_PARTIAL


def sig_of(st: os.stat_result) -> FileSig:
    """The signature of a stat result."""
    return FileSig(st.st_mtime_ns, st.st_size, st.st_ino)


def file_sig(path: Path) -> FileSig | None:
    """The file's current signature, or None when it does not exist."""
    try:
        return sig_of(os.stat(path))
    except (FileNotFoundError, NotADirectoryError):
        return None


def temp_name(path: Path) -> Path:
    """A fresh temp path beside ``path`` that scanners skip (hidden, not ``.md``)."""
    return path.with_name(f".{path.name}{TEMP_MARK}{secrets.token_hex(4)}")


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems (e.g. certain network mounts) refuse it
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _conflict(path: Path, expect: FileSig | None) -> WriteConflict:
    what = "appeared" if expect is None else "changed since it was read"
    return WriteConflict(
        f"{path} {what}; not overwriting it", fix="run the sync again; it will re-read the file"
    )


def write_atomic(path: Path, data: bytes, *, expect: FileSig | None) -> FileSig:
    """Replace ``path`` with ``data`` iff it still has signature ``expect`` (None: must not exist).

    Returns the new file's signature. On any error the old file is untouched and no temp
    file remains. The new file keeps the old one's permission bits.
    """
    check_write(path)
    try:
        return _write_atomic(path, data, expect)
    except OSError as exc:
        stop_on_disk_error(exc, path)
        raise


def _write_atomic(path: Path, data: bytes, expect: FileSig | None) -> FileSig:
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if expect is not None:
                with contextlib.suppress(OSError):
                    os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        if expect is None:
            _create_only(tmp, path)
        else:
            if file_sig(path) != expect:
                raise _conflict(path, expect)
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    new = file_sig(path)
    if new is None:  # pragma: no cover - someone deleted it within microseconds
        raise _conflict(path, expect)
    return new


def _create_only(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path`` only if ``path`` does not exist, atomically where possible."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise _conflict(path, None) from None
    except OSError:  # no hard links here (FAT, some network shares): check, then rename
        if os.path.lexists(path):
            raise _conflict(path, None) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _flush_filesystems(folders: set[Path]) -> None:
    """Make every file written under ``folders`` durable: ``syncfs`` on each file system they
    live on (Linux), else ``os.sync()``.

    ``os.sync`` flushes every file system of the machine, other programs' dirty data included;
    ``syncfs`` flushes only the vault's, which is all the batch needs.
    """
    import ctypes

    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):  # not Linux (or no syncfs): flush everything
        os.sync()
        return
    devices: set[int] = set()
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            os.sync()
            return
        try:
            if os.fstat(fd).st_dev in devices:
                continue
            devices.add(os.fstat(fd).st_dev)
            if syncfs(fd) != 0:
                os.sync()
                return
        finally:
            os.close(fd)


class BatchCreate:
    """Create many new files with one flush to disk instead of two fsyncs per file.

    Each file is still written to a temp file beside its target and only linked into place
    (never over an existing file) after the data is durable: :meth:`commit` writes nothing new,
    it flushes the vault's file system once for all the temp files (``syncfs``, else
    ``os.sync()``), then moves each into place and fsyncs
    each folder once. A crash before the move leaves only hidden temp files (removed by
    :func:`cleanup_temp_files`); a crash after it leaves complete files. On Windows, where
    ``os.sync`` does not exist, each temp file is fsynced instead.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self._checked: set[str] = set()  # folders confined in this batch (see check_write)

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, path: Path, data: bytes) -> None:
        """Stage ``data`` as the new file ``path`` (which must not exist at commit time)."""
        check_write(path, self._checked)
        tmp = temp_name(path)
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
            )
        except OSError as exc:
            stop_on_disk_error(exc, path)
            raise
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if not hasattr(os, "sync"):
                os.fsync(fd)
        except BaseException as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            stop_on_disk_error(exc, path)
            raise
        os.close(fd)
        self._pending.append((tmp, path))

    def commit(self) -> dict[Path, FileSig | BaseException]:
        """Move every staged file into place; per path its new signature or the error."""
        pending, self._pending = self._pending, []
        if not pending:
            return {}
        if hasattr(os, "sync"):
            _flush_filesystems({tmp.parent for tmp, _ in pending})
        results: dict[Path, FileSig | BaseException] = {}
        folders: set[Path] = set()
        for n, (tmp, path) in enumerate(pending):
            try:
                _create_only(tmp, path)
                sig = file_sig(path)
                results[path] = sig if sig is not None else _conflict(path, None)
                folders.add(path.parent)
            except Exception as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                results[path] = exc
                if isinstance(exc, OSError):
                    try:
                        stop_on_disk_error(exc, path)
                    except ZotsyncError:  # every later move fails the same way: stop here
                        for rest, _ in pending[n + 1 :]:
                            with contextlib.suppress(OSError):
                                os.unlink(rest)
                        raise
        for folder in folders:
            fsync_dir(folder)
        return results

    def abort(self) -> None:
        """Remove every staged temp file (nothing was moved into place)."""
        for tmp, _ in self._pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._pending = []


def backup_stamp(now: datetime | None = None) -> str:
    """A folder name for one run's backups, sortable: ``20260105T193000Z``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup_file(vault: Path, path: Path, *, stamp: str | None = None) -> Path:
    """Copy ``path`` to ``.zotsync/backups/<stamp>/<path relative to the vault>``.

    Never overwrites an earlier backup: a second copy within one stamp gets ``.1``, ``.2``….
    Returns the backup's path.
    """
    real = ensure_inside(vault, path, action="back up")
    root = Path(os.path.realpath(vault))
    rel = real.relative_to(root)
    dest = vault / BACKUP_DIR / (stamp or backup_stamp()) / rel
    ensure_inside(vault, dest)
    try:
        return _copy_backup(real, dest)
    except OSError as exc:
        stop_on_disk_error(exc, dest)
        raise


def _copy_backup(real: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = dest, 0
    while True:
        try:
            with open(real, "rb") as src, open(candidate, "xb") as out:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            break
        except FileExistsError:
            n += 1
            candidate = dest.with_name(f"{dest.name}.{n}")
    with contextlib.suppress(OSError):
        shutil.copystat(real, candidate)
    return candidate


def cleanup_temp_files(folder: Path, *, recursive: bool = False) -> int:
    """Delete our own leftover temp files (``.<name>.zotsync-tmp-<hex>``); return how many.

    Only regular files matching the exact pattern are removed; symlinked folders are not
    entered.
    """
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if recursive:
                removed += cleanup_temp_files(Path(entry.path), recursive=True)
        elif _TEMP_RE.match(entry.name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed
