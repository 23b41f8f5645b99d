"""No traceback for bad input (PRODUCT guarantee 5): a table of bad inputs walked through the CLI.

Every row runs a real ``zotsync`` subprocess against a vault synced from a Zotero database
built by the fixture builder, and asserts the contract's exit code, a one-line message with a
fix, no traceback, and that nothing was written (no file in the test folder changed, appeared
or vanished). Rows under ``TOLERATED`` are bad *data* a library really holds (an invalid date,
DOI or URL, a 50 MB abstract): those must sync (exit 0) without a traceback.

Faults the test user cannot cause for real are injected by a small launcher in the subprocess:
the tests run as root, for whom ``chmod`` stops neither reads nor writes, and no read-only file
system or FIFO-blocking device is available, so "unreadable", "unwritable" and "read-only"
are made by making ``open``/``os.open`` fail with EACCES or EROFS for the path in question.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import paper, small_library

from zotsync.api import SourceOptions, init_vault, sync
from zotsync.errors import EXIT_CONFLICT, EXIT_OK, EXIT_PARTIAL, EXIT_SOURCE_UNAVAILABLE, EXIT_USAGE
from zotsync.model import Library
from zotsync.testing.fake_zotero_api import FakeZoteroApi
from zotsync.testing.zotero_db import make_zotero_db

LAUNCHER = """
import builtins, errno, io, os, sys
spec = os.environ.pop("ZOTSYNC_TEST_FAULT", "")
if spec:
    kind, name, target = spec.split(":", 2)
    code = getattr(errno, name)
    def hit(path):
        try:
            return os.fsdecode(path).startswith(target)
        except TypeError:
            return False
    real_os_open, real_open = os.open, builtins.open
    def os_open(path, flags, *args, **kwargs):
        creating = flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR)
        if hit(path) and (kind == "read" or creating):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_os_open(path, flags, *args, **kwargs)
    def py_open(file, mode="r", *args, **kwargs):
        writing = any(c in mode for c in "wax+")
        if isinstance(file, (str, bytes, os.PathLike)) and hit(file) and (kind == "read" or writing):
            raise OSError(code, os.strerror(code), os.fsdecode(file))
        return real_open(file, mode, *args, **kwargs)
    os.open, builtins.open, io.open = os_open, py_open, py_open
