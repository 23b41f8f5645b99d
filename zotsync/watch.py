"""The daemon behind ``zotsync watch``.

watchdog callbacks do one thing: note what changed (the source, or which vault file) under a
lock. A single loop waits for that, then for quiet (Zotero writes in bursts; Zotero 10 commits
land in ``zotero.sqlite-wal`` and the main file's mtime moves only at checkpoints, so all of
``zotero.sqlite{,-wal,-journal}`` are watched), runs one incremental sync, and goes back to
waiting. A steady trickle of events cannot starve the sync: it runs at the latest ``MAX_DEFER``
seconds after the first event of a burst.

Vault events are filtered before they cost a sync. zotsync's own writes (notes, renames, index
notes) are recognised through the state DB: a paper note whose ``(mtime_ns, size, inode)`` is
the one the last sync recorded was written by zotsync (or not touched), so the wake-up is
dropped and no write loop can start. What does need a sync: an edited, moved or deleted paper
note, anything in the papers or plan folders, ``zotsync.yaml`` and the templates. The user's
other notes (a daily note typed into every two seconds) are ignored.

Errors never end the loop: a failed pass is logged once per distinct message with its fix, and
the next attempt waits with exponential backoff (1 s doubling to 5 min; a source event retries
sooner, but not within a second), so a vanished database (Zotero updating), a vault on an
unmounted drive or a full disk neither crash-loops nor fills the log. Observers that died with
their folder are re-created once it is back; meanwhile the loop polls.

The weekly plan is due from the configured day and hour (default Sunday 18:00): the first pass
or idle wake-up after that moment writes the coming week's plan once (recorded in the state DB,
so a plan the user deleted is not rewritten), which also catches up after a machine slept
through the moment. SIGTERM/SIGINT stop the loop after the current file; the vault lock is held
for the daemon's whole life.
"""

from __future__ import annotations

import errno
import logging
import logging.handlers
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from zotsync import api
from zotsync.config import CONFIG_NAME, WEEKDAYS, Config
from zotsync.errors import ZotsyncError
from zotsync.plan.weeks import default_week
from zotsync.state.papers import sig_at_path
from zotsync.sync.engine import REFS_RETRY_SECONDS, SyncOptions
from zotsync.vault.confine import confine
from zotsync.vault.lock import VaultLock
from zotsync.vault.scan import SKIP_DIRS

log = logging.getLogger(__name__)
IGNORED_PARTS = SKIP_DIRS
MAX_BACKOFF = 300.0
MAX_DEFER = 10.0  # a burst that never goes quiet still gets a sync this often
FALLBACK_POLL = 2.0  # seconds between passes while a file source cannot be watched
IDLE_WAKE = 60.0  # idle wake-ups check the weekly plan (and revive dead observers)
MAX_PATHS = 2000  # beyond this many changed vault files, don't filter: just sync
PLAN_META = "watch_plan_week"


class _Handler(FileSystemEventHandler):
    """Runs in watchdog's thread: classify the event, tell the daemon, nothing else."""

    def __init__(self, daemon: Daemon, names: set[str] | None) -> None:
        self.daemon = daemon
        self.names = names  # file names in a source folder; None for the vault observer

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write") or event.is_directory:
            return
        raws = [event.src_path, getattr(event, "dest_path", "") or ""]
        paths = [Path(os.fsdecode(raw)) for raw in raws if raw]
        if self.names is not None:
            if any(path.name in self.names for path in paths):
                self.daemon.poke_source()
            return
        for path in paths:
            try:
                rel = path.relative_to(self.daemon.vault)
            except ValueError:
                continue
            if IGNORED_PARTS & set(rel.parts) or ".zotsync-tmp" in path.name:
                continue
            if path.suffix in (".md", ".yaml", ".j2"):
                self.daemon.poke_vault(rel.as_posix())


def due_plan_week(now: datetime, config: Config) -> str:
    """The ISO week whose plan should exist at ``now``.

    The plan for a week is due from the configured day and hour (default Sunday 18:00) before
    it; it is the week ``zotsync plan`` would pick on that day. Counting from the latest such
    moment that has passed means a machine that slept through Sunday writes the current week's
    plan when it wakes on Monday.
    """
    return default_week(last_plan_moment(now, config).date())


def last_plan_moment(now: datetime, config: Config) -> datetime:
    """The latest configured plan day/hour at or before ``now``."""
    day_index = WEEKDAYS.index(config.plan.day)
    moment = now.replace(hour=config.plan.hour, minute=0, second=0, microsecond=0)
    moment -= timedelta(days=(now.weekday() - day_index) % 7)
    if moment > now:
        moment -= timedelta(days=7)
    return moment


