"""Automatic tags (Zotero type 1, e.g. the connector's arXiv categories).

They are left out by default; a library whose only tags are automatic would get an empty
``Tags/`` without a word, so ``status`` and ``doctor`` say so and how to turn them on, and
``automatic-tags: true`` brings them into notes and ``Tags/`` under Obsidian-safe names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import Result
from conftest import paper, small_library

from zotsync.model import Library, Tag

HINT = "automatic-tags: true"


def arxiv_library() -> Library:
    first = paper("AAAA2222", "Attention Is All You Need", year=2017)
    first.tags = [Tag("Computer Science - Computation and Language", auto=True)]
    second = paper("BBBB3333", "Deep Residual Learning", year=2016)
    second.tags = [Tag("cs.CV", auto=True), Tag("Computer Science - Machine Learning", auto=True)]
    return small_library(first, second)


def tags_of(note: Path) -> list[str]:
    head = note.read_text("utf-8").split("\n---\n", 1)[0].removeprefix("---\n")
    return list(yaml.safe_load(head).get("tags", []))


def tag_notes(vault: Path) -> list[str]:
    folder = vault / "Tags"
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.md"))


def test_only_automatic_tags_are_explained_then_turned_on(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    library = arxiv_library()
    db = make_db(library)
    first = run_cli("sync", "--vault", vault, "--zotero-db", db, "--json")
    assert first.exit_code == 0, first.output
    note = vault / "Papers" / "Attention Is All You Need.md"
    assert tags_of(note) == []
    assert tag_notes(vault) == []

    status = run_cli("status", "--vault", vault)
    assert "tags: the library has 3 automatic tags" in status.stdout
    assert HINT in status.stdout
    hint = json.loads(run_cli("status", "--vault", vault, "--json").stdout)["automatic_tags_hint"]
    assert HINT in hint
    doctor = run_cli("doctor", "--vault", vault)
    assert "tags: the library has 3 automatic tags" in doctor.stdout and HINT in doctor.stdout

    config = vault / "zotsync.yaml"
    config.write_text(config.read_text("utf-8") + "automatic-tags: true\n", encoding="utf-8")
    second = run_cli("sync", "--vault", vault, "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["updated"] == 2
    assert tags_of(note) == ["Computer-Science-Computation-and-Language"]
    assert tags_of(vault / "Papers" / "Deep Residual Learning.md") == [
        "cs-CV",
        "Computer-Science-Machine-Learning",
    ]
    assert tag_notes(vault) == [
        "Computer-Science-Computation-and-Language.md",
        "Computer-Science-Machine-Learning.md",
        "cs-CV.md",
    ]
    assert "Attention Is All You Need" in (
        vault / "Tags" / "Computer-Science-Computation-and-Language.md"
    ).read_text("utf-8")
    after = json.loads(run_cli("status", "--vault", vault, "--json").stdout)
    assert after["automatic_tags_hint"] is None  # turned on: nothing to advise


def test_a_library_with_manual_tags_gets_no_hint(
    vault: Path, make_db: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    library = arxiv_library()
    library.items[0].tags.append(Tag("transformers"))
    db = make_db(library)
    assert run_cli("sync", "--vault", vault, "--zotero-db", db).exit_code == 0
    assert "automatic tags" not in run_cli("status", "--vault", vault).stdout
    assert "automatic tags" not in run_cli("doctor", "--vault", vault).stdout
    assert tag_notes(vault) == ["transformers.md"]
