"""Zotero data cannot break a region (PRODUCT guarantee 4).

A line in a title, abstract, child note, annotation, tag or collection name that looks like a
``%% zotsync:… %%`` marker is neutralised when rendered: the text stays whole, the paper note,
``Papers.md`` and the index notes stay valid, and every later sync works.
"""

from __future__ import annotations

from pathlib import Path

from conftest import paper, small_library
from hypothesis import given
from hypothesis import strategies as st
from support.vault_edges import Scenario

from zotsync.errors import EXIT_OK, EXIT_USAGE
from zotsync.model import Annotation, Attachment, ChildNote, Collection, Library
from zotsync.vault.regions import (
    neutralise_markers,
    parse_note,
    region_contents,
    splice_regions,
)

END_ABSTRACT = "%% zotsync:end abstract %%"
BEGIN_NOTES = "%% zotsync:begin notes %%"
KEY = "MARK2222"


def _hostile_library() -> Library:
    item = paper(
        KEY,
        "A title\n%% zotsync:end header %%",
        abstract=f"First half.\n{END_ABSTRACT}\nSecond half, after the fake marker.",
        tags=(f"tag\n{BEGIN_NOTES}",),
    )
    item.notes = [ChildNote("NOTE2222", f"<p>Child note.</p><p>{END_ABSTRACT}</p><p>tail</p>")]
    item.attachments = [
        Attachment(
            "ATTA2222",
            title="PDF",
            content_type="application/pdf",
            path="storage:a.pdf",
            annotations=[
                Annotation(
                    "ANNO2222",
                    "highlight",
                    text="highlighted\n%% zotsync:end annotations %%\nmore",
                    comment="%% zotsync:begin header %%",
                    sort_index="00000|000000|00000",
                    position={"pageIndex": 0, "rects": [[0, 0, 1, 1]]},
                )
            ],
        )
    ]
    item.collections = ["COLL2222"]
    library = small_library(item, paper("PLAIN222", "A plain paper", tags=("tag",)))
    library.collections = {"COLL2222": Collection("COLL2222", "Reading\n%% zotsync:end index %%")}
    return library


def _scenario(tmp_path: Path) -> Scenario:
    return Scenario(tmp_path, _hostile_library())


def _assert_valid(text: str) -> None:
    parsed = parse_note(text)
    assert parsed.problems == [], parsed.problems


def test_marker_lines_in_zotero_values_keep_notes_valid(tmp_path: Path) -> None:
    s = _scenario(tmp_path)
    first = s.sync()
    assert first.exit_code == EXIT_OK, first.output
    text = s.read(KEY)
    _assert_valid(text)
    regions = region_contents(text)
    assert "Second half, after the fake marker." in regions["abstract"]  # whole, not cut
    assert "First half." in regions["abstract"]
    assert "tail" in regions["notes"] and "more" in regions["annotations"]
    for folder in ("Papers.md", "Tags", "Collections"):
        for note in [s.vault / folder] if folder.endswith(".md") else s.files(f"{folder}/**/*.md"):
            _assert_valid(note.read_text("utf-8"))


def test_every_later_sync_works_after_a_marker_value(tmp_path: Path) -> None:
    s = _scenario(tmp_path)
    assert s.sync().exit_code == EXIT_OK
    s.change(KEY, "abstractNote", f"New start.\n  {END_ABSTRACT}\nNew end.")
    second = s.sync()
    assert second.exit_code == EXIT_OK, second.output
    abstract = region_contents(s.read(KEY))["abstract"]
    assert "New start." in abstract and "New end." in abstract
    before = {p: p.read_bytes() for p in s.files()}
    assert s.sync("--full").exit_code == EXIT_OK
    assert {p: p.read_bytes() for p in s.files()} == before  # idempotent


def test_an_existing_notes_abstract_is_not_cut_at_a_marker(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    s.change("AAAA2222", "abstractNote", "Plain abstract.")
    assert s.sync().exit_code == EXIT_OK
    s.change("AAAA2222", "abstractNote", f"Kept part.\n{END_ABSTRACT}\nThe part once cut off.")
    assert s.sync().exit_code == EXIT_OK
    abstract = region_contents(s.read("AAAA2222"))["abstract"]
    assert "Kept part." in abstract and "The part once cut off." in abstract


_LINES = st.lists(
    st.sampled_from(
        ["%% zotsync:end abstract %%", "  %%zotsync:begin notes %%", "\r", "text", "", "%% x %%"]
    )
    | st.text(max_size=20),
    max_size=8,
)


@given(lines=_LINES, newline=st.sampled_from(["\n", "\r\n"]))
def test_any_value_spliced_into_a_region_keeps_the_note_valid(
    lines: list[str], newline: str
) -> None:
    value = "\n".join(lines)
    note = newline.join(["# mine", "%% zotsync:begin abstract %%", "old", ""])
    note += f"%% zotsync:end abstract %%{newline}tail{newline}"
    spliced = splice_regions(note, {"abstract": value})
    parsed = parse_note(spliced)
    assert parsed.problems == [] and list(parsed.regions) == ["abstract"]
    assert spliced.endswith(f"%% zotsync:end abstract %%{newline}tail{newline}")
    assert neutralise_markers(neutralise_markers(value)) == neutralise_markers(value)


def test_a_template_with_unpaired_markers_is_refused_not_cut(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    s.change("AAAA2222", "abstractNote", "Whole abstract.")
    assert s.sync().exit_code == EXIT_OK
    before = s.read("AAAA2222")
    template = s.vault / "Templates" / "zotsync" / "note.md.j2"
    template.write_text(
        template.read_text("utf-8").replace("%% zotsync:end abstract %%\n", "", 1), "utf-8"
    )
    s.change("AAAA2222", "abstractNote", "A changed abstract.")
    result = s.sync()
    assert result.exit_code == EXIT_USAGE, result.output
    assert "note.md.j2" in result.output and "abstract" in result.output
    assert s.read("AAAA2222") == before
