"""Finding every note's identity by walking the vault.

Identity is the ``zotero-key`` (and ``zotero-library``) in a note's frontmatter, never its
name, so a note the user moved or renamed is still found. The walk is rebuilt on every run
and must be cheap for a vault of 10,000 notes:

* ``os.scandir`` gives names, types and stat results in one pass;
* a file whose signature ``(mtime_ns, size, inode)`` equals the one the state database
  remembers (``known``) is not opened at all — its key is reused — so a no-op sync reads
  nothing;
* otherwise only the head of the file is read, up to the closing ``---``; a frontmatter that
  does not even mention ``zotero-key`` is not parsed (most of a vault's own notes), the rest
  is parsed with YAML so a broken frontmatter is reported instead of half-read.

Hidden entries (``.zotsync``, ``.obsidian``, ``.trash``, ``.git``, temp files) and symlinks
are skipped: a symlink may lead out of the vault, and one that stays inside only duplicates
a file the walk reaches anyway (two paths claiming one key would be a false conflict).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from zotsync.errors import NoteError
from zotsync.vault.atomic import FileSig, sig_of
from zotsync.vault.frontmatter import load_yaml

#: folders no vault walk enters, and whose changes the daemon ignores: zotsync's own state,
#: Obsidian's settings, its trash and git's store (the one list; everything imports it)
SKIP_DIRS = frozenset({".zotsync", ".obsidian", ".trash", ".git"})
DEFAULT_SKIP_DIRS = SKIP_DIRS
_HEAD = 16384
_FM_RE = re.compile(r"\A\ufeff?---\r?\n(.*?)^---[ \t]*\r?$", re.S | re.M)
_KEY_LINE_RE = re.compile(r"^zotero-key[ \t]*:[ \t]*[\"']?([A-Za-z0-9]+)[\"']?[ \t]*\r?$", re.M)
_LIB_LINE_RE = re.compile(r"^zotero-library[ \t]*:[ \t]*[\"']?([\w:]+)[\"']?[ \t]*\r?$", re.M)


@dataclass
class NoteFile:
    """One Markdown file of the vault and the identity found in it.

    The path is kept as the POSIX string it was found as; the :class:`Path` is built only when
    asked for (a daemon pass scans 10,000+ notes and needs few of them as paths).
    """

    rel: str  # relative to the vault, POSIX
    sig: FileSig
    key: str | None
    library: str | None
    error: str | None = None

    @functools.cached_property
    def path(self) -> Path:
        return Path(self.rel)


def read_head(path: Path) -> str:
    """The file's text up to and including its frontmatter (the whole file if unclosed)."""
    with open(path, "rb") as f:
        head = f.read(_HEAD)
        truncated = len(head) == _HEAD
        if truncated and head.lstrip(b"\xef\xbb\xbf").startswith(b"---"):
            fence = re.search(rb"\n---[ \t]*\r?(\n|\Z)", head)
            if fence is None:
                head += f.read()
                truncated = False
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # the read may have cut a multi-byte character in two at the end: not an error
        if truncated and exc.start >= len(head) - 3:
            return head[: exc.start].decode("utf-8")
        raise


def identity_of(
    text: str, *, parse_yaml: bool = True, key_field: str = "zotero-key"
) -> tuple[str | None, str | None]:
    """``(zotero-key, zotero-library)`` from a note's head; NoteError if its YAML is broken.

    ``key_field="citekey"`` is for libraries without Zotero keys (the bibtex and csl-json
    sources), whose notes are known by their ``citekey``.
    """
    m = _FM_RE.match(text)
    if m is None or key_field not in m.group(1):
        return None, None
    yaml_text = m.group(1)
    if key_field != "zotero-key":
        value = load_yaml(yaml_text, first_line=2).get(key_field)
        if isinstance(value, list | dict):
            raise NoteError(f"{key_field} must be a single value")
        return (None if value is None or value == "" else str(value)), None
    if not parse_yaml:
        keys = _KEY_LINE_RE.findall(yaml_text)
        libs = _LIB_LINE_RE.findall(yaml_text)
        if len(keys) == 1 and len(libs) <= 1:
            return keys[0], libs[0] if libs else None
    data = load_yaml(yaml_text, first_line=2)
    key, library = data.get("zotero-key"), data.get("zotero-library")
    if isinstance(key, list | dict) or isinstance(library, list | dict):
        raise NoteError("zotero-key and zotero-library must be single values")
    return (
        None if key is None else str(key),
        None if library is None else str(library),
    )


