"""zotsync.yaml: every problem at once, each naming its key and the fix."""

from __future__ import annotations

import pytest

from zotsync.config import Config, parse_config
from zotsync.config_record import set_config_keys
from zotsync.errors import EXIT_USAGE, ConfigError


def test_defaults_when_the_file_is_empty() -> None:
    assert parse_config("") == Config()


def test_every_problem_is_reported_at_once() -> None:
    text = """
sourc: web
plan:
  count: x
  folder: ../outside
  slots:
    days: [Mon, Funday]
    time: "25:00"
index:
  master: /etc/Papers.md
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path="zotsync.yaml")
    problems = caught.value.problems
    assert caught.value.exit_code == EXIT_USAGE
    assert any(p.startswith("sourc:") and "did you mean 'source'" in p for p in problems)
    assert any(p.startswith("plan.count:") and "whole number" in p for p in problems)
    assert any(p.startswith("plan.folder:") and "inside the vault" in p for p in problems)
    assert any(p.startswith("plan.slots.days:") and "Funday" in p for p in problems)
    assert any(p.startswith("plan.slots.time:") for p in problems)
    assert any(p.startswith("index.master:") for p in problems)
    assert len(problems) == 6


def test_kebab_and_snake_spellings_both_work() -> None:
    assert parse_config("papers-folder: Notes\n").papers_folder == "Notes"
    assert parse_config("papers_folder: Notes\n").papers_folder == "Notes"


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("source: sqlite\nplan: [unclosed\n")
    assert "line" in caught.value.problems[0]


def test_recording_a_key_keeps_comments_and_changes_only_that_line() -> None:
    text = "# my vault\nsource: sqlite  \n\n# the rest\nrename: true\n"
    updated = set_config_keys(text, {"source": "web"})
    assert updated == "# my vault\nsource: web\n\n# the rest\nrename: true\n"
    assert set_config_keys(updated, {"source": "web"}) == updated
    assert set_config_keys(text, {"library": "group:7"}).endswith("library: group:7\n")
