"""Attachment links in the header: reader links, file links, linked files and URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from zotsync.model import Attachment, Item, LibraryRef
from zotsync.render.attachments import AttachmentLink, attachment_links, linked_file_uri
from zotsync.testing.sample_library import sample_library


def item_with(*attachments: Attachment, library: LibraryRef | None = None) -> Item:
    return Item(
        "ITEM2345", "journalArticle", attachments=list(attachments), library=library or LibraryRef()
    )


def test_stored_pdf_gets_a_reader_link_and_a_file_link(tmp_path: Path) -> None:
    att = Attachment(
        "PDFA2345",
        "Full Text PDF",
        "imported_file",
        "application/pdf",
        "storage:Doe - 2020 - A B.pdf",
    )
    [link] = attachment_links(item_with(att), data_dir=tmp_path, base_dir=None)
    assert link.kind == "pdf"
    assert link.open_url == "zotero://open-pdf/library/items/PDFA2345"
    assert link.file_url == (tmp_path / "storage" / "PDFA2345" / "Doe - 2020 - A B.pdf").as_uri()
    assert link.file_url is not None and "%20" in link.file_url


def test_group_library_links_name_the_group(tmp_path: Path) -> None:
    att = Attachment("EPUB2345", "Book", "imported_file", "application/epub+zip", "storage:b.epub")
    [link] = attachment_links(
        item_with(att, library=LibraryRef("group", 4711)), data_dir=None, base_dir=None
    )
    assert (link.kind, link.open_url, link.file_url) == (
        "epub",
        "zotero://open-pdf/groups/4711/items/EPUB2345",
        None,
    )


def test_snapshot_is_opened_in_the_reader(tmp_path: Path) -> None:
    att = Attachment("SNAP2345", "Snapshot", "imported_url", "text/html", "storage:index.html")
    [link] = attachment_links(item_with(att), data_dir=tmp_path, base_dir=None)
    assert link.kind == "snapshot"
    assert link.open_url == "zotero://open-pdf/library/items/SNAP2345"
    assert link.file_url == (tmp_path / "storage" / "SNAP2345" / "index.html").as_uri()


def test_linked_file_relative_to_the_base_directory(tmp_path: Path) -> None:
    att = Attachment(
        "LNKF2345", "Paper", "linked_file", "application/pdf", "attachments:papers/Doe 2020.pdf"
    )
    [link] = attachment_links(item_with(att), data_dir=None, base_dir=tmp_path)
    assert link.file_url == (tmp_path / "papers" / "Doe 2020.pdf").as_uri()
    assert link.open_url == "zotero://open-pdf/library/items/LNKF2345"


def test_linked_file_relative_without_base_directory_has_no_file_link() -> None:
    att = Attachment("LNKF2345", "Paper", "linked_file", "application/pdf", "attachments:x.pdf")
    [link] = attachment_links(item_with(att), data_dir=None, base_dir=None)
    assert link.file_url is None


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("/home/ada/papers/a b.pdf", "file:///home/ada/papers/a%20b.pdf"),
        ("C:\\Users\\Ada\\papers\\a.pdf", "file:///C:/Users/Ada/papers/a.pdf"),
        ("AAAAAAFoAAIAAAxNYWNpbnRvc2ggSEQ", None),
        ("relative/without/prefix.pdf", None),
    ],
)
def test_absolute_linked_paths_on_any_platform(path: str, uri: str | None) -> None:
    assert linked_file_uri(path, None) == uri


def test_windows_style_relative_path_under_base_directory(tmp_path: Path) -> None:
    assert (
        linked_file_uri("attachments:sub\\a.pdf", tmp_path) == (tmp_path / "sub" / "a.pdf").as_uri()
    )


def test_linked_url_links_to_the_url_and_other_files_only_by_file() -> None:
    url = Attachment(
        "LINK2345", "arXiv page", "linked_url", "text/html", url="https://arxiv.org/abs/1"
    )
    docx = Attachment("DOCX2345", "Draft", "imported_file", "application/msword", "storage:d.docx")
    image = Attachment("IMGE2345", "", "embedded_image", "image/png", "storage:image.png")
    links = attachment_links(item_with(url, docx, image), data_dir=Path("/zot"), base_dir=None)
    assert links == [
        AttachmentLink("arXiv page", "url", "https://arxiv.org/abs/1", None),
        AttachmentLink("Draft", "file", None, "file:///zot/storage/DOCX2345/d.docx"),
    ]


def test_sample_library_attachments_in_item_order(tmp_path: Path) -> None:
    attention = sample_library().items[0]
    links = attachment_links(attention, data_dir=tmp_path, base_dir=None)
    assert [link.kind for link in links] == ["pdf", "url"]
    assert (
        links[0]
        .markdown()
        .startswith("[Full Text PDF](zotero://open-pdf/library/items/PDFA2345) ([file](file://")
    )
    assert links[1].markdown() == "[arXiv abstract page](https://arxiv.org/abs/1706.03762)"
