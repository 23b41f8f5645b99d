"""One library, five sources, the same notes (issue 6).

The sample library is expressed in every form zotsync reads — a Zotero 7 ``zotero.sqlite``, the
web API, the desktop's local API (Zotero 10 and Zotero 7 behaviour), a Better BibTeX JSON
export and a demo-format file — and each is synced into its own vault. Every Markdown file of
every vault must then equal the sqlite vault's byte for byte, except for what the source cannot
know. Those exceptions are listed in ``docs/sources.md`` ("What a source cannot know") and are
applied here as exact rewrites of the sqlite note, never as "ignore this line":

* ``data-dir``: only the sqlite source knows Zotero's data directory, so only its notes carry
  ``([file](file:///…/storage/KEY/name))`` links next to stored attachments;
* ``attachment-urls``: a BBT export drops attachment URLs, so a linked-URL attachment is its
  title without a link;
* ``annotations``: a BBT export has no annotations, so the annotations region is empty.

The user library's id never reaches a note (links say ``zotero://select/library/…``); a group's
does (``groups/ID``), so the same comparison runs for a group library too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from zotsync import api
from zotsync.model import Library, LibraryRef
from zotsync.sources import Source
from zotsync.sources.bbt_json import UNKNOWN_TO_SOURCE as BBT_UNKNOWN
from zotsync.sources.bbt_json import BbtJsonSource
from zotsync.sources.demo import DemoSource
from zotsync.sources.local import UNKNOWN_TO_SOURCE as LOCAL_UNKNOWN
from zotsync.sources.local import LocalSource
from zotsync.sources.sqlite import SqliteSource
from zotsync.sources.web import UNKNOWN_TO_SOURCE as WEB_UNKNOWN
from zotsync.sources.web import WebSource
from zotsync.testing.bbt_export import write_bbt_export
from zotsync.testing.demo_json import library_to_demo_json
from zotsync.testing.fake_zotero_api import FakeZoteroApi
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import make_zotero_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sources.md"
GROUP_ID = 4242
_FILE_LINK = re.compile(r" \(\[file\]\(file://[^)\s]*\)\)")
_ANNOTATIONS = re.compile(
    r"(%% zotsync:begin annotations %%\n).*?(%% zotsync:end annotations %%)", re.DOTALL
)


@dataclass(frozen=True)
class Form:
    """One way of expressing the library, and what its notes cannot show."""

    name: str
    cannot_know: frozenset[str]


FORMS = [
    Form("web", frozenset({"data-dir"})),
    Form("local-zotero10", frozenset({"data-dir"})),
    Form("local-zotero7", frozenset({"data-dir"})),
    Form("bbt-json", frozenset({"attachment-urls", "annotations"})),
    Form("demo", frozenset({"data-dir"})),
]


def _library(kind: str) -> Library:
    return sample_library(LibraryRef("group", GROUP_ID) if kind == "group" else None)


def _spec(kind: str) -> str:
    return f"group:{GROUP_ID}" if kind == "group" else "user"


def _groups(kind: str) -> dict[int, Library] | None:
    return {GROUP_ID: _library("group")} if kind == "group" else None


def _make_sources(
    kind: str, root: Path, mp: pytest.MonkeyPatch, servers: list[FakeZoteroApi]
) -> dict[str, Callable[[], Source]]:
    """Each form of the library (its files written, its server started) -> source factory."""
    # the user library lives in every server and DB; a group run reads the group beside it
    db = make_zotero_db(root / "zotero" / "zotero.sqlite", sample_library(), version=7,
                        groups=_groups(kind))  # fmt: skip
    web = FakeZoteroApi(sample_library(), mode="web", groups=_groups(kind)).start()
    local10 = FakeZoteroApi(sample_library(), mode="local", groups=_groups(kind)).start()
    local7 = FakeZoteroApi(
        sample_library(), mode="local", zotero_version=7, groups=_groups(kind)
    ).start()
    servers += [web, local10, local7]
    mp.setenv("ZOTSYNC_ZOTERO_API_URL", web.url)
    mp.setenv("ZOTERO_API_KEY", web.api_key)
    # BBT writes stored files with their absolute path, so the export knows Zotero's data folder
    export = write_bbt_export(root / "library.json", _library(kind), data_dir=str(db.parent))
    demo_file = root / "demo.json"
    demo_file.write_text(json.dumps(library_to_demo_json(_library(kind))), encoding="utf-8")

    def local(server: FakeZoteroApi) -> Source:
        mp.setenv("ZOTSYNC_ZOTERO_LOCAL_URL", server.url)
        return LocalSource(root / f"cache-{server.zotero_version}", library=_spec(kind))

    ref = LibraryRef("group", GROUP_ID) if kind == "group" else None
    return {
        "sqlite": lambda: SqliteSource(db, library=ref),
        "web": lambda: WebSource(_spec(kind), api_key=None, cache_dir=root / "cache-web"),
        "local-zotero10": lambda: local(local10),
        "local-zotero7": lambda: local(local7),
        "bbt-json": lambda: BbtJsonSource(export),
        "demo": lambda: DemoSource(demo_file),
    }


def _markdown(vault: Path) -> dict[str, bytes]:
    """Every Markdown file of the vault (zotsync's state folder left out) -> its bytes."""
    return {
        p.relative_to(vault).as_posix(): p.read_bytes()
        for p in sorted(vault.rglob("*.md"))
        if ".zotsync" not in p.relative_to(vault).parts
    }


@pytest.fixture(scope="module", params=["user", "group"])
def vaults(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, dict[str, bytes]]]:
    """Form name -> the Markdown files of the vault synced from it (one sync each)."""
    kind = str(request.param)
    root = tmp_path_factory.mktemp(f"same-notes-{kind}")
    servers: list[FakeZoteroApi] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZOTSYNC_OFFLINE", "1")
        try:
            out: dict[str, dict[str, bytes]] = {}
            for name, make in _make_sources(kind, root, mp, servers).items():
                vault = root / f"vault-{name}"
                api.init_vault(vault)
                report = api.sync(vault, source=make(), refs=False)
                assert (report.result.created, report.result.failed) == (5, 0), name
                out[name] = _markdown(vault)
            yield out
        finally:
            for server in servers:
                server.stop()


