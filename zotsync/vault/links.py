"""Finding and rewriting links to a note, the way Obsidian would on a rename.

Obsidian rewrites links only for renames made inside Obsidian; a daemon that renames a note
must do it itself, or every ``[[Old Title]]`` in the vault breaks. Forms handled:

* wikilinks ``[[Old]]``, ``[[Old|alias]]``, ``[[Old#Heading]]``, ``[[Old#^block]]``,
  ``![[Old]]``, ``[[Old.md]]``, the path form ``[[Papers/Old]]`` and ``[[Old\\|alias]]`` (the
  escaped pipe used inside tables); targets match case-insensitively, like Obsidian;
* Markdown links ``[text](Papers/Old.md)``, ``[t](Papers/Old%20Name.md#Heading)`` (stays
  percent-encoded), ``[t](<Papers/Old Name.md>)`` (stays angle-bracketed), the shortest form
  ``[t](Old.md)`` and, when the linking file's path is given, relative ``../Papers/Old.md``.

The link keeps its form: only the target changes, headings, block ids, aliases and titles are
kept. Nothing inside fenced code blocks or inline code is touched — a code sample that shows
a link is text, not a link.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from urllib.parse import unquote

_FENCE_RE = re.compile(r"^[ \t>]*(`{3,}|~{3,})", re.M)
_TICKS_RE = re.compile(r"`+")
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\r?\n")
_WIKI_RE = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
_MD_RE = re.compile(
    r"(!?\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]\()([ \t]*)"
    r"(<[^<>\n]*>|[^\s()<>]+(?:\([^\s()<>]*\)[^\s()<>]*)*)"
    r"([ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'))?([ \t]*\))"
)


def code_spans(text: str) -> list[tuple[int, int]]:
    """Sorted ``(start, end)`` spans of fenced code blocks and inline code in ``text``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    prose: list[tuple[int, int]] = []
    while True:
        m = _FENCE_RE.search(text, pos)
        if m is None:
            prose.append((pos, len(text)))
            break
        fence = m.group(1)
        if fence[0] == "`" and "`" in text[m.end() : _line_end(text, m.end())]:
            pos = _line_end(text, m.end())  # not a fence: backticks in the info string
            prose.append((m.start(), pos))
            continue
        prose.append((pos, m.start()))
        close = re.compile(
            r"^[ \t>]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$", re.M
        )
        c = close.search(text, _line_end(text, m.end()))
        end = len(text) if c is None else c.end()
        spans.append((m.start(), end))
        pos = end
        if c is None:
            break
    for start, end in prose:
        spans.extend(_inline_code(text, start, end))
    spans.sort()
    return spans


