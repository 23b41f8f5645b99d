"""``zotsync doctor``: one line per check, OK or the fix, every problem at once."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from zotsync import api
from zotsync.cli import main
from zotsync.commands.doctor import Check, run_doctor
from zotsync.testing.fake_s2 import FakeS2
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db
from zotsync.vault.lock import VaultLock


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


@pytest.fixture
def vault(tmp_path: Path) -> tuple[Path, Path]:
    """A vault reading a Zotero 10 WAL database; returns (vault, db)."""
    db = make_zotero_db(
        tmp_path / "Zotero" / "zotero.sqlite", sample_library(), version=10, wal=True
    )
    folder = tmp_path / "vault"
    api.init_vault(folder, api.SourceOptions(source="sqlite", zotero_db=str(db)))
    return folder, db


def test_a_healthy_setup_with_zotero_running_is_all_ok(vault: tuple[Path, Path]) -> None:
    folder, db = vault
    with hold_exclusive(db) as zotero_app:
        zotero_app.set_title(sample_library().items[0].key, "Only in the WAL so far")
        checks = by_name(run_doctor(folder))
    assert all(c.ok for c in checks.values()), checks
    assert checks["zotero data dir"].detail == str(db.parent)
    assert checks["zotero version"].detail.startswith("10")
    readable = checks["database readable"].detail
    assert "WAL" in readable and "running" in readable
    assert checks["lock"].detail == "free"
    assert checks["semantic scholar"].detail.startswith("skipped")


def test_a_missing_database_names_the_option_that_fixes_it(vault: tuple[Path, Path]) -> None:
    folder, db = vault
    for path in db.parent.glob("zotero.sqlite*"):
        path.unlink()
    check = by_name(run_doctor(folder))["zotero data dir"]
    assert not check.ok
    assert check.fix and "--zotero-db" in check.fix


def test_a_corrupt_database_is_unreadable_with_a_fix(vault: tuple[Path, Path]) -> None:
    folder, db = vault
    for path in db.parent.glob("zotero.sqlite-*"):
        path.unlink()
    db.write_bytes(b"this is not a database" * 100)
    check = by_name(run_doctor(folder))["database readable"]
    assert not check.ok
    assert check.fix and "zotero.sqlite.bak" in check.fix


def test_the_lock_line_names_the_holder(vault: tuple[Path, Path]) -> None:
    folder, _ = vault
    with VaultLock(folder, command="watch"):
        check = by_name(run_doctor(folder))["lock"]
    assert check.ok
    assert f"pid {os.getpid()}" in check.detail and "watch" in check.detail


def test_an_invalid_config_is_reported_with_the_file_to_edit(vault: tuple[Path, Path]) -> None:
    folder, _ = vault
    config = folder / "zotsync.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\nrename: sometimes\n", "utf-8")
    check = by_name(run_doctor(folder))["config"]
    assert not check.ok
    assert "rename" in check.detail
    assert check.fix and "zotsync.yaml" in check.fix


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_semantic_scholar_unreachable_is_a_failure_with_a_fix(
    vault: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = vault
    monkeypatch.delenv("ZOTSYNC_OFFLINE")
    monkeypatch.setenv("ZOTSYNC_S2_URL", f"http://127.0.0.1:{_closed_port()}/graph/v1")
    check = by_name(run_doctor(folder))["semantic scholar"]
    assert not check.ok
    assert check.fix and "ZOTSYNC_S2_URL" in check.fix


def test_semantic_scholar_reachable_is_ok(
    vault: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = vault
    monkeypatch.delenv("ZOTSYNC_OFFLINE")
    with FakeS2() as base:
        monkeypatch.setenv("ZOTSYNC_S2_URL", base)
        check = by_name(run_doctor(folder))["semantic scholar"]
    assert check.ok and check.detail == "reachable"


def test_the_cli_prints_json_and_exits_nonzero_only_on_failure(vault: tuple[Path, Path]) -> None:
    folder, db = vault
    runner = CliRunner()
    good = runner.invoke(main, ["doctor", "--vault", str(folder), "--json"])
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["ok"] is True
    for path in db.parent.glob("zotero.sqlite*"):
        path.unlink()
    bad = runner.invoke(main, ["doctor", "--vault", str(folder)])
    assert bad.exit_code != 0
    assert "FAIL zotero data dir" in bad.output and "fix: pass --zotero-db" in bad.output
