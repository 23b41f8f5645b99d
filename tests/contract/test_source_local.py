"""The local source against a loopback server that behaves like Zotero's local API.

Zotero 10 (local versions, ``Zotero-Server-ID``) syncs incrementally and partitions its
cache by server id; Zotero 7–9 (versions that never move on local edits) is compared by
content hash; neither has ``/deleted``, so deletions come from key-set diffs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.source_contract import MakeSource, SourceContract

from zotsync.errors import SourceUnavailable
from zotsync.model import Library
from zotsync.sources.local import LocalSource
from zotsync.sources.probe import probe_local
from zotsync.testing.fake_zotero_api import FakeZoteroApi, ServedLibrary
from zotsync.testing.library_diff import library_differences
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import trashed_item


@pytest.fixture(params=[10, 7], ids=["zotero10", "zotero7"])
def api(request: pytest.FixtureRequest) -> Iterator[FakeZoteroApi]:
    with FakeZoteroApi(sample_library(), mode="local", zotero_version=request.param) as server:
        yield server


@pytest.fixture
def api10() -> Iterator[FakeZoteroApi]:
    with FakeZoteroApi(sample_library(), mode="local", zotero_version=10) as server:
        yield server


class TestLocalZotero10Contract(SourceContract):
    zotero = 10
    # the local library version also counts the trashed fixture item (version 15)
    UNKNOWN_TO_SOURCE = frozenset({"library.version"})

    @pytest.fixture
    def make_source(self, request: pytest.FixtureRequest) -> MakeSource:
        def make(library: Library, tmp_path: Path) -> LocalSource:
            api = FakeZoteroApi(
                library, mode="local", zotero_version=self.zotero,
                trashed=[trashed_item(library.ref)],
            ).start()  # fmt: skip
            request.addfinalizer(api.stop)
            return LocalSource(tmp_path, base_url=api.url)

        return make


class TestLocalZotero7Contract(TestLocalZotero10Contract):
    zotero = 7


def titles(library: Library) -> dict[str, str]:
    return {i.key: i.title for i in library.items}


def test_local_source_reads_the_sample_library(api: FakeZoteroApi, tmp_path: Path) -> None:
    library = LocalSource(tmp_path, base_url=api.url).read()
    assert library_differences(library, sample_library()) == []


def test_local_edit_is_seen_and_moves_the_version(api: FakeZoteroApi, tmp_path: Path) -> None:
    source = LocalSource(tmp_path, base_url=api.url)
    before = {i.key: i.version for i in source.read().items}
    api.edit("RESN2345", title="Edited in Zotero")
    after = source.read()
    assert titles(after)["RESN2345"] == "Edited in Zotero"
    assert {i.key: i.version for i in after.items}["RESN2345"] > before["RESN2345"]
    assert {i.key: i.version for i in after.items}["BERT6789"] == before["BERT6789"]


def test_permanent_deletion_found_by_key_set_diff(api: FakeZoteroApi, tmp_path: Path) -> None:
    source = LocalSource(tmp_path, base_url=api.url)
    source.read()
    api.delete("REPT4567")
    api.trash("BOOK3456")
    library = source.read()
    assert set(titles(library)) == {"ATTN2345", "BERT6789", "RESN2345"}
    assert api.count("/deleted") == 0


def test_zotero10_unchanged_library_costs_one_request(api10: FakeZoteroApi, tmp_path: Path) -> None:
    source = LocalSource(tmp_path, base_url=api10.url)
    first = source.read()
    api10.reset_requests()
    assert source.read() == first
    assert len(api10.requests) == 1
    assert api10.requests[0].headers["zotero-server-id"] == "server-A"


def test_zotero10_edit_fetches_only_that_item(api10: FakeZoteroApi, tmp_path: Path) -> None:
    source = LocalSource(tmp_path, base_url=api10.url)
    source.read()
    api10.edit("BERT6789", title="BERT v2")
    api10.reset_requests()
    source.read()
    assert [r.query["itemKey"] for r in api10.requests if "itemKey" in r.query] == ["BERT6789"]


def test_new_server_id_means_a_full_resync_without_mixing(
    api10: FakeZoteroApi, tmp_path: Path
) -> None:
    source = LocalSource(tmp_path, base_url=api10.url)
    source.read()
    other = sample_library()
    other.items = [i for i in other.items if i.key in ("RESN2345", "BOOK3456")]
    other.items[0].fields["title"] = "From the other database"
    other.version = 3  # lower than what the cache knows: a 304 here would be a lie
    api10.libraries[f"users/{api10.user_id}"] = ServedLibrary(other, "local")
    api10.server_id = "server-B"
    library = source.read()
    assert titles(library) == {"BOOK3456": "Introduction", "RESN2345": "From the other database"}
    assert source.server_id == "server-B"


def test_zotero7_reads_everything_each_time(tmp_path: Path) -> None:
    with FakeZoteroApi(sample_library(), mode="local", zotero_version=7) as api:
        source = LocalSource(tmp_path, base_url=api.url)
        source.read()
        api.reset_requests()
        source.read()
        assert any("itemKey" not in r.query and "format" not in r.query for r in api.requests)
        assert not any("if-modified-since-version" in r.headers for r in api.requests)


def test_switched_off_local_api_says_how_to_enable_it(tmp_path: Path) -> None:
    with FakeZoteroApi(sample_library(), mode="local", local_enabled=False) as api:
        with pytest.raises(SourceUnavailable) as err:
            LocalSource(tmp_path, base_url=api.url).read()
        checks = probe_local(api.url)
    assert "Allow other applications" in (err.value.fix or "")
    assert err.value.exit_code == 3
    assert not checks[0].ok and "Settings → Advanced" in (checks[0].fix or "")


def test_zotero_not_running_says_start_zotero(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable) as err:
        LocalSource(tmp_path, base_url="http://127.0.0.1:9/api").read()
    assert "start Zotero" in (err.value.fix or "")


def test_endpoint_from_environment(
    api10: FakeZoteroApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTSYNC_ZOTERO_LOCAL_URL", api10.url)
    assert len(LocalSource(tmp_path).read().items) == 5


def test_doctor_tells_the_zotero_generation(api: FakeZoteroApi) -> None:
    checks = probe_local(api.url)
    assert all(c.ok for c in checks)
    expected = "Zotero 10+" if api.zotero_version >= 10 else "Zotero 7–9"
    assert expected in checks[-1].detail