def expected_note(sqlite_text: str, cannot_know: frozenset[str], library: Library) -> str:
    """The sqlite note as a source that cannot know ``cannot_know`` must write it."""
    text = sqlite_text
    if "data-dir" in cannot_know:
        text = _FILE_LINK.sub("", text)
    if "attachment-urls" in cannot_know:
        for item in library.items:
            for att in item.attachments:
                if att.link_mode == "linked_url" and att.url:
                    text = text.replace(f"[{att.title}]({att.url})", att.title)
    if "annotations" in cannot_know:
        text = _ANNOTATIONS.sub(r"\1\2", text)
    return text


def test_sqlite_notes_hold_everything_the_other_sources_may_lack(
    vaults: dict[str, dict[str, bytes]],
) -> None:
    """The baseline must show each documented difference, or comparing proves nothing."""
    attention = vaults["sqlite"]["Papers/Attention Is All You Need.md"].decode()
    assert _FILE_LINK.search(attention)
    assert "[arXiv abstract page](https://arxiv.org/abs/1706.03762)" in attention
    assert "^ANNH2345" in attention


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_every_source_writes_the_same_files(
    vaults: dict[str, dict[str, bytes]], form: Form
) -> None:
    assert sorted(vaults[form.name]) == sorted(vaults["sqlite"])
    assert len([p for p in vaults[form.name] if p.startswith("Papers/")]) == 5


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_notes_equal_the_sqlite_notes_apart_from_what_the_source_cannot_know(
    vaults: dict[str, dict[str, bytes]], form: Form
) -> None:
    library = sample_library()
    differing = {}
    for path, data in vaults["sqlite"].items():
        want = expected_note(data.decode("utf-8"), form.cannot_know, library)
        got = vaults[form.name].get(path, b"").decode("utf-8")
        if got != want:
            differing[path] = (want, got)
    assert not differing, f"{form.name} differs in {sorted(differing)}"


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_each_documented_difference_really_shows(
    vaults: dict[str, dict[str, bytes]], form: Form
) -> None:
    """A difference listed for a source that the source in fact knows is a stale list."""
    library = sample_library()
    for difference in sorted(form.cannot_know):
        changed = [
            path
            for path, data in vaults["sqlite"].items()
            if expected_note(data.decode(), frozenset({difference}), library) != data.decode()
        ]
        assert changed, f"{difference} changes no note"
        assert all(vaults[form.name][p] != vaults["sqlite"][p] for p in changed), difference


def test_sources_md_names_every_unknown_attribute_and_difference() -> None:
    """docs/sources.md lists what each source cannot know; it must not drift from the code."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## What a source cannot know", 1)[1]
    for attribute in sorted(BBT_UNKNOWN | WEB_UNKNOWN | LOCAL_UNKNOWN):
        assert f"`{attribute}`" in section, attribute
    for difference in sorted(set().union(*(f.cannot_know for f in FORMS))):
        assert f"`{difference}`" in section, difference


def test_bbt_export_notes_link_stored_files_like_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTSYNC_OFFLINE", "1")
    db = make_zotero_db(tmp_path / "Zotero" / "zotero.sqlite", sample_library(), version=7)
    export = write_bbt_export(tmp_path / "library.json", sample_library(), data_dir=str(db.parent))
    notes = {}
    for name, source in (("sqlite", SqliteSource(db)), ("bbt", BbtJsonSource(export))):
        vault = tmp_path / name
        api.init_vault(vault)
        api.sync(vault, source=source, refs=False)
        notes[name] = (vault / "Papers" / "Attention Is All You Need.md").read_text()
    assert _FILE_LINK.findall(notes["bbt"]) == _FILE_LINK.findall(notes["sqlite"])


def test_writeback_tags_the_zotero_item_read_when_its_note_says_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTSYNC_OFFLINE", "1")
    with FakeZoteroApi(sample_library(), mode="web") as server:
        monkeypatch.setenv("ZOTSYNC_ZOTERO_API_URL", server.url)
        monkeypatch.setenv("ZOTERO_API_KEY", server.api_key)
        vault = tmp_path / "vault"
        api.init_vault(vault)
        config = vault / "zotsync.yaml"
        text = config.read_text(encoding="utf-8")
        text = text.replace("source: sqlite", "source: web")
        config.write_text(text.replace("writeback: false", "writeback: true"), encoding="utf-8")
        api.sync(vault, refs=False)
        note = vault / "Papers" / "Attention Is All You Need.md"
        note.write_text(note.read_text().replace("status: to-read", "status: read"))
        api.sync(vault, refs=False)
        served = server.libraries[f"users/{server.user_id}"].objects["item"]["ATTN2345"]
        assert "read" in [t["tag"] for t in served["tags"]]
