"""What an adversarial try-out of the merged build found, each a regression test through the CLI.

- a 100,000-deep CSL-JSON file exhausted memory (the guard bbt-json had now serves every
  streamed export);
- a venue, or highlighted PDF text, could carry a ``javascript:`` Markdown link into a note;
  a malformed annotation key became a block id;
- the conflict file of a note keyed by citekey claimed the item too, so every later sync failed
  with "several notes claim this item";
- a conflict left by an earlier pass was no longer reported (exit 0);
- ``doctor`` on a relative vault path ended in a traceback;
- a FIFO given as ``--bibtex`` or ``--csl-json`` hung the sync.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import paper, small_library
from support.vault_edges import Scenario

from zotsync.errors import EXIT_CONFLICT, EXIT_OK, EXIT_SOURCE_UNAVAILABLE
from zotsync.model import Annotation, Attachment

EVIL = "[Open PDF](javascript:alert(1))"


def _zotsync(
    *args: str | Path, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZOTSYNC_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "zotsync", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def test_a_deeply_nested_csl_json_export_is_refused_in_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert _zotsync("init", tmp_path / "V").returncode == 0
    run = _zotsync("sync", "--vault", tmp_path / "V", "--csl-json", deep)
    assert run.returncode == EXIT_SOURCE_UNAVAILABLE, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) <= 2
    assert "nested" in run.stderr or "not a complete JSON" in run.stderr


def test_a_venue_or_highlighted_text_makes_no_javascript_link(tmp_path: Path) -> None:
    item = paper("AAAA2222", "A paper")
    item.fields["publicationTitle"] = EVIL
    highlight = Annotation("ANNO2222", "highlight", text=f"see {EVIL} and [[Evil]]")
    bad_key = Annotation("../../x/EVIL", "highlight", text="a key that is no key")
    item.attachments = [
        Attachment(
            "PDFF2222",
            "Full text",
            content_type="application/pdf",
            path="storage:a.pdf",
            annotations=[highlight, bad_key],
        )
    ]
    s = Scenario(tmp_path, small_library(item))
    assert s.sync().exit_code == EXIT_OK
    text = s.note("AAAA2222").read_text("utf-8")
    body = text.split("\n---\n", 1)[1]  # frontmatter values are properties, not Markdown
    assert not re.search(r"(?<!\\)\]\(javascript:", body) and "[[Evil]]" not in body
    assert "Open PDF" in text and "^ANNO2222" in text  # the text stays, escaped
    assert "EVIL" not in text and "../../" not in text  # the malformed key is dropped


def test_a_conflict_on_a_citekey_note_stays_a_conflict(tmp_path: Path) -> None:
    export = tmp_path / "a.json"
    entry = {"id": "k1", "citation-key": "k1", "type": "article-journal", "title": "One"}
    export.write_text(json.dumps([entry]))
    vault = tmp_path / "V"
    assert _zotsync("init", vault).returncode == 0
    assert _zotsync("sync", "--vault", vault, "--csl-json", export).returncode == EXIT_OK
    (note,) = (vault / "Papers").glob("*.md")
    end = "%% zotsync:end header %%"
    note.write_text(note.read_text("utf-8").replace(end, "MY EDIT\n" + end, 1), "utf-8")
    export.write_text(json.dumps([{**entry, "title": "One v2"}]))
    first = _zotsync("sync", "--vault", vault)
    assert first.returncode == EXIT_CONFLICT, first.stdout + first.stderr
    again = _zotsync("sync", "--vault", vault)
    assert again.returncode == EXIT_CONFLICT, again.stdout + again.stderr
    assert "several notes claim" not in again.stdout + again.stderr
    notes = [p for p in (vault / "Papers").glob("*.md") if "zotsync conflict" not in p.name]
    assert len(notes) == 1 and "MY EDIT" in notes[0].read_text("utf-8")  # renamed, text kept


def test_a_conflict_still_open_is_reported_on_the_next_sync(tmp_path: Path) -> None:
    s = Scenario(tmp_path)
    assert s.sync().exit_code == EXIT_OK
    note = s.note("AAAA2222")
    text = note.read_text("utf-8")
    end = "%% zotsync:end header %%"
    note.write_text(text.replace(end, "my words inside the header\n" + end, 1), "utf-8")
    s.change("AAAA2222", "publicationTitle", "A venue")
    assert s.sync().exit_code == EXIT_CONFLICT
    code, data = s.sync_json()
    assert code == EXIT_CONFLICT and data["conflicts_open"] == 1, data
    assert "my words inside the header" in note.read_text("utf-8")


def test_doctor_on_a_relative_vault_path_gives_no_traceback(tmp_path: Path) -> None:
    assert _zotsync("init", "V", cwd=tmp_path).returncode == 0
    assert _zotsync("sync", "--vault", "V", "--source", "demo", cwd=tmp_path).returncode == 0
    run = _zotsync("doctor", "--vault", "V", cwd=tmp_path)
    assert "Traceback" not in run.stderr + run.stdout, run.stderr


def test_a_fifo_as_bibtex_or_csl_json_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert _zotsync("init", tmp_path / "V").returncode == 0
    for option in ("--bibtex", "--csl-json"):
        run = _zotsync("sync", "--vault", tmp_path / "V", option, fifo, timeout=30)
        assert run.returncode == EXIT_SOURCE_UNAVAILABLE, (option, run.stderr)
        assert "Traceback" not in run.stderr