from zotsync.cli import main
sys.argv = ["zotsync", *sys.argv[1:]]
main()
"""


@dataclass
class Env:
    """What a row may use: the test folder, a synced vault, its Zotero DB, a fake web API."""

    tmp: Path
    vault: Path
    db: Path
    web_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    fault: str = ""

    def file(self, name: str, data: bytes | str) -> Path:
        path = self.tmp / "inputs" / name
        path.parent.mkdir(exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        path.write_bytes(data)
        return path

    def fifo(self, name: str) -> Path:
        path = self.tmp / "inputs" / name
        path.parent.mkdir(exist_ok=True)
        os.mkfifo(path)
        return path

    def folder(self, name: str) -> Path:
        path = self.tmp / "inputs" / name
        path.mkdir(parents=True)
        return path

    def config(self, extra: str) -> None:
        path = self.vault / "zotsync.yaml"
        path.write_text(path.read_text("utf-8") + "\n" + extra, "utf-8")

    def web(self, key: str) -> None:
        self.extra_env.update({"ZOTERO_API_KEY": key, "ZOTSYNC_ZOTERO_API_URL": self.web_url})


Setup = Callable[[Env], list[str]]
V = "--vault"


def sync_db(path: Callable[[Env], Path]) -> Setup:
    return lambda e: ["sync", V, str(e.vault), "--zotero-db", str(path(e))]


def sync_bbt(path: Callable[[Env], Path]) -> Setup:
    return lambda e: ["sync", V, str(e.vault), "--bbt-json", str(path(e))]


def with_config(extra: str, *command: str) -> Setup:
    def setup(e: Env) -> list[str]:
        e.config(extra)
        return [*command, V, str(e.vault)]

    return setup


def with_fault(spec: Callable[[Env], str], setup: Setup) -> Setup:
    def wrapped(e: Env) -> list[str]:
        e.fault = spec(e)
        return setup(e)

    return wrapped


def web_key(key: str) -> Setup:
    def setup(e: Env) -> list[str]:
        e.web(key)
        return ["sync", V, str(e.vault), "--source", "web"]

    return setup


def foreign_sqlite(e: Env) -> Path:
    path = e.tmp / "inputs" / "photos.sqlite"
    path.parent.mkdir(exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    return path


def truncated_db(e: Env) -> Path:
    return e.file("truncated.sqlite", e.db.read_bytes()[:5000])


def deep_json(depth: int) -> str:
    return '{"items": ' + "[" * depth + "]" * depth + "}"


def replace_with_dir(e: Env, rel: str) -> None:
    path = e.vault / rel
    path.unlink()
    path.mkdir()


def lock_symlink(e: Env) -> list[str]:
    outside = e.folder("outside-lock")
    lock = e.vault / ".zotsync" / "lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(outside / "lock")
    return ["sync", V, str(e.vault)]


def lock_dir(e: Env) -> list[str]:
    lock = e.vault / ".zotsync" / "lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()
    return ["sync", V, str(e.vault)]


def template_dir(e: Env) -> list[str]:
    replace_with_dir(e, "Templates/zotsync/note.md.j2")
    return ["sync", V, str(e.vault), "--full"]


def template_syntax(e: Env) -> list[str]:
    (e.vault / "Templates" / "zotsync" / "note.md.j2").write_text("{% if %}\n", "utf-8")
    return ["sync", V, str(e.vault), "--full"]


def config_dir(e: Env) -> list[str]:
    replace_with_dir(e, "zotsync.yaml")
    return ["sync", V, str(e.vault)]


def config_bytes(data: bytes) -> Setup:
    def setup(e: Env) -> list[str]:
        (e.vault / "zotsync.yaml").write_bytes(data)
        return ["sync", V, str(e.vault)]

    return setup


def env_vault_file(e: Env) -> list[str]:
    e.extra_env["ZOTSYNC_VAULT"] = str(e.file("not-a-vault.txt", "x"))
    return ["status"]


# name -> (setup, exit code, words the message must hold)
REFUSED: dict[str, tuple[Setup, int, str]] = {
    # the Zotero database
    "db is a directory": (
        sync_db(lambda e: e.folder("db-dir")),
        EXIT_SOURCE_UNAVAILABLE,
        "not a file",
    ),
    "db is a fifo": (sync_db(lambda e: e.fifo("db.fifo")), EXIT_SOURCE_UNAVAILABLE, "not a file"),
    "db is unreadable": (
        with_fault(lambda e: f"read:EACCES:{e.db}", sync_db(lambda e: e.db)),
        EXIT_SOURCE_UNAVAILABLE,
        "cannot read",
    ),
    "db is missing": (
        sync_db(lambda e: e.tmp / "nope.sqlite"),
        EXIT_SOURCE_UNAVAILABLE,
        "not found",
    ),
    "db is empty": (
        sync_db(lambda e: e.file("empty.sqlite", b"")),
        EXIT_SOURCE_UNAVAILABLE,
        "zotero",
    ),
    "db is text": (
        sync_db(lambda e: e.file("text.sqlite", "hello\n" * 200)),
        EXIT_SOURCE_UNAVAILABLE,
        "zotero",
    ),
    "db is another program's": (sync_db(foreign_sqlite), EXIT_SOURCE_UNAVAILABLE, "zotero"),
    "db is truncated": (sync_db(truncated_db), EXIT_SOURCE_UNAVAILABLE, "zotero"),
    # a Better BibTeX export
    "export is a directory": (
        sync_bbt(lambda e: e.folder("bbt-dir")),
        EXIT_SOURCE_UNAVAILABLE,
        "not a file",
    ),
    "export is a fifo": (
        sync_bbt(lambda e: e.fifo("bbt.fifo")),
        EXIT_SOURCE_UNAVAILABLE,
        "not a file",
    ),
    "export is unreadable": (
        with_fault(
            lambda e: f"read:EACCES:{e.tmp / 'inputs' / 'ok.json'}",
            sync_bbt(lambda e: e.file("ok.json", '{"items": []}')),
        ),
        EXIT_SOURCE_UNAVAILABLE,
        "cannot read",
    ),
    "export is missing": (
        sync_bbt(lambda e: e.tmp / "nope.json"),
        EXIT_SOURCE_UNAVAILABLE,
        "not found",
    ),
    "export is not json": (
        sync_bbt(lambda e: e.file("bad.json", "{nope")),
        EXIT_SOURCE_UNAVAILABLE,
        "json",
    ),
    "export is 100k deep": (
        sync_bbt(lambda e: e.file("deep.json", deep_json(100_000))),
        EXIT_SOURCE_UNAVAILABLE,
        "json",
    ),
    "export is a list": (
        sync_bbt(lambda e: e.file("list.json", "[1, 2]")),
        EXIT_SOURCE_UNAVAILABLE,
        "export",
    ),
    "export is empty": (
        sync_bbt(lambda e: e.file("empty.json", "")),
        EXIT_SOURCE_UNAVAILABLE,
        "json",
    ),
    "export is not utf-8": (
        sync_bbt(lambda e: e.file("latin1.json", b'{"items": ["caf\xe9"]}')),
        EXIT_SOURCE_UNAVAILABLE,
        "json",
    ),
    "export items are numbers": (  # nothing usable: the mass-deletion guard stops it
        sync_bbt(lambda e: e.file("numbers.json", '{"items": [1, 2, 3]}')),
        EXIT_CONFLICT,
        "no items",
    ),
    # the web API key (the web API is a loopback fake)
    "api key non-ascii": (web_key("schlüssel-ключ"), EXIT_USAGE, "ZOTERO_API_KEY"),
    "api key empty": (web_key(""), EXIT_USAGE, "ZOTERO_API_KEY"),
    "api key with a space": (web_key("abc def"), EXIT_USAGE, "ZOTERO_API_KEY"),
    "api key control char": (web_key("abc\x01def"), EXIT_USAGE, "ZOTERO_API_KEY"),
    # the vault lock
    "lock is a symlink out": (lock_symlink, EXIT_USAGE, "outside the vault"),
    "lock is a directory": (lock_dir, EXIT_USAGE, "lock"),
    "lock is unwritable": (
        with_fault(
            lambda e: f"write:EACCES:{e.vault / '.zotsync' / 'lock'}",
            lambda e: ["sync", V, str(e.vault)],
        ),
        EXIT_USAGE,
        "lock",
    ),
    "lock on read-only fs": (
        with_fault(
            lambda e: f"write:EROFS:{e.vault / '.zotsync' / 'lock'}",
            lambda e: ["sync", V, str(e.vault)],
        ),
        EXIT_PARTIAL,
        "read-only",
    ),
    # the vault and its config
    "vault on read-only fs": (
        with_fault(
            lambda e: f"write:EROFS:{e.vault}", lambda e: ["sync", V, str(e.vault), "--full"]
        ),
        EXIT_PARTIAL,
        "read-only",
    ),
    "vault is a file": (
        lambda e: ["sync", V, str(e.file("vault.txt", "x"))],
        EXIT_USAGE,
        "not a folder",
    ),
    "vault is missing": (
        lambda e: ["status", V, str(e.tmp / "nowhere")],
        EXIT_USAGE,
        "does not exist",
    ),
    "ZOTSYNC_VAULT is a file": (env_vault_file, EXIT_USAGE, "not a folder"),
    "--config is missing": (
        lambda e: ["sync", V, str(e.vault), "--config", str(e.tmp / "no.yaml")],
        EXIT_USAGE,
        "does not exist",
    ),
    "--config is a directory": (
        lambda e: ["sync", V, str(e.vault), "--config", str(e.folder("cfg-dir"))],
        EXIT_USAGE,
        "cannot read",
    ),
    "config is a directory": (config_dir, EXIT_USAGE, "cannot read"),
    "config is invalid yaml": (config_bytes(b"source: [unclosed\n"), EXIT_USAGE, "invalid YAML"),
    "config is a list": (config_bytes(b"- a\n- b\n"), EXIT_USAGE, "mapping"),
    "config is not utf-8": (config_bytes(b"source: sqlite # caf\xe9\n"), EXIT_USAGE, "cannot read"),
    "config unknown key": (with_config("sourc: web\n", "sync"), EXIT_USAGE, "did you mean"),
    "config bad library": (with_config("library: group:abc\n", "sync"), EXIT_USAGE, "library"),
    "master is the config": (
        with_config("index:\n  master: zotsync.yaml\n", "index"),
        EXIT_USAGE,
        "index.master",
    ),
    "template is a directory": (template_dir, EXIT_USAGE, "template"),
    "template syntax error": (template_syntax, EXIT_USAGE, "line"),
    # command-line values
    "plan week out of range": (
        lambda e: ["plan", V, str(e.vault), "--week", "2026-W99"],
        EXIT_USAGE,
        "week",
    ),
    "plan count zero": (lambda e: ["plan", V, str(e.vault), "--count", "0"], EXIT_USAGE, "count"),
    "plan ics is a directory": (
        lambda e: ["plan", V, str(e.vault), "--ics", str(e.folder("ics-dir"))],
        EXIT_USAGE,
        "ics",
    ),
    "sync library bad": (
        lambda e: ["sync", V, str(e.vault), "--library", "group:x"],
        EXIT_USAGE,
        "library",
    ),
    "sync source unknown": (
        lambda e: ["sync", V, str(e.vault), "--source", "nope"],
        EXIT_USAGE,
        "source",
    ),
    "init on a file": (
        lambda e: ["init", str(e.file("init.txt", "x"))],
        EXIT_USAGE,
        "not a folder",
    ),
    "init and --vault differ": (
        lambda e: ["init", str(e.tmp / "a"), V, str(e.tmp / "b")],
        EXIT_USAGE,
        "two vault folders",
    ),
    "status on no vault": (
        lambda e: ["status", V, str(e.folder("plain"))],
        EXIT_USAGE,
        "not a zotsync vault",
    ),
}


def library_with(fields: dict[str, str]) -> Library:
    item = paper("BADD2222", "A paper with bad data")
    item.fields.update(fields)
    return small_library(item)


TOLERATED: dict[str, dict[str, str]] = {
    "invalid date": {"date": "32/13/20x5 or so"},
    "invalid DOI": {"DOI": "not a doi )]( [[Evil]]"},
    "invalid URL": {"url": "javascript:alert(1)"},
    "huge abstract": {"abstractNote": ("A fifty megabyte abstract. " * 2_000_000)[:50_000_000]},
}


@pytest.fixture
def web_api() -> Iterator[FakeZoteroApi]:
    with FakeZoteroApi(small_library()) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, web_api: FakeZoteroApi) -> Env:
    data = tmp_path / "zotero"
    data.mkdir()
    db = make_zotero_db(data / "zotero.sqlite", small_library())
    vault = tmp_path / "vault"
    init_vault(vault)
    sync(vault, source_options=SourceOptions(zotero_db=str(db)), refs=False)
    return Env(tmp_path, vault, db, web_api.url)


def run(
    args: list[str], extra_env: dict[str, str] | None = None, fault: str = ""
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "ZOTSYNC_OFFLINE": "1", **(extra_env or {})}
    environ.pop("ZOTSYNC_VAULT", None) if "ZOTSYNC_VAULT" not in (extra_env or {}) else None
    if fault:
        environ["ZOTSYNC_TEST_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every entry under ``root`` → (kind, size, mtime_ns).

    The lock file and the state DB are left out: a run that is refused may still take the
    lock and note in the state DB that it was attempted; neither is a file of the user's.
    """
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(dirpath) / name
            if path.parent.name == ".zotsync" and name.startswith(("lock", "state.sqlite")):
                continue
            st = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            out[str(path.relative_to(root))] = (
                kind,
                st.st_size if kind == "file" else 0,
                st.st_mtime_ns if kind == "file" else 0,
            )
    return out


