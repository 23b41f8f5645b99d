"""Rendering only the index notes an incremental pass can have changed.

The property: for any library and any change to some of its papers, the notes a scoped
build renders, together with the notes it leaves alone (as they were before the change), are
exactly the notes a full build renders after the change. Or the scoped build declines (renders
everything), which it may only do when names collide.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.index.render import collection_index, scoped, tag_index
from zotsync.index.scope import index_scope
from zotsync.library.papers import PaperInfo

TAGS = ["ml", "ML", "nlp", "nlp/transformers", "vision", "a:b", "a-b", "to-read"]
COLLS = ["Deep Learning", "Deep Learning/NLP", "Deep Learning/NLP/Attention", "Vision", "vision"]


def _paper(n: int, tags: list[str], colls: list[str], title: str, year: int | None) -> PaperInfo:
    return PaperInfo(
        key=f"K{n:03d}", title=title, link=title, path=f"Papers/{title}.md",
        tags=tuple(tags), collections=tuple(colls), year=year, date_added=f"2024-01-{n % 28 + 1:02d}",
    )  # fmt: skip


papers_st = st.lists(
    st.tuples(
        st.lists(st.sampled_from(TAGS), max_size=3),
        st.lists(st.sampled_from(COLLS), max_size=2),
        st.sampled_from(["Alpha", "Beta", "Gamma", "Delta"]),
        st.one_of(st.none(), st.integers(2015, 2020)),
    ),
    min_size=1,
    max_size=12,
)


def _regions(notes: list) -> dict[str, str | None]:
    return {n.path: n.region for n in notes}


@settings(max_examples=150, deadline=None)
@given(
    papers=papers_st,
    changes=st.lists(
        st.tuples(
            st.integers(0, 20),
            st.lists(st.sampled_from(TAGS), max_size=3),
            st.lists(st.sampled_from(COLLS), max_size=2),
            st.sampled_from(["Alpha", "Omega", "Zeta"]),
            st.booleans(),  # the paper leaves the library
        ),
        max_size=3,
    ),
)
def test_scoped_build_equals_a_full_build(papers: list, changes: list) -> None:
    before = [_paper(n, *p) for n, p in enumerate(papers)]
    after = list(before)
    for index, tags, colls, title, leaves in changes:
        if index >= len(after):
            after.append(_paper(100 + len(after), tags, colls, title, None))  # a new paper
        elif after[index] is None:
            continue  # it left already
        elif leaves:
            after[index] = None  # type: ignore[call-overload]
        else:
            after[index] = replace(after[index], tags=tuple(tags), collections=tuple(colls),
                                   title=title, link=title)  # fmt: skip
    after = [p for p in after if p is not None]
    changed_keys = ({p.key for p in before} ^ {p.key for p in after}) | {
        a.key for a in after for b in before if a.key == b.key and a != b
    }
    scope = index_scope(
        [p for p in before if p.key in changed_keys], [p for p in after if p.key in changed_keys]
    )
    for build, only in ((tag_index, scope.tags), (collection_index, scope.collections)):
        old, full, part = (
            _regions(build(before)), _regions(build(after)), _regions(build(after, only=only))
        )  # fmt: skip
        assert part.keys() == full.keys()  # the same notes at the same paths
        for path, region in part.items():
            if region is None:  # left alone: what is on disk must already be right
                assert old.get(path) == full[path], path
            else:
                assert region == full[path]


def test_a_name_colliding_with_a_changed_one_renders_everything() -> None:
    assert scoped(["ML", "nlp"], ["ml"], "Tags") is None  # Tags/ML.md ~ Tags/ml.md
    assert scoped(["ML", "nlp"], ["vision"], "Tags") == {"vision"}
    assert scoped(["ML", "ml", "nlp"], ["nlp"], "Tags") == {"nlp"}  # the colliders unchanged


def test_scope_holds_the_old_and_new_names_and_the_ancestors() -> None:
    was = _paper(1, ["old"], ["A/B/C"], "T", 2020)
    now = replace(was, tags=("new",), collections=("X",))
    same = _paper(2, ["quiet"], ["Q"], "U", 2020)
    scope = index_scope([was, same], [now, same])
    assert scope.tags == {"old", "new"}
    assert scope.collections == {"A", "A/B", "A/B/C", "X"}
