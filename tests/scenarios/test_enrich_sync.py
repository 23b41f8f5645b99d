"""A sync fills in a missing abstract and date from arXiv, never overriding Zotero's values."""

from __future__ import annotations

from pathlib import Path

import pytest

from zotsync import api
from zotsync.model import Item, Library, LibraryRef, with_base_fields
from zotsync.testing.fake_arxiv import FakeArxiv, paper
from zotsync.testing.fake_s2 import FakeS2
from zotsync.testing.zotero_db import make_zotero_db


def _library() -> Library:
    bare = Item(
        key="BARE2345",
        item_type="preprint",
        fields=with_base_fields(
            "preprint", {"title": "A Bare Preprint", "archiveID": "arXiv:2401.00001"}
        ),
        date_added="2024-01-02T03:04:05Z",
    )
    full = Item(
        key="FULL2345",
        item_type="preprint",
        fields=with_base_fields(
            "preprint",
            {
                "title": "A Complete Preprint",
                "archiveID": "arXiv:2401.00002",
                "abstractNote": "What Zotero says.",
                "date": "2024-01-05",
            },
        ),
        date_added="2024-01-02T03:04:05Z",
    )
    return Library(ref=LibraryRef("user", 1), items=[bare, full])


def test_sync_fills_missing_abstract_and_date_from_arxiv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOTSYNC_OFFLINE", raising=False)
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", _library(), version=7)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    arxiv_papers = [
        paper(
            "2401.00001",
            "A Bare Preprint",
            "Filled in from arXiv.",
            published="2024-01-01T10:00:00Z",
        ),
        paper(
            "2401.00002",
            "A Complete Preprint",
            "arXiv's own abstract.",
            published="2023-12-30T10:00:00Z",
        ),
    ]
    with FakeArxiv(arxiv_papers) as arxiv, FakeS2({}) as s2:
        monkeypatch.setenv("ZOTSYNC_ARXIV_URL", arxiv.url)
        monkeypatch.setenv("ZOTSYNC_S2_URL", s2)
        api.sync(vault)
    bare = (vault / "Papers" / "A Bare Preprint.md").read_text(encoding="utf-8")
    full = (vault / "Papers" / "A Complete Preprint.md").read_text(encoding="utf-8")
    assert "Filled in from arXiv." in bare
    assert "year: 2024" in bare
    assert "What Zotero says." in full
    assert "arXiv's own abstract." not in full


def test_an_incremental_pass_fills_a_new_preprint_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Online, the arXiv-filled source is incremental as well: a paper saved after the first
    sync gets its abstract in a pass that reads only it (and what its references touch)."""
    import sqlite3

    from zotsync.testing.zotero_writer import ZoteroDbWriter

    monkeypatch.delenv("ZOTSYNC_OFFLINE", raising=False)
    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", _library(), version=10)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    papers = [
        paper("2401.00001", "A Bare Preprint", "Filled in from arXiv.", published="2024-01-01T10:00:00Z"),
        paper("2401.00003", "A Later Preprint", "Also from arXiv.", published="2024-02-01T10:00:00Z"),
    ]  # fmt: skip
    with FakeArxiv(papers) as arxiv, FakeS2({}) as s2:
        monkeypatch.setenv("ZOTSYNC_ARXIV_URL", arxiv.url)
        monkeypatch.setenv("ZOTSYNC_S2_URL", s2)
        api.sync(vault)
        later = Item(
            key="LATR2345",
            item_type="preprint",
            fields=with_base_fields(
                "preprint", {"title": "A Later Preprint", "archiveID": "arXiv:2401.00003"}
            ),
            date_added="2024-02-02T03:04:05Z",
        )
        conn = sqlite3.connect(db, isolation_level=None)
        ZoteroDbWriter(conn, autocommit=True).add_item(later)
        conn.close()
        report = api.sync(vault)
    assert report.result.incremental and report.result.created == 1
    note = (vault / "Papers" / "A Later Preprint.md").read_text(encoding="utf-8")
    assert "Also from arXiv." in note and "year: 2024" in note
