"""What every command shares: the global options, vault lookup, output and error mapping.

This is the only layer that prints. Library errors (:class:`ZotsyncError`) become a message on
stderr (or ``{"error": …}`` on stdout with ``--json``) and the exit code of the contract; a
traceback is shown only with ``-v``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import platformdirs
import yaml

from zotsync.config import CONFIG_NAME
from zotsync.errors import EXIT_USAGE, ZotsyncError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Ctx:
    """Global options of one invocation."""

    vault: Path | None
    config: Path | None
    verbose: int
    quiet: bool
    json: bool

    def out(self, text: str = "") -> None:
        """Human output (suppressed by ``-q`` and ``--json``)."""
        if not self.quiet and not self.json:
            click.echo(text)

    def emit(self, data: dict[str, Any]) -> None:
        """The one JSON object of ``--json``."""
        click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))

    def resolve_vault(self) -> Path:
        """``--vault``, else the current folder if it holds zotsync.yaml, else the configured one."""
        if self.vault is not None:
            return self.vault
        cwd = Path.cwd()
        if (cwd / CONFIG_NAME).exists():
            return cwd
        configured = configured_vault()
        if configured is not None:
            return configured
        raise ZotsyncError(
            "no vault given and none configured",
            fix="pass --vault PATH, run zotsync inside a vault (a folder with zotsync.yaml), "
            "or set ZOTSYNC_VAULT",
        )


def configured_vault() -> Path | None:
    """The user's default vault: ``$ZOTSYNC_VAULT`` or ``vault:`` in the user config file."""
    env = os.environ.get("ZOTSYNC_VAULT")
    if env:
        return Path(env).expanduser()
    path = Path(platformdirs.user_config_dir("zotsync")) / "config.yaml"
    if path.exists():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            return None
        if isinstance(data, dict) and isinstance(data.get("vault"), str):
            return Path(data["vault"]).expanduser()
    return None


def common_options(func: F) -> F:
    """Add ``--vault --config -v -q --json`` and turn errors into exit codes."""

    @click.option("--vault", type=click.Path(path_type=Path), help="The vault folder.")
    @click.option(
        "--config", "config_path", type=click.Path(path_type=Path), help="Config file to use."
    )
    @click.option("-v", "--verbose", count=True, help="More output (-vv: debug log).")
    @click.option("-q", "--quiet", is_flag=True, help="Only errors.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        vault: Path | None,
        config_path: Path | None,
        verbose: int,
        quiet: bool,
        as_json: bool,
        **kwargs: Any,
    ) -> Any:
        ctx = Ctx(vault, config_path, verbose, quiet, as_json)
        setup_logging(verbose, quiet or as_json)
        try:
            code = func(ctx, *args, **kwargs)
        except ZotsyncError as exc:
            report_error(ctx, exc)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            sys.exit(130)
        sys.exit(code or 0)

    return wrapper  # type: ignore[return-value]


def report_error(ctx: Ctx, exc: ZotsyncError) -> None:
    if ctx.json:
        ctx.emit({"error": exc.message, "fix": exc.fix, "exit": exc.exit_code})
    else:
        click.echo(f"error: {exc.message}", err=True)
        if exc.fix:
            click.echo(f"  fix: {exc.fix}", err=True)
    if ctx.verbose:
        logging.getLogger("zotsync").exception("details")


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    if quiet and not verbose:
        level = logging.ERROR
    root = logging.getLogger("zotsync")
    root.setLevel(level)
    if not any(getattr(h, "_zotsync", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._zotsync = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for h in root.handlers:
        if getattr(h, "_zotsync", False):
            h.setLevel(level)


def usage_error(message: str) -> ZotsyncError:
    err = ZotsyncError(message)
    err.exit_code = EXIT_USAGE
    return err
