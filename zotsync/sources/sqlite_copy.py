"""Taking a consistent copy of ``zotero.sqlite`` (and reading Better BibTeX's database beside it).

Split from :mod:`zotsync.sources.sqlite`, which reads the copy: see its docstring for why the
database is never opened in place.

**A kept copy (the daemon).** Copying a 137 MB database costs about 0.3 s, on every pass,
even when one title changed. The desktop (Zotero 10) leaves its commits in ``-wal`` and
rarely touches the main file, so a long-lived source keeps its copy of the main file and
refreshes only the ``-wal`` while that is safe. It is safe while the source's WAL is the
*same generation* as when the main file was copied: SQLite starts a new generation (new salts
in the WAL header) before it writes frames over old ones, which it does only after a complete
checkpoint, and the WAL is deleted when the database leaves WAL mode or is closed. Within one
generation, the main file can only change by a checkpoint copying frames that are still in the
WAL, so the kept main file plus the current WAL read exactly as the source does (frames win
over main pages). The main file's inode, size, mtime and ctime must match too, so a replaced
file (a restored backup) is copied again. A kept copy is opened read-only, which never
checkpoints into it; its ``-shm`` is deleted before each open, so SQLite rebuilds the index of
the WAL from the freshly copied frames.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from zotsync.errors import SourceUnavailable

SIDE_FILES = ("-wal", "-journal")
log = logging.getLogger(__name__)


def _signature(paths: Sequence[Path]) -> tuple[tuple[int, int] | None, ...]:
    out: list[tuple[int, int] | None] = []
    for p in paths:
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def snapshot(db: Path, dest: Path, *, retries: int = 5, extra: Sequence[Path] = ()) -> Path:
    """Copy ``db`` (+ ``-wal``/``-journal`` and ``extra`` files) into ``dest``; return the copy.

    A copy is accepted only when no source file changed size or mtime while it was taken;
    otherwise it is retried with a short backoff, then :class:`SourceUnavailable` is raised.
    A copy of ``db`` already in ``dest`` (a kept one) is patched rather than written anew.
    """
    sources = [db] + [Path(f"{db}{s}") for s in SIDE_FILES] + list(extra)
    for attempt in range(retries):
        before = _signature(sources)
        if before[0] is None:
            raise SourceUnavailable(
                f"Zotero database not found: {db}",
                fix="check the path (--zotero-db) or run `zotsync doctor` to locate your Zotero data directory",
            )
        for p in dest.iterdir():
            if p.name != db.name:
                p.unlink()
        try:
            for src in sources:
                target = dest / (src.name if src in extra else db.name + src.name[len(db.name) :])
                if src == db and target.is_file():
                    patch_copy(src, target)
                elif src.exists():
                    shutil.copyfile(src, target)
        except FileNotFoundError:
            pass  # a -journal vanished mid-copy: the signature check catches it
        except OSError as exc:
            raise SourceUnavailable(
                f"cannot read the Zotero database {db}: {exc}",
                fix="check the file permissions of the Zotero data directory",
            ) from exc
        if _signature(sources) == before:
            return dest / db.name
        time.sleep(0.05 * 2**attempt)
    raise SourceUnavailable(
        f"Zotero kept changing {db} while it was being copied ({retries} attempts)",
        fix="try again in a moment (Zotero may be syncing or indexing), or close Zotero",
    )


def patch_copy(src: Path, target: Path, chunk: int = 1 << 20) -> int:
    """Make ``target`` a byte copy of ``src`` by rewriting only the chunks that differ.

    A checkpoint changes a few pages of a large database: comparing the two files costs a
    fraction of writing the whole copy again (30 ms against 50–230 ms at 137 MB, the spread
    being the page cache writing back). Returns how many chunks were rewritten.
    """
    rewritten = 0
    with open(src, "rb") as a, open(target, "r+b") as b:
        offset = 0
        while True:
            new = a.read(chunk)
            if not new:
                break
            if b.read(len(new)) != new:
                b.seek(offset)
                b.write(new)
                rewritten += 1
            offset += len(new)
            b.seek(offset)
        b.truncate(offset)
    return rewritten


WAL_MAGIC = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")


def wal_generation(wal: Path) -> bytes | None:
    """The salts of a WAL file's header (its generation), or ``None`` without a valid WAL."""
    try:
        with open(wal, "rb") as f:
            header = f.read(32)
    except OSError:
        return None
    if len(header) < 32 or header[:4] not in WAL_MAGIC:
        return None
    return header[16:24]


