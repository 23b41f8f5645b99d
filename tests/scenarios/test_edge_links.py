"""No link injection (PRODUCT guarantee 4): Zotero values never make links of their own.

A DOI, URL, arXiv id, attachment title or path, creator or collection name lands in a link
target or link text escaped, or is dropped; link targets use only the http(s), zotero, file and
obsidian schemes; and no value adds a wikilink.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import paper, small_library
from hypothesis import given
from hypothesis import strategies as st
from support.vault_edges import Scenario

from zotsync.errors import EXIT_OK
from zotsync.model import Attachment, ChildNote, Collection, Creator, Library
from zotsync.vault.links import find_wikilinks
from zotsync.vault.safe_links import heading_text, markdown_link, wikilink

EVIL_DOI = "10.1/x)](javascript:alert(1)) [[Evil]]"
KEY = "EVIL2222"
ALLOWED = ("http://", "https://", "zotero://", "file://", "obsidian://")
# an unescaped "](" starts a Markdown link target; "<scheme:" an autolink
_TARGET = re.compile(r"(?<!\\)\]\(([^)\s]*)|<([a-z][a-z0-9+.-]*:[^>\s]*)>", re.I)


def _evil_library() -> Library:
    item = paper(KEY, "An honest title", doi=EVIL_DOI, authors=())
    item.creators = [Creator("[[Evil Author]]", "x](javascript:alert(2))")]
    item.fields["url"] = "javascript:alert(3)"
    item.fields["extra"] = "arXiv: 1234.5678)](javascript:alert(4))"
    item.attachments = [
        Attachment(
            "ATTA2222",
            title="PDF](javascript:alert(5)) [[Evil Attachment]]",
            content_type="application/pdf",
            link_mode="linked_file",
            path="/papers/a) [[x]](javascript:alert(6).pdf",
        ),
        Attachment("ATTB2222", title="Site", link_mode="linked_url", url="javascript:alert(7)"),
    ]
    item.notes = [ChildNote("NOTE2222", '<p><a href="javascript:alert(8)">click</a> me</p>')]
    item.collections = ["COLL2222"]
    library = small_library(item)
    library.collections = {"COLL2222": Collection("COLL2222", "[[Evil Collection]]")}
    return library


def _body(text: str) -> str:
    return text.split("\n---\n", 1)[1] if text.startswith("---\n") else text


def _assert_no_injection(text: str, allowed_wikilinks: set[str]) -> None:
    for match in _TARGET.finditer(text):
        target = match.group(1) if match.group(1) is not None else match.group(2)
        assert target.startswith(ALLOWED), target
    links = set(find_wikilinks(text))
    assert links <= allowed_wikilinks, links - allowed_wikilinks


def test_a_hostile_doi_url_and_attachment_make_no_link(tmp_path: Path) -> None:
    s = Scenario(tmp_path, _evil_library())
    result = s.sync()
    assert result.exit_code == EXIT_OK, result.output
    body = _body(s.read(KEY))
    _assert_no_injection(body, set())
    assert "https://doi.org/10.1/x%29%5D%28javascript" in body  # encoded, still the DOI link
    assert "alert(3)" not in body  # a javascript: URL is dropped
    assert "alert(7)" not in body
    assert "click me" in body  # a child note's bad link keeps its text
    assert "Evil Author" in body  # the creator is shown, as text


def test_index_notes_make_no_link_from_a_collection_name(tmp_path: Path) -> None:
    s = Scenario(tmp_path, _evil_library())
    assert s.sync().exit_code == EXIT_OK
    note_stem = s.note(KEY).stem
    papers = (s.vault / "Papers.md").read_text("utf-8")
    _assert_no_injection(papers, {note_stem})
    for note in s.files("Collections/**/*.md") + s.files("Tags/**/*.md"):
        _assert_no_injection(note.read_text("utf-8"), {note_stem})


def test_a_plan_makes_no_link_from_a_collection_topic(tmp_path: Path) -> None:
    s = Scenario(tmp_path, _evil_library())
    assert s.sync().exit_code == EXIT_OK
    result = s.cli("plan", "--vault", s.vault, "--week", "2026-W50")
    assert result.exit_code == EXIT_OK, result.output
    plan = (s.vault / "Reading Plans" / "2026-W50.md").read_text("utf-8")
    assert "Evil Collection" in plan  # the topic is named, as text
    _assert_no_injection(_body(plan), {s.note(KEY).stem})
    again = s.cli("plan", "--vault", s.vault, "--week", "2026-W50")  # a kept plan: same bytes
    assert again.exit_code == EXIT_OK
    assert (s.vault / "Reading Plans" / "2026-W50.md").read_text("utf-8") == plan


# -- the pure helpers, for any value ------------------------------------------------------------
_TEXT = st.text(alphabet=st.characters() | st.sampled_from("[]()<>|`\\%:\n\r "))


@given(text=_TEXT, url=_TEXT | st.sampled_from(["javascript:x", "https://a/b", "file:///c d"]))
def test_a_markdown_link_has_one_allowed_target(text: str, url: str) -> None:
    link = markdown_link(text, url)
    targets = [m.group(1) for m in _TARGET.finditer(link) if m.group(1) is not None]
    assert len(targets) <= 1 and "\n" not in link
    assert all(t.startswith(ALLOWED) for t in targets)
    assert find_wikilinks(link) == []


@given(target=_TEXT, alias=_TEXT)
def test_a_wikilink_is_one_link(target: str, alias: str) -> None:
    link = wikilink(target, alias)
    assert link.count("[[") == 1 and link.count("]]") == 1 and link.count("|") == 1
    assert "\n" not in link and "\r" not in link


@given(title=_TEXT)
def test_a_heading_makes_no_link_and_is_stable(title: str) -> None:
    heading = heading_text(title)
    assert heading_text(heading) == heading
    assert find_wikilinks(heading) == [] and not _TARGET.search(heading)
