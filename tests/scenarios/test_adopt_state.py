"""Adoption and the state: the migration that records named notes, dry runs, and cost.

A settled vault reads no file for adoption; a dry run lists the adoptions and writes nothing;
a state database from before adoption is migrated (after a backup) and its notes still count
as named by zotsync.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import tree
from test_adopt_plugins import library

from zotsync.state import db as state_db
from zotsync.state.db import ItemState, StateDB
from zotsync.testing.plugin_vaults import write_plugin_vault


def test_a_settled_vault_reads_no_file_for_adoption(
    tmp_path: Path,
    make_db: Callable[..., Path],
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    write_plugin_vault(vault, "zotero-integration", library().items[:2])
    db = make_db(library(), version=7, bbt="sqlite")
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs").exit_code == 0

    def refuse(*args: object) -> list[object]:
        raise AssertionError("evidence was read although every item has its note")

    monkeypatch.setattr("zotsync.sync.adopt_step.read_evidence", refuse)
    result = run_cli("sync", "--vault", vault, "--no-refs", "--full", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["adopted"] == 0


def test_dry_run_lists_the_adoptions_and_writes_nothing(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    write_plugin_vault(vault, "mdnotes", library().items[:2])
    # a dry run is read-only, so it needs a vault already (docs/migrating.md: init first)
    assert run_cli("init", vault).exit_code == 0
    before = tree(vault)
    db = make_db(library(), version=7)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)["actions"]
    assert sorted((a["action"], a["key"]) for a in actions) == [
        ("adopt", "AAAA2222"),
        ("adopt", "BBBB3333"),
        ("create", "CCCC4444"),
    ]
    assert tree(vault) == before


def test_an_old_state_db_is_migrated_and_its_notes_stay_named_by_zotsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / ".zotsync" / "state.sqlite"
    before_adoption = [m for m in state_db.MIGRATIONS if m[0] != "0003-adoption"]
    with monkeypatch.context() as m:
        m.setattr(state_db, "MIGRATIONS", before_adoption)
        old = StateDB(path)
        old.conn.execute(
            "INSERT INTO items (library, key, path) VALUES ('user', 'AAAA2222', 'Papers/A.md')"
        )
        old.close()
    state = StateDB(path)
    try:
        row = state.load_items("user")["AAAA2222"]
        assert (row.path, row.named, row.user_keys) == ("Papers/A.md", True, [])
        state.put_item(ItemState("user", "BBBB3333", path="x.md", named=False, user_keys=["doi"]))
        again = state.load_items("user")["BBBB3333"]
        assert (again.named, again.user_keys) == (False, ["doi"])
    finally:
        state.close()
    assert list((tmp_path / ".zotsync" / "backups").glob("state-*.sqlite"))
