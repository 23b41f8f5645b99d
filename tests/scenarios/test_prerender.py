"""New notes rendered by forked workers land exactly as a serial pass writes them.

``ZOTSYNC_RENDER_WORKERS`` makes these small libraries take the forked path that a first sync
of a large library takes (``zotsync.sync.prerender``).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import paper, sync_db
from tests.support.zotero_edits import assert_same_vaults
from zotsync import api
from zotsync.errors import EXIT_USAGE
from zotsync.model import Annotation, Attachment, Library
from zotsync.sync import actions, prerender
from zotsync.testing.sample_library import sample_library

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
PNG = b"\x89PNG\r\n\x1a\n" + b"render"


def library() -> Library:
    """The sample library, 40 more papers, and an image annotation whose render is cached."""
    lib = sample_library()
    lib.items += [
        paper(f"MORE{n:03d}", f"Paper number {n}", year=1990 + n % 30, tags=(f"t{n % 4}",))
        for n in range(40)
    ]
    figure = Annotation("IMGA2345", "image", position={"pageIndex": 2}, sort_index="00002")
    lib.items[-1].attachments.append(
        Attachment("PDFM2345", content_type="application/pdf", annotations=[figure])
    )
    return lib


@pytest.fixture
def db(make_db: Callable[..., Path]) -> Path:
    path = make_db(library())
    cache = path.parent / "cache" / "library"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "IMGA2345.png").write_bytes(PNG)
    return path


def synced(tmp: Path, db: Path, workers: str, name: str) -> Path:
    """A first sync of ``db`` into a new vault, with ``workers`` render workers; with workers,
    the forked path must really have been taken (or these tests would pass vacuously)."""
    vault = tmp / name
    api.init_vault(vault)
    forks = []
    new_executor = prerender._new_executor

    def counted(n: int) -> object:
        forks.append(n)
        return new_executor(n)

    os.environ[prerender.WORKERS_ENV] = workers
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(prerender, "_new_executor", counted)
            report = sync_db(vault, db)
    finally:
        del os.environ[prerender.WORKERS_ENV]
    assert report.result.created == len(library().items), report.result.errors
    assert bool(forks) == (workers != "0")
    return vault


@pytest.mark.parametrize("waves", [1, 3], ids=["one set of workers", "a new set every chunk"])
def test_forked_rendering_writes_what_a_serial_pass_writes(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch, waves: int
) -> None:
    monkeypatch.setattr(prerender, "MIN_WAVE", 1)
    monkeypatch.setattr(prerender, "WAVES", waves)
    monkeypatch.setattr(prerender, "WINDOW", 1)
    serial = synced(tmp_path, db, "0", "serial")
    forked = synced(tmp_path, db, "2", "forked")
    assert_same_vaults(serial, forked, ["first sync"])
    assert (forked / "Attachments" / "IMGA2345.png").read_bytes() == PNG
    assert "IMGA2345.png" in (forked / "Papers").joinpath(
        next(p.name for p in (forked / "Papers").glob("Paper number 39*.md"))
    ).read_text("utf-8")


def test_a_worker_that_dies_leaves_its_notes_to_the_parent(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = synced(tmp_path, db, "0", "serial")
    parent = os.getpid()
    render = actions.ActionRunner._render

    def dying(self: actions.ActionRunner, item: object, links: object) -> object:
        if os.getpid() != parent and getattr(item, "key", "") == "MORE020":
            os._exit(3)  # as the OOM killer would end it: no exception, no result
        return render(self, item, links)  # type: ignore[arg-type]

    monkeypatch.setattr(actions.ActionRunner, "_render", dying)
    forked = synced(tmp_path, db, "2", "forked")
    assert_same_vaults(serial, forked, ["a worker died"])


def test_a_fork_that_fails_leaves_every_note_to_the_parent(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = synced(tmp_path, db, "0", "serial")

    def no_fork(*_args: object, **_kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork's EAGAIN

    forked = tmp_path / "forked"
    api.init_vault(forked)
    monkeypatch.setenv(prerender.WORKERS_ENV, "2")
    monkeypatch.setattr(prerender, "_new_executor", no_fork)
    assert sync_db(forked, db).result.created == len(library().items)
    assert_same_vaults(serial, forked, ["fork failed"])


def test_a_template_error_in_a_worker_stops_the_sync_as_a_serial_one_does(
    vault: Path,
    make_db: Callable[..., Path],
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = vault / "Templates" / "zotsync" / "note.md.j2"
    text = template.read_text("utf-8").replace("# {{ title }}", "# {{ title.nope() }}")
    template.write_text(text, "utf-8")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "nope" in s)
    monkeypatch.setenv(prerender.WORKERS_ENV, "2")
    result = run_cli("sync", "--vault", vault, "--zotero-db", make_db(library()), "--no-refs")
    assert result.exit_code == EXIT_USAGE
    assert "note.md.j2" in result.stderr and f"line {line}" in result.stderr
    assert "Traceback" not in result.output


def test_a_process_with_other_threads_is_not_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(prerender.WORKERS_ENV, "2")
    assert prerender.worker_count(10_000) == 2
    stop = threading.Event()
    watcher = threading.Thread(target=stop.wait)  # as the daemon's watcher thread
    watcher.start()
    try:
        assert prerender.worker_count(10_000) == 0
    finally:
        stop.set()
        watcher.join()


@pytest.mark.parametrize(
    ("env", "notes", "expected"),
    [("0", 10_000, 0), ("3", 5, 3), ("x", 10_000, 0), ("", prerender.MIN_NOTES - 1, 0)],
)
def test_worker_count(monkeypatch: pytest.MonkeyPatch, env: str, notes: int, expected: int) -> None:
    monkeypatch.setenv(prerender.WORKERS_ENV, env)
    assert prerender.worker_count(notes) == expected


def test_many_notes_use_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(prerender.WORKERS_ENV, raising=False)
    cores = len(os.sched_getaffinity(0))
    expected = min(cores, prerender.MAX_WORKERS) if cores > 1 else 0
    assert prerender.worker_count(prerender.MIN_NOTES) == expected
