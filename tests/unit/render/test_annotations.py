"""Annotations render as Obsidian callouts with stable anchors and correct deep links."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

import zotsync
from zotsync.model import Annotation, Attachment, Item, LibraryRef, Tag
from zotsync.render.annotations import (
    COLOR_NAMES,
    AnnotationView,
    annotation_views,
    color_name,
    deep_link,
    render_annotations,
)
from zotsync.testing.sample_library import sample_library

TEMPLATES = Path(zotsync.__file__).parent / "vault_template" / "Templates" / "zotsync"
ENV = SandboxedEnvironment(
    loader=FileSystemLoader(str(TEMPLATES)),
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
KEY_CHARS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
TYPES = ["highlight", "underline", "note", "text", "image", "ink"]


def render_template(views: list[AnnotationView]) -> str:
    return ENV.get_template("annotations.md.j2").render(annotations=views)


def pdf(key: str, *annotations: Annotation, title: str = "Full Text PDF") -> Attachment:
    return Attachment(
        key=key,
        title=title,
        content_type="application/pdf",
        path=f"storage:{key}.pdf",
        annotations=list(annotations),
    )


def ann(
    key: str, *, page: int = 0, label: str = "1", kind: str = "highlight", **kw: object
) -> Annotation:
    return Annotation(
        key=key,
        type=kind,  # type: ignore[arg-type]
        text=str(kw.pop("text", "some text" if kind in ("highlight", "underline") else "")),
        page_label=label,
        sort_index=str(kw.pop("sort_index", f"{page:05d}|000000|00000")),
        position={"pageIndex": page, "rects": [[0, 0, 1, 1]]},
        **kw,  # type: ignore[arg-type]
    )


def paper(*attachments: Attachment, library: LibraryRef | None = None) -> Item:
    return Item(
        key="ITEM2345",
        item_type="journalArticle",
        attachments=list(attachments),
        library=library or LibraryRef("user", 1),
    )


def unit_span(text: str, key: str) -> tuple[int, int]:
    """Character span of the callout whose block id is ``key`` (header to ``^KEY`` line).

    Every callout line starts with ``>``, so a line starting with ``^`` is a block id, and
    callouts are separated by exactly one blank line.
    """
    start = 0
    for match in re.finditer(r"^\^([0-9A-Z]+)\n", text, re.M):
        if match.group(1) == key:
            return start, match.end()
        start = match.end() + 1
    raise AssertionError(f"no callout ^{key}")


# -- what gets rendered ------------------------------------------------------------------


def test_annotations_come_from_every_attachment_in_reading_order() -> None:
    first = pdf(
        "PDFA2345",
        ann("ANNC2345", page=9, sort_index="00009|000000|00000"),
        ann("ANNA2345", page=0, sort_index="00000|000010|00100"),
        ann("ANNB2345", page=0, sort_index="00000|000500|00200"),
    )
    second = pdf("PDFB2345", ann("ANND2345", page=1), title="Supplement")
    epub = Attachment(
        key="EPUB2345",
        content_type="application/epub+zip",
        annotations=[
            Annotation("ANNE2345", "highlight", text="e", sort_index="00001|00000100",
                       position={"type": "FragmentSelector", "value": "epubcfi(/6/4!/4/2)"}),
        ],
    )  # fmt: skip
    views = annotation_views(paper(first, second, epub))
    assert [v.key for v in views] == ["ANNA2345", "ANNB2345", "ANNC2345", "ANND2345", "ANNE2345"]
    assert [v.attachment_title for v in views][3] == "Supplement"


def test_sample_library_renders_all_annotation_kinds_of_its_items() -> None:
    library = sample_library()
    keys = [v.key for item in library.items for v in annotation_views(item)]
    assert keys == ["ANNH2345", "ANNN3456", "ANNI4567", "ANNE6789"]


@pytest.mark.parametrize("kind", TYPES)
def test_every_annotation_type_renders_as_a_callout_with_its_block_id(kind: str) -> None:
    a = ann("ANNX2345", kind=kind, comment="why it matters")
    text = render_annotations(annotation_views(paper(pdf("PDFA2345", a))))
    lines = text.split("\n")
    assert lines[0].startswith("> [!")
    assert text.endswith("\n\n^ANNX2345\n")
    assert "> why it matters" in lines


def test_block_id_sits_on_its_own_line_after_a_blank_line() -> None:
    views = annotation_views(paper(pdf("PDFA2345", ann("ANNA2345"), ann("ANNB2345", page=1))))
    text = render_annotations(views)
    for key in ("ANNA2345", "ANNB2345"):
        assert f"\n\n^{key}\n" in text
    assert text.count("\n^") == 2
    assert "^ANNA2345\n\n> [!" in text  # one blank line between callouts


def test_deep_link_uses_page_index_not_the_roman_label() -> None:
    a = ann("ANNR2345", page=13, label="xii")
    view = annotation_views(paper(pdf("PDFA2345", a)))[0]
    assert view.link == "zotero://open-pdf/library/items/PDFA2345?page=14&annotation=ANNR2345"
    assert view.page == 14 and view.page_label == "xii"
    assert "[p. xii](zotero://open-pdf/library/items/PDFA2345?page=14&" in render_annotations(
        [view]
    )


@settings(max_examples=80, deadline=None)
@given(
    page_index=st.integers(min_value=0, max_value=9999),
    label=st.one_of(
        st.sampled_from(["", "i", "iv", "xlii", "A-1"]),
        st.integers(min_value=-5, max_value=20000).map(str),
    ),
    group=st.one_of(st.none(), st.integers(min_value=1, max_value=10**7)),
)
def test_deep_link_page_is_always_page_index_plus_one(
    page_index: int, label: str, group: int | None
) -> None:
    library = LibraryRef("group", group) if group else LibraryRef("user", 7)
    item = paper(pdf("PDFA2345", ann("ANNP2345", page=page_index, label=label)), library=library)
    view = annotation_views(item)[0]
    lib = f"groups/{group}" if group else "library"
    assert view.link == (
        f"zotero://open-pdf/{lib}/items/PDFA2345?page={page_index + 1}&annotation=ANNP2345"
    )
    assert view.page == page_index + 1


def test_epub_and_snapshot_links_use_cfi_and_sel() -> None:
    library = LibraryRef("group", 555)
    epub = Attachment(key="EPUB2345", content_type="application/epub+zip")
    snap = Attachment(key="SNAP2345", content_type="text/html", link_mode="imported_url")
    cfi = Annotation(
        "ANNE2345",
        "highlight",
        position={"type": "FragmentSelector", "value": "epubcfi(/6/4!/4/2/1:0)"},
    )
    css = Annotation(
        "ANNS2345", "underline", position={"type": "CssSelector", "value": "body > p:nth-child(3)"}
    )
    assert deep_link(library, epub, cfi) == (
        "zotero://open/groups/555/items/EPUB2345?cfi=epubcfi%28%2F6%2F4%21%2F4%2F2%2F1%3A0%29"
        "&annotation=ANNE2345"
    )
    assert deep_link(library, snap, css) == (
        "zotero://open/groups/555/items/SNAP2345?sel=body%20%3E%20p%3Anth-child%283%29"
        "&annotation=ANNS2345"
    )  # fmt: skip


def test_group_annotation_shows_its_author() -> None:
    a = ann("ANNG2345", author="Ada Lovelace")
    item = paper(pdf("PDFG2345", a), library=LibraryRef("group", 12))
    text = render_annotations(annotation_views(item))
    assert text.split("\n")[0].endswith(" · Ada Lovelace")
    assert "zotero://open-pdf/groups/12/items/PDFG2345?page=1&annotation=ANNG2345" in text


def test_color_and_tags_are_rendered() -> None:
    a = ann("ANNT2345", color="#FF6666", tags=[Tag("key idea"), Tag("method/attention")])
    view = annotation_views(paper(pdf("PDFA2345", a)))[0]
    assert (view.color, view.color_name) == ("#ff6666", "red")
    assert "> #key-idea #method/attention" in render_annotations([view]).split("\n")


@pytest.mark.parametrize(("hex_color", "name"), sorted(COLOR_NAMES.items()))
def test_palette_colors_have_their_zotero_names(hex_color: str, name: str) -> None:
    assert color_name(hex_color) == name


@pytest.mark.parametrize(
    ("hex_color", "name"),
    [("#ffff00", "yellow"), ("#ff0000", "red"), ("#00ff00", "green"), ("#0000ff", "blue"),
     ("#808080", "gray"), ("#ff8800", "orange"), ("#f0f", "magenta"), ("", "yellow"),
     ("not a colour", "yellow")],
)  # fmt: skip
def test_other_colors_get_the_nearest_palette_name(hex_color: str, name: str) -> None:
    assert color_name(hex_color) == name


def test_callout_types_can_be_mapped_by_color_and_type() -> None:
    red = ann("ANNR2345", color="#ff6666")
    note = ann("ANNN2345", kind="note", color="#ff6666", page=1)
    image = ann("ANNI2345", kind="image", page=2)
    item = paper(pdf("PDFA2345", red, note, image))
    default = [v.callout for v in annotation_views(item)]
    assert default == ["quote", "note", "example"]
    mapped = annotation_views(item, callouts={"red": "warning", "note:red": "danger"})
    assert [v.callout for v in mapped] == ["warning", "danger", "example"]


def test_image_annotation_embeds_the_copied_png_or_says_it_is_missing() -> None:
    item = paper(
        pdf("PDFA2345", ann("ANNI2345", kind="image"), ann("ANNK2345", kind="ink", page=1))
    )
    views = annotation_views(item, image_paths={"ANNI2345": "Attachments/ANNI2345.png"})
    assert views[0].image == "Attachments/ANNI2345.png" and not views[0].image_missing
    assert views[1].image is None and views[1].image_missing
    text = render_annotations(views)
    assert "> ![[Attachments/ANNI2345.png]]" in text
    assert "Zotero has not rendered this image yet" in text


def test_annotation_text_cannot_break_the_region_markers() -> None:
    evil = "fine\n%% zotsync:end annotations %%\n^FAKE2345\n\n\nmore"
    item = paper(pdf("PDFA2345", ann("ANNZ2345", text=evil, comment="%%hidden%%")))
    text = render_annotations(annotation_views(item))
    assert "%%" not in text
    assert all(line.startswith(">") or line in ("", "^ANNZ2345") for line in text.split("\n"))


# -- template and Python fallback are the same -------------------------------------------

TEXT = st.text(alphabet=st.sampled_from(list("ab ]|[!>%#^=*\n\r\t-")), max_size=40)


@st.composite
def annotations(draw: st.DrawFn) -> list[Annotation]:
    count = draw(st.integers(min_value=0, max_value=5))
    keys = draw(
        st.lists(
            st.text(KEY_CHARS, min_size=8, max_size=8), min_size=count, max_size=count, unique=True
        )
    )
    out = []
    for index, key in enumerate(keys):
        out.append(
            Annotation(
                key=key,
                type=draw(st.sampled_from(TYPES)),  # type: ignore[arg-type]
                text=draw(TEXT),
                comment=draw(TEXT),
                color=draw(st.sampled_from([*COLOR_NAMES, "#123456", ""])),
                page_label=draw(st.sampled_from(["", "1", "xii", "[3]"])),
                sort_index=f"{index:05d}|000000|00000",
                position={"pageIndex": draw(st.integers(0, 300))},
                author=draw(st.sampled_from(["", "Ada Lovelace"])),
                tags=[
                    Tag(t) for t in draw(st.lists(st.sampled_from(["a", "b c", "x/y"]), max_size=2))
                ],
            )
        )
    return out


@settings(max_examples=120, deadline=None)
@given(anns=annotations(), with_images=st.booleans())
def test_template_and_python_fallback_render_the_same_bytes(
    anns: list[Annotation], with_images: bool
) -> None:
    item = paper(pdf("PDFA2345", *anns))
    images = {a.key: f"Attachments/{a.key}.png" for a in anns} if with_images else {}
    views = annotation_views(item, image_paths=images)
    python = render_annotations(views)
    assert render_template(views) == python
    assert "%%" not in python
    lines = python.split("\n")
    ids = [line for line in lines if line.startswith("^")]
    assert ids == [f"^{a.key}" for a in anns]
    assert all(line.startswith(">") or line == "" or line in ids for line in lines)
    assert all(line == line.rstrip() for line in lines)


# -- incremental: one annotation changes only its own lines ------------------------------


@settings(max_examples=80, deadline=None)
@given(
    anns=annotations().filter(lambda a: len(a) >= 2),
    which=st.integers(min_value=0, max_value=10),
    new_text=TEXT,
    new_color=st.sampled_from(list(COLOR_NAMES)),
)
def test_editing_one_annotation_changes_only_its_callout(
    anns: list[Annotation], which: int, new_text: str, new_color: str
) -> None:
    index = which % len(anns)
    before = render_annotations(annotation_views(paper(pdf("PDFA2345", *anns))))
    edited = anns[index]
    edited.text, edited.color, edited.comment = new_text, new_color, edited.comment + " edited"
    after = render_annotations(annotation_views(paper(pdf("PDFA2345", *anns))))
    start, end = unit_span(before, edited.key)
    new_start, new_end = unit_span(after, edited.key)
    assert before[:start] == after[:new_start]
    assert before[end:] == after[new_end:]
    assert before[start:end] != after[new_start:new_end]


def test_adding_and_deleting_an_annotation_leaves_the_others_byte_identical() -> None:
    a, b, c = (ann(k, page=i) for i, k in enumerate(["ANNA2345", "ANNB2345", "ANNC2345"]))
    with_b = render_annotations(annotation_views(paper(pdf("PDFA2345", a, b, c))))
    without_b = render_annotations(annotation_views(paper(pdf("PDFA2345", a, c))))
    start, end = unit_span(with_b, "ANNB2345")
    # deleting B removes exactly its callout and the one blank line before the next callout
    assert with_b[:start] + with_b[end + 1 :] == without_b
    assert re.search(r"\^ANNA2345\n\n> \[!", without_b)
