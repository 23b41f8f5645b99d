"""The command line contract of PRODUCT.md: names, global options, JSON keys and exit codes.

Through click's runner (in-process, fast) plus one real subprocess smoke test of
``python -m zotsync --help``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import Result
from conftest import note_path

from zotsync.cli import main
from zotsync.config import CONFIG_NAME
from zotsync.errors import (
    EXIT_CONFLICT,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_SOURCE_UNAVAILABLE,
    EXIT_USAGE,
)
from zotsync.testing.zotero_db import hold_exclusive

REPO = Path(__file__).resolve().parents[2]
COMMANDS = {
    "init",
    "demo",
    "sync",
    "adopt",
    "watch",
    "plan",
    "index",
    "refs",
    "status",
    "doctor",
    "discover",
    "add",
    "service",
}
SYNC_KEYS = {
    "created",
    "updated",
    "unchanged",
    "renamed",
    "trashed",
    "conflicts",
    "failed",
    "items",
}


def leaf_commands() -> Iterator[tuple[str, click.Command]]:
    """Every runnable command as ``("service install", cmd)``."""

    def walk(prefix: str, group: click.Group) -> Iterator[tuple[str, click.Command]]:
        for name, cmd in sorted(group.commands.items()):
            full = f"{prefix} {name}".strip()
            if isinstance(cmd, click.Group):
                yield from walk(full, cmd)
            else:
                yield full, cmd

    yield from walk("", main)


def one_json(result: Result) -> dict[str, object]:
    """stdout must be exactly one JSON object (nothing else, nothing more)."""
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    data = json.loads(lines[0])
    assert isinstance(data, dict)
    return data


@pytest.fixture
def synced(vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]) -> Path:
    """A vault synced once from a Zotero 10 DB through the CLI (the DB is recorded)."""
    db = make_db(None, version=10)
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs").exit_code == 0
    return vault


def test_the_contract_commands_exist() -> None:
    assert set(main.commands) == COMMANDS
    assert "install" in main.commands["service"].commands  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", [n for n, _ in leaf_commands()] + ["service"])
def test_every_command_has_help(run_cli: Callable[..., Result], name: str) -> None:
    result = run_cli(*name.split(), "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage:")
    doc = (main.commands[name.split()[0]].help or "").strip()
    assert doc, f"{name} has no help text"


@pytest.mark.parametrize(("name", "cmd"), list(leaf_commands()))
def test_every_command_takes_the_global_options(name: str, cmd: click.Command) -> None:
    opts = {o for p in cmd.params if isinstance(p, click.Option) for o in p.opts}
    assert {"--vault", "--config", "-v", "-q", "--json"} <= opts, name


def test_python_dash_m_zotsync_help_runs_in_a_real_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "zotsync", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for name in COMMANDS:
        assert name in proc.stdout


def test_init_never_overwrites(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    vault = tmp_path / "v"
    assert run_cli("init", vault).exit_code == EXIT_OK
    home, config = vault / "Home.md", vault / CONFIG_NAME
    home.write_text("my home page\n", "utf-8")
    config.write_text(config.read_text("utf-8") + "# my comment\n", "utf-8")
    template = vault / "Templates" / "zotsync" / "note.md.j2"
    template.write_text(template.read_text("utf-8") + "{# mine #}\n", "utf-8")
    before = {p: p.read_bytes() for p in (home, config, template)}
    result = run_cli("init", vault, "--json")
    assert result.exit_code == EXIT_OK
    data = one_json(result)
    assert "Home.md" in data["kept"]  # type: ignore[operator]
    assert {p: p.read_bytes() for p in before} == before


def test_sync_json_prints_one_object_with_the_counts(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db()
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs", "--json")
    assert result.exit_code == EXIT_OK
    data = one_json(result)
    assert set(data) >= SYNC_KEYS
    assert data["created"] == data["items"] == 3
    again = one_json(run_cli("sync", "--vault", vault, "--no-refs", "--json"))
    assert again["created"] == 0 and again["unchanged"] == 3


def test_sync_json_dry_run_lists_actions(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db()
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--dry-run", "--json")
    assert result.exit_code == EXIT_OK
    data = one_json(result)
    assert {a["action"] for a in data["actions"]} == {"create"}  # type: ignore[union-attr]
    assert len(data["actions"]) == 3  # type: ignore[arg-type]
    assert not list((vault / "Papers").glob("*.md"))


def test_quiet_sync_prints_nothing_on_success(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    result = run_cli("sync", "--vault", vault, "--zotero-db", make_db(), "--no-refs", "-q")
    assert result.exit_code == EXIT_OK
    assert result.stdout == ""


def test_status_json_has_the_contract_keys(synced: Path, run_cli: Callable[..., Result]) -> None:
    data = one_json(run_cli("status", "--vault", synced, "--json"))
    assert {"daemon", "last_sync", "syncs_total", "conflicts", "missing_refs"} <= set(data)
    assert data["daemon"] is None
    last = data["last_sync"]
    assert isinstance(last, dict) and {"at", "created", "updated", "failed"} <= set(last)
    assert last["created"] == 3 and data["syncs_total"] == 1


def test_plan_json_has_the_contract_keys(synced: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("plan", "--vault", synced, "--week", "2031-W10", "--count", "2", "--json")
    assert result.exit_code == EXIT_OK
    data = one_json(result)
    assert data["week"] == "2031-W10"
    assert data["path"] == "Reading Plans/2031-W10.md"
    assert (synced / str(data["path"])).exists()
    papers = data["papers"]
    assert isinstance(papers, list) and len(papers) == 2
    for entry in papers:
        assert {"key", "title", "note", "slot", "start", "reason"} <= set(entry)
        assert (synced / entry["note"]).exists()
        assert entry["start"].startswith("2031-03-")


def test_source_given_to_sync_is_recorded_for_later_runs(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db(None, version=10)
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs").exit_code == 0
    config = (vault / CONFIG_NAME).read_text("utf-8")
    assert str(db.resolve()) in config
    assert "# Where the library comes from" in config  # comments kept
    with hold_exclusive(db) as zotero:
        zotero.set_title("BBBB3333", "Deep Residual Learning for Image Recognition")
    result = run_cli("sync", "--vault", vault, "--no-refs", "--json")
    assert result.exit_code == EXIT_OK
    assert one_json(result)["renamed"] == 1
    assert note_path(vault, "BBBB3333").stem == "Deep Residual Learning for Image Recognition"


def test_vault_is_found_from_the_current_folder(
    synced: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(synced)
    result = run_cli("sync", "--no-refs", "--json")
    assert result.exit_code == EXIT_OK and one_json(result)["items"] == 3


def test_no_vault_anywhere_is_a_usage_error(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path))
    result = run_cli("status")
    assert result.exit_code == EXIT_USAGE
    assert "--vault" in result.stderr


def test_config_with_several_errors_reports_them_all(
    vault: Path, run_cli: Callable[..., Result]
) -> None:
    (vault / CONFIG_NAME).write_text(
        "source: carrier-pigeon\nrenam: false\nplan:\n  count: 0\n  slots:\n    time: '25:99'\n",
        "utf-8",
    )
    result = run_cli("sync", "--vault", vault, "--no-refs")
    assert result.exit_code == EXIT_USAGE
    for needle in ("source", "renam", "did you mean", "plan.count", "plan.slots.time"):
        assert needle in result.stderr, needle
    as_json = run_cli("status", "--vault", vault, "--json")
    assert as_json.exit_code == EXIT_USAGE
    assert one_json(as_json)["exit"] == EXIT_USAGE


def test_unknown_option_value_is_a_usage_error(vault: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("sync", "--vault", vault, "--source", "carrier-pigeon")
    assert result.exit_code == EXIT_USAGE


def test_missing_vault_folder_says_how_to_create_it(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("sync", "--vault", tmp_path / "nowhere", "--source", "demo")
    assert result.exit_code == EXIT_USAGE
    assert "zotsync init" in result.stderr


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        ("ok", EXIT_OK),
        ("broken-note", EXIT_PARTIAL),
        ("bad-config", EXIT_USAGE),
        ("no-db", EXIT_SOURCE_UNAVAILABLE),
        ("emptied", EXIT_CONFLICT),
    ],
)
def test_sync_exit_codes(
    synced: Path,
    make_db: Callable[..., Path],
    run_cli: Callable[..., Result],
    tmp_path: Path,
    situation: str,
    expected: int,
) -> None:
    args = ["sync", "--vault", str(synced), "--no-refs"]
    if situation == "broken-note":
        (synced / "bad.md").write_text("---\nzotero-key: [x\n---\n", "utf-8")
    elif situation == "bad-config":
        args += ["--config", str(tmp_path / "absent.yaml")]
    elif situation == "no-db":
        args += ["--zotero-db", str(tmp_path / "gone.sqlite")]
    elif situation == "emptied":
        from conftest import paper, small_library

        empty = make_db(small_library(paper("ZZZZ9999", "x")))
        with hold_exclusive(empty) as zotero:
            zotero.delete("ZZZZ9999")
        args += ["--zotero-db", str(empty)]
    result = run_cli(*args)
    assert result.exit_code == expected, result.output
    if expected:
        assert "error:" in result.stderr or "failed:" in result.stderr


def test_demo_vault_then_status_and_index(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    vault = tmp_path / "demo"
    result = run_cli("demo", vault, "--json")
    assert result.exit_code == EXIT_OK
    data = one_json(result)
    assert data["notes"] and (vault / "Papers").is_dir()
    assert run_cli("index", "--vault", vault, "-q").exit_code == EXIT_OK
    status = one_json(run_cli("status", "--vault", vault, "--json"))
    assert status["syncs_total"] >= 1  # type: ignore[operator]
