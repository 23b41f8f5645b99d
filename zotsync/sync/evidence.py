"""Reading what a Markdown file says about the paper it stands for (adoption evidence).

Notes made by other tools identify their paper in different ways: ZotLit writes ``zotero-key``,
PaperForge ``zotero_key``, Zotero Integration a ``citekey`` and a ``zotero://select`` link,
Citations a file named ``@citekey.md`` with a ``zotero://select/items/@citekey`` link, mdnotes
a ``zotero://select/items/1_KEY`` link. This module reads one file and returns an
:class:`~zotsync.sync.adoption.Evidence`; the matching itself is pure and lives in
:mod:`zotsync.sync.adoption`.

The frontmatter is parsed with python-frontmatter, with a YAML handler whose loader keeps
dates as the strings the user wrote (these files are only read here; writes are splices).
Files are read only when the engine has items without a note, and a file whose text names
none of the identifying keys is not parsed at all, so a large vault of other notes costs one
read per file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

from zotsync.refs.ids import normalize_doi
from zotsync.sync.adoption import Evidence

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DateKeepingLoader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader without the timestamp resolver: ``2024-01-02`` stays a string."""


_DateKeepingLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class NoteYAMLHandler(YAMLHandler):
    """python-frontmatter's YAML handler, keeping dates as strings."""

    def load(self, fm: str, **kwargs: object) -> Any:
        kwargs.setdefault("Loader", _DateKeepingLoader)
        return super().load(fm, **kwargs)


HANDLER = NoteYAMLHandler()

KEY_FIELDS = ("zotero-key", "zotero_key")
CITEKEY_FIELDS = ("citekey", "citationKey", "citation-key")
# zotero://select/library/items/KEY, …/groups/ID/items/KEY, mdnotes' items/1_KEY, and the
# Citations/Better BibTeX form items/@citekey
_SELECT_RE = re.compile(
    r"zotero://select/(?:library/|groups/\d+/|users/\d+/)?items/"
    r"(?:(?:\d+_)?([23456789A-Z]{8})(?![A-Za-z0-9])|@([^\s)\]>\"'|<]+))"
)
_NEEDLES = ("zotero", "cite", "citation", "doi")


def _strings(value: Any) -> list[str]:
    """The string values of a frontmatter entry (a scalar or a list of scalars)."""
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if isinstance(v, str | int) and str(v).strip()]


def evidence_of(rel: str, text: str) -> Evidence:
    """The evidence in one file's text (``rel`` is its vault-relative POSIX path)."""
    text = text.removeprefix("\ufeff")
    link_keys: set[str] = set()
    link_citekeys: set[str] = set()
    if "zotero://select" in text:
        for key, citekey in _SELECT_RE.findall(text):
            if key:
                link_keys.add(key)
            else:
                link_citekeys.add(unquote(citekey).rstrip(".,;:"))
    meta: dict[str, Any] = {}
    if text.startswith("---") and any(n in text.lower() for n in _NEEDLES):
        try:
            loaded, _ = frontmatter.parse(text, handler=HANDLER)
            meta = dict(loaded)
        except (yaml.YAMLError, ValueError):
            # the update refuses such a note with the YAML error; its name and links still
            # say which paper it is, so no duplicate is created meanwhile
            meta = {}
    keys = {v for f in KEY_FIELDS for v in _strings(meta.get(f))}
    citekeys = {v.removeprefix("@") for f in CITEKEY_FIELDS for v in _strings(meta.get(f))}
    dois = {
        d
        for k, v in meta.items()
        if isinstance(k, str) and k.casefold() == "doi"
        for s in _strings(v)
        if (d := normalize_doi(s))
    }
    return Evidence(
        path=rel,
        keys=frozenset(keys),
        link_keys=frozenset(link_keys),
        citekeys=frozenset(citekeys),
        link_citekeys=frozenset(link_citekeys),
        dois=frozenset(dois),
    )


def read_evidence(vault: Path, paths: Iterable[str]) -> list[Evidence]:
    """Evidence for each readable UTF-8 file among ``paths`` (vault-relative POSIX)."""
    out: list[Evidence] = []
    for rel in paths:
        try:
            text = (vault / rel).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # the scan reports unreadable files; they cannot be adopted
        out.append(evidence_of(rel, text))
    return out
