"""One error hierarchy and the exit codes of the CLI contract.

Every expected failure is a :class:`ZotsyncError` carrying a message that says what
happened and what to do. The CLI is the only place that maps them to exit codes and prints
them; library code raises and never prints.
"""

from __future__ import annotations

from collections.abc import Iterable

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_SOURCE_UNAVAILABLE = 3
EXIT_CONFLICT = 4
EXIT_LOCKED = 5


class ZotsyncError(Exception):
    """Base of every error zotsync expects; ``exit_code`` is what the CLI returns."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message if not fix else f"{message}\n  fix: {fix}")


class ConfigError(ZotsyncError):
    """``zotsync.yaml`` or the command line is wrong; lists every problem at once."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: Iterable[str], *, path: str | None = None) -> None:
        self.problems = list(problems)
        where = f" in {path}" if path else ""
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"configuration problem{'s' if len(self.problems) != 1 else ''}{where}:\n{body}"
        )


class SourceUnavailable(ZotsyncError):
    """The Zotero source cannot be read (missing/locked/corrupt DB, API off, network)."""

    exit_code = EXIT_SOURCE_UNAVAILABLE


class VaultLocked(ZotsyncError):
    """Another zotsync process holds the vault lock."""

    exit_code = EXIT_LOCKED


class ConflictError(ZotsyncError):
    """The user must decide (e.g. mass deletion without ``--force-delete``)."""

    exit_code = EXIT_CONFLICT


class NoteError(ZotsyncError):
    """One note cannot be handled (invalid YAML, two notes claim a key); the sync goes on."""

    exit_code = EXIT_PARTIAL


class TemplateError(ZotsyncError):
    """A Jinja2 template failed; the message names the file and line."""

    exit_code = EXIT_USAGE


class RemoteError(ZotsyncError):
    """An HTTP service answered with an error we could not recover from."""

    exit_code = EXIT_SOURCE_UNAVAILABLE
