"""New notes rendered on the machine's other cores while this process writes them.

A first sync is mostly rendering (the note template, annotation callouts, frontmatter), which is
pure CPU, and writing, which is this process's system calls: on a serial pass one core waits
while the other works. When a pass creates many notes, it forks worker processes once everything
a rendering reads is settled (the library, the link contexts, the templates, the copied
annotation images). They inherit all of it copy-on-write, so only keys go out and finished note
text comes back, in the order the actions will ask for it.

Nothing else moves to the workers. The parent still writes every file and records every state
row, in the same order as a serial pass, and copies every image (all before the fork, as the
renderings embed their paths), so the crash argument of :mod:`zotsync.sync` is untouched. A rendering that fails in a worker (a template error, a worker
that died) comes back empty, and the parent renders that note itself. It then fails exactly as a
serial pass would, with the same message and exit code.

Forking is used on Linux, where a worker can be tied to its parent's life (it must not outlive a
killed sync: it holds the vault lock it inherited), and only by a process with no other thread
(the command line's sync; not the daemon, whose watcher threads hold locks a child would
inherit). Elsewhere, with one usable core, for a dry run, or for fewer than
:data:`MIN_NOTES` new notes (the fork and the pipes cost more than they save), the pass renders
serially, as it always did. ``ZOTSYNC_RENDER_WORKERS`` sets the number of workers: ``0`` turns
the pool off, and the tests use it to make small passes take the forked path.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zotsync.render.note import RenderedNote

if TYPE_CHECKING:  # multiprocessing and concurrent.futures are imported when a pass forks
    from concurrent.futures import Future, ProcessPoolExecutor

log = logging.getLogger(__name__)

#: fewer new notes than this are rendered in this process
MIN_NOTES = 300
#: keys sent to a worker at a time: large enough to amortise the pipe, small enough that the
#: first notes are written while the rest are still being rendered
CHUNK = 32
#: chunks in flight per worker: enough to keep the workers busy while the parent writes, few
#: enough that finished notes do not pile up in the parent when writing is the slower half
WINDOW = 8
#: how many sets of workers a pass forks, one after the other (see :class:`Prerendered`);
#: each fork costs the parent a page fault for each page it writes to afterwards
WAVES = 8
#: the least chunks one set of workers renders before the next is forked
MIN_WAVE = 16
#: at most this many workers by default, however many cores (see :func:`worker_count`)
MAX_WORKERS = 3
WORKERS_ENV = "ZOTSYNC_RENDER_WORKERS"

Render = Callable[[str], RenderedNote]

# what the forked workers call; set in the parent just before the fork, and read by the
# workers from the memory they inherit (a closure over the pass cannot be pickled, nor
# should the library be)
_render: Render | None = None


@dataclass(slots=True)
class ReadyNote(RenderedNote):
    """A rendering made by a worker, which also wrote its frontmatter block and hashed its parts."""

    block: str = ""
    hashes: tuple[dict[str, str], dict[str, str]] = ({}, {})

    def frontmatter_block(self) -> str:
        return self.block

    def region_hashes(self) -> dict[str, str]:
        return self.hashes[0]

    def frontmatter_hashes(self) -> dict[str, str]:
        return self.hashes[1]


Rendered = tuple[str, ReadyNote | None]


def _render_one(key: str) -> Rendered:
    """In a worker: one note, or ``(key, None)`` for the parent to render (and fail) itself."""
    try:
        assert _render is not None
        rendered = _render(key)
        hashes = (rendered.region_hashes(), rendered.frontmatter_hashes())
        block = rendered.frontmatter_block()
        return key, ReadyNote(rendered.frontmatter, rendered.regions, rendered.body, block, hashes)
    except Exception:
        return key, None


def _render_chunk(keys: list[str]) -> list[Rendered]:
    return [_render_one(key) for key in keys]


def _worker_start(parent: int) -> None:
    """In each worker, first: leave Ctrl-C to the parent (which stops the pass and then the
    workers, without a traceback from each), and die with the parent. A worker holds the vault
    lock's file descriptor it inherited, so an orphan left by a killed sync would keep the vault
    locked; ``PR_SET_PDEATHSIG`` has the kernel kill it instead."""
    import ctypes

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)


def worker_count(notes: int) -> int:
    """How many workers to fork for ``notes`` new notes (0: render in this process)."""
    if not sys.platform.startswith("linux"):
        return 0  # fork is safe, and PR_SET_PDEATHSIG exists, on Linux only
    if threading.active_count() > 1:
        # a child forked from a process with other threads (the daemon's watcher) inherits
        # their locks as they were at the fork, held or not: render here instead
        return 0
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    if wanted:
        try:
            return max(0, int(wanted))
        except ValueError:
            return 0
    if notes < MIN_NOTES:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # the parent's own share (reading, writing, state rows) is about half a serial pass: more
    # than MAX_WORKERS renderers would wait for it, each with its own copy of what it reads
    return min(cores or 1, MAX_WORKERS) if (cores or 1) > 1 else 0


def _new_executor(workers: int) -> ProcessPoolExecutor:
    """Workers forked from this process (imported here: a pass that forks pays for it).

    An executor, not a Pool: a worker that dies (the OOM killer) breaks it with an error,
    where a Pool would wait for that worker's results for ever."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_start,
        initargs=(os.getpid(),),
    )


