"""With references on, the incremental pass still writes exactly what a full pass writes.

Every paper with a DOI or arXiv id has a cached reference list that cites other library
papers by arXiv id, by DOI and by title + year (titles the random edits give, add or take
away), so retitling a paper, adding one, trashing one or editing a DOI moves other notes'
references and cited-by regions. Vault A takes the incremental path (``sync --no-refs``: the
cache only, as the daemon does offline); vault B is synced with a full pass each time. After
every edit both must hold the same bytes, and A's passes must really have been incremental.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import paper, tree
from tests.support.zotero_edits import (
    Edits,
    assert_same_vaults,
    edit_library,
    user_edit,
    vault_files,
)
from zotsync import api
from zotsync.model import Library
from zotsync.refs.cache import RefCache
from zotsync.refs.ids import item_ids, normalize_title
from zotsync.state.ref_index import load_idents
from zotsync.sync.engine import SyncOptions
from zotsync.testing.zotero_db import make_zotero_db
from zotsync.testing.zotero_writer import ZoteroDbWriter
from zotsync.workspace import SourceOptions, open_state

CITED_DOIS = ["10.9999/cited.1", "10.9999/cited.2"]


def _library() -> Library:
    library = edit_library()
    library.items += [
        paper(f"DOIX{n}AAA", f"Paper with a DOI {n}", year=2010 + n, doi=f"10.7777/extra.{n}")
        for n in range(2, 6)
    ]
    return library


def _ref(title: str, year: int | None, doi: str | None = None, arxiv: str | None = None) -> list:
    return [title, year, doi, arxiv, None, normalize_title(title)]


def _lists(library: Library) -> list[tuple[str, str, dict[str, Any]]]:
    """A cached list for every paper with an id: shared titles, DOIs, arXiv ids, outsiders."""
    rows = []
    for n, item in enumerate(library.items):
        ck = item_ids(item).cache_key
        if ck is None:
            continue
        refs = [
            _ref("Extra paper 3", 2003),
            _ref("Shared", 2024),
            _ref("Fresh paper", 2024),
            _ref("Retitled 7", None),
            _ref("Something cited by DOI", 2019, doi=CITED_DOIS[n % 2]),
            _ref("Attention is all you need", 2017, arxiv="1706.03762"),
            _ref(f"Paper with a DOI {2 + n % 4}", None, doi=f"10.7777/extra.{2 + n % 4}"),
            _ref(f"An outside paper number {n}", 2001),
        ]
        rows.append(
            (ck, "ok", {"paperId": f"S2{n:04d}", "referenceCount": len(refs), "refs": refs})
        )
    return rows


class RefEdits(Edits):
    """The usual edits, plus DOI edits that make a paper the target of cited DOIs."""

    def one(self) -> str:
        if self.rng.random() < 0.2:
            key = self.rng.choice(self._keys())
            self.writer.set_field(key, "DOI", self.rng.choice([*CITED_DOIS, "10.5555/none"]))
            return f"doi {key}"
        return super().one()


def _sync(vault: Path, db: Path, **options: Any) -> api.SyncReport:
    return api.sync(
        vault,
        source_options=SourceOptions(zotero_db=str(db)),
        options=SyncOptions(**options),
        fetch_refs=False,
    )


def _vault(path: Path, rows: list[tuple[str, str, dict[str, Any]]]) -> Path:
    api.init_vault(path)
    state = open_state(path)
    RefCache(state.conn).put_many(rows)
    state.close()
    return path


@pytest.mark.parametrize(("seed", "version"), [(11, 10), (12, 7), (13, 10)])
def test_incremental_refs_vault_equals_full_vault(tmp_path: Path, seed: int, version: int) -> None:
    library = _library()
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", library, version=version)
    rows = _lists(library)
    inc, full = _vault(tmp_path / "inc", rows), _vault(tmp_path / "full", rows)
    _sync(inc, db)
    _sync(full, db, full=True)
    assert vault_files(inc) == vault_files(full)
    text = "\n".join(p.read_text("utf-8") for p in (inc / "Papers").glob("*.md"))
    assert "[[Extra paper 3]]" in text  # the lists really link library papers
    edits = RefEdits(db, random.Random(seed))
    history: list[str] = []
    incremental = 0
    for step in range(16):
        history.append(edits.one())
        if step % 6 == 5:
            history.append(user_edit(inc, full, random.Random(seed * 100 + step)))
        report = _sync(inc, db)
        incremental += report.result.incremental
        _sync(full, db, full=True)
        assert report.result.failed == 0, report.result.errors
        assert_same_vaults(inc, full, history)
    assert incremental >= 8, history
    # the recorded identities are the full pass's, so the next incremental pass starts right
    state_a, state_b = open_state(inc, readonly=True), open_state(full, readonly=True)
    assert load_idents(state_a, "user") == load_idents(state_b, "user")
    state_a.close()
    state_b.close()
    before = tree(inc)
    assert _sync(inc, db).result.acted == 0
    assert tree(inc) == before


def test_a_new_cited_paper_links_its_citers_incrementally(tmp_path: Path) -> None:
    """The daemon's case: a paper the library's lists cite is saved; the citing notes gain a
    wikilink and the new note lists them as cited-by, in one incremental pass."""
    library = _library()
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", library, version=10)
    vault = _vault(tmp_path / "vault", _lists(library))
    _sync(vault, db)
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).add_item(paper("FRSH2345", "Fresh paper", year=2024))
    conn.close()
    report = _sync(vault, db)
    assert report.result.incremental and report.result.created == 1
    note = (vault / "Papers" / "Fresh paper.md").read_text("utf-8")
    citers = [p for p in (vault / "Papers").glob("*.md") if "[[Fresh paper]]" in p.read_text()]
    assert len(citers) >= 4
    assert all(f"[[{p.stem}]]" in note for p in citers if p.stem != "Fresh paper")


def test_a_title_leaving_a_shared_name_lets_a_yearless_reference_match(tmp_path: Path) -> None:
    """A reference without a year matches a title only when one paper bears it: when one of
    two namesakes is retitled, the other gains that reference's citer, though neither the
    citer nor the remaining paper changed in Zotero."""
    library = _library()
    library.items += [
        paper("TWNA2345", "Learning to learn by gradient descent", year=2016),
        paper("TWNB2345", "Learning to learn by gradient descent", year=2018),
    ]
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", library, version=10)
    rows = _lists(library)
    rows[0][2]["refs"].append(_ref("Learning to learn by gradient descent", None))
    inc, full = _vault(tmp_path / "inc", rows), _vault(tmp_path / "full", rows)
    _sync(inc, db)
    _sync(full, db, full=True)
    conn = sqlite3.connect(db, isolation_level=None)
    ZoteroDbWriter(conn, autocommit=True).set_title("TWNA2345", "Something else entirely")
    conn.close()
    report = _sync(inc, db)
    _sync(full, db, full=True)
    assert report.result.incremental
    assert vault_files(inc) == vault_files(full)
    note = (inc / "Papers" / "Learning to learn by gradient descent (Turing 2018).md").read_text()
    cited_by = note.split("%% zotsync:begin cited-by %%")[1].split("%% zotsync:end cited-by %%")[0]
    assert "[[" in cited_by  # the yearless reference is its own now