def assert_one_line_with_fix(result: subprocess.CompletedProcess[str], says: str) -> None:
    text = result.stderr + result.stdout
    assert "Traceback" not in text, text
    # ours: "error: …" + "  fix: …" (or the list of config problems); click's usage errors:
    # "Error: Invalid value …" after "Try 'zotsync … --help'"
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "Error:"))]
    assert len(errors) == 1, result.stderr
    assert says.lower() in result.stderr.lower(), result.stderr
    assert any(hint in result.stderr for hint in ("fix:", "\n  - ", "--help")), result.stderr


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_input_ends_in_one_line_and_the_contract_exit_code(env: Env, case: str) -> None:
    setup, code, says = REFUSED[case]
    args = setup(env)
    before = snapshot(env.tmp)
    result = run(args, env.extra_env, env.fault)
    assert result.returncode == code, f"{case}: exit {result.returncode}\n{result.stderr}"
    assert_one_line_with_fix(result, says)
    assert snapshot(env.tmp) == before, case


@pytest.mark.parametrize("case", list(TOLERATED))
def test_bad_zotero_data_still_syncs(tmp_path: Path, case: str) -> None:
    data = tmp_path / "zotero"
    data.mkdir()
    db = make_zotero_db(data / "zotero.sqlite", library_with(TOLERATED[case]))
    vault = tmp_path / "vault"
    init_vault(vault)
    result = run(["sync", V, str(vault), "--zotero-db", str(db), "--json"])
    assert "Traceback" not in result.stderr
    assert result.returncode == EXIT_OK, result.stderr
    assert json.loads(result.stdout)["created"] == 1
    notes = [p.read_text("utf-8") for p in (vault / "Papers").glob("*.md")]
    assert any("A paper with bad data" in text for text in notes)


def test_the_table_has_at_least_40_bad_inputs() -> None:
    assert len(REFUSED) + len(TOLERATED) >= 40
