"""The documentation cannot drift from the code.

The CLI reference is regenerated and compared, every command must have help, every config key
and environment variable must be documented, the README's Quickstart must stay two commands,
and every relative link in the README and docs/ must lead to a file that exists. The last
tests check two promises of docs/note-format.md that were broken while the docs were written.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote

import click
import pytest

from zotsync import api
from zotsync.cli import main
from zotsync.config import Config
from zotsync.sync.engine import SyncOptions
from zotsync.vault.frontmatter import read_frontmatter
from zotsync.vault.regions import parse_note, splice_regions

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: the environment variables PRODUCT.md names (the contract), plus the two zotsync adds
PRODUCT_ENV = (
    "ZOTSYNC_ZOTERO_API_URL",
    "ZOTSYNC_ZOTERO_LOCAL_URL",
    "ZOTSYNC_S2_URL",
    "ZOTSYNC_ARXIV_URL",
    "ZOTERO_API_KEY",
    "S2_API_KEY",
    "ZOTSYNC_VAULT",
    "ZOTSYNC_OFFLINE",
)
#: variables the code reads that are the OS's, not zotsync's settings
OS_ENV = {"HOME", "APPDATA", "TZ"}


def load_gen_cli() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli", DOCS / "gen_cli.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_commands() -> list[tuple[tuple[str, ...], click.Command]]:
    return list(load_gen_cli().walk(main))


def config_keys(cls: type = Config, prefix: str = "") -> list[str]:
    """Every setting as it is written in zotsync.yaml: ``refs.budget-seconds``."""
    out = []
    instance = cls()
    for f in fields(cls):
        name = prefix + f.name.replace("_", "-")
        value = getattr(instance, f.name)
        if is_dataclass(value):
            out += config_keys(type(value), name + ".")
        else:
            out.append(name)
    return out


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def test_cli_reference_matches_the_help_of_the_current_commands() -> None:
    generated = load_gen_cli().render()
    on_disk = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert on_disk == generated, "docs/cli.md is out of date: run `make docs`"


def test_every_command_has_help_and_a_section_in_the_cli_reference() -> None:
    reference = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = all_commands()
    assert len(commands) >= 14  # main, 12 commands, service install/uninstall
    for path, command in commands:
        name = " ".join(path)
        assert (command.help or "").strip(), f"{name} has no help text"
        assert f"\n## {name}\n" in reference, f"{name} is missing from docs/cli.md"
        assert f"Usage: {name} " in reference


def test_every_config_key_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    keys = config_keys()
    assert "refs.budget-seconds" in keys and "plan.slots.time" in keys
    missing = [k for k in keys if f"`{k}`" not in text]
    assert not missing, f"not in docs/configuration.md: {missing}"


def test_every_environment_variable_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    pattern = re.compile(r"""environ(?:\.get)?\(\s*["']([A-Z][A-Z0-9_]+)["']|ENV_VAR = "(\w+)\"""")
    in_code = set()
    for source in (ROOT / "zotsync").rglob("*.py"):
        if "testing" in source.parts:
            continue
        for match in pattern.finditer(source.read_text(encoding="utf-8")):
            in_code.add(match.group(1) or match.group(2))
    assert "ZOTSYNC_S2_URL" in in_code  # the scan itself works
    wanted = sorted((set(PRODUCT_ENV) | in_code) - OS_ENV)
    missing = [name for name in wanted if f"`{name}`" not in text]
    assert not missing, f"not in docs/configuration.md: {missing}"


def test_readme_quickstart_is_exactly_make_demo_and_make_test() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quickstart\n(.*?)(?=^## )", readme, re.S | re.M)
    assert section is not None, "README has no Quickstart section"
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section.group(1), re.S | re.M)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


_LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.S | re.M)


def relative_links(path: Path) -> list[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    out = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # https:, zotero:, obsidian:, mailto:, in-page anchors
        out.append(target)
    return out


def test_every_relative_link_in_readme_and_docs_leads_to_a_file() -> None:
    broken = []
    checked = 0
    for doc in doc_files():
        for target in relative_links(doc):
            checked += 1
            file_part = unquote(target.split("#", 1)[0])
            if not (doc.parent / file_part).exists():
                broken.append(f"{doc.relative_to(ROOT)} → {target}")
    assert checked > 20  # the scan found the links
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_link_scan_sees_links_outside_code_and_ignores_urls(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text(
        "[a](x.md) [b](https://e.org) `[c](y.md)` [d](#top)\n```\n[e](z.md)\n```\n[f](w.md#h)\n"
    )
    assert relative_links(doc) == ["x.md", "w.md#h"]


def test_note_format_documents_every_template_variable() -> None:
    from zotsync.render.note import NoteLinks, note_context
    from zotsync.testing.sample_library import sample_library

    item = sample_library().items[0]
    names = note_context(item, NoteLinks(stem=item.title), {}).keys()
    text = (DOCS / "note-format.md").read_text(encoding="utf-8")
    missing = [n for n in names if f"`{n}`" not in text]
    assert not missing, f"template variables not in docs/note-format.md: {missing}"


# -- behaviour the docs promise (docs/note-format.md: Conflicts, Renames) ---------------------


def zotero_vault(tmp_path: Path, *, rename: bool = True) -> tuple[Path, Path]:
    """A Zotero 7 database of the sample library and a vault synced from it once."""
    from zotsync.testing.zotero_db import make_zotero_db

    db = make_zotero_db(tmp_path / "zotero" / "zotero.sqlite", version=7)
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    if not rename:
        config = vault / "zotsync.yaml"
        config.write_text(config.read_text().replace("rename: true", "rename: false"))
    api.sync(vault)
    return db, vault


def edit_in_zotero(db: Path, key: str, field: str, value: str) -> None:
    from zotsync.testing.zotero_db import ZoteroDbWriter

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        ZoteroDbWriter(conn, autocommit=True).set_field(key, field, value)
    finally:
        conn.close()


def test_overwrite_conflicts_takes_zotsyncs_version_of_a_reported_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTSYNC_OFFLINE", "1")
    db, vault = zotero_vault(tmp_path)
    note = vault / "Papers" / "Attention Is All You Need.md"
    text = note.read_text(encoding="utf-8")
    header = parse_note(text).regions["header"].content
    note.write_text(
        splice_regions(text, {"header": header.replace("**Authors:**", "**Writers:**")}),
        encoding="utf-8",
    )
    edit_in_zotero(db, "ATTN2345", "date", "2018")
    first = api.sync(vault)
    assert first.result.conflicts == 1  # the edit is kept and reported
    api.sync(vault, options=SyncOptions(overwrite_conflicts=True))
    header = parse_note(note.read_text(encoding="utf-8")).regions["header"].content
    assert "**Writers:**" not in header
    assert "2018" in header


def test_with_rename_off_a_title_change_is_recorded_in_aliases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOTSYNC_OFFLINE", "1")
    db, vault = zotero_vault(tmp_path, rename=False)
    edit_in_zotero(db, "ATTN2345", "title", "Attention Revisited")
    api.sync(vault)
    note = vault / "Papers" / "Attention Is All You Need.md"
    assert note.exists()  # the name stays
    fm = read_frontmatter(note.read_text(encoding="utf-8"))
    assert fm["title"] == "Attention Revisited"
    assert "Attention Revisited" in (fm.get("aliases") or [])
