"""The daemon behind ``zotsync watch``.

watchdog callbacks do one thing: set a flag (and note the time). A single loop waits for the flag,
then for quiet (Zotero writes in bursts; Zotero 10 writes the ``-wal`` file first and the main
file's mtime moves only at checkpoints, so both are watched), runs one incremental sync, and goes
back to waiting. zotsync's own writes cause events too; the pass they trigger finds every note
equal to what the state DB recorded and writes nothing, so there is no loop.

Errors never end the loop: a failed pass is logged once per distinct message with its fix, and
the next attempt waits with exponential backoff (capped), so a vanished database (Zotero
updating) or a full disk neither crash-loops nor spams the log. SIGTERM/SIGINT stop the loop
after the current file; the vault lock is held for the daemon's whole life.
"""

from __future__ import annotations

import logging
import logging.handlers
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from zotsync import api
from zotsync.config import WEEKDAYS, Config
from zotsync.errors import ZotsyncError
from zotsync.sync.engine import SyncOptions
from zotsync.vault.lock import VaultLock

log = logging.getLogger(__name__)
IGNORED_PARTS = {".zotsync", ".obsidian", ".git", ".trash"}
MAX_BACKOFF = 300.0


class _Flag(FileSystemEventHandler):
    """Sets the shared flag for relevant events; nothing else happens in watchdog's thread."""

    def __init__(self, daemon: Daemon, names: set[str] | None, vault: Path | None) -> None:
        self.daemon = daemon
        self.names = names
        self.vault = vault

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [str(event.src_path)]
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(str(dest))
        for raw in paths:
            path = Path(raw)
            if self.names is not None:
                if path.name in self.names:
                    self.daemon.poke("source")
                    return
                continue
            if self.vault is not None:
                try:
                    rel = path.relative_to(self.vault)
                except ValueError:
                    continue
                if IGNORED_PARTS & set(rel.parts) or ".zotsync-tmp" in path.name:
                    continue
                if path.suffix == ".md" or path.suffix == ".yaml":
                    self.daemon.poke("vault")
                    return


def due_plan_week(now: datetime, config: Config) -> str:
    """The ISO week whose plan should exist at ``now``.

    The plan for a week is due from the configured day and hour (default Sunday 18:00) before
    it. Counting from the latest such moment that has passed means a machine that slept through
    Sunday writes the current week's plan when it wakes on Monday.
    """
    day_index = WEEKDAYS.index(config.plan.day)
    moment = now.replace(hour=config.plan.hour, minute=0, second=0, microsecond=0)
    moment -= timedelta(days=(now.weekday() - day_index) % 7)
    if moment > now:
        moment -= timedelta(days=7)
    monday = (moment + timedelta(days=1)).date()
    while monday.weekday() != 0:
        monday += timedelta(days=1)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class DaemonStats:
    passes: int = 0
    failures: int = 0
    writes: int = 0
    last_error: str | None = None
    plans_written: list[str] = field(default_factory=list)


