"""Plan, index and inbox notes get what paper notes get (PRODUCT guarantee 1 and 2).

Text typed inside the managed region of a plan, index or inbox note is kept: the note is
backed up and left as it is, the new version goes to a conflict file beside it, and the
command exits 4 — ``plan --force`` included. Ticking a box is not such an edit. Temp files a
killed run left in those folders are removed by the next pass that writes there.
"""

# ruff: noqa: F811  (the imported fixtures are, by pytest's design, test parameters too)

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from conftest import backups, paper
from support.vault_edges import Scenario
from test_keeping_up import (  # noqa: F401  (fixtures used as parameters)
    ON_TOPIC,
    TODAY,
    fake_arxiv,
    synced_vault,
    tick,
    zotero_db,
)

from zotsync.discover.inbox import iso_week
from zotsync.errors import EXIT_CONFLICT, EXIT_OK
from zotsync.testing.fake_arxiv import FakeArxiv

TYPED = "My reading order thoughts, typed inside the region."
WEEK = "2026-W50"


def _type_into_region(note: Path, region: str) -> str:
    """Insert the user's line just below the region's begin marker; returns the new text."""
    marker = f"%% zotsync:begin {region} %%\n"
    text = note.read_text("utf-8")
    assert marker in text
    text = text.replace(marker, marker + TYPED + "\n", 1)
    note.write_text(text, "utf-8")
    return text


def _conflict_files(vault: Path) -> list[Path]:
    return sorted(p for p in vault.rglob("*zotsync conflict*.md") if ".zotsync" not in p.parts)


def test_text_typed_in_the_index_region_is_kept_with_a_conflict(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    assert s.sync().exit_code == EXIT_OK
    papers_md = s.vault / "Papers.md"
    mine = _type_into_region(papers_md, "index")
    s.library.items.append(paper("DDDD5555", "A New Paper Arrives", year=2021))
    code, data = s.sync_json()
    assert code == EXIT_CONFLICT, data
    assert data["conflicts"] >= 1 and "Papers.md" in data["conflict_paths"]
    assert papers_md.read_text("utf-8") == mine  # the user's note, byte for byte
    beside = _conflict_files(s.vault)
    assert [p.name for p in beside] == ["Papers (zotsync conflict).md"]
    assert "A New Paper Arrives" in beside[0].read_text("utf-8")
    assert any(b.name == "Papers.md" for b in backups(s.vault))
    # the user moves the line out of the region: the next pass updates the index again
    papers_md.write_text(mine.replace(TYPED + "\n", "", 1) + TYPED + "\n", "utf-8")
    assert s.sync("--full").exit_code == EXIT_OK
    text = papers_md.read_text("utf-8")
    assert "A New Paper Arrives" in text and text.endswith(TYPED + "\n")


def _plan(s: Scenario, *args: str) -> Result:
    return s.cli("plan", "--vault", s.vault, "--week", WEEK, *args)


def test_text_typed_in_the_plan_region_survives_plan_and_plan_force(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    assert s.sync().exit_code == EXIT_OK
    assert _plan(s).exit_code == EXIT_OK
    note = s.vault / "Reading Plans" / f"{WEEK}.md"
    mine = _type_into_region(note, "plan")
    for args in ((), ("--force",), ("--force", "--count", "2")):
        result = _plan(s, *args)
        assert result.exit_code == EXIT_CONFLICT, (args, result.output)
        assert "typed inside the managed region" in result.output
        assert note.read_text("utf-8") == mine
    assert any(b.name == f"{WEEK}.md" for b in backups(s.vault))
    assert _conflict_files(s.vault)


def test_ticking_a_plan_box_is_not_a_conflict(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    assert s.sync().exit_code == EXIT_OK
    assert _plan(s).exit_code == EXIT_OK
    note = s.vault / "Reading Plans" / f"{WEEK}.md"
    note.write_text(note.read_text("utf-8").replace("- [ ]", "- [x]", 1), "utf-8")
    assert _plan(s, "--force", "--count", "2").exit_code == EXIT_OK
    assert not _conflict_files(s.vault)


TEMP = ".{}.zotsync-tmp-0123abcd"


def test_text_typed_in_the_inbox_region_is_kept_with_a_conflict(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    args = ("discover", "--vault", synced_vault, "--category", "cs.LG", "--days", "7")
    assert run_cli(*args).exit_code == EXIT_OK
    inbox = synced_vault / "Inbox" / f"{iso_week(TODAY)}.md"
    tick(inbox, ON_TOPIC[0])  # a tick is the user's to set: no conflict
    assert "- [x]" in inbox.read_text("utf-8")
    killed = inbox.parent / TEMP.format(inbox.name)  # what a killed run leaves
    killed.write_text("half a note", "utf-8")
    assert run_cli(*args).exit_code == EXIT_OK
    assert not killed.exists()
    assert not _conflict_files(synced_vault)
    mine = _type_into_region(inbox, "inbox")
    result = run_cli(*args, "--days", "3")  # a different ranking
    assert result.exit_code == EXIT_CONFLICT, result.output
    assert inbox.read_text("utf-8") == mine
    assert _conflict_files(synced_vault)
    assert any(b.name == inbox.name for b in backups(synced_vault))


def test_temp_files_of_a_killed_run_go_in_index_and_plan_folders(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    assert s.sync().exit_code == EXIT_OK
    assert _plan(s).exit_code == EXIT_OK
    left = [
        s.vault / TEMP.format("Papers.md"),
        s.vault / "Reading Plans" / TEMP.format(f"{WEEK}.md"),
        s.vault / "Collections" / TEMP.format("x.md"),
        s.vault / "Tags" / "sub" / TEMP.format("y.md"),
    ]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half a note", "utf-8")
    assert s.cli("index", "--vault", s.vault).exit_code == EXIT_OK
    assert _plan(s).exit_code == EXIT_OK
    assert [p for p in left if p.exists()] == []
