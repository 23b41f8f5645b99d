"""The sqlite source reads Zotero 6, 7 and 10 databases — also while Zotero holds them."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from support.source_contract import MakeSource, SourceContract

import zotsync.sources.sqlite_copy as sqlite_copy
from zotsync.errors import EXIT_SOURCE_UNAVAILABLE, ConfigError, SourceUnavailable
from zotsync.model import ChildNote, Collection, Creator, Item, Library, LibraryRef, Tag
from zotsync.sources.datadir import find_zotero_db, zotero_version
from zotsync.sources.sqlite import SqliteSource
from zotsync.testing.sample_library import sample_library
from zotsync.testing.zotero_db import hold_exclusive, make_zotero_db, trashed_item


class _SqliteContract(SourceContract):
    zotero = 7

    @pytest.fixture
    def make_source(self) -> MakeSource:
        def make(library: Library, tmp_path: Path) -> SqliteSource:
            db = make_zotero_db(
                tmp_path / "Zotero" / "zotero.sqlite",
                library,
                version=self.zotero,
                trashed=[trashed_item(library.ref)],
                feeds=2,
            )
            return SqliteSource(db)

        return make


class TestZotero6Database(_SqliteContract):
    zotero = 6


class TestZotero7Database(_SqliteContract):
    zotero = 7


class TestZotero10WalDatabase(_SqliteContract):
    zotero = 10


def _db(tmp_path: Path, version: int = 7, **kwargs: object) -> Path:
    return make_zotero_db(tmp_path / "Zotero" / "zotero.sqlite", version=version, **kwargs)  # type: ignore[arg-type]


def _by_key(library: Library) -> dict[str, Item]:
    return {it.key: it for it in library.items}


def _new_paper(key: str = "NEWP2345") -> Item:
    return Item(
        key=key,
        item_type="journalArticle",
        fields={"title": "A Paper Saved Just Now", "date": "2025-03-01"},
        creators=[Creator("Newcomer", "Nina")],
        date_added="2025-03-01T10:00:00Z",
        date_modified="2025-03-01T10:00:00Z",
    )


@pytest.mark.parametrize("version", [7, 10], ids=["rollback-journal", "wal"])
def test_reads_latest_commits_while_zotero_holds_the_lock(tmp_path: Path, version: int) -> None:
    db = _db(tmp_path, version)
    with hold_exclusive(db) as zotero:
        zotero.set_title("ATTN2345", "Attention Is Still All You Need")
        zotero.add_item(_new_paper())
        reader = sqlite3.connect(db.as_uri() + "?mode=ro", uri=True, timeout=0.05)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            reader.execute("SELECT 1 FROM items").fetchall()
        reader.close()
        library = SqliteSource(db).read()
    items = _by_key(library)
    assert items["ATTN2345"].title == "Attention Is Still All You Need"
    assert "NEWP2345" in items


def test_wal_commits_not_yet_checkpointed_are_seen(tmp_path: Path) -> None:
    db = _db(tmp_path, 10)
    with hold_exclusive(db) as zotero:
        zotero.set_title("BERT6789", "BERT, retitled")
        assert Path(f"{db}-wal").stat().st_size > 0
        stale = sqlite3.connect(db.as_uri() + "?mode=ro&immutable=1", uri=True)
        try:  # proves the commit lives only in -wal: the main file alone is stale
            (title,) = stale.execute(
                "SELECT v.value FROM items i JOIN itemData d USING (itemID) JOIN fields f "
                "USING (fieldID) JOIN itemDataValues v USING (valueID) "
                "WHERE i.key = 'BERT6789' AND f.fieldName = 'title'"
            ).fetchone()
        finally:
            stale.close()
        assert title.startswith("BERT: Pre-training")
        assert _by_key(SqliteSource(db).read())["BERT6789"].title == "BERT, retitled"


def test_zotero10_reports_local_client_versions(tmp_path: Path) -> None:
    db = _db(tmp_path, 10)
    before = _by_key(SqliteSource(db).read())["RESN2345"].version
    with hold_exclusive(db) as zotero:
        zotero.add_tag("RESN2345", "classic")
    after = _by_key(SqliteSource(db).read())["RESN2345"]
    assert Tag("classic") in after.tags
    assert after.version > before


def test_trashed_children_disappear_with_their_annotations(tmp_path: Path) -> None:
    db = _db(tmp_path, 7)
    with hold_exclusive(db) as zotero:
        zotero.trash("NOTE2345")
        zotero.trash("PDFA2345")
        zotero.add_standalone_note(ChildNote("STND2345", "<p>loose thoughts</p>"))
    library = SqliteSource(db).read()
    attention = _by_key(library)["ATTN2345"]
    assert attention.notes == []
    assert [a.key for a in attention.attachments] == ["LINK2345"]
    assert "STND2345" not in _by_key(library)


def test_group_library_is_read_on_its_own(tmp_path: Path) -> None:
    ref = LibraryRef("group", 4242)
    group = Library(
        ref=ref,
        name="Lab Reading Group",
        collections={"GCOL2345": Collection("GCOL2345", "Week 1")},
        items=[
            Item(
                key="GRPI2345",
                item_type="preprint",
                fields={"title": "Shared Paper", "repository": "arXiv"},
                collections=["GCOL2345"],
                relations={"dc:relation": ["http://zotero.org/groups/4242/items/GRPJ2345"]},
                library=ref,
                date_added="2024-01-01T00:00:00Z",
                date_modified="2024-01-01T00:00:00Z",
            )
        ],
    )
    db = _db(tmp_path, 10, groups={4242: group})
    got = SqliteSource(db, library=ref).read()
    assert (got.ref, got.name) == (ref, "Lab Reading Group")
    assert [it.key for it in got.items] == ["GRPI2345"]
    assert got.items[0].library == ref and got.items[0].fields["publisher"] == "arXiv"
    assert got.collection_path("GCOL2345") == ["Week 1"]
    assert "GRPI2345" not in _by_key(SqliteSource(db).read())
    with pytest.raises(ConfigError, match="group:4242"):
        SqliteSource(db, library=LibraryRef("group", 99)).read()


def test_feed_items_are_not_papers(tmp_path: Path) -> None:
    db = _db(tmp_path, 7, feeds=6)
    assert sorted(_by_key(SqliteSource(db).read())) == sorted(
        it.key for it in sample_library().items
    )


@pytest.mark.parametrize(
    ("wanted", "keys"),
    [
        (["Deep Learning"], {"ATTN2345", "BERT6789", "RESN2345"}),
        (["Deep Learning/NLP"], {"ATTN2345", "BERT6789"}),
        (["Vision", "Reinforcement Learning"], {"RESN2345", "BOOK3456"}),
    ],
)
def test_collection_option_includes_subcollections(
    tmp_path: Path, wanted: list[str], keys: set[str]
) -> None:
    db = _db(tmp_path, 7)
    assert set(_by_key(SqliteSource(db, collections=wanted).read())) == keys


def test_unknown_collection_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Robotics"):
        SqliteSource(_db(tmp_path, 7), collections=["Robotics"]).read()


@pytest.mark.parametrize("store", ["sqlite", "loki"])
def test_citekey_precedence_native_then_bbt_then_extra(tmp_path: Path, store: str) -> None:
    library = sample_library()
    items = _by_key(library)
    items["ATTN2345"].fields["citationKey"] = "native-attention"
    items["ATTN2345"].citekey = "bbt-attention"  # also in BBT and Extra: native wins
    items["BERT6789"].fields["extra"] = "Citation Key: extra-bert"
    items["BERT6789"].citekey = "bbt-bert"  # BBT beats Extra
    items["RESN2345"].fields["extra"] = "tex.note: x\nCitation Key: extra-resnet"
    items["RESN2345"].citekey = ""  # only Extra
    got = _by_key(SqliteSource(_db(tmp_path, 7, library=library, bbt=store)).read())  # type: ignore[arg-type]
    assert got["ATTN2345"].citekey == "native-attention"
    assert got["BERT6789"].citekey == "bbt-bert"
    assert got["RESN2345"].citekey == "extra-resnet"
    assert got["BOOK3456"].citekey == ""


def test_missing_database_is_source_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="not found") as err:
        SqliteSource(tmp_path / "nowhere" / "zotero.sqlite").read()
    assert err.value.exit_code == EXIT_SOURCE_UNAVAILABLE and err.value.fix


def test_file_that_is_not_a_database_is_source_unavailable(tmp_path: Path) -> None:
    bogus = tmp_path / "zotero.sqlite"
    bogus.write_bytes(b"this is a text file, not SQLite\n" * 100)
    with pytest.raises(SourceUnavailable, match="not a readable Zotero database"):
        SqliteSource(bogus, retries=2).read()


def test_damaged_database_is_source_unavailable(tmp_path: Path) -> None:
    db = _db(tmp_path, 7)
    data = bytearray(db.read_bytes())
    page = 4096
    data[page * 3 : page * 6] = b"\xff" * (page * 3)  # trash some b-tree pages
    db.write_bytes(bytes(data))
    with pytest.raises(SourceUnavailable):
        SqliteSource(db, retries=2).read()


def test_database_that_keeps_changing_while_copied_is_source_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(tmp_path, 7)
    real_copy = shutil.copyfile

    def copy_then_touch(src: Path, dst: Path) -> object:
        out = real_copy(src, dst)
        with open(db, "ab") as fh:  # "Zotero" writes during every copy
            fh.write(b"\0")
        return out

    real_patch = sqlite_copy.patch_copy

    def patch_then_touch(src: Path, dst: Path) -> int:  # a retry patches the first copy
        out = real_patch(src, dst)
        with open(db, "ab") as fh:
            fh.write(b"\0")
        return out

    monkeypatch.setattr(sqlite_copy.shutil, "copyfile", copy_then_touch)
    monkeypatch.setattr(sqlite_copy, "patch_copy", patch_then_touch)
    monkeypatch.setattr(sqlite_copy.time, "sleep", lambda _s: None)
    with pytest.raises(SourceUnavailable, match="changing"):
        SqliteSource(db, retries=3).read()


def test_copy_is_retried_until_consistent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _db(tmp_path, 10)
    real_copy = shutil.copyfile
    calls = {"n": 0}

    def copy_once_torn(src: Path, dst: Path) -> object:
        calls["n"] += 1
        if calls["n"] == 1:  # first attempt: the file grows mid-copy
            out = real_copy(src, dst)
            Path(dst).write_bytes(b"torn")
            with sqlite3.connect(db) as conn:
                conn.execute("INSERT INTO dbDebug1 VALUES (1)")
            conn.close()
            return out
        return real_copy(src, dst)

    real_patch = sqlite_copy.patch_copy

    def patch(src: Path, dst: Path) -> int:  # a retry patches the torn copy in place
        calls["n"] += 1
        return real_patch(src, dst)

    monkeypatch.setattr(sqlite_copy.shutil, "copyfile", copy_once_torn)
    monkeypatch.setattr(sqlite_copy, "patch_copy", patch)
    monkeypatch.setattr(sqlite_copy.time, "sleep", lambda _s: None)
    assert len(SqliteSource(db).read().items) == 5
    assert calls["n"] > 1


def test_path_with_hash_question_mark_and_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "my #1 library? yes & more"
    db = make_zotero_db(folder / "zotero.sqlite", version=10)
    before = sorted(p.name for p in tmp_path.iterdir())
    library = SqliteSource(db).read()
    assert len(library.items) == 5 and library.data_dir == str(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no stray "my " file


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("version", [6, 10])
def test_database_and_its_folder_are_never_modified(tmp_path: Path, version: int) -> None:
    db = _db(tmp_path, version, bbt="sqlite")
    with hold_exclusive(db) as zotero:
        zotero.set_title("REPT4567", "GPT-2 report")
        before = _hashes(db.parent)
        mtimes = {p.name: p.stat().st_mtime_ns for p in db.parent.iterdir()}
        library = SqliteSource(db).read()
        assert _hashes(db.parent) == before
        assert {p.name: p.stat().st_mtime_ns for p in db.parent.iterdir()} == mtimes
    assert _by_key(library)["REPT4567"].title == "GPT-2 report"


def test_watch_paths_include_wal_and_journal(tmp_path: Path) -> None:
    db = tmp_path / "zotero.sqlite"
    names = {p.name for p in SqliteSource(db).watch_paths()}
    assert {
        "zotero.sqlite",
        "zotero.sqlite-wal",
        "zotero.sqlite-journal",
        "better-bibtex.sqlite",
    } <= names


def test_data_dir_found_in_home_zotero_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert find_zotero_db() is None
    db = make_zotero_db(tmp_path / "Zotero" / "zotero.sqlite", version=7)
    assert find_zotero_db() == db


def test_custom_data_dir_read_from_profile_prefs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    custom = tmp_path / "Sync Drive" / "Zotero Data"
    db = make_zotero_db(custom / "zotero.sqlite", version=10)
    profile = tmp_path / ".zotero" / "zotero" / "abcd1234.default"
    profile.mkdir(parents=True)
    prefs = profile / "prefs.js"
    prefs.write_text(f'user_pref("extensions.zotero.dataDir", {json.dumps(str(custom))});\n')
    assert find_zotero_db() is None  # useDataDir not set: Zotero ignores dataDir
    prefs.write_text(prefs.read_text() + 'user_pref("extensions.zotero.useDataDir", true);\n')
    assert find_zotero_db() == db


@pytest.mark.parametrize(("version", "release"), [(6, "6.0"), (7, "7.0–8.0"), (10, "10.0")])
def test_zotero_release_from_the_version_table(tmp_path: Path, version: int, release: str) -> None:
    db = make_zotero_db(tmp_path / "zotero.sqlite", version=version)
    assert zotero_version(db).startswith(release + " (userdata ")
