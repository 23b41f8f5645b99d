"""The bundled demo library and its recorded references are coherent and read back faithfully.

``zotsync demo`` is the first thing a new user sees, so these tests hold the data to what a real
Zotero library would look like (valid keys, mirrored relations, annotation positions) and the
recorded Semantic Scholar answer to what the reference resolver needs offline (ids that really
point at the library paper they name, enough in-library links to make a graph).
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.source_contract import MakeSource, SourceContract

from zotsync.errors import SourceUnavailable
from zotsync.model import Creator, Item, Library, LibraryRef, Tag, with_base_fields
from zotsync.sources import Source
from zotsync.sources.demo import (
    DemoSource,
    demo_data_file,
    library_from_demo_json,
    load_demo_references,
)
from zotsync.testing.demo_json import library_to_demo_json
from zotsync.testing.sample_library import sample_library

KEY_RE = re.compile(r"^[23456789ABCDEFGHIJKLMNPQRSTUVWXYZ]{8}$")
SORT_INDEX_PDF = re.compile(r"^(\d{5})\|(\d{6})\|(\d{5})$")
PALETTE = {"#ffd400", "#ff6666", "#5fb236", "#2ea8e5", "#a28ae5", "#e56eee", "#f19837", "#aaaaaa"}


@pytest.fixture(scope="module")
def library() -> Library:
    return DemoSource().read()


@pytest.fixture(scope="module")
def references() -> list[dict[str, Any]]:
    return load_demo_references()


def _norm_title(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).casefold()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _arxiv_id(item: Item) -> str | None:
    archive = item.fields.get("archiveID", "")
    if archive.startswith("arXiv:"):
        return archive.removeprefix("arXiv:")
    match = re.search(r"^arXiv:\s*(\S+)\s*$", item.fields.get("extra", ""), re.MULTILINE)
    return match.group(1) if match else None


class _Index:
    """Library items by arXiv id, DOI (case-insensitive) and normalised title + year."""

    def __init__(self, library: Library) -> None:
        self.by_arxiv = {a: it for it in library.items if (a := _arxiv_id(it))}
        self.by_doi = {it.fields["DOI"].lower(): it for it in library.items if "DOI" in it.fields}
        self.by_title = {(_norm_title(it.title), it.year): it for it in library.items}

    def by_ids(self, ext: dict[str, str] | None) -> Item | None:
        ext = ext or {}
        if "ArXiv" in ext and ext["ArXiv"] in self.by_arxiv:
            return self.by_arxiv[ext["ArXiv"]]
        if "DOI" in ext:
            return self.by_doi.get(ext["DOI"].lower())
        return None

    def match(self, entry: dict[str, Any]) -> Item | None:
        found = self.by_ids(entry.get("externalIds"))
        return found or self.by_title.get((_norm_title(entry["title"]), entry.get("year")))


def _item_by_title(library: Library, title: str) -> Item:
    return next(it for it in library.items if it.title == title)


def _cited_titles(references: list[dict[str, Any]], library: Library, title: str) -> set[str]:
    index = _Index(library)
    entry = next(e for e in references if index.match(e) is _item_by_title(library, title))
    return {m.title for ref in entry["references"] if (m := index.match(ref))}


# --- the library -----------------------------------------------------------------------------


def test_demo_source_is_a_source_with_nothing_to_watch() -> None:
    source: Source = DemoSource()
    assert source.name == "demo"
    assert source.watch_paths() == []


def test_demo_library_has_about_forty_papers_in_the_local_user_library(library: Library) -> None:
    assert len(library.items) >= 38
    assert library.ref == LibraryRef("user", 0)
    assert all(it.library == LibraryRef("user", 0) for it in library.items)
    assert library.data_dir is None


def test_demo_includes_the_transformer_and_bert(library: Library) -> None:
    index = _Index(library)
    attention = index.by_arxiv["1706.03762"]
    bert = index.by_arxiv["1810.04805"]
    assert attention.title == "Attention Is All You Need"
    assert attention.citekey == "vaswani2017attention"
    assert (
        bert.title
        == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    )
    assert [c.last for c in attention.creators][:3] == ["Vaswani", "Shazeer", "Parmar"]


def test_every_key_is_a_valid_unique_zotero_key(library: Library) -> None:
    keys = [it.key for it in library.items] + list(library.collections)
    for it in library.items:
        keys += [n.key for n in it.notes]
        for att in it.attachments:
            keys += [att.key] + [a.key for a in att.annotations]
    bad = [k for k in keys if not KEY_RE.match(k)]
    assert bad == []
    assert len(keys) == len(set(keys))


def test_every_related_link_points_to_an_existing_item_and_is_mirrored(library: Library) -> None:
    by_key = {it.key: it for it in library.items}
    pairs = 0
    for it in library.items:
        for other in it.related_keys:
            assert other in by_key, f"{it.title} relates to missing {other}"
            assert it.key in by_key[other].related_keys, f"{it.title} -> {other} not mirrored"
            pairs += 1
    assert pairs >= 20


def test_items_sit_in_existing_nested_collections(library: Library) -> None:
    for it in library.items:
        assert set(it.collections) <= set(library.collections)
    paths = {" > ".join(library.collection_path(k)) for k in library.collections}
    assert {"Deep Learning > NLP", "Deep Learning > Vision", "Reinforcement Learning"} <= paths
    assert "Deep Learning > NLP > Large Language Models" in paths


def test_every_paper_has_metadata_a_citekey_and_a_one_line_summary(library: Library) -> None:
    citekeys = [it.citekey for it in library.items]
    assert all(re.fullmatch(r"[a-z]+\d{4}[a-z]+", c) for c in citekeys), citekeys
    assert len(set(citekeys)) == len(citekeys)
    for it in library.items:
        assert it.item_type in {"preprint", "conferencePaper", "journalArticle", "report"}
        assert 1 <= len(it.creators) <= 8
        assert it.year is not None and 1990 <= it.year <= 2026
        abstract = it.fields["abstractNote"]
        assert len(abstract) <= 200 and "\n" not in abstract, it.title
        assert it.tags, it.title


def test_papers_carry_an_arxiv_id_or_a_doi_the_resolver_can_use(library: Library) -> None:
    for it in library.items:
        arxiv = _arxiv_id(it)
        if it.item_type == "preprint":
            assert arxiv and it.fields["DOI"] == f"10.48550/arXiv.{arxiv}"
            assert it.fields["url"] == f"https://arxiv.org/abs/{arxiv}"
            assert it.fields["publisher"] == "arXiv"  # base field of ``repository``
        elif it.item_type in {"conferencePaper", "journalArticle"}:
            assert it.fields.get("publicationTitle"), it.title
    with_ids = [it for it in library.items if _arxiv_id(it) or "DOI" in it.fields]
    assert len(with_ids) >= len(library.items) - 5


def test_dates_added_spread_over_2024_to_2026(library: Library) -> None:
    years = {it.date_added[:4] for it in library.items}
    assert years == {"2024", "2025", "2026"}
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", it.date_added) for it in library.items
    )


def test_reading_status_is_seeded_by_tags_and_the_extra_line(library: Library) -> None:
    tags = [t.name for it in library.items for t in it.tags]
    assert {"to-read", "read", "reading"} <= set(tags)
    read_status = [it for it in library.items if "Read_Status: Read" in it.fields.get("extra", "")]
    assert 1 <= len(read_status) <= 2
    assert any(t.auto for it in library.items for t in it.tags)


def test_annotations_have_a_page_index_and_a_valid_sort_index(library: Library) -> None:
    annotated = [it for it in library.items if any(a.annotations for a in it.attachments)]
    assert 3 <= len(annotated) <= 4
    labels_differ = False
    for it in annotated:
        pdf = it.attachments[0]
        assert pdf.link_mode == "imported_file" and pdf.path.startswith("storage:")
        assert pdf.filename.endswith(".pdf")
        assert 3 <= len(pdf.annotations) <= 6
        assert [a.sort_index for a in pdf.annotations] == sorted(
            a.sort_index for a in pdf.annotations
        )
        for ann in pdf.annotations:
            match = SORT_INDEX_PDF.match(ann.sort_index)
            assert match, ann.sort_index
            assert ann.page_index is not None and int(match.group(1)) == ann.page_index
            assert ann.position["rects"]
            assert ann.color in PALETTE
            assert (ann.text != "") == (ann.type in {"highlight", "underline"})
            assert len(ann.text.split()) <= 5  # short phrases, not quotes
            labels_differ |= ann.page_label != str(ann.page_index + 1)
    assert labels_differ
    kinds = {a.type for it in annotated for a in it.attachments[0].annotations}
    assert {"highlight", "underline", "note", "image"} <= kinds


def test_child_note_highlight_and_citation_point_into_the_library(library: Library) -> None:
    notes = [(it, n) for it in library.items for n in it.notes]
    assert 2 <= len({it.key for it, _ in notes}) <= 3
    assert all(n.html.startswith("<div ") and 'data-schema-version="9"' in n.html for _, n in notes)
    annotation_keys = {
        a.key for it in library.items for att in it.attachments for a in att.annotations
    }
    item_keys = {it.key for it in library.items}
    highlight = re.search(
        r'<span class="highlight" data-annotation="([^"]+)">', "".join(n.html for _, n in notes)
    )
    citation = re.search(
        r'<span class="citation" data-citation="([^"]+)">', "".join(n.html for _, n in notes)
    )
    assert highlight and citation
    ann = json.loads(unquote(highlight.group(1)))
    assert ann["annotationKey"] in annotation_keys
    assert isinstance(ann["position"]["pageIndex"], int)
    cit = json.loads(unquote(citation.group(1)))
    uri = cit["citationItems"][0]["uris"][0]
    assert uri.rsplit("/", 1)[-1] in item_keys


def test_reading_twice_gives_equal_but_independent_libraries() -> None:
    first, second = DemoSource().read(), DemoSource().read()
    assert first == second
    first.items[0].tags.clear()
    first.items[0].fields["title"] = "changed"
    assert DemoSource().read() == second


# --- the recorded references -----------------------------------------------------------------


def test_reference_lists_are_complete_so_the_demo_stays_offline(
    references: list[dict[str, Any]],
) -> None:
    assert len(references) >= 25
    for entry in references:
        assert re.fullmatch(r"[0-9a-f]{40}", entry["paperId"])
        assert entry["referenceCount"] == len(entry["references"])
        for ref in entry["references"]:
            assert ref["paperId"] is None or re.fullmatch(r"[0-9a-f]{40}", ref["paperId"])


def test_every_recorded_paper_is_a_demo_paper(
    library: Library, references: list[dict[str, Any]]
) -> None:
    index = _Index(library)
    matched = [index.match(e) for e in references]
    assert None not in matched
    assert len({m.key for m in matched if m}) == len(references)


def test_reference_ids_that_hit_a_library_item_name_that_same_paper(
    library: Library, references: list[dict[str, Any]]
) -> None:
    index = _Index(library)
    checked = 0
    for entry in [*references, *(r for e in references for r in e["references"])]:
        item = index.by_ids(entry.get("externalIds"))
        if item is not None:
            assert _norm_title(entry["title"]) == _norm_title(item.title), entry["title"]
            assert entry["year"] == item.year, entry["title"]
            checked += 1
    assert checked >= 40


def test_one_reference_is_unmatched_with_only_a_title(references: list[dict[str, Any]]) -> None:
    unmatched = [r for e in references for r in e["references"] if r["paperId"] is None]
    assert unmatched
    assert all(r["title"] and not r.get("externalIds") for r in unmatched)


def test_bert_cites_the_transformer(library: Library, references: list[dict[str, Any]]) -> None:
    bert = "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert "Attention Is All You Need" in _cited_titles(references, library, bert)


@pytest.mark.parametrize(
    ("citing", "cited"),
    [
        ("Language Models are Unsupervised Multitask Learners", "Attention Is All You Need"),
        (
            "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
            "Attention Is All You Need",
        ),
        (
            "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
            "Deep Residual Learning for Image Recognition",
        ),
        (
            "RoBERTa: A Robustly Optimized BERT Pretraining Approach",
            "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        ),
        (
            "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
            "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        ),
        (
            "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
            "Attention Is All You Need",
        ),
        (
            "Deep Residual Learning for Image Recognition",
            "Very Deep Convolutional Networks for Large-Scale Image Recognition",
        ),
        (
            "Deep Residual Learning for Image Recognition",
            "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift",
        ),
    ],
)
def test_landmark_citations_become_wikilinks(
    library: Library, references: list[dict[str, Any]], citing: str, cited: str
) -> None:
    assert cited in _cited_titles(references, library, citing)


def test_references_make_a_linked_graph(library: Library, references: list[dict[str, Any]]) -> None:
    index = _Index(library)
    links = [(e, r) for e in references for r in e["references"] if index.match(r)]
    outside = [r for e in references for r in e["references"] if not index.match(r)]
    assert len(links) >= 15
    assert len(outside) >= 10  # shown by title with a DOI/arXiv link
    cited = {index.match(r).key for _, r in links}  # type: ignore[union-attr]
    assert len(cited) >= 15  # many notes get a cited-by backlink
    title_only = [r for _, r in links if not index.by_ids(r.get("externalIds"))]
    assert title_only  # some must be matched by title + year (no ids at S2)


# --- parsing the format ----------------------------------------------------------------------


def _doc(**item: Any) -> dict[str, Any]:
    base = {"key": "ABCD2345", "itemType": "bookSection", "fields": {"title": "T"}}
    return {"format": "zotsync-demo/1", "library": {"version": 7}, "items": [{**base, **item}]}


def test_compact_creators_tags_and_relations_read_like_zotero_json() -> None:
    lib = library_from_demo_json(
        _doc(
            fields={"title": "Intro", "bookTitle": "The Book", "extra": "x\nCitation Key: doe2020"},
            creators=[
                "Doe, Jane",
                "ACME Consortium",
                {"name": "OpenAI", "creatorType": "contributor"},
                {"creatorType": "editor", "lastName": "Roe", "firstName": "Rick"},
            ],
            tags=["ml", {"tag": "auto", "type": 1}],
            relations={"dc:relation": "http://zotero.org/users/local/abc/items/EFGH6789"},
        )
    )
    item = lib.items[0]
    assert lib.version == 7
    assert item.fields["publicationTitle"] == "The Book"
    assert item.citekey == "doe2020"
    assert [(c.name, c.creator_type, c.single) for c in item.creators] == [
        ("Jane Doe", "author", False),
        ("ACME Consortium", "author", True),
        ("OpenAI", "contributor", True),
        ("Rick Roe", "editor", False),
    ]
    assert [(t.name, t.auto) for t in item.tags] == [("ml", False), ("auto", True)]
    assert item.related_keys == ["EFGH6789"]


@pytest.mark.parametrize(
    "document",
    [
        {"format": "something-else", "items": []},
        {"format": "zotsync-demo/1"},
        {"format": "zotsync-demo/1", "items": [{"key": "ABCD2345"}]},
        [],
    ],
)
def test_a_damaged_demo_file_is_reported_not_crashed_on(document: Any) -> None:
    with pytest.raises(SourceUnavailable) as err:
        library_from_demo_json(document)
    assert err.value.fix


def test_demo_source_can_read_another_file_in_the_same_format(tmp_path: Path) -> None:
    path = tmp_path / "lib.json"
    path.write_text(json.dumps(_doc()), encoding="utf-8")
    assert [it.key for it in DemoSource(path).read().items] == ["ABCD2345"]
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SourceUnavailable):
        DemoSource(path).read()


def test_packaged_files_are_plain_utf8_json() -> None:
    for name in ("demo_library.json", "demo_references.json"):
        raw = demo_data_file(name).read_bytes()
        assert json.loads(raw.decode("utf-8"))
        assert b"\r" not in raw


@pytest.mark.parametrize("ref", [None, LibraryRef("group", 4711), LibraryRef("user", 0)])
def test_the_contract_sample_library_survives_a_trip_through_the_demo_format(
    tmp_path: Path, ref: LibraryRef | None
) -> None:
    expected = sample_library(ref)
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(library_to_demo_json(expected)), encoding="utf-8")
    assert DemoSource(path).read() == sample_library(ref)


def test_the_bundled_library_survives_a_trip_through_the_writer(library: Library) -> None:
    assert library_from_demo_json(library_to_demo_json(library)) == library


_text = st.text(st.characters(codec="utf-8"), max_size=12)
_creators = st.builds(
    Creator,
    last=_text.filter(bool),
    first=_text,
    creator_type=st.sampled_from(["author", "editor", "contributor"]),
    single=st.booleans(),
).map(lambda c: Creator(c.last, "", c.creator_type, True) if c.single else c)


@settings(max_examples=60, deadline=None)
@given(
    item_type=st.sampled_from(["preprint", "conferencePaper", "bookSection", "report"]),
    fields=st.dictionaries(st.sampled_from(["title", "date", "extra", "archiveID"]), _text),
    creators=st.lists(_creators, max_size=4),
    tags=st.lists(st.builds(Tag, _text.filter(bool), st.booleans()), max_size=3),
    citekey=_text,
)
@example(
    item_type="preprint", fields={"extra": "Citation Key: k"}, creators=[], tags=[], citekey=""
)
@example(
    item_type="preprint", fields={"extra": "Citation Key: k"}, creators=[], tags=[], citekey="j"
)
def test_any_item_reads_back_as_written(
    item_type: str, fields: dict[str, str], creators: list[Creator], tags: list[Tag], citekey: str
) -> None:
    item = Item(
        key="ABCD2345",
        item_type=item_type,
        fields=with_base_fields(item_type, fields),
        creators=creators,
        tags=tags,
        citekey=citekey,
    )
    lib = Library(ref=LibraryRef("user", 0), items=[item], version=None)
    assert library_from_demo_json(json.loads(json.dumps(library_to_demo_json(lib)))) == lib


class TestDemoSourceContract(SourceContract):
    """The shared source contract: the sample library, written in the demo format, reads back.

    The demo format has no trash, so the trashed fixture item is simply not written.
    """

    @pytest.fixture
    def make_source(self) -> MakeSource:
        def make(library: Library, tmp_path: Path) -> Source:
            path = tmp_path / "demo_library.json"
            path.write_text(json.dumps(library_to_demo_json(library)), encoding="utf-8")
            return DemoSource(path)

        return make
