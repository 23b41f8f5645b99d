"""Index notes through a real vault: tag, collection and master notes after a sync and after
``zotsync index`` — exact membership, chronological order, safe names, a kept user area, no
rewrite of unchanged notes, and what happens to the note of a tag that disappeared."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from conftest import paper, sync_db, tree

from zotsync import api as planning
from zotsync.index.render import INDEX_BEGIN, INDEX_END
from zotsync.model import Collection, Item, Library

WIKILINK = re.compile(r"\[\[([^\]|#]+)(?:\|[^\]]*)?\]\]")

#: collection key → (name, parent key)
COLLECTIONS = {
    "COLLML22": ("Machine Learning", None),
    "COLLVS22": ("Vision", "COLLML22"),
    "COLLRG22": ("Reading Group: why?", None),
}


def _paper(
    key: str,
    title: str,
    year: int,
    added: str,
    tags: tuple[str, ...],
    collections: tuple[str, ...],
    version: int = 1,
) -> Item:
    item = paper(key, title, year=year, tags=tags, version=version)
    item.date_added = added
    item.date_modified = f"2024-0{version}-01T00:00:00Z"
    item.collections = list(collections)
    return item


def library(*, drop_tags: tuple[str, ...] = ()) -> Library:
    """Five papers; two published in 2015, the one added earlier must be listed first."""
    rows = [
        ("AAAA2222", "Old Vision", 2012, "2020-01-05T00:00:00Z", ("vision", "ml/deep"), ("COLLVS22",)),
        ("BBBB2222", "Later Added Vision", 2015, "2021-03-01T00:00:00Z", ("vision",), ("COLLVS22",)),
        ("CCCC2222", "Earlier Added Vision", 2015, "2019-05-01T00:00:00Z", ("vision", "ml/deep"), ("COLLML22",)),
        ("DDDD2222", "Questions and Colons", 2019, "2022-01-01T00:00:00Z", ("q?a:b",), ("COLLML22",)),
        ("EEEE2222", "No Tags At All", 2010, "2023-01-01T00:00:00Z", (), ("COLLRG22",)),
    ]  # fmt: skip
    items = []
    for key, title, year, added, tags, colls in rows:
        kept = tuple(t for t in tags if t not in drop_tags)
        items.append(_paper(key, title, year, added, kept, colls, version=2 if kept != tags else 1))
    lib = Library(items=items)
    lib.ref = items[0].library
    lib.collections = {k: Collection(k, name, parent) for k, (name, parent) in COLLECTIONS.items()}
    return lib


def frontmatter(text: str) -> dict[str, object]:
    assert text.startswith("---\n")
    data = yaml.safe_load(text.split("---\n", 2)[1])
    assert isinstance(data, dict)
    return data


def papers_by_stem(vault: Path) -> dict[str, dict[str, object]]:
    """Note stem → the paper note's frontmatter (the ground truth an index must mirror)."""
    return {
        p.stem: frontmatter(p.read_text(encoding="utf-8")) for p in (vault / "Papers").glob("*.md")
    }


def region(text: str) -> str:
    start, end = text.index(INDEX_BEGIN), text.index(INDEX_END)
    return text[start + len(INDEX_BEGIN) : end]


def listed(vault: Path, rel: str) -> list[str]:
    """The link targets of the index note's first list, in order."""
    lines = region((vault / rel).read_text(encoding="utf-8")).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("- ")), len(lines))
    first = []
    for line in lines[start:]:
        if not line.startswith("- "):
            break
        first.append(line)
    return [m.group(1) for line in first for m in WIKILINK.finditer(line)]


def tag_note(vault: Path, tag: str) -> str:
    """Where a tag's note should be: nested parts as folders, unsafe characters as ``-``."""
    parts = [re.sub(r'[\\:*?"<>|#^\[\]]', "-", part) for part in tag.split("/")]
    return "Tags/" + "/".join(parts) + ".md"


@pytest.fixture
def synced(tmp_path: Path, vault: Path, make_db: Callable[..., Path]) -> tuple[Path, Path]:
    db = make_db(library())
    report = sync_db(vault, db)
    assert report.result.counts()["created"] == 5
    return vault, db


def test_each_tag_note_lists_exactly_the_papers_carrying_the_tag_oldest_first(
    synced: tuple[Path, Path],
) -> None:
    vault, _ = synced
    notes = papers_by_stem(vault)
    added = {it.title: it.date_added for it in library().items}
    tags = sorted({str(t) for fm in notes.values() for t in fm.get("tags") or []})
    assert {"vision", "ml/deep", "q-a-b"} <= set(tags)
    for tag in tags:
        carrying = [s for s, fm in notes.items() if tag in (fm.get("tags") or [])]
        expected = sorted(
            carrying,
            key=lambda s: (notes[s]["year"], added[str(notes[s]["title"])]),  # type: ignore[index]
        )
        assert listed(vault, tag_note(vault, tag)) == expected, tag
    assert listed(vault, "Tags/vision.md") == [
        "Old Vision",
        "Earlier Added Vision",
        "Later Added Vision",
    ]