def markdown_entries(
    vault: Path, skip_dirs: Collection[str] = DEFAULT_SKIP_DIRS
) -> Iterator[tuple[str, str, os.stat_result]]:
    """``(path, vault-relative POSIX path, stat)`` of every ``.md`` file in the vault.

    Hidden entries, ``skip_dirs`` and symlinks are left out (nothing outside the vault is
    read); a file that vanishes meanwhile is skipped. Strings, not ``Path`` objects: at 10,000
    notes the objects cost more than the ``stat`` calls.
    """
    skip = set(skip_dirs)
    stack: list[tuple[str, str]] = [(str(vault), "")]
    while stack:
        folder, rel = stack.pop()
        try:
            it = os.scandir(folder)
        except OSError:
            continue
        with it:
            for entry in it:
                name = entry.name
                if name.startswith(".") or name in skip:
                    continue
                try:
                    if entry.is_symlink():
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, f"{rel}{name}/"))
                        continue
                    if not name.lower().endswith(".md") or not entry.is_file(follow_symlinks=False):
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                yield entry.path, rel + name, st


def scan_notes(
    vault: Path,
    *,
    skip_dirs: Collection[str] = DEFAULT_SKIP_DIRS,
    known: Mapping[str, tuple[FileSig, str | None, str | None]] | None = None,
    parse_yaml: bool = True,
    key_field: str = "zotero-key",
) -> list[NoteFile]:
    """Every ``.md`` note in the vault with its identity, sorted by path.

    ``known`` maps a note's vault-relative POSIX path to ``(sig, key, library)`` from the last
    run; an unchanged file is not read (leave notes that had an ``error`` out of ``known``, so
    the error is reported again until the user fixes it). Unreadable files and broken frontmatter produce a
    NoteFile with ``error`` set and ``key`` None. ``parse_yaml=False`` trusts a single plain
    ``zotero-key:`` line without parsing the YAML (faster, but does not detect broken YAML).
    """
    known = known or {}
    found = [
        _note_file(path, rel, sig_of(st), known.get(rel), parse_yaml, key_field)
        for path, rel, st in markdown_entries(vault, skip_dirs)
    ]
    found.sort(key=lambda n: n.rel)
    return found


def _note_file(
    abspath: str,
    relpath: str,
    sig: FileSig,
    remembered: tuple[FileSig, str | None, str | None] | None,
    parse_yaml: bool,
    key_field: str = "zotero-key",
) -> NoteFile:
    path = relpath
    if remembered is not None and remembered[0] == sig:
        return NoteFile(path, sig, remembered[1], remembered[2])
    try:
        key, library = identity_of(
            read_head(Path(abspath)), parse_yaml=parse_yaml, key_field=key_field
        )
    except UnicodeDecodeError:
        return NoteFile(path, sig, None, None, "the file is not valid UTF-8")
    except OSError as exc:
        return NoteFile(path, sig, None, None, f"cannot read the file: {exc.strerror or exc}")
    except NoteError as exc:
        if remembered is not None and remembered[1] is not None:
            # the state knows this file as that item's note: it stays so while its YAML is
            # broken. The sync's update of it reports the YAML and leaves the file alone, and
            # the item's row keeps its path and title, so once repaired the note follows title
            # changes again (taken for a note the user deleted, it lost that for good)
            return NoteFile(path, sig, remembered[1], remembered[2])
        return NoteFile(path, sig, None, None, exc.message)
    return NoteFile(path, sig, key, library)
