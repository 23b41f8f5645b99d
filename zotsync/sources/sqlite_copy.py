"""Taking a consistent copy of ``zotero.sqlite`` (and reading Better BibTeX's database beside it).

Split from :mod:`zotsync.sources.sqlite`, which reads the copy: see its docstring for why the
database is never opened in place.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from zotsync.errors import SourceUnavailable

SIDE_FILES = ("-wal", "-journal")


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
            p.unlink()
        try:
            for src in sources:
                target = dest / (src.name if src in extra else db.name + src.name[len(db.name) :])
                if src.exists():
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
