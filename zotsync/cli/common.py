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
import sqlite3
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
from zotsync.vault.disk import disk_error

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
        except (OSError, sqlite3.Error, RecursionError, MemoryError) as exc:
            error = as_user_error(exc)
            report_error(ctx, error, exc)
            sys.exit(error.exit_code)
        sys.exit(code or 0)

    return wrapper  # type: ignore[return-value]


def as_user_error(exc: BaseException) -> ZotsyncError:
    """The one-line error for a failure no layer below turned into a ZotsyncError.

    PRODUCT guarantee 5 (no traceback): a full or read-only disk, a file that cannot be read,
    a state DB SQLite refuses, a nesting too deep to parse. ``-v`` still shows the traceback.
    """
    disk = disk_error(exc)
    if disk is not None:
        return disk
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return ZotsyncError(
            f"cannot use{where}: {exc.strerror or exc}",
            fix="check that the path exists, is the right kind of file and is readable "
            "(and writable inside the vault), then run the command again",
        )
    if isinstance(exc, sqlite3.Error):
        return ZotsyncError(
            f"SQLite error: {exc}",
            fix="run `zotsync doctor`; a damaged .zotsync/state.sqlite is rebuilt by `zotsync sync`",
        )
    if isinstance(exc, RecursionError):
        return ZotsyncError(
            "the input is nested too deeply to read",
            fix="check the export or file you gave; re-export it from Zotero",
        )
    return ZotsyncError(
        "not enough memory to finish", fix="close other programs, or sync fewer items at a time"
    )


def report_error(ctx: Ctx, exc: ZotsyncError, cause: BaseException | None = None) -> None:
    if ctx.json:
        ctx.emit({"error": exc.message, "fix": exc.fix, "exit": exc.exit_code})
    else:
        click.echo(f"error: {exc.message}", err=True)
        if exc.fix:
            click.echo(f"  fix: {exc.fix}", err=True)
    if ctx.verbose:
        logging.getLogger("zotsync").error("details", exc_info=cause or exc)


def target_vault(ctx: Ctx, argument: Path | None) -> Path:
    """The folder ``init``/``demo`` create: the VAULT argument or ``--vault`` (not both apart)."""
    if argument is not None and ctx.vault is not None and argument != ctx.vault:
        raise ZotsyncError(
            f"two vault folders given: {argument} and --vault {ctx.vault}",
            fix="give the folder once, as the argument or as --vault",
        )
    chosen = argument if argument is not None else ctx.vault
    if chosen is None:
        raise ZotsyncError(
            "no vault folder given", fix="pass it as the argument, e.g. `zotsync init ~/Vault`"
        )
    return chosen


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
