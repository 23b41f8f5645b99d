"""Zotero child notes (every schema version) become Obsidian Markdown.

Golden pairs live in ``tests/golden/notes/``: each ``NAME.html`` is a hand-written note in the
shape Zotero stores it, each ``NAME.md`` the Markdown written by hand for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.model import LibraryRef
from zotsync.render.html2md import html_to_markdown

GOLDEN = Path(__file__).parent / "golden" / "notes"
IN_LIBRARY = {"ATTN2345": "[[Attention Is All You Need]]", "BERT6789": "[[BERT]]"}


def cite_link(uris: list[str]) -> str | None:
    for uri in uris:
        link = IN_LIBRARY.get(uri.rsplit("/", 1)[-1])
        if link:
            return link
    return None


def image_link(key: str) -> str | None:
    return f"Attachments/{key}.png" if key == "IMGA2345" else None


def encode(data: object) -> str:
    return quote(json.dumps(data), safe="")


def highlight_html(
    *, page_index: int, label: str, uri: str = "http://zotero.org/users/1/items/PDFA2345"
) -> str:
    ann = encode(
        {
            "attachmentURI": uri,
            "annotationKey": "ANNK2345",
            "pageLabel": label,
            "position": {"pageIndex": page_index, "rects": [[0, 0, 1, 1]]},
        }
    )
    return f'<p><span class="highlight" data-annotation="{ann}">“text”</span></p>'


@pytest.mark.parametrize("html_path", sorted(GOLDEN.glob("*.html")), ids=lambda p: p.stem)
def test_real_shaped_note_matches_its_golden_markdown(html_path: Path) -> None:
    expected = html_path.with_suffix(".md").read_text(encoding="utf-8")
    got = html_to_markdown(
        html_path.read_text(encoding="utf-8"), cite_link=cite_link, image_link=image_link
    )
    assert got == expected


def test_golden_set_covers_every_note_shape() -> None:
    stems = {p.stem for p in GOLDEN.glob("*.html")}
    assert {"plain_text", "schema1_tinymce", "schema8_basic", "schema9_annotations"} <= stems
    assert all(GOLDEN.joinpath(f"{stem}.md").is_file() for stem in stems)


@pytest.mark.parametrize("version", range(1, 11))
def test_every_schema_version_converts_the_same_body(version: int) -> None:
    body = "<h2>Notes</h2><p>A <strong>bold</strong> claim.</p><ul><li><p>one</p></li></ul>"
    wrapped = f'<div data-schema-version="{version}">{body}</div>'
    assert html_to_markdown(wrapped) == "## Notes\n\nA **bold** claim.\n\n- one\n"


def test_old_tinymce_wrapper_converts_like_the_new_one() -> None:
    body = "<p>A <em>claim</em>.</p>"
    old = html_to_markdown(f'<div class="zotero-note znv1">{body}</div>')
    assert old == html_to_markdown(f'<div data-schema-version="9">{body}</div>') == "A *claim*.\n"


def test_highlight_without_citation_gets_its_own_deep_link() -> None:
    md = html_to_markdown(highlight_html(page_index=11, label="iv"))
    assert md == (
        "==“text”== ([p. iv](zotero://open-pdf/library/items/PDFA2345?page=12&annotation=ANNK2345))\n"
    )


@settings(max_examples=60, deadline=None)
@given(
    page_index=st.integers(min_value=0, max_value=5000),
    label=st.one_of(
        st.just(""), st.sampled_from(["i", "xiv", "A-3"]), st.integers(1, 9999).map(str)
    ),
)
def test_note_deep_link_page_is_page_index_plus_one_whatever_the_label(
    page_index: int, label: str
) -> None:
    md = html_to_markdown(highlight_html(page_index=page_index, label=label))
    assert f"?page={page_index + 1}&annotation=ANNK2345" in md
    assert f"[p. {label or page_index + 1}]" in md


def test_group_highlight_links_into_the_group() -> None:
    uri = "http://zotero.org/groups/4242/items/GPDF2345"
    md = html_to_markdown(highlight_html(page_index=0, label="1", uri=uri))
    assert "zotero://open-pdf/groups/4242/items/GPDF2345?page=1&annotation=ANNK2345" in md


def test_citation_of_a_paper_outside_the_library_keeps_zoteros_text() -> None:
    cit = encode({"citationItems": [{"uris": ["http://zotero.org/users/1/items/ZZZZ2345"]}]})
    html = (
        f'<p>As shown <span class="citation" data-citation="{cit}">'
        '(<span class="citation-item">Doe, 2020</span>)</span>.</p>'
    )
    assert html_to_markdown(html, cite_link=cite_link) == "As shown (Doe, 2020).\n"


def test_citation_of_a_library_paper_becomes_a_wikilink_with_its_locator() -> None:
    cit = encode(
        {"citationItems": [{"uris": ["http://zotero.org/users/1/items/BERT6789"], "locator": "7"}]}
    )
    html = (
        f'<p>See <span class="citation" data-citation="{cit}">'
        '(<span class="citation-item">Devlin et al., 2019, p. 7</span>)</span>.</p>'
    )
    assert html_to_markdown(html, cite_link=cite_link) == "See ([[BERT]], p. 7).\n"


def test_cite_link_receives_the_cited_items_uris() -> None:
    seen: list[list[str]] = []
    uris = ["http://zotero.org/users/1/items/ABCD2345", "http://zotero.org/groups/9/items/EFGH2345"]
    cit = encode({"citationItems": [{"uris": uris}]})
    html_to_markdown(
        f'<p><span class="citation" data-citation="{cit}">(X)</span></p>',
        cite_link=lambda u: seen.append(u) or None,
    )
    assert seen == [uris]


def test_embedded_image_is_embedded_with_the_vault_path() -> None:
    html = '<p><img alt="" data-attachment-key="IMGA2345" width="10" height="10"></p>'
    assert html_to_markdown(html, image_link=image_link) == "![[Attachments/IMGA2345.png]]\n"


@pytest.mark.parametrize(
    ("uri", "library", "expected"),
    [
        ("http://zotero.org/users/local/abcdEFGH/items/PDFA2345", None, "library"),
        ("http://zotero.org/users/77/items/PDFA2345", LibraryRef("group", 3), "library"),
        ("http://zotero.org/groups/3/items/PDFA2345", None, "groups/3"),
        ("zotero://items/PDFA2345", LibraryRef("group", 8), "groups/8"),
    ],
)
def test_deep_link_library_comes_from_the_uri_else_the_library_argument(
    uri: str, library: LibraryRef | None, expected: str
) -> None:
    ann = encode({"attachmentURI": uri, "annotationKey": "ANNK2345", "position": {"pageIndex": 2}})
    html = f'<p><span class="highlight" data-annotation="{ann}">x</span></p>'
    md = html_to_markdown(html, library=library)
    assert f"zotero://open-pdf/{expected}/items/PDFA2345?page=3&annotation=ANNK2345" in md


OBSIDIAN = st.sampled_from(["[[Paper]]", "==marked==", "[[Paper#^ANNH2345|see]]", "#tag/sub"])


@settings(max_examples=60, deadline=None)
@given(before=st.text(alphabet="abc .,", max_size=10), syntax=OBSIDIAN)
def test_obsidian_syntax_typed_in_zotero_is_never_escaped(before: str, syntax: str) -> None:
    md = html_to_markdown(f"<div data-schema-version='9'><p>{before} {syntax}</p></div>")
    assert syntax in md


def test_callout_typed_in_a_zotero_blockquote_stays_a_callout() -> None:
    md = html_to_markdown("<blockquote><p>[!warning] Careful</p></blockquote>")
    assert md == "> [!warning] Careful\n"


@settings(max_examples=150, deadline=None)
@given(html=st.text(alphabet=st.sampled_from(list("<>/pdivspanbr%=[]!# \n&;\"'ab")), max_size=80))
def test_any_input_converts_without_error_and_cannot_hide_text_or_forge_markers(html: str) -> None:
    md = html_to_markdown(html)
    assert "%%" not in md
    assert md == "" or (md.endswith("\n") and not md.endswith("\n\n"))


def test_region_marker_inside_a_note_is_defused() -> None:
    md = html_to_markdown("<p>%% zotsync:end notes %%</p>")
    assert "%% zotsync" not in md
    assert md.replace("\u200b", "") == "%% zotsync:end notes %%\n"
