"""``zotsync discover`` through the CLI: the JSON contract, the inbox note, re-runs, failures.

The library is about transformer language models; this week's arXiv (a loopback server) has
papers on that and on things far from it, plus papers the library already holds. Fixtures
and the scenario's data come from :mod:`test_keeping_up`.
"""

# ruff: noqa: F811  (the imported fixtures are, by pytest's design, test parameters too)

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import tree
from test_keeping_up import (  # noqa: F401  (fixtures used as parameters)
    OFF_TOPIC,
    ON_TOPIC,
    TODAY,
    days_ago,
    fake_arxiv,
    synced_vault,
    tick,
    zotero_db,
)

from zotsync.discover.inbox import BEGIN, END, iso_week
from zotsync.testing.fake_arxiv import FakeArxiv, paper

WEEK = iso_week(TODAY)


def discover_json(run_cli: Callable[..., Result], vault: Path, *args: str) -> dict[str, Any]:
    result = run_cli("discover", "--vault", vault, *args, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_discover_json_lists_the_week_on_topic_first_and_nothing_from_the_library(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    data = discover_json(run_cli, synced_vault, "--category", "cs.LG", "--days", "7")
    assert data["week"] == WEEK
    assert data["path"] == f"Inbox/{WEEK}.md"
    assert (synced_vault / data["path"]).is_file()
    ids = [p["arxiv"] for p in data["papers"]]
    assert sorted(ids[:3]) == sorted(ON_TOPIC)
    assert sorted(ids[3:]) == sorted(OFF_TOPIC)
    assert "2611.00042" not in ids  # in the library by arXiv id
    assert "2611.10009" not in ids  # in the library by its published DOI
    assert "2610.09999" not in ids  # older than --days 7
    first = data["papers"][0]
    assert set(first) >= {"arxiv", "title", "score", "similar"}
    assert isinstance(first["score"], float) and first["score"] > data["papers"][-1]["score"]
    assert all(isinstance(s, str) for s in first["similar"]) and first["similar"]
    notes = {p.stem for p in (synced_vault / "Papers").glob("*.md")}
    assert set(first["similar"]) <= notes


def test_inbox_note_is_what_a_reader_needs(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    data = discover_json(run_cli, synced_vault, "--category", "cs.LG")
    text = (synced_vault / data["path"]).read_text("utf-8")
    assert text.startswith("---\ntags:\n  - inbox\n---\n" + BEGIN + "\n")
    assert text.endswith(END + "\n\n## Notes\n")
    assert f"# arXiv inbox {WEEK}" in text
    assert "(cs.LG · last 7 days): top 6 of 6" in text
    entry = (
        "- [ ] **Linear Attention Transformers for Long-Document Language Models**"
        " · arXiv:2611.10001"
    )
    assert entry in text
    assert "\t- Mira Okafor, Jonas Lindqvist · " in text
    assert "similar to [[Longformer - The Long-Document Transformer]]" in text  # the file name
    assert "topics: language-models" in text
    assert "\t- [arXiv](https://arxiv.org/abs/2611.10001) · `zotsync add 2611.10001`" in text
    assert text.count("- [ ] ") == 6


def test_discover_again_the_same_week_changes_nothing(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    first = discover_json(run_cli, synced_vault, "--category", "cs.LG")
    before = tree(synced_vault)
    second = discover_json(run_cli, synced_vault, "--category", "cs.LG")
    assert second == first
    assert tree(synced_vault) == before


def test_rerun_keeps_ticks_and_user_text_and_adds_new_papers(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    data = discover_json(run_cli, synced_vault, "--category", "cs.LG")
    note = synced_vault / data["path"]
    tick(note, "2611.20003")
    note.write_text(note.read_text("utf-8") + "Read the grasping one first.\n", encoding="utf-8")
    fake_arxiv.add(
        paper(
            "2611.10004",
            "Attention Sinks in Transformer Language Models",
            "Language models put attention on the first token.",
            categories=("cs.LG",),
            published=days_ago(0.5),
        )
    )
    again = discover_json(run_cli, synced_vault, "--category", "cs.LG")
    assert "2611.10004" in [p["arxiv"] for p in again["papers"]]
    text = note.read_text("utf-8")
    assert "- [x] **Bayesian Optimisation of Chemical Reaction Yields** · arXiv:2611.20003" in text
    assert text.endswith("## Notes\nRead the grasping one first.\n")


def test_top_limits_the_inbox_to_the_best_papers(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    data = discover_json(run_cli, synced_vault, "--category", "cs.LG", "--top", "2")
    assert len(data["papers"]) == 2
    assert {p["arxiv"] for p in data["papers"]} <= set(ON_TOPIC)


def test_without_options_the_configured_categories_are_searched(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    config = synced_vault / "zotsync.yaml"
    config.write_text(
        config.read_text("utf-8") + "  categories: [cs.RO]\n  days: 3\n", encoding="utf-8"
    )
    data = discover_json(run_cli, synced_vault)
    assert [p["arxiv"] for p in data["papers"]] == ["2611.20001"]
    (query,) = fake_arxiv.requests
    assert "cat:cs.RO" in query["search_query"][0]


def test_a_query_alone_does_not_also_search_the_configured_categories(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    data = discover_json(run_cli, synced_vault, "--query", "grasping")
    assert [p["arxiv"] for p in data["papers"]] == ["2611.20001"]
    assert all("cat:" not in q["search_query"][0] for q in fake_arxiv.requests)


def test_a_long_listing_is_paged_with_the_configured_delay(
    synced_vault: Path,
    fake_arxiv: FakeArxiv,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zotsync.commands import keeping_up

    fake_arxiv.add(
        *(
            paper(
                f"2611.3{n:04d}", f"Filler paper {n}", categories=("cs.LG",), published=days_ago(3)
            )
            for n in range(230)
        )
    )
    delays: list[float] = []
    real = keeping_up.ArxivClient

    def spy(*args: Any, **kwargs: Any) -> Any:
        delays.append(kwargs["delay_seconds"])
        return real(*args, **kwargs)

    monkeypatch.setattr(keeping_up, "ArxivClient", spy)
    data = discover_json(run_cli, synced_vault, "--category", "cs.LG", "--top", "50")
    assert delays == [0.0]
    starts = [int(q.get("start", ["0"])[0]) for q in fake_arxiv.requests]
    assert starts == [0, 100, 200]
    assert len(data["papers"]) == 50


def test_arxiv_down_exits_3_and_leaves_the_vault_alone(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    before = tree(synced_vault)
    fake_arxiv.fail_next(503, 20)
    result = run_cli("discover", "--vault", synced_vault, "--category", "cs.LG")
    assert result.exit_code == 3, result.output
    assert "arXiv" in result.stderr and "fix:" in result.stderr
    assert tree(synced_vault) == before


def test_human_output_lists_the_papers_and_the_next_step(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("discover", "--vault", synced_vault, "--category", "cs.LG")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Inbox/{WEEK}.md: 6 papers"
    assert any("2611.10001  Linear Attention Transformers" in line for line in lines)
    assert lines[-1] == "tick the ones you want, then: zotsync add --from-inbox"


def test_latex_and_obsidian_syntax_in_abstracts_stay_plain_text(
    synced_vault: Path, fake_arxiv: FakeArxiv, run_cli: Callable[..., Result]
) -> None:
    fake_arxiv.add(
        paper(
            "2611.10005",
            "Attention Scores for Language Models",
            r"For any smooth $f\colon\mathbb R^n\to\mathbb R$ the transformer language model "
            "attention is 100%% efficient; ==fast== and ~~slow~~ #tag [[Link]].",
            categories=("cs.LG",),
            published=days_ago(1),
        )
    )
    data = discover_json(run_cli, synced_vault, "--category", "cs.LG")
    text = (synced_vault / data["path"]).read_text("utf-8")
    line = next(x for x in text.splitlines() if x.startswith("\t- > For any smooth"))
    assert r"\$f\\colon\\mathbb R^n\\to\\mathbb R\$" in line
    assert "%%" not in line and "==" not in line and "~~" not in line
    assert r"\#tag \[\[Link\]\]" in line
