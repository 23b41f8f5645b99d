"""Regression tests for bugs met while using zotsync for a week (issue 11, items 13.1 and 13.2).

13.1 ``refs --missing`` run twice broke its own note (no final newline after the end marker).
13.2 A note that once failed (invalid YAML in its frontmatter) never followed a title change
again after the YAML was fixed: each later rename only added an alias.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import small_library
from support.vault_edges import Scenario

from zotsync.errors import EXIT_OK, EXIT_PARTIAL
from zotsync.model import Creator, Item, with_base_fields
from zotsync.testing.fake_s2 import FakeS2, make_paper
from zotsync.vault.frontmatter import read_frontmatter
from zotsync.vault.regions import parse_note

OUTSIDE = make_paper("s2-outside", "A Paper Outside the Library", 2012, doi="10.1000/outside")


def _preprint(key: str, arxiv: str, title: str, year: int) -> Item:
    fields = {"title": title, "archiveID": f"arXiv:{arxiv}", "date": str(year)}
    return Item(
        key=key,
        item_type="preprint",
        fields=with_base_fields("preprint", fields),
        creators=[Creator("Author", "Some")],
        date_added=f"{year}-06-01T00:00:00Z",
        version=1,
        library=small_library().ref,
    )


def test_refs_missing_twice_keeps_its_note_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOTSYNC_OFFLINE", raising=False)
    monkeypatch.setenv("ZOTSYNC_ARXIV_URL", "http://127.0.0.1:9/api/query")  # never answers
    items = [
        _preprint("AAAA2345", "1409.0473", "Neural Machine Translation", 2014),
        _preprint("BBBB2345", "1706.03762", "Attention Is All You Need", 2017),
    ]
    s2 = [
        make_paper(f"s2-{i.key}", i.title, 2017, arxiv=a, references=[OUTSIDE], reference_count=1)
        for i, a in zip(items, ("1409.0473", "1706.03762"), strict=True)
    ]
    s = Scenario(tmp_path, small_library(*items))
    with FakeS2(s2) as url:
        monkeypatch.setenv("ZOTSYNC_S2_URL", url)
        assert s.sync().exit_code == EXIT_OK
        first = s.cli("refs", "--vault", s.vault, "--missing")
        assert first.exit_code == EXIT_OK, first.output
        note = s.vault / "Missing references.md"
        once = note.read_text("utf-8")
        assert once.endswith("%% zotsync:end missing %%\n")
        assert parse_note(once).problems == [] and "missing" in parse_note(once).regions
        second = s.cli("refs", "--vault", s.vault, "--missing")
        assert second.exit_code == EXIT_OK, second.output
        twice = note.read_text("utf-8")
    assert twice == once  # the same inputs write the same note
    assert "A Paper Outside the Library" in twice


def test_a_note_fixed_after_invalid_yaml_follows_title_changes_again(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    assert s.sync().exit_code == EXIT_OK
    note = s.note("AAAA2222")
    good = note.read_text("utf-8")
    note.write_text(good.replace("year: 2017\n", "year: [2017\n"), "utf-8")  # broken YAML
    s.change("AAAA2222", "title", "Attention, Take Two")
    assert s.sync().exit_code == EXIT_PARTIAL  # reported, the note left alone
    note.write_text(good, "utf-8")  # the user repairs the YAML
    assert s.sync().exit_code == EXIT_OK
    renamed = s.vault / "Papers" / "Attention, Take Two.md"
    assert renamed.exists() and not note.exists()
    s.change("AAAA2222", "title", "Attention, Take Three")
    assert s.sync().exit_code == EXIT_OK
    third = s.vault / "Papers" / "Attention, Take Three.md"
    assert third.exists() and not renamed.exists()
    fm = read_frontmatter(third.read_text("utf-8"))
    assert fm["title"] == "Attention, Take Three"
    assert not fm.get("aliases")  # a renamed note needs no alias for its own title
