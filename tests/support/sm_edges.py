"""The edges of the state machine in ``test_state_machine.py`` (issue 11, item 14).

Kept apart so the machine's module stays readable: the fault injector (a write failing with
ENOSPC or EIO, or the process "killed" at the Nth file operation inside the vault), hostile
Zotero values, CRLF/BOM conversion, the user's hub note of links and the figures a run reports.

Rules that exercise bugs other branches fix are gated (see :data:`PENDING_FIXES`): they run only
once the fix is merged, which the lead switches on in :data:`FIXES_MERGED` (or, to try, with
``ZOTSYNC_SM_FIXES=A,B`` in the environment; ``ZOTSYNC_SM_RULES=name,…`` for single rules).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from zotsync.vault.links import find_wikilinks

#: rule (or invariant) name → the helper branch whose fix it needs (issue 11):
#: A = conflict files, marker lines, CRLF/BOM, link injection; B = confinement, full disk
PENDING_FIXES: dict[str, str] = {
    "user_edits_conflict_file": "A",
    "user_squats_conflict_name": "A",
    "user_converts_line_endings": "A",
    "zotero_sets_marker_value": "A",
    "user_symlinks_out": "B",
}
#: the branches merged so far: the lead adds "A" and "B" here after merging them
FIXES_MERGED: set[str] = {"A", "B"}


def merged() -> set[str]:
    extra = {s.strip() for s in os.environ.get("ZOTSYNC_SM_FIXES", "").split(",") if s.strip()}
    return FIXES_MERGED | extra


def enabled(name: str) -> bool:
    """Whether a gated rule runs (ungated rules always do; ``ZOTSYNC_SM_RULES=a,b`` turns on
    single gated rules, to see what each one finds)."""
    needs = PENDING_FIXES.get(name)
    rules = {s.strip() for s in os.environ.get("ZOTSYNC_SM_RULES", "").split(",")}
    return needs is None or needs in merged() or name in rules


#: figures of a run (printed by the tests; the issue's closing note quotes them)
STATS: Counter[str] = Counter()


def stats_line(label: str) -> str:
    keys = ("examples", "steps", "syncs", "kill_attempts", "kills", "fault_attempts", "faults")
    keys += ("hostile", "crlf", "symlinks")
    return f"{label}: " + ", ".join(f"{k} {STATS[k]}" for k in keys)


class Killed(BaseException):
    """Stands in for SIGKILL at one exact instant (nothing in zotsync may catch it)."""


class Injector:
    """At the Nth file operation inside the vault: fail with ``code`` or "kill" the process.

    ``site`` is ``replace`` (``os.replace``/``rename``/``link``: a note lands or moves) or
    ``write`` (``os.write`` into a file inside the vault: the disk fills up mid-note). A kill
    lands right after the operation (the rename is done, nothing after it is). The lock file is
    not counted: the machine is about the notes.
    """

    def __init__(self, vault: Path, nth: int, *, code: int | None, site: str = "replace") -> None:
        self.vault = Path(os.path.realpath(vault))
        self.nth = nth
        self.code = code  # None: kill
        self.site = site
        self.calls = 0
        self.fired = False

    def _inside(self, target: str) -> bool:
        real = Path(os.path.realpath(target))
        if not real.is_relative_to(self.vault):
            return False
        rel = real.relative_to(self.vault)
        return not (
            rel.parts and rel.parts[0] == ".zotsync" and real.name.startswith(("lock", ".lock"))
        )

    def _hit(self, target: str) -> bool:
        if self.fired or not self._inside(target):
            return False
        self.calls += 1
        return self.calls == self.nth

    def _fail(self, target: str) -> None:
        self.fired = True
        if self.code is None:
            STATS["kills"] += 1
            raise Killed
        STATS["faults"] += 1
        raise OSError(self.code, os.strerror(self.code), target)

    def _wrap_move(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def fake(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
            hit = self._hit(os.fspath(dst))
            if hit and self.code is not None:
                self._fail(os.fspath(dst))
            out = real(src, dst, *args, **kwargs)
            if hit:
                self._fail(os.fspath(dst))
            return out

        return fake

    def _wrap_write(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def fake(fd: int, data: Any) -> Any:
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                target = ""
            if target and self._hit(target):
                self._fail(target)
            return real(fd, data)

        return fake

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            if self.site == "write":
                stack.enter_context(mock.patch.object(os, "write", self._wrap_write(os.write)))
            else:
                for name in ("replace", "rename", "link"):
                    real = getattr(os, name)
                    stack.enter_context(mock.patch.object(os, name, self._wrap_move(real)))
            yield


FAULT_CODES = {"ENOSPC": errno.ENOSPC, "EIO": errno.EIO}

#: Zotero values a region must survive: marker lines (gated: A neutralises them) …
MARKER_VALUES = [
    "Intro.\n%% zotsync:end abstract %%\nInjected after the end marker.",
    "%% zotsync:begin header %%",
    "  %%zotsync:end   abstract%%  \ntrailing words",
    "%% zotsync:end notes %%\n---\nfake: frontmatter\n---",
]
#: … and plain Markdown, which renders as it is (not gated)
MARKDOWN_VALUES = [
    "# A heading\n\n- [ ] a task\n> a quote\n\n```\ncode %% not a marker\n```",
    "[[Papers/Another Note]] and ![[embed]] and [x](https://example.org/a_(b)) *em* __b__",
    "A line ending in two spaces  \nand a hard break; then `%% zotsync:end abstract %%` inline",
]
MARKER_TITLES = ["Title %% zotsync:end header %% inside", "%% zotsync:end header %%"]
MARKDOWN_TITLES = ["[[Wikilink Title]] #tag *bold* `code`", "Title | with ] brackets ["]


def to_crlf(text: str, *, crlf: bool, bom: bool) -> str:
    """The note as a Windows editor or a sync tool might save it."""
    body = text.lstrip("\ufeff").replace("\r\n", "\n")
    if crlf:
        body = body.replace("\n", "\r\n")
    return ("\ufeff" if bom else "") + body


def norm(text: str) -> str:
    """What the machine compares: no BOM, LF line endings."""
    return text.lstrip("\ufeff").replace("\r\n", "\n")


def fully_crlf(data: bytes) -> bool:
    return b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")


HUB = "Hub.md"


def hub_line(key: str, stem: str, form: int) -> str:
    """One line of the user's hub note: the key in plain text, then a link to its note."""
    link = ("[[{}]]", "[[{}|my alias]]", "[[{}#Abstract]]")[form % 3].format(stem)
    return f"- {key}: {link}"


def dangling_hub_links(vault: Path, excused: set[str]) -> list[str]:
    """Hub links that name no note, for keys whose note the user did not move or delete."""
    hub = vault / HUB
    if not hub.exists():
        return []
    stems = set()
    for path in vault.rglob("*.md"):
        rel = path.relative_to(vault)
        if rel.parts[0] in (".zotsync", "Outside") or path.is_symlink():
            continue
        stems.add(path.stem.casefold())
        stems.add(rel.with_suffix("").as_posix().casefold())
    out = []
    for line in norm(hub.read_text(encoding="utf-8")).splitlines():
        if not line.startswith("- ") or ": " not in line:
            continue
        key = line[2:].split(":", 1)[0]
        for target in find_wikilinks(line):
            name = target.split("#")[0].split("|")[0].strip().casefold()
            if name not in stems and key not in excused:
                out.append(line)
    return out
