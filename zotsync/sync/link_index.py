"""Which vault files link to which note names, kept in the state DB between passes.

A rename must rewrite every link to the old name anywhere in the vault. Reading every
Markdown file to find them costs a pass over the whole vault (seconds at 10,000 notes) for a
one-item change. Instead the state keeps, per file, the casefolded *names* its links point at
(table ``vault_links``), together with the file's ``(mtime_ns, size, inode)`` when it was read
(``vault_files``). Before a rename pass the vault is walked with ``stat`` only; a file whose
signature moved (the user edited it, zotsync wrote it) or that is new is read again, and a
file that vanished is dropped. Then the files to rewrite are a query.

The names are collected generously — every ``[[...]]`` target and every Markdown link
destination, inside code or not, by its last path component without ``.md`` — so the set of
files is a superset of what :func:`zotsync.vault.links.rewrite_links` changes; it then reads
only those files and decides precisely, as before.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import unquote

from zotsync.state.db import StateDB
from zotsync.state.links import VaultLinks
from zotsync.vault.scan import markdown_entries

log = logging.getLogger(__name__)
_WIKI = re.compile(r"\[\[([^\[\]\n]+?)\]\]")
_MD_DEST = re.compile(r"\]\([ \t]*(<[^<>\n]*>|[^\s()<>]+(?:\([^\s()<>]*\)[^\s()<>]*)*)")


def _name(target: str) -> str:
    base = target.strip().rsplit("/", 1)[-1]
    if base.casefold().endswith(".md"):
        base = base[:-3]
    return base.casefold()


def link_names(text: str) -> set[str]:
    """Casefolded note names that ``text`` may link to (a superset; see the docstring)."""
    out: set[str] = set()
    for m in _WIKI.finditer(text):
        inner = m.group(1)
        cut = min((i for i in (inner.find("|"), inner.find("#")) if i >= 0), default=len(inner))
        out.add(_name(inner[:cut].rstrip("\\")))
    for m in _MD_DEST.finditer(text):
        dest = m.group(1)
        raw = dest[1:-1] if dest.startswith("<") else dest
        path = raw.partition("#")[0]
        out.add(_name(path))
        out.add(_name(unquote(path)))
    out.discard("")
    return out


def markdown_files(vault: Path) -> dict[str, tuple[int, int, int]]:
    """Vault-relative POSIX path → signature of every note the scan sees."""
    return {rel: (st.st_mtime_ns, st.st_size, st.st_ino) for _, rel, st in markdown_entries(vault)}


def refresh(vault: Path, state: StateDB) -> int:
    """Bring the index up to date with the vault; return how many files were read."""
    index = VaultLinks(state)
    known = index.signatures()
    now = markdown_files(vault)
    stale = [p for p, sig in now.items() if known.get(p) != sig]
    gone = [p for p in known if p not in now]
    with state.transaction():
        index.forget(gone)
        for path in stale:
            try:
                text = (vault / path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            index.record(path, now[path], link_names(text))
    log.debug("link index: %d of %d files read again, %d gone", len(stale), len(now), len(gone))
    return len(stale)


def files_linking_to(vault: Path, state: StateDB, stems: list[str]) -> list[Path]:
    """Files that may link to a note named any of ``stems``, after refreshing the index."""
    refresh(vault, state)
    paths = VaultLinks(state).files_naming({s.casefold() for s in stems})
    return [vault / p for p in sorted(paths)]
