"""A watched export file (Better BibTeX JSON, BibTeX, CSL-JSON): read once per change, and
read again when it was caught half-written.

Exporters rewrite their file in place ("keep updated"), so a read can land in the middle of a
rewrite: the text stops inside an entry, or the file's ``(mtime_ns, size)`` moves while it is
read. Such a read is tried again after a short pause, a few times, before the source is called
unavailable. The parsed library is kept until the file changes, so a daemon pass whose trigger
was a vault edit does not parse the export again. One implementation for the three file
sources; each says what its file is and how to parse it.
"""

from __future__ import annotations

import time
from pathlib import Path

from zotsync.errors import SourceUnavailable
from zotsync.model import Library


class Incomplete(ValueError):
    """The file was caught half-written (or changed while it was read): read it again."""


class ExportFile:
    """The reading half of a file source; subclasses set the texts and :meth:`_parse`."""

    name = ""
    #: "the BibTeX file", as messages name it
    what = "the export"
    #: the command-line option that names the file
    option = ""
    #: how to make the file, for a missing one
    how = ""
    #: the message and fix when every read found it half-written
    incomplete = "is not a complete export"
    incomplete_fix = "wait for the export to finish, or export again"
    #: parse errors that mean "caught half-written" (read again)
    retry_on: tuple[type[BaseException], ...] = (ValueError, UnicodeDecodeError, RecursionError)

    def __init__(self, path: Path, *, retries: int = 3, retry_delay: float = 0.2) -> None:
        self.path = Path(path)
        self._retries = retries
        self._retry_delay = retry_delay
        self._seen: tuple[int, int] | None = None
        self._library: Library | None = None

    def watch_paths(self) -> list[Path]:
        return [self.path]

    def _parse(self, last: bool) -> Library:
        """The library in the file; raise :class:`Incomplete` when it looks cut (``last``: the
        final try, which may accept what it found)."""
        raise NotImplementedError

    def _stamp(self) -> tuple[int, int]:
        try:
            st = self.path.stat()
        except OSError:
            raise SourceUnavailable(
                f"{self.what} {self.path} does not exist", fix=self.how
            ) from None
        if not self.path.is_file():
            raise SourceUnavailable(f"{self.path} is not a file", fix=f"pass {self.option} PATH")
        return st.st_mtime_ns, st.st_size

    def read(self) -> Library:
        stamp = self._stamp()
        if self._library is not None and stamp == self._seen:
            return self._library
        self._library = None  # the old library is not kept alive while the new one is built
        for attempt in range(self._retries):
            last = attempt + 1 == self._retries
            try:
                library = self._parse(last)
                if self._stamp() == stamp or last:
                    break
                raise Incomplete("rewritten while being read")
            except self.retry_on:
                if last:
                    raise SourceUnavailable(
                        f"{self.path} {self.incomplete}", fix=self.incomplete_fix
                    ) from None
                time.sleep(self._retry_delay)
                stamp = self._stamp()
            except OSError as exc:
                raise SourceUnavailable(
                    f"cannot read {self.what} {self.path}: {exc.strerror or exc}",
                    fix=f"check that the file is a readable regular file (or pass {self.option} PATH)",
                ) from None
        self._library, self._seen = library, stamp
        return library