def test_nested_tags_become_folders_and_unsafe_characters_become_dashes(
    synced: tuple[Path, Path],
) -> None:
    vault, db = synced
    note = vault / "Papers" / "Questions and Colons.md"
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("  - q-a-b\n", "  - q-a-b\n  - 'what:now?'\n", 1))
    sync_db(vault, db)
    assert (vault / "Tags" / "ml" / "deep.md").is_file()
    assert listed(vault, "Tags/what-now-.md") == ["Questions and Colons"]
    assert listed(vault, "Collections/Reading Group- why-.md") == ["No Tags At All"]
    assert not any(ch in p.name for p in vault.rglob("*") for ch in ':?*"<>|')


def test_a_tag_the_user_adds_in_a_note_gets_listed_after_the_next_sync(
    synced: tuple[Path, Path],
) -> None:
    vault, db = synced
    note = vault / "Papers" / "No Tags At All.md"
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("status: to-read", "tags:\n  - vision\nstatus: to-read", 1))
    sync_db(vault, db)
    assert listed(vault, "Tags/vision.md")[0] == "No Tags At All"  # 2010: the oldest


def test_collection_notes_follow_the_collection_tree_and_link_subcollections(
    synced: tuple[Path, Path],
) -> None:
    vault, _ = synced
    assert listed(vault, "Collections/Machine Learning/Vision.md") == [
        "Old Vision",
        "Later Added Vision",
    ]
    parent = (vault / "Collections" / "Machine Learning.md").read_text(encoding="utf-8")
    assert listed(vault, "Collections/Machine Learning.md") == [
        "Earlier Added Vision",
        "Questions and Colons",
    ]
    assert "[[Collections/Machine Learning/Vision|Vision]]" in parent


def test_every_link_in_the_index_notes_resolves_to_a_note(synced: tuple[Path, Path]) -> None:
    vault, _ = synced
    stems = {p.stem for p in vault.rglob("*.md")}
    paths = {p.relative_to(vault).with_suffix("").as_posix() for p in vault.rglob("*.md")}
    notes = [*(vault / "Tags").rglob("*.md"), *(vault / "Collections").rglob("*.md")]
    notes.append(vault / "Papers.md")
    assert len(notes) == 7
    for note in notes:
        for target in WIKILINK.findall(note.read_text(encoding="utf-8")):
            assert target in stems or target in paths, f"{note}: [[{target}]] leads nowhere"


def test_the_master_list_names_every_paper_under_its_top_collection(
    synced: tuple[Path, Path],
) -> None:
    vault, _ = synced
    text = region((vault / "Papers.md").read_text(encoding="utf-8"))
    sections = dict(re.findall(r"^## (.+)\n\n((?:- .*\n)+)", text, re.MULTILINE))
    assert set(sections) == {"Machine Learning", "Reading Group: why?"}
    ml = [m.group(1) for m in WIKILINK.finditer(sections["Machine Learning"])]
    assert ml == [
        "Old Vision",
        "Earlier Added Vision",
        "Later Added Vision",
        "Questions and Colons",
    ]


def test_the_user_area_above_an_index_region_survives_later_syncs(
    synced: tuple[Path, Path], make_db: Callable[..., Path]
) -> None:
    vault, _ = synced
    note = vault / "Tags" / "vision.md"
    mine = "# vision\n\nMy reading notes on vision: start with the 2012 one.\n\n"
    note.write_text(note.read_text(encoding="utf-8").replace("# vision\n\n", mine, 1))
    lib = library()
    lib.items.append(
        _paper("FFFF2222", "Brand New Vision", 2024, "2024-05-01T00:00:00Z", ("vision",), ())
    )
    sync_db(vault, make_db(lib))
    text = note.read_text(encoding="utf-8")
    assert text.startswith(mine + INDEX_BEGIN)
    assert listed(vault, "Tags/vision.md")[-1] == "Brand New Vision"


def test_an_unchanged_library_rewrites_no_index_note(
    synced: tuple[Path, Path], run_cli: Callable[..., Result]
) -> None:
    vault, db = synced
    before = tree(vault)
    assert planning.index(vault) == 0
    result = run_cli("index", "--vault", vault, "--json")
    assert result.exit_code == 0 and '"written": 0' in result.stdout
    sync_db(vault, db)
    assert tree(vault) == before


