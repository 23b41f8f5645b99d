"""``zotsync service install``: a systemd user unit (Linux) or a LaunchAgent (macOS).

The unit runs ``python -m zotsync watch --vault VAULT`` with the interpreter zotsync is installed
in (so a virtualenv keeps working) and restarts it on failure. A clean exit (SIGTERM, exit 0) is
not restarted, so ``systemctl --user stop`` / ``launchctl unload`` behave as expected.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from zotsync.errors import ZotsyncError


@dataclass(frozen=True)
class ServiceFile:
    """A unit/plist to write, and the commands that enable and disable it."""

    kind: str  # systemd | launchd
    path: Path
    content: str
    enable: list[str]
    disable: list[str]


def _slug(vault: Path) -> str:
    digest = hashlib.blake2b(str(vault).encode(), digest_size=4).hexdigest()
    name = "".join(c if c.isalnum() else "-" for c in vault.name.lower()).strip("-") or "vault"
    return f"{name}-{digest}"


def systemd_quote(arg: str) -> str:
    """One ExecStart argument: double-quoted, with systemd's ``%`` and ``$`` expansion escaped.

    ``shlex.join`` is not enough: systemd expands ``%x`` specifiers and ``$VAR`` even inside
    quotes, so a vault called ``100% Papers`` would break the unit.
    """
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    if escaped == arg and arg and not any(c.isspace() or c in "'\\;" for c in arg):
        return arg
    return f'"{escaped}"'


def service_file(
    vault: Path, *, platform: str | None = None, home: Path | None = None, python: str | None = None
) -> ServiceFile:
    """The service definition for ``vault`` on ``platform`` (default: this one)."""
    platform = platform or sys.platform
    home = home or Path.home()
    python = python or sys.executable
    vault = vault.resolve()
    slug = _slug(vault)
    args = [python, "-m", "zotsync", "watch", "--vault", str(vault)]
    if platform.startswith("linux"):
        name = f"zotsync-{slug}.service"
        content = "\n".join(
            [
                "[Unit]",
                f"Description=zotsync: keep {vault} in step with Zotero",
                "",
                "[Service]",
                "Type=simple",
                f"ExecStart={' '.join(systemd_quote(a) for a in args)}",
                "Restart=on-failure",
                "RestartSec=10",
                "TimeoutStopSec=30",
                "Environment=PYTHONUNBUFFERED=1",
                "",
                "[Install]",
                "WantedBy=default.target",
                "",
            ]
        )
        return ServiceFile(
            "systemd",
            home / ".config" / "systemd" / "user" / name,
            content,
            ["systemctl --user daemon-reload", f"systemctl --user enable --now {name}"],
            [f"systemctl --user disable --now {name}"],
        )
    if platform == "darwin":
        label = f"org.zotsync.{slug}"
        plist = {
            "Label": label,
            "ProgramArguments": args,
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},
            "ThrottleInterval": 10,
            "StandardErrorPath": str(vault / ".zotsync" / "launchd.log"),
            "StandardOutPath": str(vault / ".zotsync" / "launchd.log"),
        }
        path = home / "Library" / "LaunchAgents" / f"{label}.plist"
        return ServiceFile(
            "launchd",
            path,
            plistlib.dumps(plist).decode("utf-8"),
            [f"launchctl load -w {shlex.quote(str(path))}"],
            [f"launchctl unload -w {shlex.quote(str(path))}"],
        )
    raise ZotsyncError(
        f"no service manager support for {platform}",
        fix="run `zotsync watch` from your system's task scheduler or a terminal",
    )


def install(service: ServiceFile) -> bool:
    """Write the unit; returns False when an identical one was already there."""
    if service.path.exists() and service.path.read_text(encoding="utf-8") == service.content:
        return False
    service.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = service.path.with_name(f".{service.path.name}.tmp")
    tmp.write_text(service.content, encoding="utf-8")
    os.replace(tmp, service.path)  # a half-written unit would never be loaded
    return True


def uninstall(service: ServiceFile) -> bool:
    """Remove the unit; returns False when there was none."""
    if not service.path.exists():
        return False
    service.path.unlink()
    return True
