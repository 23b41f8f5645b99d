"""The web source against a loopback server speaking the Zotero web API v3.

The server counts requests, so the incremental promises are checked as numbers: an
unchanged library costs one request, one edit fetches one item, a version moving mid-sync
restarts the pass, and the API key never leaks into the cache or errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.source_contract import MakeSource, SourceContract

from zotsync.errors import ConfigError, SourceUnavailable
from zotsync.model import Creator, Item, Library, LibraryRef, with_base_fields
from zotsync.sources.probe import probe_web
from zotsync.sources.web import WebSource
from zotsync.testing.fake_zotero_api import FakeZoteroApi, Fault, Recorded
from zotsync.testing.library_diff import library_differences
from zotsync.testing.sample_library import USER_ID, sample_library
from zotsync.testing.zotero_db import trashed_item


@pytest.fixture
def api() -> Iterator[FakeZoteroApi]:
    with FakeZoteroApi(sample_library()) as server:
        yield server


class Sleeps(list[float]):
    """Records requested pauses instead of sleeping (no test waits for real)."""

    def __call__(self, seconds: float) -> None:
        self.append(round(seconds))


def make_source(api: FakeZoteroApi, tmp_path: Path, **kw: object) -> WebSource:
    return WebSource(
        api_key=api.api_key,
        cache_dir=tmp_path / "cache",
        base_url=api.url,
        **kw,  # type: ignore[arg-type]
    )


def paper(key: str, title: str, version: int = 1) -> Item:
    return Item(key, "journalArticle", with_base_fields("journalArticle", {"title": title}),
                creators=[Creator("Doe", "Jane")], date_added="2024-05-01T00:00:00Z",
                date_modified="2024-05-01T00:00:00Z", version=version,
                library=LibraryRef("user", USER_ID))  # fmt: skip


class TestWebContract(SourceContract):
    # the server's library version also counts the trashed fixture item (version 15)
    UNKNOWN_TO_SOURCE = frozenset({"library.version"})

    @pytest.fixture
    def make_source(self, request: pytest.FixtureRequest) -> MakeSource:
        def make(library: Library, tmp_path: Path) -> WebSource:
            api = FakeZoteroApi(library, trashed=[trashed_item(library.ref)]).start()
            request.addfinalizer(api.stop)
            return make_source(api, tmp_path)

        return make


def test_web_source_reads_the_sample_library(api: FakeZoteroApi, tmp_path: Path) -> None:
    library = make_source(api, tmp_path).read()
    assert library_differences(library, sample_library()) == []
    assert library.version == 14


def test_unchanged_library_costs_one_request(api: FakeZoteroApi, tmp_path: Path) -> None:
    source = make_source(api, tmp_path)
    first = source.read()
    api.reset_requests()
    again = source.read()
    assert len(api.requests) == 1
    assert api.requests[0].headers["if-modified-since-version"] == "14"
    assert again == first


def test_incremental_sync_after_one_edit_fetches_only_that_item(
    api: FakeZoteroApi, tmp_path: Path
) -> None:
    source = make_source(api, tmp_path)
    source.read()
    api.edit("RESN2345", title="ResNet, revised")
    api.reset_requests()
    library = source.read()
    fetched = [r.query["itemKey"] for r in api.requests if "itemKey" in r.query]
    assert fetched == ["RESN2345"]
    assert len(api.requests) == 4  # versions, collection versions, the item, /deleted
    assert {i.key: i.title for i in library.items}["RESN2345"] == "ResNet, revised"
    assert {i.key: i.version for i in library.items}["RESN2345"] == 15


def test_annotation_edit_moves_its_papers_version(api: FakeZoteroApi, tmp_path: Path) -> None:
    source = make_source(api, tmp_path)
    source.read()
    api.edit("ANNH2345", annotationComment="rewritten")
    library = source.read()
    attention = next(i for i in library.items if i.key == "ATTN2345")
    assert attention.version == 15
    assert attention.attachments[0].annotations[0].comment == "rewritten"


def test_trashed_item_disappears_from_the_library(api: FakeZoteroApi, tmp_path: Path) -> None:
    source = make_source(api, tmp_path)
    source.read()
    api.trash("BOOK3456")
    assert "BOOK3456" not in {i.key for i in source.read().items}


def test_permanently_deleted_item_disappears(api: FakeZoteroApi, tmp_path: Path) -> None:
    source = make_source(api, tmp_path)
    source.read()
    api.delete("ATTN2345")
    api.reset_requests()
    library = source.read()
    assert "ATTN2345" not in {i.key for i in library.items}
    assert api.count("/deleted") == 1


def test_version_moving_mid_sync_restarts_and_ends_consistent(
    api: FakeZoteroApi, tmp_path: Path
) -> None:
    source = make_source(api, tmp_path)
    source.read()
    api.edit("RESN2345", title="first edit")
    fired: list[int] = []

    def edit_during_batch(rec: Recorded) -> None:
        if "itemKey" in rec.query and not fired:
            fired.append(api.edit("BOOK3456", title="edited mid-sync"))

    api.hooks.append(edit_during_batch)
    library = source.read()
    titles = {i.key: i.title for i in library.items}
    assert titles["RESN2345"] == "first edit"
    assert titles["BOOK3456"] == "edited mid-sync"
    assert library.version == fired[0] == api.lib().version
    api.reset_requests()
    source.read()
    assert len(api.requests) == 1  # the cache holds the final version: 304


def test_link_pagination_is_followed(tmp_path: Path) -> None:
    library = sample_library()
    library.items += [paper(f"PAGE{n:04d}", f"Paper {n}") for n in range(7)]
    with FakeZoteroApi(library, page_limit=4) as api:
        read = make_source(api, tmp_path).read()
        assert len(read.items) == 12
        assert any("start" in r.query for r in api.requests)


def test_changed_items_fetched_in_batches_of_50_at_most_4_at_once(tmp_path: Path) -> None:
    library = sample_library()
    library.items += [paper(f"BULK{n:04d}", f"Bulk {n}") for n in range(300)]
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def slow(rec: Recorded) -> None:
        if "itemKey" not in rec.query:
            return
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)  # lets batches overlap; nothing asserts on time
        with lock:
            state["now"] -= 1

    with FakeZoteroApi(library) as api:
        api.hooks.append(slow)
        read = make_source(api, tmp_path).read()
        batches = [r.query["itemKey"].split(",") for r in api.requests if "itemKey" in r.query]
    assert len(read.items) == 305
    assert max(len(b) for b in batches) == 50 and len(batches) == 7  # 313 objects
    assert state["max"] <= 4


def test_429_waits_for_retry_after(api: FakeZoteroApi, tmp_path: Path) -> None:
    api.faults.append(Fault(429, {"Retry-After": "7"}, path="/items"))
    sleeps = Sleeps()
    library = make_source(api, tmp_path, sleep=sleeps).read()
    assert 7 in sleeps and len(library.items) == 5


def test_429_without_retry_after_backs_off_exponentially(
    api: FakeZoteroApi, tmp_path: Path
) -> None:
    api.faults.append(Fault(429, path="/items", times=3))
    sleeps = Sleeps()
    make_source(api, tmp_path, sleep=sleeps).read()
    assert sleeps[:3] == [1, 2, 4]


def test_503_is_retried(api: FakeZoteroApi, tmp_path: Path) -> None:
    api.faults.append(Fault(503, {"Retry-After": "3"}, path="/collections"))
    sleeps = Sleeps()
    assert len(make_source(api, tmp_path, sleep=sleeps).read().items) == 5
    assert sleeps == [3]


def test_backoff_header_pauses_before_the_next_request(api: FakeZoteroApi, tmp_path: Path) -> None:
    api.faults.append(Fault(None, {"Backoff": "5"}, path="/items"))
    sleeps = Sleeps()
    make_source(api, tmp_path, sleep=sleeps).read()
    assert sleeps and sleeps[0] == 5


def test_group_library_is_read(tmp_path: Path) -> None:
    group = sample_library(LibraryRef("group", 4242))
    group.name = "Reading Group"
    with FakeZoteroApi(sample_library(), groups={4242: group}) as api:
        library = make_source(api, tmp_path, library="group:4242").read()
    assert library.ref == LibraryRef("group", 4242) and library.name == "Reading Group"
    assert library_differences(library, group) == []


def test_unknown_group_is_a_clear_error(api: FakeZoteroApi, tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable) as err:
        make_source(api, tmp_path, library="group:999").read()
    assert err.value.fix and "group" in err.value.fix


def test_invalid_key_is_reported_without_the_key(api: FakeZoteroApi, tmp_path: Path) -> None:
    wrong = "wrongkey-SECRET-987654"
    source = WebSource(api_key=wrong, cache_dir=tmp_path, base_url=api.url)
    with pytest.raises(SourceUnavailable) as err:
        source.read()
    assert "zotero.org/settings/keys" in (err.value.fix or "")
    assert wrong not in str(err.value) and wrong not in repr(source)


def test_api_key_never_reaches_the_cache(api: FakeZoteroApi, tmp_path: Path) -> None:
    make_source(api, tmp_path).read()
    for file in (tmp_path / "cache").rglob("*"):
        assert api.api_key.encode() not in file.read_bytes()


def test_key_owner_is_looked_up_once(api: FakeZoteroApi, tmp_path: Path) -> None:
    make_source(api, tmp_path).read()
    make_source(api, tmp_path).read()
    assert api.count("/keys/current") == 1


def test_key_and_endpoint_come_from_the_environment(
    api: FakeZoteroApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTERO_API_KEY", api.api_key)
    monkeypatch.setenv("ZOTSYNC_ZOTERO_API_URL", api.url)
    assert len(WebSource(api_key=None, cache_dir=tmp_path).read().items) == 5


def test_collection_filter_includes_subcollections(api: FakeZoteroApi, tmp_path: Path) -> None:
    library = make_source(api, tmp_path, collections=["Deep Learning"]).read()
    assert {i.key for i in library.items} == {"ATTN2345", "BERT6789", "RESN2345"}
    with pytest.raises(ConfigError):
        make_source(api, tmp_path, collections=["No Such"]).read()


def test_unreachable_api_is_source_unavailable(tmp_path: Path) -> None:
    source = WebSource(api_key="k", cache_dir=tmp_path, base_url="http://127.0.0.1:9")
    with pytest.raises(SourceUnavailable):
        source.read()


def test_doctor_reports_key_permissions(tmp_path: Path) -> None:
    with FakeZoteroApi(sample_library(), can_write=False) as api:
        checks = probe_web(api_key=api.api_key, base_url=api.url, writeback=True)
        bad = probe_web(api_key="nope-SECRET", base_url=api.url)
    by_name = {c.name: c for c in checks}
    assert by_name["web: key valid"].ok
    assert by_name["web: read access to users/1234567"].ok
    assert not by_name["web: write access (writeback: true)"].ok
    assert not bad[-1].ok and bad[-1].fix
    assert all("SECRET" not in f"{c.detail} {c.fix}" for c in bad)
