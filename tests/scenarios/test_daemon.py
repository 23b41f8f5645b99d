"""The daemon (``zotsync watch``): it follows a Zotero that holds its database, never loops on
its own writes, survives a vanishing database, writes the weekly plan once, and stops cleanly.

In-process scenarios run the daemon that :func:`~zotsync.commands.watch.watch_daemon` wires in a thread
(``install_signals=False``, stopped with ``daemon.stop()``); signal and lock scenarios run
``python -m zotsync watch`` as a real subprocess. Every wait is "eventually, within a generous deadline".
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from zotsync import api
from zotsync import api as planning
from zotsync.commands.watch import watch_daemon
from zotsync.config import Config, PlanConfig
from zotsync.daemon.loop import Daemon
from zotsync.daemon.own_writes import is_own_write
from zotsync.daemon.schedule import due_plan_week, next_plan_moment
from zotsync.library.weeks import default_week
from zotsync.model import Creator, Item, Library, LibraryRef, Tag, with_base_fields
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db

DEADLINE = 30.0


def eventually(check: Callable[[], object], deadline: float = DEADLINE, what: str = "") -> None:
    """Poll ``check`` until it is truthy; fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {deadline} s: {what or check}")


def article(key: str, title: str, year: int = 2021) -> Item:
    fields = {"title": title, "date": str(year), "abstractNote": f"About {title.lower()}."}
    return Item(
        key=key,
        item_type="journalArticle",
        fields=with_base_fields("journalArticle", fields),
        creators=[Creator("Hopper", "Grace")],
        tags=[Tag("watching")],
        date_added=f"{year}-02-03T04:05:06Z",
        date_modified=f"{year}-02-03T04:05:06Z",
        version=1,
    )


def notes_by_key(vault: Path) -> dict[str, Path]:
    """zotero-key → note path, for every note in the vault's Papers folder.

    The daemon runs meanwhile: a note listed may be moved to the trash before it is read.
    """
    out = {}
    for path in (vault / "Papers").glob("*.md"):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        match = re.search(r"^zotero-key: *(\S+)", text, re.MULTILINE)
        if match:
            out[match.group(1).strip("'\"")] = path
    return out


def temp_files(vault: Path) -> list[Path]:
    return [p for p in vault.rglob("*") if ".zotsync-tmp" in p.name or p.name.endswith(".tmp")]


@pytest.fixture
def zotero(tmp_path: Path) -> tuple[Path, Path, Library]:
    """A Zotero 10 database in WAL mode and a vault that syncs from it (not yet synced)."""
    library = sample_library()
    db = make_zotero_db(tmp_path / "Zotero" / "zotero.sqlite", library, version=10, wal=True)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(source="sqlite", zotero_db=str(db)))
    return db, vault, library


