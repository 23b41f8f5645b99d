"""Carrying out one action of a pass: render, write, record its state row, count it.

:class:`ActionRunner` is the half of :class:`~zotsync.sync.engine.Engine` that runs the actions
the planner chose (``create`` notes are staged and land in batches); the engine settles what to
do. A failed action records an error and rolls back only its own row; the pass goes on.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from zotsync.config import Config
from zotsync.errors import NoteError, TemplateError, ZotsyncError
from zotsync.library.status import frontmatter_meta
from zotsync.model import Item
from zotsync.render.images import copy_annotation_images, note_image_paths
from zotsync.render.note import NoteLinks, RenderedNote, render_note
from zotsync.render.templates import Templates
from zotsync.state.db import ItemState, StateDB
from zotsync.sync.apply import NoteWriter, Outcome
from zotsync.sync.context import Placement
from zotsync.sync.journal import (
    recognise_own_write,
    remember_writes,
)
from zotsync.sync.planner import Action
from zotsync.sync.prerender import Prerendered, worker_count
from zotsync.sync.results import BATCH_SIZE, SyncOptions, SyncResult
from zotsync.vault.atomic import BatchCreate, FileSig
from zotsync.vault.disk import stop_on_disk_error

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PassInputs:
    """What the actions of one pass read, settled before the first runs: the library's items,
    the state rows, where each note goes, the link contexts (each dropped once its note is
    rendered) and the render-input hashes recorded with each written note."""

    items: dict[str, Item]
    states: dict[str, ItemState]
    placements: dict[str, Placement]
    contexts: dict[str, Any]
    hashes: dict[str, str]
    writer: NoteWriter
    prerendered: Prerendered | None = None


class ActionRunner:
    """The engine's action half; the attributes are set by :class:`Engine`."""

    vault: Path
    config: Config
    state: StateDB
    templates: Templates
    _batch: BatchCreate
    _data_dir: str | None
    _staged: list[tuple[ItemState, Path, Outcome]]
    _staged_fm: dict[str, dict[str, Any]]
    _adopted: set[str]
    _retired: dict[str, str]
    _landed: set[str]
    _pending_writes: dict[str, dict[str, str]]
    _logged: set[str]  # failure messages already logged as warnings in this pass
    stop: threading.Event | None
    progress: Callable[[int, int], None] | None

    def run_actions(
        self, actions: list[Action], inputs: PassInputs, options: SyncOptions, result: SyncResult
    ) -> None:
        """Carry out ``actions`` in order (full and incremental passes alike): new notes land
        in batches, and a stop request ends the pass between two actions, never inside one."""
        total = len(actions)
        if self.progress:
            self.progress(0, total)  # the actions are decided (the daemon's "plan" stage)
        with self._prerendering(actions, inputs, options):
            for n, action in enumerate(actions, 1):
                if self.stop is not None and self.stop.is_set():
                    result.errors.append("stopped before the end; the next sync continues")
                    result.interrupted = True
                    break
                if self.progress and (n % 200 == 0 or n == total):
                    self.progress(n, total)
                self._execute(action, inputs, options, result)
                if len(self._batch) >= BATCH_SIZE:
                    self._flush(result)
        self._flush(result)

    @contextmanager
    def _prerendering(
        self, actions: list[Action], inputs: PassInputs, options: SyncOptions
    ) -> Iterator[None]:
        """New notes rendered by forked workers while this process writes (see
        :mod:`zotsync.sync.prerender`); their images are copied first, as rendering reads them."""
        keys = [a.key for a in actions if a.kind == "create"]
        workers = 0 if options.dry_run else worker_count(len(keys))
        if not workers:
            yield
            return
        for key in keys:
            self._attach_images(inputs.items[key], inputs.contexts[key], options)

        def render(key: str) -> RenderedNote:
            return self._render(inputs.items[key], inputs.contexts[key])

        inputs.prerendered = Prerendered(keys, render, workers)
        try:
            yield
        finally:
            inputs.prerendered.close()
            inputs.prerendered = None

    def _render(self, item: Item, links: NoteLinks) -> RenderedNote:
        return render_note(
            item,
            links,
            self.templates,
            callouts=self.config.callouts,
            include_auto_tags=self.config.automatic_tags,
            with_ref_links=self.config.refs.frontmatter_links,
        )

    def _attach_images(self, item: Item, links: NoteLinks, options: SyncOptions) -> None:
        """Copy the images the note embeds (not for the demo, nor in a dry run)."""
        if self.config.source != "demo" and item.library and self.vault and not options.dry_run:
            links.image_paths = self._images(item)

    def _execute(
        self, action: Action, inputs: PassInputs, options: SyncOptions, result: SyncResult
    ) -> None:
        items, states, contexts, writer = (
            inputs.items,
            inputs.states,
            inputs.contexts,
            inputs.writer,
        )
        label = self.config.library
        kind = action.kind
        if kind in ("unchanged", "skip"):
            if action.key in items:  # a note marked deleted earlier is no item of this count
                result.unchanged += kind == "unchanged"
                result.tombstoned += kind == "skip"  # in Zotero, but its note was deleted
            return
        if kind == "duplicate":
            result.failed += 1
            result.errors.append(
                f"{action.key}: several notes claim this item ({', '.join(action.paths)}); "
                "remove or rename the extra copies' zotero-key"
            )
            return
        old = states.get(action.key)
        state = replace(old) if old else ItemState(library=label, key=action.key)
        try:
            outcome: Outcome | None = None
            if kind == "forget":
                adopter = self._retired.get(action.key)
                if adopter is not None and adopter not in self._landed:
                    return  # its note's new owner failed: keep the row for the next run
                if not options.dry_run:
                    self.state.delete_item(label, action.key)
                return
            if kind == "tombstone":
                state.tombstone = True
                state.path = None
                outcome = Outcome("tombstoned", None)
            elif kind == "delete":
                outcome = writer.delete(
                    state, action.path or "", archive=self.config.archive_folder
                )
            else:
                item = items[action.key]
                placement = inputs.placements[action.key]
                links = contexts[action.key]
                ready = inputs.prerendered.take(action.key) if inputs.prerendered else None
                rendered: RenderedNote
                if ready is not None:
                    rendered = ready  # its images were copied before the workers forked
                else:
                    self._attach_images(item, links, options)
                    rendered = self._render(item, links)
                state.title = item.title
                # rendered: its link context (reference lists, cited-by) goes now, not at the
                # end of the pass. The item itself may belong to a source's cached library.
                contexts.pop(action.key, None)
                forced = None
                if action.key in options.status_updates:
                    forced = {"status": options.status_updates[action.key]}
                if kind == "create":
                    outcome = writer.create(state, rendered, placement.target, self._batch)
                    if not options.dry_run:
                        state.input_hash = inputs.hashes[action.key]
                        self._staged.append((state, self.vault / placement.target, outcome))
                        self._staged_fm[action.key] = rendered.frontmatter
                        self._count(outcome, result, action)
                        return
                else:
                    if not options.dry_run:  # a kill after the write must not look like a user edit
                        recognise_own_write(
                            self.vault, state, action.path, self._pending_writes.get(action.key)
                        )
                        remember_writes(self.state, label, {action.key: rendered.regions})
                    outcome = writer.update(
                        state,
                        rendered,
                        action.path or placement.target,
                        placement.target,
                        forced=forced,
                        adopt=kind == "adopt",
                        overwrite_conflicts=options.overwrite_conflicts,
                    )
                state.input_hash = inputs.hashes[action.key]
            self._count(outcome, result, action)
            if not options.dry_run:
                with self.state.transaction():
                    self.state.put_item(state)
                    self._landed.add(action.key)
                    self.state.clear_pending_write(label, action.key)
        except TemplateError:
            raise  # the template is broken for every note: stop with its file and line (exit 2)
        except (ZotsyncError, OSError) as exc:
            stop_on_disk_error(exc)  # a full or read-only disk stops the pass: one message
            result.failed += 1
            message = exc.message if isinstance(exc, ZotsyncError) else str(exc)
            # a cause shared by every note (a folder leading out of the vault) is logged once
            log.log(
                logging.DEBUG if message in self._logged else logging.WARNING,
                "%s: %s", action.path or action.key, message,
            )  # fmt: skip
            self._logged.add(message)
            result.errors.append(f"{action.path or action.key}: {message}")
            if isinstance(exc, NoteError) and exc.fix:
                result.errors[-1] += f" (fix: {exc.fix})"

    def _flush(self, result: SyncResult) -> None:
        """Land the staged new notes and record their state rows in one transaction."""
        if not self._staged:
            return
        staged, self._staged = self._staged, []
        pending = {s.key: s.regions for s, _, _ in staged}
        remember_writes(self.state, self.config.library, pending, hashed=True)
        try:
            landed = self._batch.commit()
        except OSError as exc:
            self._batch.abort()
            landed = {path: exc for _, path, _ in staged}
        with self.state.transaction():
            for state, path, outcome in staged:
                sig = landed.get(path)
                if isinstance(sig, FileSig):
                    state.mtime_ns, state.size, state.ino = sig.mtime_ns, sig.size, sig.ino
                    self.state.put_item(state)
                    self.state.clear_pending_write(self.config.library, state.key)
                    result.written_frontmatter[state.key] = (
                        f"{sig.mtime_ns}:{sig.size}:{sig.ino}",
                        json.dumps(frontmatter_meta(self._staged_fm.pop(state.key, {}))),
                    )
                    continue
                result.created -= 1
                result.failed += 1
                message = sig.message if isinstance(sig, ZotsyncError) else str(sig)
                result.errors.append(f"{outcome.path}: {message}")

    def _images(self, item: Item) -> dict[str, str]:
        """Copy the item's image/ink annotation renders and note images into the vault.

        Returns annotation or attachment key -> vault path, for the callouts' and the
        converted notes' embeds. A failed copy is logged; the note then says the image is
        missing, and the next sync tries again.
        """
        data_dir = self.source_data_dir()
        if data_dir is None:
            return {}
        paths: dict[str, str] = {}
        try:
            paths.update(
                copy_annotation_images(
                    item, data_dir=data_dir, vault=self.vault, folder=self.config.attachments_folder
                )
            )
            if any("data-attachment-key" in note.html for note in item.notes):
                paths.update(
                    note_image_paths(
                        item,
                        data_dir=data_dir,
                        vault=self.vault,
                        folder=self.config.attachments_folder,
                    )
                )
        except (OSError, ZotsyncError) as exc:
            log.warning("%s: could not copy images: %s", item.key, exc)
        return paths

    def source_data_dir(self) -> Path | None:
        """Zotero's data folder when the source knows it (sqlite; bbt-json from its paths)."""
        return Path(self._data_dir) if self._data_dir else None

    def _count(self, outcome: Outcome | None, result: SyncResult, action: Action) -> None:
        if outcome is None:
            return
        kind = outcome.kind
        if action.key in self._adopted and kind in ("updated", "unchanged"):
            result.adopted += 1
        elif kind == "created":
            result.created += 1
        elif kind == "updated":
            result.updated += 1
        elif kind == "renamed":
            result.renamed += 1
            result.renames.append((outcome.detail, outcome.path or ""))
        elif kind in ("trashed", "marked-deleted"):
            result.trashed += 1
        elif kind == "tombstoned":
            result.tombstoned += 1
        else:
            result.unchanged += 1
        if outcome.conflicts:
            result.conflicts += 1
            result.conflict_paths.append(outcome.path or action.key)
