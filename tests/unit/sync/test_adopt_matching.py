"""The pure parts of adoption: evidence from a file's text, matching, and the region splice."""

from __future__ import annotations

import random

import frontmatter
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.sync.adoption import Evidence, Wanted, evidence_for, match_notes
from zotsync.sync.evidence import HANDLER, evidence_of
from zotsync.vault.foreign import held_keys, insert_after_frontmatter, policies_for
from zotsync.vault.regions import parse_note, user_text

A = Wanted("AAAA2222", "vaswani2017", "10.1000/aaa")
B = Wanted("BBBB3333", "he2016", "10.1000/bbb")


def ev(path: str, **kw: object) -> Evidence:
    return Evidence(path, **{k: frozenset(v) for k, v in kw.items()})  # type: ignore[arg-type]


MATCH_TABLE = [
    ("zotero-key", ev("n.md", keys={"AAAA2222"}), "zotero-key"),
    ("zotero link", ev("n.md", link_keys={"AAAA2222"}), "zotero link"),
    ("citekey link", ev("n.md", link_citekeys={"vaswani2017"}), "zotero link @citekey"),
    ("citekey", ev("n.md", citekeys={"vaswani2017"}), "citekey"),
    ("@name", ev("Reading/@vaswani2017.md"), "file name"),
    ("bare name", ev("vaswani2017.md"), "file name"),
    ("doi", ev("n.md", dois={"10.1000/aaa"}), "doi"),
]


@pytest.mark.parametrize(
    ("case", "evidence", "reason"), MATCH_TABLE, ids=[c[0] for c in MATCH_TABLE]
)
def test_each_kind_of_evidence_adopts_the_file(case: str, evidence: Evidence, reason: str) -> None:
    plan = match_notes([A, B], [evidence, ev("Other.md")])
    assert list(plan.matches) == ["AAAA2222"]
    assert plan.matches["AAAA2222"].path == evidence.path
    assert reason in plan.matches["AAAA2222"].evidence
    assert plan.ambiguous == []


NO_MATCH_TABLE = [
    ("no evidence", ev("Attention Is All You Need.md")),
    ("another item's key", ev("n.md", keys={"ZZZZ9999"})),
    ("a list of papers", ev("list.md", link_keys={"AAAA2222", "CCCC4444"})),
    ("a list by citekey", ev("list.md", link_citekeys={"vaswani2017", "x2020"})),
    ("a longer name", ev("@vaswani2017 notes.md")),
    ("another doi", ev("n.md", dois={"10.1000/aaa.v2"})),
]


@pytest.mark.parametrize(("case", "evidence"), NO_MATCH_TABLE, ids=[c[0] for c in NO_MATCH_TABLE])
def test_files_that_do_not_stand_for_the_item_are_left(case: str, evidence: Evidence) -> None:
    plan = match_notes([A], [evidence])
    assert plan.matches == {} and plan.ambiguous == []


def test_an_item_without_citekey_is_not_matched_by_an_empty_name() -> None:
    plan = match_notes([Wanted("CCCC4444")], [ev("@.md"), ev(".md")])
    assert plan.matches == {}


def test_two_files_for_one_item_are_ambiguous() -> None:
    plan = match_notes([A, B], [ev("a.md", citekeys={"vaswani2017"}), ev("@vaswani2017.md")])
    assert plan.matches == {}
    (amb,) = plan.ambiguous
    assert (amb.keys, amb.paths) == (("AAAA2222",), ("@vaswani2017.md", "a.md"))
    assert amb.why == "several files stand for this item"
    assert "AAAA2222 ← a.md (citekey)" in amb.describe()


def test_one_file_matching_two_items_is_ambiguous_for_both() -> None:
    plan = match_notes([A, B], [ev("x.md", citekeys={"vaswani2017"}, dois={"10.1000/bbb"})])
    assert plan.matches == {}
    (amb,) = plan.ambiguous
    assert amb.keys == ("AAAA2222", "BBBB3333") and amb.why == "one file matches several items"
    assert amb.as_dict()["evidence"] == [
        {"key": "AAAA2222", "path": "x.md", "evidence": ["citekey"]},
        {"key": "BBBB3333", "path": "x.md", "evidence": ["doi"]},
    ]


def test_a_chain_of_claims_is_one_ambiguity() -> None:
    files = [ev("a.md", keys={"AAAA2222"}), ev("ab.md", dois={"10.1000/aaa", "10.1000/bbb"})]
    plan = match_notes([A, B, Wanted("CCCC4444", "c2020")], [*files, ev("c2020.md")])
    assert list(plan.matches) == ["CCCC4444"]
    (amb,) = plan.ambiguous
    assert amb.keys == ("AAAA2222", "BBBB3333") and amb.paths == ("a.md", "ab.md")


# -- property: whatever the input, the decision is consistent and order-independent ---------

KEYS = ["K0000002", "K0000003", "K0000004", "K0000005"]
CKS = ["ck0", "ck1", "ck2"]
DOIS = ["10.1/a", "10.1/b"]

