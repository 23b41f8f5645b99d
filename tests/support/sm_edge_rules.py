"""Rules of the state machine for the edges (issue 11, item 14), mixed into ``ZotsyncMachine``.

The user links notes from a hub note, edits conflict files, squats on names zotsync wants,
saves notes with CRLF or a BOM and symlinks folders out of the vault; Zotero stores marker lines
and Markdown in its fields and retitles everything at once; the sync is "killed" at the Nth file
operation (renames pending). Gated rules (see ``sm_edges.PENDING_FIXES``) return at once until
the fix they need is merged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from support.sm_edges import (
    HUB,
    MARKDOWN_TITLES,
    MARKDOWN_VALUES,
    MARKER_TITLES,
    MARKER_VALUES,
    STATS,
    Injector,
    Killed,
    enabled,
    hub_line,
    norm,
    to_crlf,
)
from zotsync.errors import ZotsyncError
from zotsync.model import with_base_fields
from zotsync.sync.apply import CONFLICT_SUFFIX
from zotsync.vault.frontmatter import read_frontmatter
from zotsync.vault.names import safe_filename
from zotsync.vault.regions import parse_note

FRAGMENT = st.text(alphabet=st.sampled_from("abcxyz ÄéΩ*_-.,!?"), max_size=12).map(str.strip)
SQUAT_TITLES = ["Attention Is All You Need", "Introduction", "Café résumé", "Trailing dot."]
SYMLINKS = ["note-file", "Tags", ".zotsync/backups", "Attachments", "Reading Plans"]


class EdgeRules:
    """Mixin: the machine provides the vault, the model and the checks (``Any`` typed here)."""

    vault: Path
    root: Path
    library: Any
    fragments: dict[str, bool]
    excused: set[str]
    symlinked: bool

    # -- links: the user's hub note (checked after every complete pass: none may dangle)
    @rule(index=st.integers(min_value=0), form=st.integers(min_value=0, max_value=2))
    def user_links_note(self, index: int, form: int) -> None:
        picked = self._pick_note(index)  # type: ignore[attr-defined]
        if picked is None:
            return
        path, key = picked
        hub = self.vault / HUB
        old = hub.read_text(encoding="utf-8") if hub.exists() else "# My reading hub\n\n"
        hub.write_text(old + hub_line(key, path.stem, form) + "\n", encoding="utf-8")

    @precondition(lambda self: len(self.library.items) > 0)
    @rule(suffix=st.sampled_from(["(v2)", "revised", "Final"]))
    def zotero_retitles_everything(self, suffix: str) -> None:
        """Many renames in one pass: what a kill should land in the middle of."""
        for item in self.library.items:
            item.fields["title"] = f"{item.title.removesuffix(' ' + suffix)} {suffix}".strip()
            self._edited(item)  # type: ignore[attr-defined]

    # -- kills with renames pending
    @rule(
        nth=st.integers(min_value=1, max_value=4),
        site=st.sampled_from(["replace", "write"]),
    )
    def sync_killed(self, nth: int, site: str) -> None:
        before = self._before_sync()  # type: ignore[attr-defined]
        STATS["kill_attempts"] += 1
        injector = Injector(self.vault, nth, code=None, site=site)
        try:
            with injector.installed():
                self._sync()  # type: ignore[attr-defined]
        except Killed:
            pass
        except ZotsyncError:
            if not self.symlinked:
                raise
        self._after_sync(before, failure_injected=True, killed=injector.fired)  # type: ignore[attr-defined]

    @rule(
        nth=st.integers(min_value=1, max_value=4),
        site=st.sampled_from(["replace", "write"]),
    )
    def sync_killed_again(self, nth: int, site: str) -> None:
        self.sync_killed(nth, site)  # kills are a rule drawn twice as often

    # -- conflict files and names
    @precondition(lambda self: enabled("user_edits_conflict_file"))
    @rule(index=st.integers(min_value=0), text=FRAGMENT, inside=st.booleans())
    def user_edits_conflict_file(self, index: int, text: str, inside: bool) -> None:
        files = sorted(self._conflict_files_paths())
        if not files:
            return
        path = files[index % len(files)]
        note = path.read_text(encoding="utf-8")
        line = self._fragment("conflict", text)  # type: ignore[attr-defined]
        region = parse_note(note).regions.get("abstract") if inside else None
        if region is not None:
            note = note[: region.start] + line + "\n" + note[region.start :]
        else:
            note = note + ("" if note.endswith("\n") else "\n") + line + "\n"
        path.write_text(note, encoding="utf-8")
        self.fragments[line] = True

    def _conflict_files_paths(self) -> list[Path]:
        out = []
        for path in self.vault.rglob("*.md"):
            if path.relative_to(self.vault).parts[0] in (".zotsync", "Outside"):
                continue
            if path.is_symlink():
                continue
            try:
                fm = read_frontmatter(norm(path.read_text(encoding="utf-8")))
            except Exception:
                continue
            if fm.get("zotsync-conflict-of"):
                out.append(path)
        return out

    @rule(title=st.sampled_from(SQUAT_TITLES), text=FRAGMENT)
    def user_squats_name(self, title: str, text: str) -> None:
        """A user file (no ``zotero-key``) at a name zotsync would give a new note."""
        self._squat(self.vault / "Papers" / f"{safe_filename(title)}.md", text)

    @precondition(lambda self: enabled("user_squats_conflict_name"))
    @rule(index=st.integers(min_value=0), text=FRAGMENT)
    def user_squats_conflict_name(self, index: int, text: str) -> None:
        """A user file named like the conflict file of an existing note."""
        picked = self._pick_note(index)  # type: ignore[attr-defined]
        if picked is not None:
            path = picked[0]
            self._squat(path.with_name(f"{path.stem}{CONFLICT_SUFFIX}.md"), text)

    def _squat(self, path: Path, text: str) -> None:
        if path.exists() or path.is_symlink():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        line = self._fragment("squat", text)  # type: ignore[attr-defined]
        path.write_text(f"# My own page\n\n{line}\n", encoding="utf-8")
        self.fragments[line] = True

    # -- line endings
    @precondition(lambda self: enabled("user_converts_line_endings"))
    @rule(index=st.integers(min_value=0), crlf=st.booleans(), bom=st.booleans())
    def user_converts_line_endings(self, index: int, crlf: bool, bom: bool) -> None:
        picked = self._pick_note(index)  # type: ignore[attr-defined]
        if picked is None or not (crlf or bom):
            return
        path = picked[0]
        path.write_bytes(to_crlf(path.read_text(encoding="utf-8"), crlf=crlf, bom=bom).encode())
        STATS["crlf"] += 1

    # -- Zotero values that look like markers, or are Markdown
    @precondition(lambda self: len(self.library.items) > 0)
    @rule(
        index=st.integers(min_value=0),
        value=st.sampled_from(MARKDOWN_VALUES + MARKDOWN_TITLES),
    )
    def zotero_sets_markdown_value(self, index: int, value: str) -> None:
        self._set_hostile(index, value, title=value in MARKDOWN_TITLES)

    @precondition(lambda self: len(self.library.items) > 0 and enabled("zotero_sets_marker_value"))
    @rule(index=st.integers(min_value=0), value=st.sampled_from(MARKER_VALUES + MARKER_TITLES))
    def zotero_sets_marker_value(self, index: int, value: str) -> None:
        self._set_hostile(index, value, title=value in MARKER_TITLES)

    def _set_hostile(self, index: int, value: str, *, title: bool) -> None:
        item = self._item(index)  # type: ignore[attr-defined]
        name = "title" if title else "abstractNote"
        item.fields = with_base_fields(item.item_type, {**item.fields, name: value})
        self._edited(item)  # type: ignore[attr-defined]
        STATS["hostile"] += 1

    # -- symlinks inside the vault pointing out
    @precondition(lambda self: enabled("user_symlinks_out"))
    @rule(which=st.sampled_from(SYMLINKS))
    def user_symlinks_out(self, which: str) -> None:
        n = self._next()  # type: ignore[attr-defined]
        if which == "note-file":
            link = self.vault / "Papers" / f"Lure link {n}.md"
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(self.root / "sibling" / "Lure.md")
        else:
            path = self.vault / which
            if path.is_symlink():
                return
            if path.exists():  # keep what was there inside the vault (backups hold user text)
                path.rename(path.with_name(f"{path.name} old {n}"))
            target = self.root / f"elsewhere-{n}"
            target.mkdir()
            (target / "keep.txt").write_text("outside the vault\n", encoding="utf-8")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(target, target_is_directory=True)
        self.symlinked = True
        STATS["symlinks"] += 1