def next_plan_moment(now: datetime, config: Config) -> datetime:
    """When the daemon will next write a weekly plan (for ``zotsync status``)."""
    return last_plan_moment(now, config) + timedelta(days=7)


def is_own_write(rel: str, sig: tuple[int, int, int] | None, state: Any, config: Config) -> bool:
    """Whether a changed vault file needs no sync: zotsync wrote it, or it is not zotsync's.

    ``sig`` is the file's ``(mtime_ns, size, inode)`` now (None: gone). A paper note is
    zotsync's own write when its sig is the one recorded after the last sync.
    """
    row = sig_at_path(state, config.library, rel)
    if row is not None:
        return sig is not None and row == sig
    if sig is None:
        return True  # a temp file or a rename's old name: nothing to sync
    parts = PurePosixPath(rel).parts
    if rel == CONFIG_NAME or rel.startswith("Templates/zotsync/"):
        return False
    for folder in (config.papers_folder, config.plan.folder):
        if parts[: len(PurePosixPath(folder).parts)] == PurePosixPath(folder).parts:
            return False
    return True  # index notes and the user's other notes


def _file_sig(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def describe_error(exc: BaseException) -> str:
    """One line saying what failed and how to fix it, for the log."""
    if isinstance(exc, ZotsyncError):
        return exc.message + (f" — fix: {exc.fix}" if exc.fix else "")
    if isinstance(exc, OSError):
        fixes = {
            errno.ENOSPC: "the disk is full: free some space; zotsync retries",
            errno.EDQUOT: "the disk quota is exceeded: free some space; zotsync retries",
            errno.EROFS: "the vault is on a read-only file system",
            errno.EACCES: "check the permissions of the vault folder",
            errno.ENOENT: "the vault or the Zotero folder is unavailable (unmounted?); retrying",
        }
        hint = fixes.get(exc.errno or 0, "zotsync will retry")
        return f"{exc} — {hint}"
    return f"unexpected {type(exc).__name__}: {exc} — zotsync will retry; please report it"


@dataclass
class DaemonStats:
    """What one daemon run did (``watch --json`` prints it; tests count writes with it)."""

    passes: int = 0
    failures: int = 0
    writes: int = 0
    skipped: int = 0  # wake-ups dropped because only zotsync's own writes had happened
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
        self.source_options = source_options
        self.config = api.configure(self.vault, config_path, None)  # recorded once locked
        self._debounce = debounce
        self._poll = poll
        self.now = now
        self.on_pass = on_pass
        self.stop_event = threading.Event()
        self.stats = DaemonStats()
        self._cond = threading.Condition()
        self._source_dirty = True  # the first pass runs at once
        self._vault_paths: set[str] = set()
        self._first_event: float | None = 0.0
        self._last_event = 0.0
        self._logged: set[str] = set()
        self._source_kind = "file"  # or "http": sources without files to watch are polled

    @property
    def debounce(self) -> float:
        return self.config.watch.debounce_seconds if self._debounce is None else self._debounce

    @property
    def poll(self) -> float:
        return self.config.watch.poll_seconds if self._poll is None else self._poll

    # -- events (any thread) ---------------------------------------------------------------
    def poke_source(self) -> None:
        """The source changed (or may have): the next pass must read it."""
        with self._cond:
            self._source_dirty = True
            self._touch()

    def poke_vault(self, rel: str) -> None:
        """A vault file changed; the loop decides whether it was zotsync's own write."""
        with self._cond:
            if len(self._vault_paths) < MAX_PATHS:
                self._vault_paths.add(rel)
            else:
                self._source_dirty = True  # too many to check one by one: just sync
            self._touch()

    def _touch(self) -> None:
        now = time.monotonic()
        if self._first_event is None:
            self._first_event = now
        self._last_event = now
        self._cond.notify_all()

    def stop(self, *_: Any) -> None:
        """Finish the current file, then leave the loop (safe from a signal handler)."""
        self.stop_event.set()
        with self._cond:
            self._cond.notify_all()

    # -- waiting ---------------------------------------------------------------------------
    def _wait_for_work(self, timeout: float, not_before: float = 0.0) -> tuple[bool, set[str]]:
        """Wait for events, then for ``debounce`` s of quiet (at most ``MAX_DEFER`` s).

        Returns ``(source_dirty, vault_paths)`` and clears them; both empty on timeout or stop.
        """
        start = time.monotonic()
        with self._cond:
            deadline = start + timeout
            while not self.stop_event.is_set():
                pending = self._source_dirty or self._vault_paths
                now = time.monotonic()
                if pending and now >= start + not_before:
                    break
                if now >= deadline:
                    return False, set()
                wait = deadline - now if not pending else start + not_before - now
                self._cond.wait(min(wait, 1.0))
            while not self.stop_event.is_set():
                now = time.monotonic()
                quiet_at = self._last_event + self.debounce
                cap = (self._first_event or now) + MAX_DEFER
                if now >= min(quiet_at, cap):
                    break
                self._cond.wait(min(quiet_at, cap) - now)
            if self.stop_event.is_set():
                return False, set()
            dirty, paths = self._source_dirty, self._vault_paths
            self._source_dirty, self._vault_paths, self._first_event = False, set(), None
            return dirty, paths

    def _only_own_writes(self, paths: Iterable[str]) -> bool:
        """True when every changed vault file is zotsync's own write or irrelevant."""
        if not (api.state_dir(self.vault) / "state.sqlite").is_file():
            return False  # vault gone (unmounted?) or never synced; opening would create it
        try:
            state = api.open_state(self.vault)
        except Exception:  # can't tell: sync, which reports the real error
            return False
        try:
            return all(
                is_own_write(rel, _file_sig(self.vault / rel), state, self.config) for rel in paths
            )
        finally:
            state.close()

    # -- one pass --------------------------------------------------------------------------
    def _log_once(self, message: str, exc: BaseException | None = None) -> None:
        if message not in self._logged:
            self._logged.add(message)
            log.error("%s", message, exc_info=exc if not isinstance(exc, ZotsyncError) else None)
        else:
            log.debug("%s", message)

    def run_pass(self) -> api.SyncReport | None:
        """One sync (and the weekly plan when due); errors are logged, never raised."""
        try:
            self.config = api.configure(self.vault, self.config_path, None)
            report = api.sync(
                self.vault,
                config_path=self.config_path,
                options=SyncOptions(refs_retry_seconds=REFS_RETRY_SECONDS),
                hold_lock=False,
                stop=self.stop_event,
            )
        except Exception as exc:  # the daemon outlives any one pass
            self.stats.failures += 1
            self.stats.last_error = describe_error(exc)
            self._log_once(self.stats.last_error, exc)
            return None
        if self._logged:
            log.info("sync works again")
            self._logged.clear()
        self.stats.passes += 1
        result = report.result
        counts = result.counts()
        self.stats.writes += (
            counts["created"]
            + counts["updated"]
            + counts["renamed"]
            + counts["trashed"]
            + counts["adopted"]
            + report.index_written
            + report.plan_updates
        )
        if not result.short_circuit:
            log.info("sync: %s", counts)
        for error in result.errors:
            log.warning("%s", error)
        for ambiguity in result.ambiguous:
            log.warning("ambiguous: %s", ambiguity["message"])
        if self.stop_event.is_set():
            return report
        self._weekly_plan()
        if self.on_pass:
            self.on_pass(report)
        return report

    def _weekly_plan(self) -> None:
        """Write the due week's plan once (see the module docstring)."""
        if not self.config.watch.weekly_plan or self.stop_event.is_set():
            return
        now = self.now()
        week = due_plan_week(now, self.config)
        note = self.vault / self.config.plan.folder / f"{week}.md"
        if note.exists() or week in self.stats.plans_written:
            return
        from zotsync import planning

        try:
            state = api.open_state(self.vault)
            try:
                if state.get_meta(PLAN_META) == week:
                    return  # written before, then deleted by the user: respect that
            finally:
                state.close()
            if self.config.watch.weekly_discover:
                from zotsync import keeping_up

                try:
                    keeping_up.discover(self.vault, config_path=self.config_path, hold_lock=False)
                except ZotsyncError as exc:
                    self._log_once(f"weekly discover: {describe_error(exc)}", exc)
            planning.plan(
                self.vault,
                week=week,
                config_path=self.config_path,
                hold_lock=False,
                today=now.date(),
            )
            state = api.open_state(self.vault)
            try:
                state.set_meta(PLAN_META, week)
            finally:
                state.close()
            self.stats.plans_written.append(week)
            log.info("wrote the reading plan for %s", week)
        except Exception as exc:  # a plan failure must not stop syncing
            self._log_once(f"weekly plan: {describe_error(exc)}", exc)

    # -- observers -------------------------------------------------------------------------
    def _start_observers(self) -> tuple[list[Any], bool]:
        """Observers on the source's folders and the vault; whether the source is watched."""
        factory: Callable[[], Any] = (
            (lambda: PollingObserver(timeout=self.poll)) if self.poll > 0 else Observer
        )
        try:
            paths = api.make_source(self.config, self.vault).watch_paths()
        except ZotsyncError as exc:
            self._log_once(f"cannot watch the source yet: {describe_error(exc)}", exc)
            paths = []
        by_dir: dict[Path, set[str]] = {}
        for path in paths:
            by_dir.setdefault(path.parent, set()).add(path.name)
        wanted: list[tuple[Path, _Handler, bool]] = [
            (folder, _Handler(self, names), False) for folder, names in by_dir.items()
        ]
        wanted.append((self.vault, _Handler(self, None), True))
        started = []
        for folder, handler, recursive in wanted:
            if not folder.is_dir():
                continue
            for make in (factory, lambda: PollingObserver(timeout=max(self.poll, 5.0))):
                obs = make()
                try:
                    obs.schedule(handler, str(folder), recursive=recursive)
                    obs.start()
                except OSError as exc:  # the folder vanished, or no inotify watches are left
                    self._log_once(f"cannot watch {folder}: {describe_error(exc)}", exc)
                    continue
                started.append(obs)
                break
        watched = len(started) == len(wanted) and len(wanted) > 1
        self._source_kind = "file" if paths else "http"
        return started, watched

    @staticmethod
    def _stop_observers(observers: list[Any]) -> None:
        for obs in observers:
            obs.stop()
        for obs in observers:
            if obs.is_alive():
                obs.join(timeout=5)

    def _timeout(self, backoff: float, healthy: bool) -> float:
        if backoff:
            return backoff
        if self._source_kind == "http":
            return self.config.watch.web_poll_seconds  # HTTP sources: poll (304s are cheap)
        return IDLE_WAKE if healthy else FALLBACK_POLL

    # -- the loop --------------------------------------------------------------------------
    def run(
        self, *, install_signals: bool = True, started: Callable[[], None] | None = None
    ) -> DaemonStats:
        """Hold the lock and loop until stopped; returns what happened.

        ``started`` is called once the lock is held (the CLI says "watching" only then).
        """
        lock = VaultLock(self.vault, command="watch")
        lock.acquire()
        if started is not None:
            started()
        handler = add_file_log(self.vault)
        previous: dict[int, Any] = {}
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, self.stop)
        observers: list[Any] = []
        try:
            self.config = api.configure(self.vault, self.config_path, self.source_options)
            log.info("watching %s (pid %d)", self.vault, os.getpid())
            observers, watched = self._start_observers()
            backoff = 0.0
            while not self.stop_event.is_set():
                healthy = watched and all(_alive(obs) for obs in observers)
                timeout = self._timeout(backoff, healthy)
                dirty, paths = self._wait_for_work(timeout, not_before=min(backoff, 1.0))
                if self.stop_event.is_set():
                    break
                if not healthy and self._source_kind == "file":
                    self._stop_observers(observers)
                    observers, watched = self._start_observers()
                if not dirty and not paths and not backoff:
                    if healthy or self._source_kind == "http":
                        self._weekly_plan()
                        if self._source_kind != "http":
                            continue
                    # a file source we cannot watch right now: poll it
                elif not dirty and paths and not backoff and self._only_own_writes(paths):
                    self.stats.skipped += 1
                    log.debug("ignored zotsync's own writes: %s", sorted(paths)[:5])
                    continue
                if self.run_pass() is not None:
                    backoff = 0.0
                else:
                    backoff = min(MAX_BACKOFF, max(1.0, backoff * 2))
        finally:
            self._stop_observers(observers)
            for signum, old in previous.items():
                signal.signal(signum, old)
            log.info("stopped after %d syncs", self.stats.passes)
            remove_file_log(handler)
            lock.release()
        return self.stats


def _alive(observer: Any) -> bool:
    """An observer whose folder vanished keeps its thread but loses its emitter."""
    return bool(observer.is_alive()) and all(e.is_alive() for e in observer.emitters)


def add_file_log(vault: Path) -> logging.Handler:
    """A rotating log in ``.zotsync/zotsync.log`` (1 MB × 5), besides stderr."""
    root = logging.getLogger("zotsync")
    folder = vault / ".zotsync"
    confine(vault, folder / "zotsync.log")
    folder.mkdir(exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        folder / "zotsync.log", maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    debug = root.level == logging.DEBUG
    handler.setLevel(logging.DEBUG if debug else logging.INFO)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler


def remove_file_log(handler: logging.Handler) -> None:
    """Detach and close the handler ``add_file_log`` returned."""
    logging.getLogger("zotsync").removeHandler(handler)
    handler.close()
