"""Status write-back touches only the reading-status tags, and survives concurrent edits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.errors import SourceUnavailable
from zotsync.sources.writeback import STATUS_TAGS, set_read_status, status_tags
from zotsync.testing.fake_zotero_api import FakeZoteroApi, Recorded
from zotsync.testing.sample_library import sample_library


@pytest.fixture
def api() -> Iterator[FakeZoteroApi]:
    with FakeZoteroApi(sample_library()) as server:
        yield server


def tag_names(api: FakeZoteroApi, key: str) -> list[str]:
    return [t["tag"] for t in api.lib().objects["item"][key]["tags"]]


def test_marking_read_swaps_to_read_for_read_and_writes_only_tags(api: FakeZoteroApi) -> None:
    before = dict(api.lib().objects["item"]["ATTN2345"])
    result = set_read_status("web", "ATTN2345", "read", api_key=api.api_key, base_url=api.url)
    after = api.lib().objects["item"]["ATTN2345"]
    assert result.changed and result.version == api.lib().version
    assert tag_names(api, "ATTN2345") == [
        "nlp/transformers", "Computer Science - Computation and Language", "read",
    ]  # fmt: skip
    assert after["tags"][1] == {"tag": "Computer Science - Computation and Language", "type": 1}
    ((key, body),) = api.writes
    assert key == "ATTN2345" and set(body) == {"tags"}
    assert {k: v for k, v in after.items() if k not in ("tags", "version")} == {
        k: v for k, v in before.items() if k not in ("tags", "version")
    }
    patch = next(r for r in api.requests if r.method == "PATCH")
    assert patch.headers["if-unmodified-since-version"] == "10"


def test_already_read_paper_is_not_written(api: FakeZoteroApi) -> None:
    result = set_read_status("web", "RESN2345", "read", api_key=api.api_key, base_url=api.url)
    assert not result.changed and api.writes == []


def test_412_is_retried_with_the_fresh_version(api: FakeZoteroApi) -> None:
    def user_edits_first(rec: Recorded) -> None:
        if rec.method == "PATCH" and not api.writes and not getattr(user_edits_first, "done", 0):
            user_edits_first.done = 1  # type: ignore[attr-defined]
            tags = [*api.lib().objects["item"]["BERT6789"]["tags"], {"tag": "added-meanwhile"}]
            api.edit("BERT6789", tags=tags)

    api.hooks.append(user_edits_first)
    result = set_read_status("web", "BERT6789", "read", api_key=api.api_key, base_url=api.url)
    patches = [r for r in api.requests if r.method == "PATCH"]
    assert len(patches) == 2
    assert patches[1].headers["if-unmodified-since-version"] == "15"
    assert result.changed and "added-meanwhile" in tag_names(api, "BERT6789")
    assert "read" in tag_names(api, "BERT6789")


def test_write_back_errors_never_show_the_key(api: FakeZoteroApi) -> None:
    secret = "SECRET-write-key-42"
    with pytest.raises(SourceUnavailable) as err:
        set_read_status("web", "ATTN2345", "read", api_key=secret, base_url=api.url)
    assert secret not in str(err.value) and secret not in repr(err.value.args)


def test_zotero10_local_write_uses_an_authorised_key_and_server_id() -> None:
    with FakeZoteroApi(sample_library(), mode="local", zotero_version=10) as api:
        result = set_read_status("local", "ATTN2345", "read", base_url=api.url)
        patch = next(r for r in api.requests if r.method == "PATCH")
    assert result.changed
    assert patch.headers["zotero-server-id"] == "server-A"
    assert patch.headers["zotero-api-key"] in api.local_keys
    assert api.count("/local/authorize", "POST") == 1


def test_zotero7_local_api_is_read_only() -> None:
    with FakeZoteroApi(sample_library(), mode="local", zotero_version=7) as api:
        with pytest.raises(SourceUnavailable, match="read-only"):
            set_read_status("local", "ATTN2345", "read", base_url=api.url)
        assert api.writes == []


tag_lists = st.lists(
    st.fixed_dictionaries(
        {"tag": st.sampled_from(["a", "b/c", "to-read", "reading", "read", "x y"])},
        optional={"type": st.just(1)},
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(tags=tag_lists, status=st.sampled_from(STATUS_TAGS))
def test_status_tags_set_one_status_and_keep_every_other_tag(
    tags: list[dict[str, object]], status: str
) -> None:
    new = status_tags(tags, status)
    result = tags if new is None else new
    names = [t["tag"] for t in result]
    assert status in names
    assert not set(names) & (set(STATUS_TAGS) - {status})
    others = [t for t in tags if t["tag"] not in STATUS_TAGS]
    assert [t for t in result if t["tag"] not in STATUS_TAGS] == others