def test_a_vanished_tag_keeps_a_note_with_user_text_and_trashes_a_pristine_one(
    synced: tuple[Path, Path], run_cli: Callable[..., Result]
) -> None:
    vault, _ = synced
    kept = vault / "Tags" / "vision.md"
    kept.write_text(kept.read_text(encoding="utf-8").replace("\n\n", "\n\nMy vision notes.\n\n", 1))
    pristine = vault / "Tags" / "ml" / "deep.md"
    assert pristine.is_file()
    # tags merge by "append" (the user's stay), so a tag goes when the user removes it
    for note in (vault / "Papers").glob("*.md"):
        text = note.read_text(encoding="utf-8")
        note.write_text(text.replace("  - vision\n", "").replace("  - ml/deep\n", ""))
    result = run_cli("index", "--vault", vault, "--json")
    assert result.exit_code == 0 and '"written": 0' not in result.stdout
    text = kept.read_text(encoding="utf-8")
    assert "My vision notes." in text
    assert "any more" in region(text) and "[[" not in region(text)
    assert not pristine.exists()
    assert (vault / ".zotsync" / "trash" / "index" / "Tags" / "ml" / "deep.md").is_file()
    before = tree(vault)
    assert planning.index(vault) == 0  # the emptied note is not rewritten again
    assert tree(vault) == before


def test_the_index_folders_come_from_the_config(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    config = vault / "zotsync.yaml"
    text = config.read_text(encoding="utf-8")
    changed = text.replace("tags-folder: Tags", "tags-folder: Topics/Tags").replace(
        "collections-folder: Collections", "collections-folder: Shelves"
    )
    assert changed.count("Topics/Tags") == 1 and changed.count("Shelves") == 1
    config.write_text(changed, encoding="utf-8")
    sync_db(vault, make_db(library()))
    assert (vault / "Topics" / "Tags" / "ml" / "deep.md").is_file()
    assert (vault / "Shelves" / "Machine Learning" / "Vision.md").is_file()
    assert not any((vault / "Tags").rglob("*.md"))
    assert not any((vault / "Collections").rglob("*.md"))
    parent = (vault / "Shelves" / "Machine Learning.md").read_text(encoding="utf-8")
    assert "[[Shelves/Machine Learning/Vision|Vision]]" in parent
    result = run_cli("index", "--vault", vault, "--json")
    assert result.exit_code == 0 and '"written": 0' in result.stdout


def test_the_demo_vault_indexes_are_browsable_and_roadmaps_put_references_first(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    vault = tmp_path / "demo-vault"
    planning.build_demo(vault)
    result = run_cli("index", "--vault", vault, "--json")
    assert result.exit_code == 0 and '"written": 0' in result.stdout  # the demo wrote them
    stems = {p.stem for p in vault.rglob("*.md")}
    paths = {p.relative_to(vault).with_suffix("").as_posix() for p in vault.rglob("*.md")}
    notes = [*(vault / "Tags").rglob("*.md"), *(vault / "Collections").rglob("*.md")]
    assert len(notes) > 10
    for note in [*notes, vault / "Papers.md"]:
        for target in WIKILINK.findall(note.read_text(encoding="utf-8")):
            assert target in stems or target in paths, f"{note}: [[{target}]] leads nowhere"
    refs = {}
    for p in (vault / "Papers").glob("*.md"):
        text = p.read_text(encoding="utf-8").partition("%% zotsync:begin references %%")[2]
        refs[p.stem] = set(WIKILINK.findall(text.partition("%% zotsync:end references %%")[0]))
    assert sum(len(r) for r in refs.values()) > 50
    master = region((vault / "Papers.md").read_text(encoding="utf-8"))
    roadmaps = re.findall(r"^### Roadmap: .+\n\n((?:\d+\. .*\n)+)", master, re.MULTILINE)
    assert roadmaps
    for block in roadmaps:
        order = [m.group(1) for m in WIKILINK.finditer(block)]
        for i, stem in enumerate(order):
            # two preprints citing each other: the cycle is broken, one must come first
            later = {s for s in order[i + 1 :] if stem not in refs[s]}
            assert not (refs[stem] & later), f"{stem} is listed before papers it cites"


def test_an_index_note_with_broken_markers_is_reported_and_the_others_still_written(
    synced: tuple[Path, Path], run_cli: Callable[..., Result]
) -> None:
    vault, _ = synced
    broken = vault / "Tags" / "vision.md"
    broken.write_text(broken.read_text(encoding="utf-8").replace(INDEX_END, "my own end"))
    before = broken.read_bytes()
    note = vault / "Papers" / "Old Vision.md"
    note.write_text(
        note.read_text(encoding="utf-8").replace("  - vision\n", "  - vision\n  - new\n")
    )
    result = run_cli("index", "--vault", vault)
    assert result.exit_code == 1
    assert "Tags/vision.md" in result.stderr and "fix:" in result.stderr
    assert broken.read_bytes() == before
    assert listed(vault, "Tags/new.md") == ["Old Vision"]


def test_an_index_setting_leading_out_of_the_vault_is_refused(
    synced: tuple[Path, Path], run_cli: Callable[..., Result]
) -> None:
    vault, _ = synced
    config = vault / "zotsync.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("master: Papers.md", "master: ../outside.md"))
    result = run_cli("index", "--vault", vault)
    assert result.exit_code == 2 and "index.master" in result.stderr
    assert not (vault.parent / "outside.md").exists()
