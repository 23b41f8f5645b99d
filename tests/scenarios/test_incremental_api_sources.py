"""The web and local sources' incremental passes write exactly what a full pass writes.

Two vaults follow one loopback Zotero API (web, Zotero 10's local API with its versions, and
Zotero 7's local API whose versions come from content hashes) through a random sequence of
edits: titles, tags, collection membership, child notes, annotations, the trash, permanent
deletions, new papers, a renamed collection. Vault A syncs normally, so after the first pass
it takes the incremental path (``sources/api_changes.py``); vault B is synced with
``full=True``. After every edit both vaults must hold the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import paper
from tests.support.zotero_edits import assert_same_vaults, edit_library
from zotsync import api
from zotsync.sources.local import LocalSource
from zotsync.sources.web import WebSource
from zotsync.sync.engine import SyncOptions
from zotsync.testing.fake_zotero_api import FakeZoteroApi


def _edit(fake: FakeZoteroApi, rng: random.Random, step: int) -> str:
    items = fake.lib().objects["item"]
    tops = sorted(k for k, d in items.items() if not d.get("parentItem"))
    kids = sorted(k for k, d in items.items() if d.get("itemType") in ("note", "annotation"))
    key = rng.choice(tops)
    kind = rng.choice(["title", "title", "tag", "collection", "child", "trash", "restore",
                       "delete", "add", "collection-rename"])  # fmt: skip
    if kind == "title":
        fake.edit(key, title=f"Edited title {step}")
    elif kind == "tag":
        fake.edit(key, tags=[*items[key].get("tags", []), {"tag": rng.choice(["alpha", "beta"])}])
    elif kind == "collection":
        colls = sorted(fake.lib().objects["collection"])
        fake.edit(key, collections=rng.sample(colls, k=min(len(colls), rng.randint(0, 2))))
    elif kind == "child" and kids:
        key = rng.choice(kids)
        field = "note" if items[key].get("itemType") == "note" else "annotationComment"
        fake.edit(key, **{field: f"<p>edited {step}</p>" if field == "note" else f"edit {step}"})
    elif kind == "trash":
        fake.trash(key)
    elif kind == "restore":
        gone = sorted(k for k in tops if items[k].get("deleted") not in (None, 0, False))
        if gone:
            key = rng.choice(gone)
            fake.edit(key, deleted=False if fake.mode == "local" else 0)
    elif kind == "delete":
        fake.delete(key)
    elif kind == "add":
        fake.add_item(paper(f"NEW{step:02d}AAA", f"New paper {step}", year=2000 + step))
        key = f"NEW{step:02d}AAA"
    elif kind == "collection-rename":
        coll = rng.choice(sorted(fake.lib().objects["collection"]))
        fake.edit(coll, kind="collection", name=f"Renamed {step}")
        key = coll
    return f"{kind} {key}"


@pytest.mark.parametrize(
    ("mode", "version", "seed"), [("web", 10, 1), ("local", 10, 2), ("local", 7, 3)]
)
def test_api_incremental_vault_equals_full_vault(
    tmp_path: Path, mode: str, version: int, seed: int
) -> None:
    with FakeZoteroApi(edit_library(), mode=mode, zotero_version=version) as fake:  # type: ignore[arg-type]

        def sync(vault: Path, **options: bool) -> api.SyncReport:
            cache = vault / ".zotsync" / "cache" / mode
            source: LocalSource | WebSource = (
                LocalSource(cache, base_url=fake.url)
                if mode == "local"
                else WebSource(api_key=fake.api_key, cache_dir=cache, base_url=fake.url)
            )  # a new object each time, as each `zotsync sync` makes one
            return api.sync(vault, options=SyncOptions(**options), refs=False, source=source)

        inc, full = tmp_path / "incremental", tmp_path / "full"
        for vault in (inc, full):
            api.init_vault(vault)
            sync(vault, full=vault == full)
        rng = random.Random(seed)
        history: list[str] = []
        incremental = 0
        for step in range(12):
            history.append(_edit(fake, rng, step))
            report = sync(inc)
            incremental += report.result.incremental
            sync(full, full=True)
            assert report.result.failed == 0, report.result.errors
            assert_same_vaults(inc, full, history)
        assert incremental >= 6, history  # the comparison means something only then
        assert sync(inc).result.acted == 0  # nothing changed: nothing written
