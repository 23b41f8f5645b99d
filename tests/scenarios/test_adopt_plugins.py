"""Adopting the notes of Citations, Zotero Integration, ZotLit, mdnotes and PaperForge.

Each scenario: a vault of notes written in one tool's style for two of three papers, a
``zotero.sqlite`` of the same library built by the fixture builder, and the CLI. The first
sync adopts the two notes where they stand (no duplicate), keeps every user line, key and tag,
creates the third note, and a second sync writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from conftest import paper, small_library, tree

from zotsync.model import Item, Library
from zotsync.testing.plugin_vaults import STYLES, write_plugin_vault
from zotsync.vault.regions import parse_note, user_segments


def library() -> Library:
    items = [
        paper(
            "AAAA2222",
            "Attention Is All You Need",
            year=2017,
            authors=("Vaswani",),
            doi="10.48550/ARXIV.1706.03762x",
            tags=("transformers",),
        ),
        paper(
            "BBBB3333",
            "Deep Residual Learning",
            year=2016,
            authors=("He",),
            doi="10.1109/CVPR.2016.90",
            tags=("vision",),
        ),
        paper(
            "CCCC4444",
            "Playing Atari with Deep RL",
            year=2013,
            authors=("Mnih",),
            doi="10.1000/atari.2013",
        ),
    ]
    for item, ck in zip(
        items, ("vaswani2017attention", "he2016deep", "mnih2013playing"), strict=True
    ):
        item.citekey = ck
    return small_library(*items)


def frontmatter_of(text: str) -> dict:
    fm = parse_note(text).frontmatter
    return yaml.load(fm, Loader=yaml.BaseLoader) if fm else {}


def body_of(text: str) -> str:
    return text[parse_note(text).body_start :]


@pytest.fixture
def db_for(make_db: Callable[..., Path]) -> Callable[[Library], Path]:
    return lambda lib: make_db(lib, version=7, bbt="sqlite")


def adopt_json(run_cli: Callable[..., Result], vault: Path, db: Path) -> tuple[int, dict]:
    result = run_cli("adopt", "--vault", vault, "--zotero-db", db, "--json")
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("style", STYLES)
def test_plugin_vault_is_adopted_without_duplicates(
    style: str,
    tmp_path: Path,
    db_for: Callable[[Library], Path],
    run_cli: Callable[..., Result],
) -> None:
    lib = library()
    db = db_for(lib)
    vault = tmp_path / "vault"
    vault.mkdir()
    notes = write_plugin_vault(vault, style, lib.items[:2])
    before = {key: path.read_text("utf-8") for key, path in notes.items()}

    code, listing = adopt_json(run_cli, vault, db)
    assert code == 0
    assert not (vault / ".zotsync").exists()  # adopt is read only
    assert {(a["key"], a["path"]) for a in listing["adopt"]} == {
        (key, path.relative_to(vault).as_posix()) for key, path in notes.items()
    }
    assert all(a["evidence"] for a in listing["adopt"])
    assert listing["create"] == 1 and listing["ambiguous"] == []

    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert (counts["adopted"], counts["created"]) == (2, 1)

    md = [p for p in vault.rglob("*.md") if ".zotsync" not in p.parts]
    claims = [frontmatter_of(p.read_text("utf-8")).get("zotero-key") for p in md]
    assert sorted(k for k in claims if k) == ["AAAA2222", "BBBB3333", "CCCC4444"]
    papers = [p for p in md if "%% zotsync:begin header %%" in p.read_text("utf-8")]
    assert len(papers) == 3  # nothing duplicated: two adopted in place, one created
    assert not [p for p in md if "conflict" in p.name]
    for key, path in notes.items():
        old, new = before[key], path.read_text("utf-8")
        # the user's body is whole and in order, after zotsync's regions
        assert "".join(user_segments(new)).endswith(body_of(old))
        assert new.index("%% zotsync:begin header %%") < new.index(body_of(old).strip()[:20])
        old_fm, new_fm = frontmatter_of(old), frontmatter_of(new)
        for k, v in old_fm.items():
            if k == "tags":
                assert all(t in new_fm["tags"] for t in (v if isinstance(v, list) else [v]))
            elif k == "aliases":
                assert all(a in new_fm["aliases"] for a in v)
            else:
                assert new_fm[k] == v, k  # every key the user had keeps its value
        assert new_fm["zotero-key"] == key
        item = next(i for i in lib.items if i.key == key)
        assert {t.name for t in item.tags} <= set(new_fm["tags"])  # tags merged
    # the unrelated (created) note went to Papers/ as usual
    assert (vault / "Papers" / "Playing Atari with Deep RL.md").exists()

    snapshot = tree(vault)
    again = run_cli("sync", "--vault", vault, "--no-refs", "--json")
    assert again.exit_code == 0
    assert tree(vault) == snapshot  # bytes and mtimes
    everything = tree(vault, include_state=True)
    code, listing = adopt_json(run_cli, vault, db)
    assert (code, listing["adopt"], listing["create"]) == (0, [], 0)
    assert tree(vault, include_state=True) == everything  # read only, .zotsync/ included


def test_adopted_note_keeps_its_name_when_the_title_changes(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    lib = library()
    vault = tmp_path / "vault"
    vault.mkdir()
    notes = write_plugin_vault(vault, "citations", lib.items[:1])
    db = make_db(lib, version=7, bbt="sqlite")
    assert run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs").exit_code == 0
    lib.items[0].fields["title"] = "Attention Is Still All You Need"
    db2 = make_db(lib, version=7, bbt="sqlite")
    assert run_cli("sync", "--vault", vault, "--zotero-db", db2, "--no-refs").exit_code == 0
    path = notes["AAAA2222"]
    assert path.exists()  # never renamed: zotsync did not name it
    fm = frontmatter_of(path.read_text("utf-8"))
    assert fm["title"] == "Attention Is All You Need"  # the user's key keeps its value
    assert "Attention Is Still All You Need" in fm["aliases"]  # the new title as an alias
    assert "# Attention Is Still All You Need" in path.read_text("utf-8")  # header region


def test_user_keys_of_an_adopted_note_stay_the_users_on_later_syncs(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    lib = library()
    vault = tmp_path / "vault"
    vault.mkdir()
    notes = write_plugin_vault(vault, "paperforge", lib.items[1:2])
    assert (
        run_cli("sync", "--vault", vault, "--zotero-db", make_db(lib), "--no-refs").exit_code == 0
    )
    lib.items[1].fields["DOI"] = ""
    lib.items[1].fields["date"] = "2015"
    assert (
        run_cli("sync", "--vault", vault, "--zotero-db", make_db(lib), "--no-refs").exit_code == 0
    )
    fm = frontmatter_of(notes["BBBB3333"].read_text("utf-8"))
    assert fm["doi"] == "10.1109/CVPR.2016.90" and fm["year"] == "2016"


def test_a_list_note_linking_many_papers_is_not_adopted(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    lib = library()
    vault = tmp_path / "vault"
    vault.mkdir()
    hub = vault / "Reading list.md"
    hub.write_text(
        "".join(f"- [{i.title}](zotero://select/library/items/{i.key})\n" for i in lib.items),
        "utf-8",
    )
    before = hub.read_bytes()
    result = run_cli("sync", "--vault", vault, "--zotero-db", make_db(lib), "--no-refs", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["created"] == 3
    assert hub.read_bytes() == before


def test_sqlite_vault_switches_identity_and_keeps_every_note(
    tmp_path: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    """Notes first keyed by citekey (as a .bib source keys them) are found again by their
    citekey when the library is read from zotero.sqlite: kept, gaining the Zotero key; the
    old rows are forgotten, not handled as deleted papers."""
    from conftest import MemorySource, sync_memory

    from zotsync import api

    lib = library()
    by_citekey = [_rekeyed(i) for i in lib.items]
    vault = tmp_path / "vault"
    api.init_vault(vault)
    sync_memory(vault, MemorySource(small_library(*by_citekey)))
    paths = sorted(p for p in (vault / "Papers").glob("*.md"))
    for p in paths:
        p.write_text(p.read_text("utf-8") + "\nMy own line.\n", "utf-8")
    db = make_db(lib, version=10, bbt="native")
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert (counts["created"], counts["trashed"], counts["adopted"]) == (0, 0, 3)
    assert sorted(p for p in (vault / "Papers").glob("*.md")) == paths
    for p in paths:
        text = p.read_text("utf-8")
        assert text.endswith("\nMy own line.\n") and "zotero-deleted" not in text
        fm = frontmatter_of(text)
        assert fm["zotero-key"] in {"AAAA2222", "BBBB3333", "CCCC4444"}
    snapshot = tree(vault)
    assert run_cli("sync", "--vault", vault, "--no-refs").exit_code == 0
    assert tree(vault) == snapshot


def _rekeyed(item: Item) -> Item:
    import dataclasses

    return dataclasses.replace(item, key=item.citekey)