def _file_id(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class KeptCopy:
    """What the main file and WAL generation were when the kept main file was copied."""

    main: tuple[int, int, int, int]
    generation: bytes


def refresh_kept(
    db: Path, dest: Path, kept: KeptCopy | None, *, extra: Sequence[Path] = ()
) -> Path | None:
    """Bring the kept copy in ``dest`` up to date by copying only the WAL (and ``extra``).

    Returns the copy, or ``None`` when it cannot be reused (see the module docstring) and a
    full :func:`snapshot` is needed.
    """
    wal = Path(f"{db}-wal")
    if kept is None or Path(f"{db}-journal").exists() or not (dest / db.name).is_file():
        return None
    if _file_id(db) != kept.main or wal_generation(wal) != kept.generation:
        return None
    before = _signature([wal, *extra])
    try:
        for name in (f"{db.name}-wal", f"{db.name}-shm"):
            (dest / name).unlink(missing_ok=True)
        shutil.copyfile(wal, dest / f"{db.name}-wal")
        for src in extra:
            shutil.copyfile(src, dest / src.name)
    except OSError:
        return None
    if _signature([wal, *extra]) != before or _file_id(db) != kept.main:
        return None
    if wal_generation(dest / f"{db.name}-wal") != kept.generation:
        return None
    return dest / db.name


def keep(db: Path, copy: Path) -> KeptCopy | None:
    """What to remember about a fresh full copy so that later passes may reuse it."""
    main = _file_id(db)
    generation = wal_generation(Path(f"{copy}-wal"))
    if main is None or generation is None:
        return None
    return KeptCopy(main, generation)


class Copies:
    """Where a source's copies are taken: a new temporary folder for each read, or (``keep``,
    the daemon's source) one folder kept between reads, refreshed by :func:`refresh_kept`."""

    def __init__(self, *, keep: bool = False) -> None:
        self.keep = keep
        self._kept: KeptCopy | None = None
        self._pending: KeptCopy | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    @contextmanager
    def folder(self) -> Iterator[Path]:
        if not self.keep:
            with tempfile.TemporaryDirectory(prefix="zotsync-db-") as tmp:
                yield Path(tmp)
            return
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="zotsync-db-")
        yield Path(self._folder.name)

    def take(self, db: Path, dest: Path, retries: int, extra: Sequence[Path]) -> tuple[Path, bool]:
        """A consistent copy of ``db`` in ``dest``, and whether it was only refreshed."""
        kept, self._kept = self._kept, None  # trusted again once this copy has been read
        copy = refresh_kept(db, dest, kept, extra=extra)
        log.debug("database copy: %s", "WAL refreshed" if copy else "full")
        if copy is not None:
            self._pending = kept
            return copy, True
        copy = snapshot(db, dest, retries=retries, extra=extra)
        self._pending = keep(db, copy) if self.keep else None
        return copy, False

    def accept(self) -> None:
        """The last copy taken was read without error: later reads may refresh it."""
        self._kept = self._pending

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder, self._kept = None, None


def bbt_citekeys(bbt_copy: Path | None, lib_id: int) -> dict[str, str]:
    """Item key -> citekey from a copied ``better-bibtex.sqlite`` (6.7.132+ or LokiJS)."""
    if bbt_copy is None:
        return {}
    try:
        conn = sqlite3.connect(bbt_copy.as_uri() + "?mode=rw", uri=True)
    except sqlite3.Error:
        return {}
    out: dict[str, str] = {}
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "citationkey" in names:
            for key, lib, citekey in conn.execute(
                "SELECT itemKey, libraryID, citationKey FROM citationkey"
            ):
                if citekey and (lib is None or lib == lib_id):
                    out[str(key)] = str(citekey)
        elif "better-bibtex" in names:
            row = conn.execute(
                "SELECT data FROM \"better-bibtex\" WHERE name = 'better-bibtex.citekey'"
            ).fetchone()
            for entry in json.loads(row[0]).get("data", []) if row else []:
                if entry.get("citekey") and entry.get("libraryID", lib_id) == lib_id:
                    out[str(entry.get("itemKey"))] = str(entry["citekey"])
    except (sqlite3.Error, ValueError, AttributeError):
        return {}  # BBT's DB is optional: a damaged one must not stop the sync
    finally:
        conn.close()
    return out
