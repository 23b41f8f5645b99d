"""The cache's mention index: which cached lists mention a title, DOI, arXiv or S2 id."""

from __future__ import annotations

import sqlite3

from zotsync.refs.cache import RefCache, mention
from zotsync.refs.ids import normalize_title


def _payload(*refs: list[object]) -> dict[str, object]:
    return {"paperId": "p", "referenceCount": len(refs), "refs": list(refs)}


def _ref(title: str, doi: str | None = None, arxiv: str | None = None) -> list[object]:
    return [title, 2020, doi, arxiv, None, normalize_title(title)]


def test_lists_are_found_by_each_identifier_kind() -> None:
    cache = RefCache(sqlite3.connect(":memory:"))
    cache.put_many(
        [
            ("DOI:10.1/a", "ok", _payload(_ref("Deep Residual Learning", doi="10.5/x"))),
            ("DOI:10.1/b", "ok", _payload(_ref("Attention", arxiv="1706.03762"))),
            ("DOI:10.1/c", "not-found", None),
        ]
    )
    assert cache.lists_mentioning([mention("t", "deep residual learning")]) == {"DOI:10.1/a"}
    assert cache.lists_mentioning([mention("d", "10.5/x")]) == {"DOI:10.1/a"}
    assert cache.lists_mentioning([mention("a", "1706.03762")]) == {"DOI:10.1/b"}
    # kinds do not mix: a title that reads like a DOI is not the DOI
    assert cache.lists_mentioning([mention("t", "10.5/x")]) == set()
    assert cache.lists_mentioning([]) == set()


def test_a_refreshed_list_is_found_by_what_it_mentions_now() -> None:
    cache = RefCache(sqlite3.connect(":memory:"))
    cache.put("DOI:10.1/a", "ok", _payload(_ref("Old title")))
    cache.put("DOI:10.1/a", "ok", _payload(_ref("New title")))
    assert cache.lists_mentioning([mention("t", "new title")]) == {"DOI:10.1/a"}
    # what it mentioned before may still find it: a wider search, never a missed list
    assert cache.lists_mentioning([mention("t", "old title")]) <= {"DOI:10.1/a"}
    cache.clear()
    assert cache.lists_mentioning([mention("t", "new title")]) == set()


def test_a_cache_written_before_the_index_is_indexed_when_opened() -> None:
    conn = sqlite3.connect(":memory:")
    RefCache(conn).put("DOI:10.1/a", "ok", _payload(_ref("Some paper")))
    conn.execute("DELETE FROM ref_mentions")  # as an older zotsync left it
    assert RefCache(conn).lists_mentioning([mention("t", "some paper")]) == {"DOI:10.1/a"}


def test_a_damaged_cached_list_does_not_stop_the_indexing() -> None:
    conn = sqlite3.connect(":memory:")
    cache = RefCache(conn)
    cache.put("DOI:10.1/a", "ok", _payload(_ref("Some paper")))
    conn.execute("UPDATE refs_cache SET payload = '{not json' WHERE paper_id_key = 'DOI:10.1/a'")
    cache.put("DOI:10.1/b", "ok", _payload(_ref("Other paper")))
    conn.execute("DELETE FROM ref_mentions")  # as an older zotsync left it
    reopened = RefCache(conn)  # indexes what it can read; the damaged row is a miss
    assert reopened.lists_mentioning([mention("t", "other paper")]) == {"DOI:10.1/b"}
    assert reopened.get("DOI:10.1/a") is None
