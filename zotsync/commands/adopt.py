"""``zotsync adopt``: which existing files the next sync adopts, on what evidence — read only.

It runs the same steps as the start of a sync pass (read the source, scan the vault, match,
see :mod:`zotsync.sync.adopt_step`) and stops before anything is planned or written. Nothing
is created, not even ``.zotsync/``: the state database, if there is one, is read from a copy
in the system's temp folder, and the web/local sources keep their cache there for this run.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from zotsync.config import CITEKEY_SOURCES, Config
from zotsync.sources.factory import make_source
from zotsync.sources.standalone import prepare as prepare_standalone
from zotsync.state.db import ItemState, StateDB
from zotsync.sync.adopt_step import find_adoptions, wanted_items
from zotsync.sync.adoption import Ambiguity, Match
from zotsync.sync.former import carry_over
from zotsync.sync.planner import NoteSeen
from zotsync.sync.snapshot import filter_collections
from zotsync.vault.atomic import FileSig
from zotsync.vault.layout import state_dir
from zotsync.vault.scan import scan_notes
from zotsync.workspace import SourceOptions, check_vault, configure


@dataclass
class AdoptReport:
    """What the next sync would adopt and what it would leave for the user to decide."""

    items: int = 0
    adopt: list[Match] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    #: items that would get a new note (no file stands for them)
    create: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "items": self.items,
            "adopt": [
                {
                    "key": m.key,
                    "title": self.titles.get(m.key, ""),
                    "path": m.path,
                    "evidence": list(m.evidence),
                }
                for m in self.adopt
            ],
            "ambiguous": [a.as_dict() for a in self.ambiguous],
            "create": self.create,
        }


def _states_copy(vault: Path, tmp: Path, library: str) -> dict[str, ItemState]:
    """The state rows, read from a copy (opening the DB in place could write beside it)."""
    db = state_dir(vault) / "state.sqlite"
    if not db.is_file():
        return {}
    for suffix in ("", "-wal"):
        src = db.with_name(db.name + suffix)
        if src.is_file():
            shutil.copyfile(src, tmp / (db.name + suffix))
    state = StateDB(tmp / db.name)
    try:
        return state.load_items(library)
    finally:
        state.close()


def _source_cache(vault: Path, tmp: Path, config: Config) -> Path:
    """A stand-in vault folder whose ``.zotsync/cache`` holds a copy of the real cache."""
    cache = state_dir(vault) / "cache" / config.source
    if cache.is_dir():
        shutil.copytree(cache, state_dir(tmp) / "cache" / config.source)
    return tmp


def preview(
    vault: Path,
    *,
    config_path: Path | None = None,
    source_options: SourceOptions | None = None,
) -> AdoptReport:
    """List each item → file the next sync adopts, and every ambiguity (writes nothing)."""
    vault = check_vault(vault)
    config = configure(vault, config_path, source_options, record=False)
    with tempfile.TemporaryDirectory(prefix="zotsync-adopt-") as tmp_name:
        tmp = Path(tmp_name)
        states = _states_copy(vault, tmp, config.library)
        source = make_source(config, _source_cache(vault, tmp, config))
        library = filter_collections(source.read(), config.collections)
        library = prepare_standalone(library, standalone=config.standalone)
    known = {
        s.path: (FileSig(*s.sig), s.key, config.library)
        for s in states.values()
        if s.path and s.sig is not None
    }
    key_field = "citekey" if config.source in CITEKEY_SOURCES else "zotero-key"
    notes = scan_notes(vault, known=known, key_field=key_field)
    claims: dict[str, list[NoteSeen]] = {}
    for note in notes:
        if note.key:
            sig = (note.sig.mtime_ns, note.sig.size, note.sig.ino)
            claims.setdefault(note.key, []).append(NoteSeen(note.rel, sig))
    carry_over(library, states, claims, {i.key for i in library.items})  # as the sync does
    plan = find_adoptions(vault, library, notes, states, claims, claim_field=key_field)
    report = AdoptReport(items=len(library.items), ambiguous=plan.ambiguous)
    report.adopt = [
        plan.matches[k] for k in sorted(plan.matches, key=lambda k: plan.matches[k].path)
    ]
    titles = {i.key: i.title for i in library.items}
    report.titles = {m.key: titles.get(m.key, "") for m in report.adopt}
    held = plan.ambiguous_keys | set(plan.matches)
    report.create = sum(1 for w in wanted_items(library, states, claims) if w.key not in held)
    return report
