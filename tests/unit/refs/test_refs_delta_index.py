"""The incremental pass's library index is built again exactly when it would differ.

``RefDelta`` resolves the changed items first and the rest of the work set later; the second
resolution keeps the index when its items match as they did (the rebuild would give the same
index), and builds it again when one of them entered the library or matches differently.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import paper
from zotsync.refs.cache import RefCache
from zotsync.refs.delta import RefDelta
from zotsync.refs.ids import item_ids, normalize_title
from zotsync.state.db import StateDB
from zotsync.state.ref_index import Ident, save_idents

TITLES = {"AAAA1111": "Deep residual learning", "BBBB2222": "Attention is all you need"}


def _delta(tmp_path: Path) -> RefDelta:
    state = StateDB(tmp_path / "state.sqlite")
    rows = [
        Ident(key, item_ids(paper(key, title)).cache_key, None, None, None,
              normalize_title(title), 2020)
        for key, title in TITLES.items()
    ]  # fmt: skip
    with state.transaction():
        save_idents(state, "user", rows, full=True)
    return RefDelta(state, "user", RefCache(state.conn), None)


def test_an_item_that_matches_as_before_keeps_the_index(tmp_path: Path) -> None:
    delta = _delta(tmp_path)
    delta.graph([paper("AAAA1111", TITLES["AAAA1111"])])
    first = delta._library_index()
    delta.graph([paper("BBBB2222", TITLES["BBBB2222"])])
    assert delta._library_index() is first


def test_a_retitled_or_new_item_rebuilds_the_index(tmp_path: Path) -> None:
    delta = _delta(tmp_path)
    delta.graph([paper("AAAA1111", TITLES["AAAA1111"])])
    match = delta._library_index().match_parts
    assert match("Attention is all you need", 2020, None, None, None, None) == "BBBB2222"
    delta.graph([paper("BBBB2222", "Transformers revisited")])
    match = delta._library_index().match_parts
    assert match("Transformers revisited", 2020, None, None, None, None) == "BBBB2222"
    assert match("Attention is all you need", 2020, None, None, None, None) is None
    delta.graph([paper("CCCC3333", "A brand new paper")])
    match = delta._library_index().match_parts
    assert match("A brand new paper", 2020, None, None, None, None) == "CCCC3333"
