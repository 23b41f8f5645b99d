"""Standalone attachments (a PDF, EPUB or snapshot without a parent item) are papers.

Through the CLI on ``zotero.sqlite`` files built by the fixture builder: each such file gets a
note with its annotations, an open link and ``item-type: attachment``, takes part in indexes,
and becomes its parent's note — not a duplicate — after Zotero's "Create Parent Item".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import Result
from conftest import USER, paper, tree

from zotsync.model import Annotation, Attachment, Item, Library, Tag
from zotsync.sources.bbt_json import library_from_bbt
from zotsync.sources.standalone import prepare
from zotsync.sources.zotero_json import library_from_objects
from zotsync.sources.zotero_json_out import library_to_objects
from zotsync.testing.bbt_export import bbt_export

ADDED = "2024-02-01T10:00:00Z"


def highlight() -> Annotation:
    return Annotation(
        "ANNK2345",
        "highlight",
        text="the loss scales as a power law",
        comment="key result",
        page_label="3",
        sort_index="00002|000100|00200",
        position={"pageIndex": 2, "rects": [[10.0, 20.0, 30.0, 40.0]]},
        date_added=ADDED,
        date_modified=ADDED,
    )


def pdf_attachment() -> Attachment:
    return Attachment(
        "PDFS2345",
        title="Scaling Laws for Neural LMs",
        content_type="application/pdf",
        path="storage:kaplan2020.pdf",
        annotations=[highlight()],
        date_added=ADDED,
    )


def standalone(att: Attachment, tags: tuple[str, ...] = ()) -> Item:
    return Item(
        att.key,
        "attachment",
        attachments=[att],
        tags=[Tag(t) for t in tags],
        date_added=ADDED,
        date_modified=ADDED,
        version=2,
        library=USER,
    )


def library_before() -> Library:
    epub = Attachment(
        "EPUB2345", content_type="application/epub+zip", path="storage:Deep Work.epub",
        date_added=ADDED,
    )  # fmt: skip
    docx = Attachment(
        "DOCX2345", title="Draft", content_type="application/msword", path="storage:d.docx",
        date_added=ADDED,
    )  # fmt: skip
    link = Attachment(
        "LINK2345", title="A web page", link_mode="linked_url", url="https://example.org",
        date_added=ADDED,
    )  # fmt: skip
    return Library(
        ref=USER,
        items=[
            paper("REGU2345", "A Regular Paper", year=2019),
            standalone(pdf_attachment(), tags=("scaling",)),
            standalone(epub),
            standalone(docx),
            standalone(link),
        ],
    )


def library_after_create_parent() -> Library:
    """Zotero's "Create Parent Item": a new regular item, the PDF now its child."""
    parent = paper("PARE2345", "Scaling Laws for Neural Language Models", year=2020)
    parent.attachments = [pdf_attachment()]
    parent.tags = [Tag("scaling")]
    before = library_before()
    items = [i for i in before.items if i.key != "PDFS2345"] + [parent]
    return Library(ref=USER, items=items)


def frontmatter(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text("utf-8").split("\n---\n", 1)[0].removeprefix("---\n"))
    assert isinstance(data, dict)
    return data


def papers(vault: Path) -> list[str]:
    return sorted(p.name for p in (vault / "Papers").glob("*.md"))