def _line_end(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl


def _inline_code(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = start
    while True:
        m = _TICKS_RE.search(text, pos, end)
        if m is None:
            return spans
        n = len(m.group())
        closer = re.compile(r"(?<!`)`{" + str(n) + r"}(?!`)")
        stop = _BLANK_LINE_RE.search(text, m.end(), end)
        limit = stop.start() if stop else end
        c = closer.search(text, m.end(), limit)
        if c is None:
            pos = m.end()
            continue
        spans.append((m.start(), c.end()))
        pos = c.end()


class _Code:
    """Fast "is this offset inside code?" over the sorted spans."""

    def __init__(self, text: str) -> None:
        self.spans = code_spans(text) if "`" in text or "~~~" in text else []
        self.starts = [s for s, _ in self.spans]

    def __contains__(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.spans[i][1]


def _split_wikilink(inner: str) -> tuple[str, str]:
    """``inner`` of ``[[...]]`` -> (target, rest) where rest starts with ``#``, ``|`` or ``\\|``."""
    cut = len(inner)
    for sep in ("|", "#"):
        i = inner.find(sep)
        if 0 <= i < cut:
            cut = i
    target, rest = inner[:cut], inner[cut:]
    if rest.startswith("|") and target.endswith("\\"):
        target, rest = target[:-1], "\\" + rest
    return target, rest


def find_wikilinks(text: str) -> list[str]:
    """Targets of the wikilinks outside code, in order (``[[A#h|x]]`` gives ``A``)."""
    code = _Code(text)
    out = []
    for m in _WIKI_RE.finditer(text):
        if m.start() in code:
            continue
        target, _ = _split_wikilink(m.group(2))
        if target.strip():
            out.append(target)
    return out


def _strip_md(name: str) -> tuple[str, bool]:
    return (name[:-3], True) if name.casefold().endswith(".md") else (name, False)


def encode_destination(path: str) -> str:
    """Percent-encode what a bare Markdown link destination cannot hold (spaces, ``%``…)."""
    out = []
    balanced = path.count("(") == path.count(")")
    for ch in path:
        if ch in ' %<>"\\`{}|^' or ord(ch) < 0x20 or ch == "\x7f" or (ch in "()" and not balanced):
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def rewrite_links(
    text: str, old: str, new: str, *, old_path: str, new_path: str, source: str | None = None
) -> str:
    """Point every link to note ``old`` (vault path ``old_path``) at ``new`` / ``new_path``.

    ``old``/``new`` are stems, the paths are vault-relative with ``.md``; ``source`` is the
    vault-relative path of the file being rewritten (enables relative Markdown links).
    Returns ``text`` itself when nothing links to the old note.
    """
    folded = text.casefold()
    if old.casefold() not in folded and encode_destination(old).casefold() not in folded:
        return text
    code = _Code(text)
    old_cf = old.casefold()
    old_noext_cf = _strip_md(old_path)[0].casefold()
    new_noext = _strip_md(new_path)[0]

    def wiki(m: re.Match[str]) -> str:
        if m.start() in code:
            return m.group()
        target, rest = _split_wikilink(m.group(2))
        lead = len(target) - len(target.lstrip())
        core = target.strip()
        slash = "/" if core.startswith("/") else ""
        stem, ext = _strip_md(core.lstrip("/"))
        if slash == "" and stem.casefold() == old_cf:
            repl = new
        elif stem.casefold() == old_noext_cf:
            repl = slash + new_noext
        else:
            return m.group()
        repl += ".md" if ext else ""
        return f"{m.group(1)}[[{target[:lead]}{repl}{target[lead + len(core) :]}{rest}]]"

    def md(m: re.Match[str]) -> str:
        if m.start() in code:
            return m.group()
        dest = m.group(3)
        angle = dest.startswith("<")
        raw = dest[1:-1] if angle else dest
        path_part, hash_, frag = raw.partition("#")
        path = path_part if angle else unquote(path_part)
        repl = _md_target(path, old, old_path, new, new_path, source)
        if repl is None:
            return m.group()
        repl = f"<{repl}{hash_}{frag}>" if angle else encode_destination(repl) + hash_ + frag
        return m.group(1) + m.group(2) + repl + (m.group(4) or "") + m.group(5)

    text = _WIKI_RE.sub(wiki, text)
    if "](" in text:
        code = _Code(text)  # offsets moved if wikilinks changed length
        text = _MD_RE.sub(md, text)
    return text


def _md_target(
    path: str, old: str, old_path: str, new: str, new_path: str, source: str | None
) -> str | None:
    """The new destination path for a Markdown link to ``old``, or None if it isn't one."""
    if "://" in path or path.startswith("mailto:"):
        return None
    cf = path.casefold()
    if cf.lstrip("/") == old_path.casefold():
        return ("/" if path.startswith("/") else "") + new_path
    if cf == (old + ".md").casefold():
        return new + ".md"
    if source is not None and not path.startswith("/"):
        here = posixpath.dirname(source)
        resolved = posixpath.normpath(posixpath.join(here, path))
        if resolved.casefold() == old_path.casefold():
            return posixpath.relpath(new_path, here or ".")
    return None


def links_to(text: str, stem: str) -> bool:
    """Whether ``text`` has a wikilink or Markdown link (outside code) to a note named ``stem``."""
    folded = text.casefold()
    if stem.casefold() not in folded and encode_destination(stem).casefold() not in folded:
        return False
    want = stem.casefold()
    for target in find_wikilinks(text):
        name = _strip_md(target.strip().rsplit("/", 1)[-1])[0]
        if name.casefold() == want:
            return True
    code = _Code(text)
    for m in _MD_RE.finditer(text):
        if m.start() in code:
            continue
        dest = m.group(3)
        raw = dest[1:-1] if dest.startswith("<") else unquote(dest)
        stem, ext = _strip_md(raw.partition("#")[0].rsplit("/", 1)[-1])
        if ext and stem.casefold() == want:
            return True
    return False
