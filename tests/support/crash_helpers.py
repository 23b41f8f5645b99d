"""Helpers for the crash test: run ``zotsync sync`` as a subprocess, kill it, inspect the vault.

Kept out of the test module so the scenario there reads as a story: build, kill, check, rerun.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from zotsync.vault.atomic import TEMP_MARK
from zotsync.vault.frontmatter import read_frontmatter
from zotsync.vault.links import find_wikilinks
from zotsync.vault.regions import PAPER_REGIONS, parse_note

REPO = Path(__file__).resolve().parents[2]
HUB = "Reading Hub.md"


def bench_generator() -> ModuleType:
    """``bench/generate.py`` (not a package) loaded as a module, for ``generate_library``."""
    spec = importlib.util.spec_from_file_location(
        "zotsync_bench_generate", REPO / "bench" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_sync(vault: Path, *extra: str) -> subprocess.Popen[bytes]:
    """``python -m zotsync sync --vault V -q …`` offline, in its own process."""
    env = {**os.environ, "ZOTSYNC_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "zotsync", "sync", "--vault", str(vault), "-q", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run_sync(vault: Path, *extra: str, timeout: float = 120) -> None:
    """A sync that must run to completion with exit code 0."""
    proc = start_sync(vault, *extra)
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}: {err.decode(errors='replace')}"


def kill_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], *, deadline: float = 120
) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; True if it was still running when killed."""
    give_up = time.monotonic() + deadline
    while proc.poll() is None and not ready() and time.monotonic() < give_up:
        time.sleep(0.005)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return alive and proc.returncode == -signal.SIGKILL


def count_names(folder: Path, prefix: str = "") -> Callable[[], bool | int]:
    """A cheap probe: how many visible ``.md`` files in ``folder`` start with ``prefix``."""

    def probe() -> int:
        try:
            with os.scandir(folder) as it:
                return sum(
                    1
                    for e in it
                    if e.name.endswith(".md") and e.name.startswith(prefix) and e.name[0] != "."
                )
        except FileNotFoundError:
            return 0

    return probe


def note_versions(folder: Path) -> dict[str, tuple[str, str]]:
    """``zotero-key`` → (file name, hash of its bytes), asserting every note is whole and parses."""
    out: dict[str, tuple[str, str]] = {}
    for path in folder.iterdir():
        if not path.name.endswith(".md") or path.name.startswith("."):
            continue
        data = path.read_bytes()
        text = data.decode("utf-8")
        parsed = parse_note(text)
        assert not parsed.problems, f"{path.name}: {parsed.problems}"
        missing = set(PAPER_REGIONS) - set(parsed.regions)
        assert not missing and "## Notes" in text, f"{path.name}: truncated ({missing})"
        key = read_frontmatter(text).get("zotero-key")
        assert key, f"{path.name}: no zotero-key"
        assert key not in out, f"two notes claim {key}"
        out[str(key)] = (path.name, hashlib.blake2b(data, digest_size=16).hexdigest())
    return out


def temp_files(vault: Path) -> list[Path]:
    return [p for p in vault.rglob(f"*{TEMP_MARK}*")]


def tree(vault: Path) -> dict[str, tuple[str, int, int]]:
    """Every file outside ``.zotsync`` → (hash of bytes, mtime_ns, inode)."""
    out: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirs, files in os.walk(vault):
        dirs[:] = [d for d in dirs if d != ".zotsync"]
        for name in files:
            path = Path(dirpath) / name
            st = path.stat()
            digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
            out[path.relative_to(vault).as_posix()] = (digest, st.st_mtime_ns, st.st_ino)
    return out


def outside_regions(text: str) -> str:
    """The note without its frontmatter and with each region replaced by ``<name>``."""
    parsed = parse_note(text)
    body = text[parsed.body_start :]
    for region in sorted(parsed.regions.values(), key=lambda r: r.outer_start, reverse=True):
        start = region.outer_start - parsed.body_start
        end = region.outer_end - parsed.body_start
        body = body[:start] + f"<{region.name}>" + body[end:]
    return body


def find_note(folder: Path, key: str) -> Path:
    hits = [
        p
        for p in folder.iterdir()
        if p.name.endswith(".md") and f"\nzotero-key: {key}\n" in p.read_text(encoding="utf-8")
    ]
    assert len(hits) == 1, f"{key}: {hits}"
    return hits[0]


def dangling_links(vault: Path) -> list[str]:
    """``file: target`` for every wikilink outside ``.zotsync`` that names no existing note."""
    stems: set[str] = set()
    paths: set[str] = set()
    files = [p for p in vault.rglob("*.md") if ".zotsync" not in p.relative_to(vault).parts]
    for p in files:
        stems.add(p.stem.casefold())
        paths.add(p.relative_to(vault).with_suffix("").as_posix().casefold())
    out = []
    for p in files:
        for target in find_wikilinks(p.read_text(encoding="utf-8")):
            name = target.split("#")[0].split("|")[0].strip().casefold()
            if name and name not in stems and name not in paths:
                out.append(f"{p.relative_to(vault)}: {target}")
    return out


def write_hub(vault: Path) -> int:
    """A note of the user's linking to every paper note (wikilink, alias and heading forms)."""
    stems = sorted(p.stem for p in (vault / "Papers").glob("*.md"))
    lines = ["# Everything I read", ""]
    for n, stem in enumerate(stems):
        form = ("[[{}]]", "[[{}|see this]]", "[[{}#Abstract]]")[n % 3]
        lines.append("- " + form.format(stem))
    (vault / HUB).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(stems)
