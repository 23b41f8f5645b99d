"""Note names: valid on every OS and in wikilinks, stable, unique up to case."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.errors import ConfigError
from zotsync.vault.names import (
    MAX_STEM_BYTES,
    NameRequest,
    assign_names,
    format_pattern,
    safe_filename,
    with_suffix,
)

FORBIDDEN = set('/\\:*?"<>|#^[]')
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(1, 10)}


def assert_valid(name: str, max_len: int = 120) -> None:
    assert name and name not in {".", ".."}
    assert not FORBIDDEN & set(name), name
    assert all(unicodedata.category(ch) != "Cc" for ch in name)
    assert name == name.strip(" .")
    assert name.split(".")[0].upper() not in RESERVED
    assert unicodedata.normalize("NFC", name) == name
    assert len(name) <= max_len
    assert len(name.encode("utf-8")) <= MAX_STEM_BYTES


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "BERT: Pre-training of Deep Bidirectional Transformers",
            "BERT - Pre-training of Deep Bidirectional Transformers",
        ),
        ("Input/Output in C\\C++", "Input-Output in C-C++"),
        ('A "quoted" word?', "A 'quoted' word"),
        ("Links [[break]] on # and ^", "Links break on and"),
        ("Tabs\tand\nnewlines\x00here", "Tabs and newlines here"),
        ("  ..Hidden and trailing dots...  ", "Hidden and trailing dots"),
        ("CON", "CON_"),
        ("aux.tex", "aux_.tex"),
        ("COM1", "COM1_"),
        ("Console", "Console"),
        ("", "Untitled"),
        ("..", "Untitled"),
        ("???", "Untitled"),
        ("Cafe\u0301", "Café"),
    ],
)
def test_titles_become_safe_names(title: str, expected: str) -> None:
    assert safe_filename(title) == expected
    assert_valid(safe_filename(title))


def test_long_title_is_cut_at_a_word_boundary() -> None:
    title = "Attention " * 30
    name = safe_filename(title)
    assert len(name) <= 120 and name.endswith("Attention")
    assert len(safe_filename("x" * 500)) == 120


def test_multibyte_title_respects_the_byte_budget() -> None:
    name = safe_filename("语言模型" * 60)
    assert len(name.encode("utf-8")) <= MAX_STEM_BYTES
    assert_valid(name)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=20, max_value=150))
def test_any_title_gives_a_valid_idempotent_name(title: str, max_len: int) -> None:
    name = safe_filename(title, max_len=max_len)
    assert_valid(name, max_len)
    assert safe_filename(name, max_len=max_len) == name


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.text(max_size=60))
def test_suffixed_names_are_valid_too(title: str, suffix: str) -> None:
    name = with_suffix(safe_filename(title), suffix)
    assert_valid(name)


def test_format_pattern_fills_fields_and_falls_back_to_key() -> None:
    values = {
        "title": "On: Things",
        "citekey": "smith2020",
        "key": "ABCD1234",
        "year": "2020",
        "author": "Smith",
    }
    assert format_pattern("{title}", values) == "On - Things"
    assert format_pattern("{author} {year} - {title}", values) == "Smith 2020 - On - Things"
    assert format_pattern("{citekey}", values) == "smith2020"
    assert format_pattern("{citekey}", {**values, "citekey": ""}) == "ABCD1234"
    with pytest.raises(ConfigError, match="titel"):
        format_pattern("{titel}", values)


def test_two_papers_called_introduction_get_author_year() -> None:
    got = assign_names(
        [
            NameRequest("K2", "Introduction", "Jones 2021"),
            NameRequest("K1", "Introduction", "Smith 2020"),
        ],
        {},
    )
    assert got == {"K1": "Introduction (Smith 2020)", "K2": "Introduction (Jones 2021)"}


def test_names_equal_up_to_case_collide() -> None:
    got = assign_names(
        [
            NameRequest("K1", "Deep Learning", "LeCun 2015"),
            NameRequest("K2", "deep learning", "Other 2019"),
        ],
        {},
    )
    assert {n.casefold() for n in got.values()} == {
        "deep learning (lecun 2015)",
        "deep learning (other 2019)",
    }


def test_same_author_year_falls_back_to_key() -> None:
    got = assign_names(
        [NameRequest("K1", "Notes", "Smith 2020"), NameRequest("K2", "Notes", "Smith 2020")], {}
    )
    assert got == {"K1": "Notes (K1)", "K2": "Notes (K2)"}


def test_existing_name_is_kept_and_newcomer_is_disambiguated() -> None:
    got = assign_names(
        [
            NameRequest("OLD", "Introduction", "Smith 2020", current="Introduction"),
            NameRequest("NEW", "Introduction", "Jones 2021"),
        ],
        {"introduction": "OLD"},
    )
    assert got == {"OLD": "Introduction", "NEW": "Introduction (Jones 2021)"}


def test_disambiguated_name_is_kept_after_the_other_paper_leaves() -> None:
    got = assign_names(
        [NameRequest("K1", "Introduction", "Smith 2020", current="Introduction (Smith 2020)")], {}
    )
    assert got == {"K1": "Introduction (Smith 2020)"}


def test_title_change_drops_the_old_name() -> None:
    got = assign_names([NameRequest("K1", "New Title", "Smith 2020", current="Old Title")], {})
    assert got == {"K1": "New Title"}


def test_a_file_of_someone_else_is_never_taken() -> None:
    got = assign_names([NameRequest("K1", "Reading List", "Smith 2020")], {"reading list": "user"})
    assert got == {"K1": "Reading List (Smith 2020)"}
    got = assign_names([NameRequest("K1", "X", "")], {"x": "user", "x (k1)": "user"})
    assert got == {"K1": "X (K1 2)"}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Intro", "intro", "Results", "A"]),
            st.sampled_from(["", "Smith 2020", "Lee 2021"]),
        ),
        max_size=8,
    ),
    st.dictionaries(st.sampled_from(["intro", "a", "results (smith 2020)"]), st.just("user")),
)
def test_assigned_names_are_unique_and_deterministic(
    reqs: list[tuple[str, str]], taken: dict[str, str]
) -> None:
    wanted = [NameRequest(f"K{i}", base, ay) for i, (base, ay) in enumerate(reqs)]
    got = assign_names(wanted, taken)
    assert set(got) == {r.key for r in wanted}
    folded = [n.casefold() for n in got.values()]
    assert len(set(folded)) == len(folded)
    assert not set(folded) & set(taken)
    assert assign_names(list(reversed(wanted)), taken) == got