@contextmanager
def running(daemon: Daemon) -> Iterator[Daemon]:
    """Run ``daemon`` in a thread for the block; stop it and re-raise its failure after."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            daemon.run(install_signals=False)
        except BaseException as exc:  # surfaced in the test thread below
            failure.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        yield daemon
    finally:
        daemon.stop()
        thread.join(DEADLINE)
        assert not thread.is_alive(), "the daemon did not stop"
    if failure:
        raise failure[0]


def synced_once(daemon: Daemon) -> Callable[[], bool]:
    """The first pass is over, including the weekly plan it writes in a fresh vault."""
    return lambda: daemon.stats.passes >= 1 and len(daemon.stats.plans_written) == 1


def wait_quiet(daemon: Daemon, quiet: float = 1.5) -> None:
    """Wait until no pass has started for ``quiet`` seconds (within the deadline)."""
    seen = (-1, -1)
    since = time.monotonic()

    def settled() -> bool:
        nonlocal seen, since
        now = (daemon.stats.passes, daemon.stats.failures)
        if now != seen:
            seen, since = now, time.monotonic()
        return time.monotonic() - since >= quiet

    eventually(settled, what="the daemon going quiet")


def top_level_keys(library: Library) -> list[str]:
    return [item.key for item in library.items]


# -- following Zotero --------------------------------------------------------------------------
def test_daemon_follows_zotero_edits_while_the_desktop_holds_the_database(
    zotero: tuple[Path, Path, Library],
) -> None:
    db, vault, library = zotero
    renamed, tagged, trashed = top_level_keys(library)[:3]
    daemon = watch_daemon(vault, debounce=0.2)
    with hold_exclusive(db) as zotero_app, running(daemon):
        eventually(lambda: set(top_level_keys(library)) <= set(notes_by_key(vault)), what="notes")

        zotero_app.set_title(renamed, "Watching Papers Change Their Titles")
        new_name = vault / "Papers" / "Watching Papers Change Their Titles.md"
        eventually(new_name.exists, what="renamed note")
        assert notes_by_key(vault)[renamed] == new_name

        zotero_app.add_item(article("NEWW2345", "A Paper Added While Watching"))
        eventually(lambda: "NEWW2345" in notes_by_key(vault), what="added item's note")

        zotero_app.add_tag(tagged, "added-by-the-daemon-test")
        eventually(
            lambda: "added-by-the-daemon-test" in notes_by_key(vault)[tagged].read_text("utf-8"),
            what="new tag",
        )

        zotero_app.trash(trashed)

        def trashed_handled() -> bool:
            path = notes_by_key(vault).get(trashed)
            return path is None or "zotero-deleted: true" in path.read_text("utf-8")

        eventually(trashed_handled, what="trashed item")
    assert daemon.stats.failures == 0


def test_a_burst_of_50_changes_costs_a_few_syncs_not_50(
    zotero: tuple[Path, Path, Library],
) -> None:
    db, vault, library = zotero
    key = top_level_keys(library)[0]
    daemon = watch_daemon(vault, debounce=0.5)
    with hold_exclusive(db) as zotero_app, running(daemon):
        eventually(synced_once(daemon))
        before = daemon.stats.passes
        for n in range(50):
            zotero_app.set_title(key, f"Burst title number {n}")
            time.sleep(0.02)
        final = vault / "Papers" / "Burst title number 49.md"
        eventually(final.exists, what="the last title of the burst")
    assert 1 <= daemon.stats.passes - before <= 5


# -- the vault side ----------------------------------------------------------------------------
def test_a_user_edit_is_synced_and_the_daemons_own_writes_do_not_loop(
    zotero: tuple[Path, Path, Library],
) -> None:
    _, vault, library = zotero
    daemon = watch_daemon(vault, debounce=0.2)
    with running(daemon):
        eventually(lambda: set(top_level_keys(library)) <= set(notes_by_key(vault)))
        eventually(synced_once(daemon))
        wait_quiet(daemon)  # the plan note just written may wake the daemon once more
        note = notes_by_key(vault)[top_level_keys(library)[0]]
        passes = daemon.stats.passes
        text = note.read_text(encoding="utf-8")
        edited = re.sub(r"^status: .*$", "status: reading", text, count=1, flags=re.MULTILINE)
        edited += "\nMy own thoughts on this paper.\n"
        assert edited != text
        note.write_text(edited, encoding="utf-8")
        eventually(lambda: daemon.stats.passes > passes, what="a sync after the user's edit")
        # quiet: nothing more happens on its own (no loop); settle for a few seconds
        settled = (daemon.stats.passes, daemon.stats.writes)
        time.sleep(3)
        assert (daemon.stats.passes, daemon.stats.writes) == settled
    assert note.read_text(encoding="utf-8").endswith("\nMy own thoughts on this paper.\n")
    assert "status: reading" in note.read_text(encoding="utf-8")


def test_own_writes_are_recognised_by_the_state_db(zotero: tuple[Path, Path, Library]) -> None:
    _, vault, library = zotero
    api.sync(vault)
    config = api.configure(vault, None, None)
    note = notes_by_key(vault)[top_level_keys(library)[0]]
    rel = note.relative_to(vault).as_posix()
    st = note.stat()
    sig = (st.st_mtime_ns, st.st_size, st.st_ino)
    state = api.open_state(vault)
    try:
        assert is_own_write(rel, sig, state, config)  # as zotsync wrote it
        assert not is_own_write(rel, (sig[0] + 1, sig[1], sig[2]), state, config)  # user edit
        assert not is_own_write(rel, None, state, config)  # user deleted the note
        assert is_own_write("Daily/2026-11-22.md", (1, 2, 3), state, config)  # not zotsync's
        assert not is_own_write("Papers/Brand new.md", (1, 2, 3), state, config)
        assert not is_own_write("zotsync.yaml", (1, 2, 3), state, config)
        assert is_own_write("Papers/.old.md.zotsync-tmp-0badc0de", None, state, config)
    finally:
        state.close()


# -- resilience --------------------------------------------------------------------------------
def test_database_removed_and_restored_is_logged_once_then_resumed(
    zotero: tuple[Path, Path, Library],
) -> None:
    db, vault, library = zotero
    daemon = watch_daemon(vault, debounce=0.2)
    aside = db.parent.parent / "aside"
    aside.mkdir()
    with running(daemon):
        eventually(synced_once(daemon))
        for path in db.parent.glob("zotero.sqlite*"):
            shutil.move(path, aside / path.name)
        eventually(lambda: daemon.stats.failures >= 1, what="a failed pass while the DB is gone")
        time.sleep(2.5)  # some retries happen meanwhile; each is not logged again
        with hold_exclusive(aside / "zotero.sqlite") as zotero_app:
            zotero_app.set_title(top_level_keys(library)[1], "Back After The Update")
        for path in aside.iterdir():
            shutil.move(path, db.parent / path.name)
        renamed = vault / "Papers" / "Back After The Update.md"
        eventually(renamed.exists, what="the change made while the DB was away")
    log_text = (vault / ".zotsync" / "zotsync.log").read_text(encoding="utf-8")
    errors = [line for line in log_text.splitlines() if " ERROR " in line]
    assert len(errors) == 1, errors
    assert "sync works again" in log_text


def test_an_unexpected_exception_in_a_pass_is_logged_and_the_loop_goes_on(
    zotero: tuple[Path, Path, Library], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, vault, _ = zotero
    real_sync = api.sync
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object) -> api.SyncReport:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug in one pass")
        return real_sync(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("zotsync.commands.watch.run_sync", flaky)
    daemon = watch_daemon(vault, debounce=0.1)
    with running(daemon):
        eventually(lambda: daemon.stats.passes >= 1, what="a pass after the failure")
    assert daemon.stats.failures == 1
    assert "RuntimeError: a bug in one pass" in (vault / ".zotsync" / "zotsync.log").read_text(
        encoding="utf-8"
    )


# -- weekly plan -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("now", "day", "hour", "week"),
    [
        (datetime(2026, 11, 22, 17, 59), "Sun", 18, "2026-W48"),  # W47 ends today: plan W48
        (datetime(2026, 11, 22, 18, 0), "Sun", 18, "2026-W48"),  # Sunday evening: next week
        (datetime(2026, 11, 23, 8, 0), "Sun", 18, "2026-W48"),  # slept through Sunday
        (datetime(2026, 11, 28, 23, 0), "Sun", 18, "2026-W48"),
        (datetime(2026, 12, 27, 19, 0), "Sun", 18, "2026-W53"),  # year boundary (2026 has W53)
        (datetime(2026, 11, 25, 7, 0), "Wed", 7, "2026-W49"),
    ],
)
def test_the_plan_due_week_follows_the_configured_day_and_hour(
    now: datetime, day: str, hour: int, week: str
) -> None:
    config = Config(plan=PlanConfig(day=day, hour=hour))
    assert due_plan_week(now, config) == week


def test_the_next_plan_moment_is_the_coming_configured_day() -> None:
    config = Config(plan=PlanConfig(day="Sun", hour=18))
    assert next_plan_moment(datetime(2026, 11, 24, 12, 0), config) == datetime(2026, 11, 29, 18)
    assert next_plan_moment(datetime(2026, 11, 22, 18, 0), config) == datetime(2026, 11, 29, 18)


def test_a_daemon_waking_on_monday_catches_up_the_weekly_plan_once(
    zotero: tuple[Path, Path, Library],
) -> None:
    _, vault, _ = zotero
    monday = datetime(2026, 11, 23, 9, 30)  # the machine slept through Sunday 18:00
    plan_note = vault / "Reading Plans" / "2026-W48.md"
    daemon = watch_daemon(vault, debounce=0.1, now=lambda: monday)
    with running(daemon):
        eventually(plan_note.exists, what="the caught-up plan")
    assert daemon.stats.plans_written == ["2026-W48"]
    plan_note.unlink()  # the user did not want it: a restarted daemon respects that
    again = watch_daemon(vault, debounce=0.1, now=lambda: monday)
    with running(again):
        eventually(lambda: again.stats.passes >= 1)
    assert again.stats.plans_written == []
    assert not plan_note.exists()


# -- the real process: lock, signals, status ---------------------------------------------------
def _env() -> dict[str, str]:
    return {**os.environ, "ZOTSYNC_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def _zotsync(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zotsync", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=timeout,
    )


def _start_watch(vault: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "zotsync", "watch", "--vault", str(vault)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=_env(),
        )


def _holder_pid(vault: Path) -> int | None:
    info = planning.status(vault).get("lock") or {}
    return info.get("pid")


@pytest.mark.slow
def test_one_writer_second_watch_and_manual_sync_exit_5_naming_the_holder(
    zotero: tuple[Path, Path, Library], tmp_path: Path
) -> None:
    _, vault, _ = zotero
    proc = _start_watch(vault, tmp_path / "watch.err")
    try:
        eventually(lambda: _holder_pid(vault) == proc.pid, what="the daemon's lock")
        second = _zotsync("watch", "--vault", str(vault))
        assert second.returncode == 5
        assert f"pid {proc.pid}" in second.stderr
        manual = _zotsync("sync", "--vault", str(vault))
        assert manual.returncode == 5
        assert str(proc.pid) in manual.stderr
        status = _zotsync("status", "--vault", str(vault), "--json")
        assert f'"pid": {proc.pid}' in status.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(DEADLINE) == 0
    assert _holder_pid(vault) is None


def test_a_stale_lock_left_by_a_dead_process_is_taken_over(
    zotero: tuple[Path, Path, Library],
) -> None:
    _, vault, _ = zotero
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (vault / ".zotsync").mkdir(exist_ok=True)
    (vault / ".zotsync" / "lock.json").write_text(
        f'{{"pid": {dead.pid}, "started": "2026-01-01T00:00:00+00:00", "command": "watch"}}',
        encoding="utf-8",
    )
    (vault / ".zotsync" / "lock").touch()
    daemon = watch_daemon(vault, debounce=0.1)
    with running(daemon):
        eventually(lambda: daemon.stats.passes >= 1)
        assert _holder_pid(vault) == os.getpid()


def _key(n: int) -> str:
    """The ``n``-th 8-character key in Zotero's alphabet."""
    alphabet = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
    out = ""
    for _ in range(8):
        n, digit = divmod(n, len(alphabet))
        out = alphabet[digit] + out
    return out


