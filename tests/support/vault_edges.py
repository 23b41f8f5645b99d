"""A scenario harness for the edge-case tests: a vault, a real ``zotero.sqlite`` and the CLI.

Each :class:`Scenario` owns a library (model objects a test edits in place), writes it with
the fixture builder to a Zotero 7 database before every ``sync``, and runs ``zotsync`` through
click's runner, so the tests exercise what a user runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from conftest import note_path, small_library

from zotsync.cli import main
from zotsync.model import Item, Library
from zotsync.testing.zotero_db import make_zotero_db


class Scenario:
    """One vault synced from one Zotero database through the CLI."""

    def __init__(self, root: Path, library: Library | None = None) -> None:
        self.root = root
        self.vault = root / "vault"
        self.db = root / "zotero" / "zotero.sqlite"
        self.library = library or small_library()
        self.runner = CliRunner()
        result = self.cli("init", self.vault)
        assert result.exit_code == 0, result.output

    def cli(self, *args: str | Path) -> Result:
        """``zotsync ARGS…``; never a traceback."""
        result = self.runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert "Traceback" not in result.output, result.output
        return result

    def sync(self, *args: str) -> Result:
        """Write the library to the database, then ``zotsync sync`` from it."""
        make_zotero_db(self.db, self.library, version=7)
        return self.cli("sync", "--vault", self.vault, "--zotero-db", self.db, "--no-refs", *args)

    def sync_json(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = self.sync("--json", *args)
        return result.exit_code, json.loads(result.stdout)

    def item(self, key: str) -> Item:
        return next(i for i in self.library.items if i.key == key)

    def change(self, key: str, field: str, value: str) -> None:
        """A Zotero edit: a field changes and the item's version moves."""
        item = self.item(key)
        item.fields[field] = value
        item.version += 1

    def note(self, key: str) -> Path:
        return note_path(self.vault, key)

    def read(self, key: str) -> str:
        return self.note(key).read_text("utf-8")

    def files(self, pattern: str = "*.md") -> list[Path]:
        return sorted(p for p in self.vault.rglob(pattern) if ".zotsync" not in p.parts)
