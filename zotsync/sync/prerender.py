"""New notes rendered on the machine's other cores while this process writes them.

A first sync is mostly rendering (the note template, annotation callouts, frontmatter), which is
pure CPU, and writing, which is this process's system calls: on a serial pass one core waits
while the other works. When a pass creates many notes, it forks worker processes once everything
a rendering reads is settled (the library, the link contexts, the templates, the copied
annotation images). They inherit all of it copy-on-write, so only keys go out and finished note
text comes back, in the order the actions will ask for it.

Nothing else moves to the workers. The parent still writes every file, records every state row
and copies every image, in the same order as a serial pass, so the crash argument of
:mod:`zotsync.sync` is untouched. A rendering that fails in a worker (a template error, a worker
that died) comes back empty, and the parent renders that note itself. It then fails exactly as a
serial pass would, with the same message and exit code.

Forking is used on Linux, where ``fork`` is safe and a worker can be tied to its parent's life
(it must not outlive a killed sync: it holds the vault lock it inherited). Elsewhere, with one usable core, for a dry run, or for fewer than
:data:`MIN_NOTES` new notes (the fork and the pipes cost more than they save), the pass renders
serially, as it always did. ``ZOTSYNC_RENDER_WORKERS`` sets the number of workers: ``0`` turns
the pool off, and the tests use it to make small passes take the forked path.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from zotsync.render.note import RenderedNote

log = logging.getLogger(__name__)

#: fewer new notes than this are rendered in this process
MIN_NOTES = 300
#: keys sent to a worker at a time: large enough to amortise the pipe, small enough that the
#: first notes are written while the rest are still being rendered
CHUNK = 16
WORKERS_ENV = "ZOTSYNC_RENDER_WORKERS"

Render = Callable[[str], RenderedNote]

# what the forked workers call; set in the parent just before the fork, and read by the
# workers from the memory they inherit (a closure over the pass cannot be pickled, nor
# should the library be)
_render: Render | None = None


@dataclass(slots=True)
class ReadyNote(RenderedNote):
    """A rendering made by a worker: the whole note text came back with it, already joined."""

    text: str = ""

    def new_note_text(self) -> str:
        return self.text


def _render_one(key: str) -> tuple[str, dict[str, Any], dict[str, str], str] | tuple[str, None]:
    """In a worker: one note, or ``(key, None)`` for the parent to render (and fail) itself."""
    try:
        assert _render is not None
        rendered = _render(key)
        return key, rendered.frontmatter, rendered.regions, rendered.new_note_text()
    except Exception:
        return key, None


def _worker_start(parent: int) -> None:
    """In each worker, first: leave Ctrl-C to the parent (which stops the pass and then the
    workers, without a traceback from each), and die with the parent. A worker holds the vault
    lock's file descriptor it inherited, so an orphan left by a killed sync would keep the vault
    locked; ``PR_SET_PDEATHSIG`` has the kernel kill it instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)


def worker_count(notes: int) -> int:
    """How many workers to fork for ``notes`` new notes (0: render in this process)."""
    if not sys.platform.startswith("linux"):
        return 0  # fork is safe, and PR_SET_PDEATHSIG exists, on Linux only
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    if wanted:
        try:
            return max(0, int(wanted))
        except ValueError:
            return 0
    if notes < MIN_NOTES:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) if (cores or 1) > 1 else 0


class Prerendered:
    """Renderings of ``keys``, taken in order by :meth:`take` while the workers go on."""

    def __init__(self, keys: Sequence[str], render: Render, workers: int) -> None:
        global _render
        self._wanted = set(keys)
        self._ready: dict[str, ReadyNote | None] = {}
        # an executor, not a Pool: a worker that dies (the OOM killer) breaks it with an
        # error where a Pool would wait for that worker's results for ever
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_start,
            initargs=(os.getpid(),),
        )
        _render = render
        try:  # the workers fork on the first submission, inside map()
            self._results: Iterator[Any] = self._pool.map(_render_one, keys, chunksize=CHUNK)
        finally:
            _render = None  # the workers have their copy; the parent keeps no reference

    def take(self, key: str) -> ReadyNote | None:
        """The rendering of ``key``, or None when the caller must render it itself."""
        if key not in self._wanted:
            return None
        self._wanted.discard(key)
        while key not in self._ready:
            try:
                got = next(self._results)
            except Exception as exc:
                log.debug("render workers stopped (%s); rendering in this process", exc)
                self._wanted.clear()
                return None
            if got[1] is None:
                self._ready[got[0]] = None
            else:
                k, frontmatter, regions, text = got
                self._ready[k] = ReadyNote(frontmatter, regions, "", text)
        return self._ready.pop(key)

    def close(self) -> None:
        """Stop the workers: what nobody asked for yet is dropped (a stopped pass)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