def _big_library(n: int) -> Library:
    ref = LibraryRef("user", 5150)
    items = [article(_key(i), f"Paper {i} on watching") for i in range(n)]
    for item in items:
        item.library = ref
    return Library(ref=ref, items=items, collections={}, version=n, name="My Library")


@pytest.mark.slow
def test_sigterm_during_a_large_sync_exits_0_without_temp_files_and_the_next_run_converges(
    tmp_path: Path,
) -> None:
    n = 800
    db = make_zotero_db(tmp_path / "Zotero" / "zotero.sqlite", _big_library(n), version=10)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(source="sqlite", zotero_db=str(db)))
    proc = _start_watch(vault, tmp_path / "watch.err")
    papers = vault / "Papers"
    try:
        eventually(lambda: len(list(papers.glob("*.md"))) >= 20, 120, "the first notes")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(DEADLINE)
    written = len(list(papers.glob("*.md")))
    assert code == 0, (tmp_path / "watch.err").read_text()
    assert written < n, "the sync finished before the signal; make the library larger"
    assert temp_files(vault) == []
    assert _holder_pid(vault) is None
    again = _zotsync("sync", "--vault", str(vault), "--json", timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(notes_by_key(vault)) == n


def test_a_vault_that_is_briefly_unavailable_is_watched_again_when_it_is_back(
    zotero: tuple[Path, Path, Library],
) -> None:
    db, vault, library = zotero
    away = vault.with_name("vault-unmounted")
    daemon = watch_daemon(vault, debounce=0.2)
    with running(daemon):
        eventually(synced_once(daemon))
        vault.rename(away)
        time.sleep(1.5)  # the daemon notices (or not) while the vault is away
        away.rename(vault)
        with hold_exclusive(db) as zotero_app:
            zotero_app.set_title(top_level_keys(library)[2], "Seen After The Remount")
        eventually((vault / "Papers" / "Seen After The Remount.md").exists, what="sync resumed")
        passes = daemon.stats.passes
        note = vault / "Papers" / "Seen After The Remount.md"
        note.write_text(note.read_text(encoding="utf-8") + "\nA user line.\n", encoding="utf-8")
        eventually(lambda: daemon.stats.passes > passes, what="the vault is watched again")


def test_status_names_the_next_planned_run_while_the_daemon_runs(
    zotero: tuple[Path, Path, Library],
) -> None:
    _, vault, _ = zotero
    daemon = watch_daemon(vault, debounce=0.1)
    with running(daemon):
        eventually(synced_once(daemon))  # the due week's plan is written now
        status = planning.status(vault)
    assert status["daemon"] is not None and status["daemon"]["pid"] == os.getpid()
    now = datetime.now()
    assert status["next_plan"] == default_week(next_plan_moment(now, daemon.config).date())
