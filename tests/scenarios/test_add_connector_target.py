"""``zotsync add`` through the desktop's connector lands where the user is looking.

The real desktop's ``updateSession`` reads ``data.target[0]`` and splits ``tags`` as one
comma-separated string: a request without a target answers 500. The fake connector answers
the same way, so these tests fail if the client ever stops sending the selected target.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from zotsync.testing.fake_arxiv import FakeArxiv, paper
from zotsync.testing.fake_connector import FakeConnector


@pytest.fixture
def arxiv(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    papers = [paper("2611.20001", "Sparse Mixtures"), paper("2611.20002", "Dense Retrieval")]
    with FakeArxiv(papers) as server:
        monkeypatch.setenv("ZOTSYNC_ARXIV_URL", server.url)
        yield server


@pytest.fixture
def no_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("platformdirs.user_config_dir", lambda *_a, **_k: str(tmp_path / "cfg"))


def desktop(monkeypatch: pytest.MonkeyPatch, selected: str) -> FakeConnector:
    server = FakeConnector(selected=selected)
    server.__enter__()
    monkeypatch.setenv("ZOTSYNC_ZOTERO_LOCAL_URL", server.local_api_url)
    return server


@pytest.mark.parametrize("selected", ["L1", "C11"])
def test_add_without_collection_goes_to_the_selected_target_with_a_manual_to_read_tag(
    selected: str,
    arxiv: FakeArxiv,
    no_vault: None,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., Result],
) -> None:
    zotero = desktop(monkeypatch, selected)
    try:
        result = run_cli("add", "2611.20001", "2611.20002", "--json")
    finally:
        zotero.__exit__(None, None, None)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [a["id"] for a in report["added"]] == ["2611.20001", "2611.20002"]
    assert report["skipped"] == []
    sessions = [r.json()["sessionID"] for r in zotero.calls("saveItems")]
    assert zotero.moved == [(s, selected, ["to-read"]) for s in sessions]
    for update in zotero.calls("updateSession"):
        assert isinstance(update.json()["tags"], str)  # one comma-separated string
    # to-read is not among the saveItems tags: the desktop would make those automatic
    saved_tags = [t for r in zotero.calls("saveItems") for t in r.json()["items"][0]["tags"]]
    assert {"tag": "to-read"} not in saved_tags


def test_add_with_collection_goes_there_not_to_the_selection(
    arxiv: FakeArxiv,
    no_vault: None,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., Result],
) -> None:
    zotero = desktop(monkeypatch, "L1")
    try:
        result = run_cli("add", "2611.20001", "--collection", "Deep Learning", "--json")
    finally:
        zotero.__exit__(None, None, None)
    assert result.exit_code == 0, result.output
    assert [(target, tags) for _, target, tags in zotero.moved] == [("C10", ["to-read"])]


def test_fake_desktop_refuses_an_update_without_target_as_the_real_one_does() -> None:
    import httpx

    with FakeConnector() as zotero:
        zotero.sessions["s1"] = []
        url = f"{zotero.base}/connector/updateSession"
        missing = httpx.post(url, json={"sessionID": "s1", "tags": "to-read"})
        as_list = httpx.post(url, json={"sessionID": "s1", "target": "L1", "tags": ["to-read"]})
        unknown = httpx.post(url, json={"sessionID": "s1", "target": "C99", "tags": ""})
        good = httpx.post(url, json={"sessionID": "s1", "target": "L1", "tags": "a, b"})
    assert (missing.status_code, as_list.status_code) == (500, 500)
    assert unknown.status_code == 400 and "COLLECTION_NOT_FOUND" in unknown.text
    assert good.status_code == 200 and zotero.moved == [("s1", "L1", ["a", "b"])]
