"""The daemon's loop: wait for changes, debounce them, run the tasks it is given, back off.

It knows nothing about how a sync, a plan or a discovery is done: the caller (``zotsync.commands.watch``
for the CLI) hands it a :class:`Tasks`. What the loop owns is *when*: a pass starts once the
changes have been quiet for ``debounce`` seconds, or at the latest ``max_wait`` seconds after
the first change of a burst, so a steady trickle cannot starve it; a failed pass is logged once
per distinct message and retried with exponential backoff (1 s doubling to 5 min; a source
event retries sooner, but not within a second); wake-ups caused only by zotsync's own writes
are dropped; the weekly plan is written once when due; dead observers are re-created.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from zotsync.config import Config
from zotsync.daemon import events
from zotsync.daemon.logs import StageClock, add_file_log, describe_error, remove_file_log
from zotsync.daemon.own_writes import only_own_writes
from zotsync.daemon.schedule import due_plan_week
from zotsync.errors import ZotsyncError
from zotsync.state.db import StateDB
from zotsync.vault.lock import VaultLock

log = logging.getLogger("zotsync.commands.watch")
MAX_BACKOFF = 300.0
MAX_WAIT = 2.0  # a burst that never goes quiet still gets a sync this often
FALLBACK_POLL = 2.0  # seconds between passes while a file source cannot be watched
IDLE_WAKE = 60.0  # idle wake-ups check the weekly plan (and revive dead observers)
PLAN_META = "watch_plan_week"


@dataclass
class PassOutcome:
    """What one sync task did, as far as the loop cares."""

    writes: int
    counts: dict[str, int] | None  # None: nothing had changed (no log line)
    errors: list[str] = field(default_factory=list)
    report: Any = None  # handed to ``on_pass`` unchanged


@dataclass(frozen=True)
class Tasks:
    """Everything the loop runs; the caller decides what each one does.

    ``configure(True)`` applies and records the command line's source options (called once,
    with the lock held); ``configure(False)`` re-reads ``zotsync.yaml`` before each pass.
    ``open_state`` returns None while the vault has no state DB (gone, or never synced).
    ``sync`` raises on failure; ``plan`` writes the given ISO week's plan.
    """

    configure: Callable[[bool], Config]
    open_state: Callable[[], StateDB | None]
    watch_paths: Callable[[Config], list[Path]]
    sync: Callable[[threading.Event, StageClock], PassOutcome]
    plan: Callable[[str, date], None]
    discover: Callable[[], None]


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
    """One vault's watch loop over the given tasks."""

    def __init__(
        self,
        vault: Path,
        tasks: Tasks,
        *,
        debounce: float | None = None,
        poll: float | None = None,
        now: Callable[[], datetime] = datetime.now,
        on_pass: Callable[[Any], None] | None = None,
    ) -> None:
        self.vault = vault
        self.tasks = tasks
        self.config = tasks.configure(False)  # the source options are recorded once locked
        self._debounce = debounce
        self._poll = poll
        self.now = now
        self.on_pass = on_pass
        self.stop_event = threading.Event()
        self.stats = DaemonStats()
        self.pending = events.Pending()
        self._logged: set[str] = set()
        self._source_kind = "file"  # or "http": sources without files to watch are polled

    @property
    def debounce(self) -> float:
        return self.config.watch.debounce_seconds if self._debounce is None else self._debounce

    @property
    def poll(self) -> float:
        return self.config.watch.poll_seconds if self._poll is None else self._poll

    def stop(self, *_: Any) -> None:
        """Finish the current file, then leave the loop (safe from a signal handler)."""
        self.stop_event.set()
        with self.pending.cond:
            self.pending.cond.notify_all()

    # -- waiting ---------------------------------------------------------------------------
    def _wait_for_work(
        self, timeout: float, not_before: float = 0.0
    ) -> tuple[bool, set[str], StageClock | None]:
        """Wait for events, then for ``debounce`` s of quiet (at most ``MAX_WAIT`` s).

        Returns ``(source_dirty, vault_paths, clock)`` and clears them; both empty on timeout
        or stop. The clock starts at the burst's first event.
        """
        pending = self.pending
        start = time.monotonic()
        with pending.cond:
            deadline = start + timeout
            while not self.stop_event.is_set():
                busy = pending.source_dirty or pending.vault_paths
                now = time.monotonic()
                if busy and now >= start + not_before:
                    break
                if now >= deadline:
                    return False, set(), None
                wait = deadline - now if not busy else start + not_before - now
                pending.cond.wait(min(wait, 1.0))
            while not self.stop_event.is_set():
                now = time.monotonic()
                quiet_at = pending.last_event + self.debounce
                cap = (pending.first_event or now) + max(MAX_WAIT, self.debounce)
                if now >= min(quiet_at, cap):
                    break
                pending.cond.wait(min(quiet_at, cap) - now)
            if self.stop_event.is_set():
                return False, set(), None
            dirty, paths, first = pending.take()
        clock = StageClock(first or None)
        clock.mark("debounce")
        return dirty, paths, clock

    def _only_own_writes(self, paths: set[str]) -> bool:
        """True when every changed vault file is zotsync's own write or irrelevant."""
        try:
            state = self.tasks.open_state()
        except Exception:  # can't tell: sync, which reports the real error
            return False
        if state is None:
            return False  # vault gone (unmounted?) or never synced; opening would create it
        try:
            return only_own_writes(self.vault, paths, state, self.config)
        finally:
            state.close()

    # -- one pass --------------------------------------------------------------------------
    def _log_once(self, message: str, exc: BaseException | None = None) -> None:
        if message not in self._logged:
            self._logged.add(message)
            log.error("%s", message, exc_info=exc if not isinstance(exc, ZotsyncError) else None)
        else:
            log.debug("%s", message)

    def run_pass(self, clock: StageClock | None = None) -> PassOutcome | None:
        """One sync (and the weekly plan when due); errors are logged, never raised."""
        clock = clock or StageClock()
        try:
            self.config = self.tasks.configure(False)
            outcome = self.tasks.sync(self.stop_event, clock)
        except Exception as exc:  # the daemon outlives any one pass
            self.stats.failures += 1
            self.stats.last_error = describe_error(exc)
            self._log_once(self.stats.last_error, exc)
            return None
        clock.mark("written")
        log.debug("%s", clock.line())
        if self._logged:
            log.info("sync works again")
            self._logged.clear()
        self.stats.passes += 1
        self.stats.writes += outcome.writes
        if outcome.counts is not None:
            log.info("sync: %s", outcome.counts)
        for error in outcome.errors:
            log.warning("%s", error)
        if self.stop_event.is_set():
            return outcome
        self._weekly_plan()
        if self.on_pass:
            self.on_pass(outcome.report)
        return outcome

    def _weekly_plan(self) -> None:
        """Write the due week's plan once (recorded in the state DB, so a plan the user
        deleted is not rewritten; the first wake-up after the moment catches up)."""
        if not self.config.watch.weekly_plan or self.stop_event.is_set():
            return
        now = self.now()
        week = due_plan_week(now, self.config)
        note = self.vault / self.config.plan.folder / f"{week}.md"
        if note.exists() or week in self.stats.plans_written:
            return
        try:
            state = self.tasks.open_state()
            if state is not None:
                try:
                    if state.get_meta(PLAN_META) == week:
                        return  # written before, then deleted by the user: respect that
                finally:
                    state.close()
            if self.config.watch.weekly_discover:
                try:
                    self.tasks.discover()
                except ZotsyncError as exc:
                    self._log_once(f"weekly discover: {describe_error(exc)}", exc)
            self.tasks.plan(week, now.date())
            state = self.tasks.open_state()
            if state is not None:
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
        try:
            paths = self.tasks.watch_paths(self.config)
        except ZotsyncError as exc:
            self._log_once(f"cannot watch the source yet: {describe_error(exc)}", exc)
            paths = []

        def on_error(what: str, exc: BaseException) -> None:
            self._log_once(f"{what}: {describe_error(exc)}", exc)

        started, watched = events.start_observers(
            self.pending, self.vault, paths, self.poll, on_error
        )
        self._source_kind = "file" if paths else "http"
        return started, watched

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
            self.config = self.tasks.configure(True)
            log.info("watching %s (pid %d)", self.vault, os.getpid())
            observers, watched = self._start_observers()
            backoff = 0.0
            while not self.stop_event.is_set():
                healthy = watched and all(events.alive(obs) for obs in observers)
                timeout = self._timeout(backoff, healthy)
                dirty, paths, clock = self._wait_for_work(timeout, min(backoff, 1.0))
                if self.stop_event.is_set():
                    break
                if not healthy and self._source_kind == "file":
                    events.stop_observers(observers)
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
                if self.run_pass(clock) is not None:
                    backoff = 0.0
                else:
                    backoff = min(MAX_BACKOFF, max(1.0, backoff * 2))
        finally:
            events.stop_observers(observers)
            for signum, old in previous.items():
                signal.signal(signum, old)
            log.info("stopped after %d syncs", self.stats.passes)
            remove_file_log(handler)
            lock.release()
        return self.stats
