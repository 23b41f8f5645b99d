"""``zotsync service install/uninstall``: the unit or plist it writes is valid and runs
``zotsync watch`` for the vault, restarted on failure."""

from __future__ import annotations

import configparser
import json
import plistlib
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from zotsync import api
from zotsync.cli import main
from zotsync.commands import service


def _unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    return parser


def _exec_args(exec_start: str) -> list[str]:
    """ExecStart back into argv (systemd quoting, then its ``%%``/``$$`` escapes)."""
    return [a.replace("%%", "%").replace("$$", "$") for a in shlex.split(exec_start)]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    folder = tmp_path / "100% $HOME Papers"  # characters systemd would expand
    api.init_vault(folder, api.SourceOptions(source="demo"))
    return folder


def test_the_systemd_unit_runs_watch_for_the_vault_and_restarts_on_failure(
    vault: Path, tmp_path: Path
) -> None:
    unit = service.service_file(vault, platform="linux", home=tmp_path, python="/opt/py/bin/python")
    parsed = _unit(unit.content)
    assert unit.kind == "systemd"
    assert unit.path.parent == tmp_path / ".config" / "systemd" / "user"
    assert unit.path.name.startswith("zotsync-") and unit.path.suffix == ".service"
    assert _exec_args(parsed["Service"]["ExecStart"]) == [
        "/opt/py/bin/python",
        "-m",
        "zotsync",
        "watch",
        "--vault",
        str(vault.resolve()),
    ]
    # systemd expands %x and $VAR even inside quotes: both must arrive escaped
    bare = parsed["Service"]["ExecStart"].replace("%%", "").replace("$$", "")
    assert "%" not in bare and "$" not in bare
    assert parsed["Service"]["Restart"] == "on-failure"
    assert parsed["Install"]["WantedBy"] == "default.target"
    assert any("enable --now " + unit.path.name in step for step in unit.enable)


def test_the_launch_agent_plist_runs_watch_and_is_kept_alive_after_a_failure(
    vault: Path, tmp_path: Path
) -> None:
    unit = service.service_file(vault, platform="darwin", home=tmp_path, python="/usr/bin/python3")
    plist = plistlib.loads(unit.content.encode("utf-8"))
    assert unit.kind == "launchd"
    assert unit.path.parent == tmp_path / "Library" / "LaunchAgents"
    assert unit.path.name == f"{plist['Label']}.plist"
    assert plist["ProgramArguments"] == [
        "/usr/bin/python3",
        "-m",
        "zotsync",
        "watch",
        "--vault",
        str(vault.resolve()),
    ]
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["RunAtLoad"] is True


def test_two_vaults_get_two_services(tmp_path: Path) -> None:
    one = service.service_file(tmp_path / "a" / "Vault", platform="linux", home=tmp_path)
    two = service.service_file(tmp_path / "b" / "Vault", platform="linux", home=tmp_path)
    assert one.path != two.path


def test_an_unsupported_platform_says_what_to_do_instead(tmp_path: Path) -> None:
    with pytest.raises(service.ZotsyncError, match="no service manager") as info:
        service.service_file(tmp_path, platform="win32")
    assert info.value.fix and "zotsync watch" in info.value.fix


def test_install_then_uninstall_through_the_cli(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    runner = CliRunner()
    args = ["--vault", str(vault), "--platform", "linux", "--json"]
    dry = runner.invoke(main, ["service", "install", "--dry-run", *args])
    assert dry.exit_code == 0, dry.output
    shown = json.loads(dry.output)
    assert not Path(shown["path"]).exists()  # a dry run writes nothing
    assert _unit(shown["content"])["Service"]["Restart"] == "on-failure"

    first = json.loads(runner.invoke(main, ["service", "install", *args]).output)
    assert first["changed"] is True
    assert Path(first["path"]).read_text(encoding="utf-8") == shown["content"]
    assert any("systemctl --user" in step for step in first["next"])
    again = json.loads(runner.invoke(main, ["service", "install", *args]).output)
    assert again["changed"] is False

    removed = json.loads(runner.invoke(main, ["service", "uninstall", *args]).output)
    assert removed["changed"] is True
    assert not Path(first["path"]).exists()
    gone = json.loads(runner.invoke(main, ["service", "uninstall", *args]).output)
    assert gone["changed"] is False


def test_the_human_dry_run_prints_the_path_and_a_parseable_unit(vault: Path) -> None:
    result = CliRunner().invoke(
        main, ["service", "install", "--dry-run", "--vault", str(vault), "--platform", "linux"]
    )
    assert result.exit_code == 0, result.output
    first, _, body = result.output.partition("\n")
    assert first.startswith("# ") and first.endswith(".service")
    assert "watch" in _unit(body)["Service"]["ExecStart"]
