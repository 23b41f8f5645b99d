"""Shared fixtures for the scenario tests: small libraries, vaults, Zotero DBs and the CLI.

Every test runs offline (``ZOTSYNC_OFFLINE=1``) so nothing reaches Semantic Scholar unless a
test starts its own loopback server. Libraries are built from the model and written with the
fixture builder, never checked in as binary files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from zotsync import api
from zotsync.cli import main
from zotsync.model import Creator, Item, Library, LibraryRef, Tag, with_base_fields
from zotsync.sync.engine import SyncOptions
from zotsync.testing.zotero_db import make_zotero_db

USER = LibraryRef("user", 424242)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach the real network; refs come from the cache or not at all."""
    monkeypatch.setenv("ZOTSYNC_OFFLINE", "1")
    monkeypatch.delenv("ZOTSYNC_VAULT", raising=False)
    monkeypatch.delenv("ZOTERO_API_KEY", raising=False)


def paper(
    key: str,
    title: str,
    *,
    year: int = 2020,
    authors: tuple[str, ...] = ("Turing",),
    abstract: str = "",
    tags: tuple[str, ...] = (),
    doi: str = "",
    version: int = 1,
) -> Item:
    """A journal article with the fields a note shows (builder for scenario libraries)."""
    fields = {"title": title, "date": str(year), "abstractNote": abstract}
    if doi:
        fields["DOI"] = doi
    return Item(
        key=key,
        item_type="journalArticle",
        fields=with_base_fields("journalArticle", fields),
        creators=[Creator(last, "A.") for last in authors],
        tags=[Tag(t) for t in tags],
        date_added=f"{year}-01-01T00:00:00Z",
        date_modified=f"{year}-01-01T00:00:00Z",
        version=version,
        library=USER,
    )


def small_library(*items: Item) -> Library:
    """A user library holding ``items`` (three default papers when none are given)."""
    if not items:
        items = (
            paper("AAAA2222", "Attention Is All You Need", year=2017, authors=("Vaswani",)),
            paper("BBBB3333", "Deep Residual Learning", year=2016, authors=("He",)),
            paper("CCCC4444", "Playing Atari with Deep RL", year=2013, authors=("Mnih",)),
        )
    return Library(ref=USER, items=list(items))


@dataclass
class MemorySource:
    """A tiny in-memory :class:`zotsync.sources.Source` whose library a test edits in place."""

    library: Library = field(default_factory=small_library)
    name: str = "memory"
    reads: int = 0

    def read(self) -> Library:
        self.reads += 1
        return self.library

    def watch_paths(self) -> list[Path]:
        return []

    def item(self, key: str) -> Item:
        return next(i for i in self.library.items if i.key == key)

    def set_title(self, key: str, title: str) -> None:
        item = self.item(key)
        item.fields["title"] = title
        item.version += 1

    def remove(self, key: str) -> None:
        self.library.items = [i for i in self.library.items if i.key != key]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """An initialised, empty vault (template copied, zotsync.yaml written)."""
    path = tmp_path / "vault"
    api.init_vault(path)
    return path


@pytest.fixture
def memory_source() -> MemorySource:
    return MemorySource()


@pytest.fixture
def make_db(tmp_path: Path) -> Callable[..., Path]:
    """Build a Zotero DB in its own data folder: ``make_db(library, version=7, wal=None)``."""
    counter = iter(range(1000))

    def build(library: Library | None = None, **kwargs: Any) -> Path:
        folder = tmp_path / f"zotero{next(counter)}"
        folder.mkdir()
        return make_zotero_db(folder / "zotero.sqlite", library or small_library(), **kwargs)

    return build


def sync_memory(vault: Path, source: MemorySource, **options: Any) -> api.SyncReport:
    """One sync pass from an in-memory source without reference fetching."""
    return api.sync(vault, source=source, options=SyncOptions(**options), refs=False)


def sync_db(vault: Path, db: Path, **options: Any) -> api.SyncReport:
    """One sync pass from a Zotero DB (recorded in zotsync.yaml, as the CLI does)."""
    return api.sync(
        vault,
        source_options=api.SourceOptions(zotero_db=str(db)),
        options=SyncOptions(**options),
        refs=False,
    )


def tree(root: Path, *, include_state: bool = False) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` → (bytes, mtime_ns); ``.zotsync`` left out unless asked."""
    out: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirs, files in os.walk(root):
        if not include_state:
            dirs[:] = [d for d in dirs if d != ".zotsync"]
        for name in files:
            path = Path(dirpath) / name
            st = path.stat()
            out[path.relative_to(root).as_posix()] = (path.read_bytes(), st.st_mtime_ns)
    return out


def folder_hash(root: Path) -> str:
    """Hash of every file's name and bytes under ``root`` (for "never written" checks)."""
    digest = hashlib.sha256()
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            path = Path(dirpath) / name
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def note_path(vault: Path, key: str) -> Path:
    """The one note under the vault whose frontmatter claims ``key``."""
    hits = [
        p
        for p in vault.rglob("*.md")
        if ".zotsync" not in p.parts and f"\nzotero-key: {key}\n" in p.read_text("utf-8")
    ]
    assert len(hits) == 1, f"{key}: expected one note, found {hits}"
    return hits[0]


def backups(vault: Path) -> list[Path]:
    folder = vault / ".zotsync" / "backups"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def run_cli() -> Iterator[Callable[..., Result]]:
    """Invoke ``zotsync ARGS…`` in-process; returns click's Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str | Path, input: str | None = None) -> Result:
        return runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)

    yield invoke
