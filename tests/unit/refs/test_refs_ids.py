"""Identifiers: every spelling of a DOI or arXiv id users and services produce folds to one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.model import Item, with_base_fields
from zotsync.refs.ids import (
    PaperIds,
    ids_from_external,
    item_ids,
    normalize_arxiv,
    normalize_doi,
    normalize_title,
)
from zotsync.testing.sample_library import sample_library

SETTINGS = settings(max_examples=60, deadline=None)

doi_suffix = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/()"
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: s[-1] not in ".")
doi_st = st.builds(lambda reg, suf: f"10.{reg}/{suf}", st.integers(1000, 999999), doi_suffix)
new_arxiv = st.builds(
    lambda yy, mm, n, five: (
        f"{yy:02d}{mm:02d}.{n:05d}" if five else f"{yy:02d}{mm:02d}.{n % 10000:04d}"
    ),
    st.integers(7, 25),
    st.integers(1, 12),
    st.integers(0, 99999),
    st.booleans(),
)
old_arxiv = st.builds(
    lambda arch, n: f"{arch}/{n:07d}",
    st.sampled_from(["hep-th", "math", "cond-mat", "astro-ph", "cs", "quant-ph"]),
    st.integers(9100001, 9912999),
)
arxiv_st = st.one_of(new_arxiv, old_arxiv)


def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(text, flips, strict=True))


@st.composite
def spelled_doi(draw: st.DrawFn) -> tuple[str, str]:
    doi = draw(doi_st)
    prefix = draw(
        st.sampled_from(["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/", "  "])
    )
    return doi, prefix + random_case(draw, doi) + draw(st.sampled_from(["", " ", "."]))


@st.composite
def spelled_arxiv(draw: st.DrawFn) -> tuple[str, str]:
    ident = draw(arxiv_st)
    version = draw(st.sampled_from(["", "v1", "v2", "v13"]))
    form = draw(
        st.sampled_from(
            [
                "{i}{v}",
                "arXiv:{i}{v}",
                "ARXIV:{i}{v}",
                "arxiv: {i}{v}",
                "https://arxiv.org/abs/{i}{v}",
                "http://arxiv.org/pdf/{i}{v}.pdf",
                "https://arxiv.org/pdf/{i}{v}",
                "arxiv.org/abs/{i}{v}",
                "https://doi.org/10.48550/arXiv.{i}",
                "10.48550/ARXIV.{i}",
            ]
        )
    )
    return ident, form.format(i=ident, v=version)


@SETTINGS
@given(spelled_doi())
def test_every_spelling_of_a_doi_normalizes_to_the_lowercase_doi(case: tuple[str, str]) -> None:
    doi, spelled = case
    assert normalize_doi(spelled) == doi.lower()


@SETTINGS
@given(spelled_arxiv())
def test_every_spelling_of_an_arxiv_id_normalizes_to_the_versionless_id(
    case: tuple[str, str],
) -> None:
    ident, spelled = case
    assert normalize_arxiv(spelled) == ident.lower()


@SETTINGS
@given(st.one_of(doi_st, arxiv_st, st.text(max_size=30)))
def test_normalizing_twice_changes_nothing(text: str) -> None:
    for fn in (normalize_doi, normalize_arxiv):
        once = fn(text)
        if once is not None:
            assert fn(once) == once


@pytest.mark.parametrize("text", ["", "not a doi", "11.1234/x", "10.12/short-registrant", "doi:"])
def test_non_dois_are_rejected(text: str) -> None:
    assert normalize_doi(text) is None


@pytest.mark.parametrize(
    "text", ["", "1706.037", "arXiv:", "https://example.org/abs/1706.03762", "10.1109/CVPR.2016.90"]
)
def test_non_arxiv_ids_are_rejected(text: str) -> None:
    assert normalize_arxiv(text) is None


def test_old_style_subject_class_is_dropped() -> None:
    assert normalize_arxiv("math.AG/0601001v2") == "math/0601001"
    assert normalize_arxiv("arXiv:hep-th/9901001") == "hep-th/9901001"


def test_doi_url_escapes_are_decoded() -> None:
    assert normalize_doi("https://doi.org/10.1002%2F%28SICI%291097") == "10.1002/(sici)1097"


def test_titles_fold_case_accents_and_punctuation() -> None:
    assert normalize_title("Attention Is All You Need!") == normalize_title(
        "attention is all you need"
    )
    assert normalize_title("Schrödinger’s  {Cat}: a Study") == "schrodinger s cat a study"
    assert normalize_title(None) == ""


def _item(**fields: str) -> Item:
    return Item(key="ITEM0001", item_type="preprint", fields=with_base_fields("preprint", fields))


def test_sample_library_items_yield_their_ids() -> None:
    by_key = {item.key: item_ids(item) for item in sample_library().items}
    assert by_key["ATTN2345"] == PaperIds(doi="10.48550/arxiv.1706.03762", arxiv="1706.03762")
    assert by_key["BERT6789"] == PaperIds(doi="10.18653/v1/n19-1423")
    assert by_key["RESN2345"] == PaperIds(doi="10.1109/cvpr.2016.90")
    assert by_key["REPT4567"].empty and by_key["BOOK3456"].empty


@pytest.mark.parametrize(
    "fields",
    [
        {"archiveID": "arXiv:1409.0473"},
        {"url": "https://arxiv.org/pdf/1409.0473v7.pdf"},
        {"extra": "Citation Key: x\narXiv: 1409.0473v2\nother: y"},
        {"extra": "arXiv:1409.0473 [cs, stat]"},
        {"repository": "arXiv", "archiveID": "1409.0473"},
        {"DOI": "10.48550/arXiv.1409.0473"},
    ],
)
def test_arxiv_id_is_found_in_every_place_zotero_keeps_it(fields: dict[str, str]) -> None:
    assert item_ids(_item(**fields)).arxiv == "1409.0473"


def test_doi_is_found_in_extra_and_doi_urls() -> None:
    assert item_ids(_item(extra="DOI: 10.1000/ABC")).doi == "10.1000/abc"
    assert item_ids(_item(url="https://doi.org/10.1000/ABC")).doi == "10.1000/abc"


def test_lookup_ids_prefer_arxiv_and_skip_the_redundant_arxiv_doi() -> None:
    assert PaperIds("10.48550/arxiv.1706.03762", "1706.03762").lookup_ids() == ["ARXIV:1706.03762"]
    both = PaperIds("10.18653/v1/n19-1423", "1810.04805")
    assert both.lookup_ids() == ["ARXIV:1810.04805", "DOI:10.18653/v1/n19-1423"]
    assert both.cache_key == "ARXIV:1810.04805"
    assert PaperIds().cache_key is None


def test_external_ids_from_s2_are_normalized() -> None:
    ids = ids_from_external({"DOI": "10.48550/ARXIV.1706.03762", "CorpusId": 1}, "abc")
    assert ids == PaperIds(doi="10.48550/arxiv.1706.03762", arxiv="1706.03762", s2="abc")
    assert ids_from_external(None, None).empty
