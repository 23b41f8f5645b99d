"""What changed since the last pass: watchdog callbacks set flags here, nothing else.

The callbacks run in watchdog's threads. They classify an event (a source file, or which vault
file) and record it under one condition variable, so the loop can sleep on that condition and
wake the moment something arrives. No I/O, no state DB, no sync happens in a callback.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from zotsync.vault.scan import SKIP_DIRS

log = logging.getLogger(__name__)
IGNORED_PARTS = SKIP_DIRS  # the folders every scan skips
MAX_PATHS = 2000  # beyond this many changed vault files, don't filter: just sync


class Pending:
    """The changes not yet synced, and when the current burst of them started and last moved.

    ``cond`` guards every field; the loop waits on it. ``first_event`` is None while nothing
    is pending (the loop's debounce counts from it).
    """

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.source_dirty = True  # the first pass runs at once
        self.vault_paths: set[str] = set()
        self.first_event: float | None = 0.0
        self.last_event = 0.0
        self.source_event: float | None = None  # when the source first moved since the last take

    def poke_source(self) -> None:
        """The source changed (or may have): the next pass must read it."""
        with self.cond:
            self.source_dirty = True
            if self.source_event is None:
                self.source_event = time.monotonic()
            self._touch()

    def poke_vault(self, rel: str) -> None:
        """A vault file changed; the loop decides whether it was zotsync's own write."""
        with self.cond:
            if len(self.vault_paths) < MAX_PATHS:
                self.vault_paths.add(rel)
            else:
                self.source_dirty = True  # too many to check one by one: just sync
            self._touch()

    def _touch(self) -> None:
        now = time.monotonic()
        if self.first_event is None:
            self.first_event = now
        self.last_event = now
        self.cond.notify_all()

    def take(self) -> tuple[bool, set[str], float | None]:
        """``(source_dirty, vault_paths, since)``, cleared. Call with ``cond`` held.

        ``since`` is when the source first moved, else the burst's first event: the start of
        the stage clock (a vault event from zotsync's own last writes must not start it).
        """
        since = self.source_event if self.source_event is not None else self.first_event
        out = (self.source_dirty, self.vault_paths, since)
        self.source_dirty, self.vault_paths, self.first_event = False, set(), None
        self.source_event = None
        return out


class Handler(FileSystemEventHandler):
    """Runs in watchdog's thread: classify the event, record it in ``pending``, nothing else."""

    def __init__(self, pending: Pending, vault: Path, names: set[str] | None) -> None:
        self.pending = pending
        self.vault = vault
        self.names = names  # file names in a source folder; None for the vault observer

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write") or event.is_directory:
            return
        raws = [event.src_path, getattr(event, "dest_path", "") or ""]
        paths = [Path(os.fsdecode(raw)) for raw in raws if raw]
        if self.names is not None:
            if any(path.name in self.names for path in paths):
                self.pending.poke_source()
            return
        for path in paths:
            try:
                rel = path.relative_to(self.vault)
            except ValueError:
                continue
            if IGNORED_PARTS & set(rel.parts) or ".zotsync-tmp" in path.name:
                continue
            if path.suffix in (".md", ".yaml", ".j2"):
                self.pending.poke_vault(rel.as_posix())


def start_observers(
    pending: Pending,
    vault: Path,
    source_paths: list[Path],
    poll: float,
    on_error: Callable[[str, BaseException], None],
) -> tuple[list[Any], bool]:
    """Observers on the source's folders and the vault; whether everything is watched.

    ``poll`` > 0 uses polling observers (network drives); a folder inotify cannot watch (no
    watches left) falls back to polling every 5 s or more.
    """
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    factory: Callable[[], Any] = (lambda: PollingObserver(timeout=poll)) if poll > 0 else Observer
    by_dir: dict[Path, set[str]] = {}
    for path in source_paths:
        by_dir.setdefault(path.parent, set()).add(path.name)
    wanted: list[tuple[Path, Handler, bool]] = [
        (folder, Handler(pending, vault, names), False) for folder, names in by_dir.items()
    ]
    wanted.append((vault, Handler(pending, vault, None), True))
    started = []
    for folder, handler, recursive in wanted:
        if not folder.is_dir():
            continue
        for make in (factory, lambda: PollingObserver(timeout=max(poll, 5.0))):
            obs = make()
            try:
                obs.schedule(handler, str(folder), recursive=recursive)
                obs.start()
            except OSError as exc:  # the folder vanished, or no inotify watches are left
                on_error(f"cannot watch {folder}", exc)
                continue
            started.append(obs)
            break
    return started, len(started) == len(wanted) and len(wanted) > 1


def stop_observers(observers: list[Any]) -> None:
    for obs in observers:
        obs.stop()
    for obs in observers:
        if obs.is_alive():
            obs.join(timeout=5)


def alive(observer: Any) -> bool:
    """An observer whose folder vanished keeps its thread but loses its emitter."""
    return bool(observer.is_alive()) and all(e.is_alive() for e in observer.emitters)