wanted_st = st.builds(
    Wanted, st.sampled_from(KEYS), st.sampled_from(["", *CKS]), st.sampled_from([None, *DOIS])
)
evidence_st = st.builds(
    Evidence,
    st.sampled_from(["n1.md", "n2.md", "@ck0.md", "ck1.md", "d/@ck2.md", "x.md"]),
    keys=st.frozensets(st.sampled_from(KEYS), max_size=1),
    link_keys=st.frozensets(st.sampled_from(KEYS), max_size=2),
    citekeys=st.frozensets(st.sampled_from(CKS), max_size=1),
    link_citekeys=st.frozensets(st.sampled_from(CKS), max_size=2),
    dois=st.frozensets(st.sampled_from(DOIS), max_size=1),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(wanted_st, max_size=4, unique_by=lambda w: w.key),
    st.lists(evidence_st, max_size=5, unique_by=lambda e: e.path),
    st.randoms(use_true_random=False),
)
def test_matching_is_consistent(
    items: list[Wanted], files: list[Evidence], rnd: random.Random
) -> None:
    plan = match_notes(items, files)
    ambiguous = plan.ambiguous_keys
    assert not ambiguous & set(plan.matches)
    paths = [m.path for m in plan.matches.values()]
    assert len(paths) == len(set(paths))  # a file is adopted at most once
    for key, match in plan.matches.items():
        item = next(i for i in items if i.key == key)
        assert match.evidence == evidence_for(item, next(f for f in files if f.path == match.path))
        # the adopted file stands for no other item, and no other file stands for this one
        assert all(
            not evidence_for(o, f)
            for o in items
            for f in files
            if f.path == match.path and o.key != key
        )
        assert all(not evidence_for(item, f) for f in files if f.path != match.path)
    for item in items:
        if any(evidence_for(item, f) for f in files):
            assert item.key in plan.matches or item.key in ambiguous
        else:
            assert item.key not in plan.matches and item.key not in ambiguous
    shuffled_items, shuffled_files = items[:], files[:]
    rnd.shuffle(shuffled_items)
    rnd.shuffle(shuffled_files)
    again = match_notes(shuffled_items, shuffled_files)
    assert again.matches == plan.matches
    assert again.ambiguous == plan.ambiguous


# -- evidence from a file's text -------------------------------------------------------------


def test_evidence_reads_every_form_the_tools_write() -> None:
    text = (
        "\ufeff---\n"
        "zotero_key: PFPF2345\n"
        "citationKey: '@smith2020'\n"
        "DOI: https://doi.org/10.1000/ABC.def\n"
        "---\n"
        "[a](zotero://select/groups/123/items/GRGR2345) "
        "[b](zotero://select/items/1_MDMD2345) "
        "<zotero://select/items/@jones%3A2021>.\n"
    )
    found = evidence_of("Lit/@smith2020.md", text)
    assert found.keys == {"PFPF2345"}
    assert found.citekeys == {"smith2020"}
    assert found.dois == {"10.1000/abc.def"}
    assert found.link_keys == {"GRGR2345", "MDMD2345"}
    assert found.link_citekeys == {"jones:2021"}
    assert found.stem == "@smith2020"


def test_broken_yaml_still_gives_the_name_and_links() -> None:
    text = "---\ncitekey: [unclosed\n---\n[z](zotero://select/library/items/ABCD2345)\n"
    found = evidence_of("@smith2020.md", text)
    assert found.citekeys == frozenset() and found.link_keys == {"ABCD2345"}
    assert match_notes([Wanted("ABCD2345", "smith2020")], [found]).matches


def test_the_yaml_handler_keeps_dates_as_written() -> None:
    post = frontmatter.loads(
        "---\ndate-read: 2024-03-05\nwhen: 2024-03-05T10:00:00\n---\nx", handler=HANDLER
    )
    assert post["date-read"] == "2024-03-05" and post["when"] == "2024-03-05T10:00:00"


# -- the splice into a foreign note -----------------------------------------------------------

BLOCKS = [("header", "# T\n"), ("notes", "")]


@pytest.mark.parametrize(
    "text",
    [
        "---\ntitle: x\n---\n# Mine\n\nbody\n",
        "---\r\ntitle: x\r\n---\r\nbody\r\n",
        "\ufeff---\ntitle: x\n---\nbody",
        "---\ntitle: x\n---",
        "\ufeffno frontmatter\n",
        "just text",
        "",
    ],
)
def test_regions_go_in_after_the_frontmatter_and_nothing_moves(text: str) -> None:
    new = insert_after_frontmatter(text, BLOCKS)
    parsed = parse_note(new)
    assert not parsed.problems and list(parsed.regions) == ["header", "notes"]
    assert parsed.frontmatter == parse_note(text).frontmatter
    assert new.endswith(text[parse_note(text).body_start :])
    assert user_text(new).replace("\x00", "").strip() == user_text(text).strip()
    if "\r\n" in text:
        assert "\n" not in new.replace("\r\n", "")


def test_held_keys_become_keep_except_merged_lists() -> None:
    policies = {"title": "replace", "tags": "append", "status": "keep", "doi": "replace"}
    held = held_keys({"title": "Mine", "tags": ["a"], "rating": 5}, policies)
    assert held == ["title"]
    assert policies_for(policies, [*held, "tags"]) == {**policies, "title": "keep"}