class Daemon:
    """One vault's watch loop."""

    def __init__(
        self,
        vault: Path,
        *,
        config_path: Path | None = None,
        source_options: api.SourceOptions | None = None,
        debounce: float | None = None,
        poll: float | None = None,
        now: Callable[[], datetime] = datetime.now,
        on_pass: Callable[[api.SyncReport], None] | None = None,
    ) -> None:
        self.vault = api.check_vault(vault)
        self.config_path = config_path
        self.config = api.configure(self.vault, config_path, source_options)
        self.debounce = self.config.watch.debounce_seconds if debounce is None else debounce
        self.poll = self.config.watch.poll_seconds if poll is None else poll
        self.now = now
        self.on_pass = on_pass
        self.stop_event = threading.Event()
        self._cond = threading.Condition()
        self._dirty = True  # the first pass runs at once
        self._last_event = 0.0
        self.stats = DaemonStats()
        self._logged: set[str] = set()

    # -- events -----------------------------------------------------------------------------
    def poke(self, why: str = "") -> None:
        with self._cond:
            self._dirty = True
            self._last_event = time.monotonic()
            self._cond.notify_all()

    def stop(self, *_: Any) -> None:
        self.stop_event.set()
        with self._cond:
            self._cond.notify_all()

    def _observers(self) -> list[Any]:
        source = api.make_source(self.config, self.vault)
        paths = source.watch_paths()
        factory: Callable[[], Any] = (
            (lambda: PollingObserver(timeout=self.poll)) if self.poll > 0 else Observer
        )
        observers = []
        by_dir: dict[Path, set[str]] = {}
        for path in paths:
            by_dir.setdefault(path.parent, set()).add(path.name)
        for folder, names in by_dir.items():
            if folder.is_dir():
                obs = factory()
                obs.schedule(_Flag(self, names, None), str(folder), recursive=False)
                observers.append(obs)
        vault_obs = factory()
        vault_obs.schedule(_Flag(self, None, self.vault), str(self.vault), recursive=True)
        observers.append(vault_obs)
        return observers

    # -- loop -------------------------------------------------------------------------------
    def _wait_for_work(self, timeout: float) -> bool:
        """Wait for a flag, then for ``debounce`` seconds of quiet. False on stop/timeout."""
        with self._cond:
            deadline = time.monotonic() + timeout
            while not self._dirty and not self.stop_event.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 1.0))
            while not self.stop_event.is_set():
                quiet_for = time.monotonic() - self._last_event
                if quiet_for >= self.debounce:
                    break
                self._cond.wait(self.debounce - quiet_for)
            if self.stop_event.is_set():
                return False
            self._dirty = False
            return True

    def _log_once(self, message: str) -> None:
        if message not in self._logged:
            self._logged.add(message)
            log.error("%s", message)
        else:
            log.debug("%s", message)

    def run_pass(self) -> api.SyncReport | None:
        """One sync (and the weekly plan when due); errors are logged, never raised."""
        try:
            report = api.sync(
                self.vault,
                config_path=self.config_path,
                options=SyncOptions(),
                hold_lock=False,
                stop=self.stop_event,
            )
        except ZotsyncError as exc:
            self.stats.failures += 1
            text = exc.message + (f" — fix: {exc.fix}" if exc.fix else "")
            self.stats.last_error = text
            self._log_once(text)
            return None
        except OSError as exc:
            self.stats.failures += 1
            self.stats.last_error = str(exc)
            self._log_once(f"{exc} — zotsync will retry (check free disk space and the vault)")
            return None
        self.stats.passes += 1
        self._logged.clear()
        counts = report.result.counts()
        self.stats.writes += counts["created"] + counts["updated"] + counts["renamed"]
        if not report.result.short_circuit:
            log.info("sync: %s", counts)
        self._weekly_plan()
        if self.on_pass:
            self.on_pass(report)
        return report

    def _weekly_plan(self) -> None:
        if not self.config.watch.weekly_plan:
            return
        week = due_plan_week(self.now(), self.config)
        note = self.vault / self.config.plan.folder / f"{week}.md"
        if note.exists() or week in self.stats.plans_written:
            return
        from zotsync import planning

        try:
            if self.config.watch.weekly_discover:
                try:
                    from zotsync import keeping_up

                    keeping_up.discover(self.vault, config_path=self.config_path, hold_lock=False)
                except ZotsyncError as exc:
                    self._log_once(f"weekly discover: {exc.message}")
            planning.plan(self.vault, week=week, config_path=self.config_path, hold_lock=False)
            self.stats.plans_written.append(week)
            log.info("wrote the reading plan for %s", week)
        except ZotsyncError as exc:
            self._log_once(f"weekly plan: {exc.message}")

    def _restart(self, observers: list[Any]) -> tuple[list[Any], bool]:
        """Re-create observers (the data folder may have been missing before)."""
        for obs in observers:
            obs.stop()
        try:
            fresh = self._observers()
            for obs in fresh:
                obs.start()
        except (ZotsyncError, OSError):
            return [], False
        return fresh, len(fresh) > 1

    def run(self, *, install_signals: bool = True) -> DaemonStats:
        """Hold the lock and loop until stopped; returns what happened."""
        lock = VaultLock(self.vault, command="watch")
        lock.acquire()
        add_file_log(self.vault)
        if install_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        observers: list[Any] = []
        try:
            try:
                observers = self._observers()
                for obs in observers:
                    obs.start()
            except (ZotsyncError, OSError) as exc:
                self._log_once(f"cannot watch the source yet: {exc}; polling instead")
            watched = len(observers) > 1  # the last observer is the vault's
            backoff = 0.0
            while not self.stop_event.is_set():
                if backoff:
                    timeout = backoff
                elif watched:
                    timeout = 60.0  # wake up now and then for the weekly plan
                else:
                    timeout = self.config.watch.web_poll_seconds  # HTTP sources: poll
                worked = self._wait_for_work(timeout)
                if self.stop_event.is_set():
                    break
                if not worked and watched and not backoff:
                    self._weekly_plan()
                    continue
                if self.run_pass() is not None:
                    backoff = 0.0
                    continue
                backoff = min(MAX_BACKOFF, max(1.0, backoff * 2))
                if not watched:
                    observers, watched = self._restart(observers)
        finally:
            for obs in observers:
                obs.stop()
            for obs in observers:
                obs.join(timeout=5)
            lock.release()
        return self.stats


def add_file_log(vault: Path) -> None:
    """A rotating log in ``.zotsync/zotsync.log`` (1 MB × 5), besides stderr."""
    root = logging.getLogger("zotsync")
    if any(getattr(h, "_zotsync_file", False) for h in root.handlers):
        return
    folder = vault / ".zotsync"
    folder.mkdir(exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        folder / "zotsync.log", maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    handler._zotsync_file = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