def test_standalone_pdfs_and_epubs_get_notes_with_annotations(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    db = make_db(library_before())
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 3
    assert papers(vault) == [
        "A Regular Paper.md",
        "Deep Work.epub.md",
        "Scaling Laws for Neural LMs.md",
    ]  # the .docx and the linked URL are not papers
    note = vault / "Papers" / "Scaling Laws for Neural LMs.md"
    fm = frontmatter(note)
    assert fm["item-type"] == "attachment" and fm["zotero-key"] == "PDFS2345"
    assert fm["tags"] == ["scaling"]
    text = note.read_text("utf-8")
    assert "the loss scales as a power law" in text and "key result" in text
    assert "zotero://open-pdf/library/items/PDFS2345?page=3&annotation=ANNK2345" in text
    assert "[Scaling Laws for Neural LMs](zotero://open-pdf/library/items/PDFS2345)" in text
    assert frontmatter(vault / "Papers" / "Deep Work.epub.md")["title"] == "Deep Work.epub"
    assert "item-type" not in frontmatter(vault / "Papers" / "A Regular Paper.md")
    assert "[[Scaling Laws for Neural LMs]]" in (vault / "Papers.md").read_text("utf-8")
    assert "[[Scaling Laws for Neural LMs]]" in (vault / "Tags" / "scaling.md").read_text("utf-8")
    before = tree(vault)
    assert run_cli("sync", "--vault", vault).exit_code == 0
    assert tree(vault) == before


def test_standalone_false_turns_them_off(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    config = vault / "zotsync.yaml"
    config.write_text(config.read_text("utf-8") + "standalone: false\n", encoding="utf-8")
    db = make_db(library_before())
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--json")
    assert result.exit_code == 0, result.output
    assert papers(vault) == ["A Regular Paper.md"]


def test_create_parent_item_turns_the_note_into_the_parents_note(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    assert (
        run_cli("sync", "--vault", vault, "--zotero-db", make_db(library_before())).exit_code == 0
    )
    old = vault / "Papers" / "Scaling Laws for Neural LMs.md"
    old.write_text(old.read_text("utf-8") + "My reading notes on scaling.\n", encoding="utf-8")
    elsewhere = vault / "Reading log.md"
    elsewhere.write_text("Read [[Scaling Laws for Neural LMs]] today.\n", encoding="utf-8")

    db = make_db(library_after_create_parent())
    dry = run_cli("sync", "--vault", vault, "--zotero-db", db, "--dry-run", "--json")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["created"] == 0
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["trashed"], summary["renamed"]) == (0, 0, 1)
    assert papers(vault) == [
        "A Regular Paper.md",
        "Deep Work.epub.md",
        "Scaling Laws for Neural Language Models.md",
    ]
    note = vault / "Papers" / "Scaling Laws for Neural Language Models.md"
    fm = frontmatter(note)
    assert fm["zotero-key"] == "PARE2345" and "item-type" not in fm
    text = note.read_text("utf-8")
    assert text.endswith("My reading notes on scaling.\n")
    assert "the loss scales as a power law" in text  # the PDF's annotations stay
    assert elsewhere.read_text("utf-8") == (
        "Read [[Scaling Laws for Neural Language Models]] today.\n"
    )
    before = tree(vault)
    again = run_cli("sync", "--vault", vault, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["created"] == 0
    assert tree(vault) == before


def test_web_and_local_json_read_standalone_attachments_with_annotations() -> None:
    for style in ("web", "local"):
        items, colls = library_to_objects(library_before(), style=style)
        library = library_from_objects(items, colls, ref=USER)
        by_key = {i.key: i for i in library.items}
        pdf = by_key["PDFS2345"]
        assert pdf.item_type == "attachment" and [t.name for t in pdf.tags] == ["scaling"]
        assert [a.key for a in pdf.attachments] == ["PDFS2345"]
        assert [a.text for a in pdf.attachments[0].annotations] == [highlight().text]
        after, colls = library_to_objects(library_after_create_parent(), style=style)
        parent = {i.key: i for i in library_from_objects(after, colls, ref=USER).items}
        assert "PDFS2345" not in parent and parent["PARE2345"].attachments[0].key == "PDFS2345"


def test_bbt_json_reads_standalone_files_without_annotations() -> None:
    library = prepare(library_from_bbt(bbt_export(library_before())), standalone=True)
    by_key = {i.key: i for i in library.items}
    assert sorted(by_key) == ["EPUB2345", "PDFS2345", "REGU2345"]
    assert by_key["PDFS2345"].fields["title"] == "Scaling Laws for Neural LMs"
    assert by_key["EPUB2345"].fields["title"] == "Deep Work.epub"
    assert [a.filename for a in by_key["PDFS2345"].attachments] == ["kaplan2020.pdf"]