class Prerendered:
    """Renderings of ``keys``, taken in order by :meth:`take` while the workers go on.

    A worker's memory is its parent's, shared until either writes to it; a worker only reads
    the library, but reading a Python object writes its reference count, so every page a
    worker renders from becomes its own copy. One set of workers rendering a whole library
    would end up holding a copy of it each (1.3 GB for three processes at 40,000 items). So a
    set of workers renders about one :data:`WAVES`-th of the notes, then exits, and the next
    chunks go to a fresh fork, which shares the parent's memory again. (Those later forks are
    made while the previous executor's two helper threads still wait on its pipes: they hold
    only that executor's queue locks, which no renderer takes.)
    """

    def __init__(self, keys: Sequence[str], render: Render, workers: int) -> None:
        global _render
        _render = render  # kept while workers may be forked, i.e. for the whole pass
        self._workers = workers
        self._wanted = set(keys)
        self._ready: dict[str, ReadyNote | None] = {}
        self._chunks = deque(list(keys[i : i + CHUNK]) for i in range(0, len(keys), CHUNK))
        self._flight: deque[Future[list[Rendered]]] = deque()
        self._pool: ProcessPoolExecutor | None = None
        self._given = 0  # chunks given to the current set of workers
        self._wave = max(MIN_WAVE, -(-len(self._chunks) // WAVES))
        try:
            self._fill()
        except Exception as exc:  # no fork (a process limit, no memory): render here
            self._stop(exc)

    def _stop(self, exc: Exception) -> None:
        log.debug("render workers stopped (%s); rendering in this process", exc)
        self._wanted.clear()
        self._chunks.clear()

    def _fill(self) -> None:
        """Keep :data:`WINDOW` chunks per worker in flight, forking a new set every wave."""
        while self._chunks and len(self._flight) < WINDOW * self._workers:
            if self._pool is None or self._given >= self._wave:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)  # it exits once its chunks are done
                self._pool = _new_executor(self._workers)
                self._given = 0
            # the first submission to an executor forks its workers
            self._flight.append(self._pool.submit(_render_chunk, self._chunks.popleft()))
            self._given += 1

    def take(self, key: str) -> ReadyNote | None:
        """The rendering of ``key``, or None when the caller must render it itself."""
        if key not in self._wanted:
            return None
        self._wanted.discard(key)
        while key not in self._ready:
            try:
                results = self._flight.popleft().result()
                self._fill()
            except Exception as exc:  # a worker died, or no fork: render the rest here
                self._stop(exc)
                return None
            self._ready.update(results)
        return self._ready.pop(key)

    def close(self) -> None:
        """Stop the workers: what nobody asked for yet is dropped (a stopped pass)."""
        global _render
        self._chunks.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        _render = None
