"""Reading a note's YAML frontmatter, and changing owned keys without rewriting the rest.

A YAML dumper would reorder keys, drop comments, requote scalars and reflow text — every one
of which is a change to bytes the user owns. So zotsync reads with ``yaml.safe_load`` (with a
loader that keeps ``2024-01-02`` a string) and writes by *splicing*: the frontmatter is cut
into top-level entries (a key line plus its indented or ``-`` continuation lines), and only
the entries of keys being set or removed are replaced. Comments, blank lines and other keys
keep their bytes and order. After every splice the result is parsed again and compared with
what was intended; if the layout fooled the line-based cutter (exotic YAML), the splice is
refused with :class:`~zotsync.errors.NoteError` rather than written.

:func:`merge_owned` decides *what* to write from the declared per-key policies
(``replace`` / ``append`` / ``keep``); :func:`dump_value` formats values the way Obsidian
writes properties (block lists, quotes only where YAML needs them).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import yaml

from zotsync.errors import NoteError
from zotsync.vault.regions import ParsedNote, newline_of, parse_note, replace_spans

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader without the timestamp resolver: dates stay the strings the user wrote."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

POLICIES = ("replace", "append", "keep")


def load_yaml(source: str, *, first_line: int = 1) -> dict[str, Any]:
    """Parse a frontmatter's YAML text to a mapping; errors name the file line."""
    try:
        data = yaml.load(source, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + first_line}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise NoteError(
            f"invalid YAML in the frontmatter{where}: {problem}",
            fix="correct the frontmatter (between the '---' lines) in a text editor",
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise NoteError(
            f"the frontmatter is a {type(data).__name__}, not a mapping of keys to values",
            fix="write the frontmatter as 'key: value' lines",
        )
    return data


def read_frontmatter(text: str) -> dict[str, Any]:
    """The note's frontmatter as a dict (``{}`` if it has none); NoteError if invalid."""
    parsed = parse_note(text)
    if parsed.frontmatter is None:
        return {}
    return load_yaml(parsed.frontmatter, first_line=2)


# --- formatting ---------------------------------------------------------------------------

_QUOTE_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_NUMBER_RE = re.compile(
    r"[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[0-9:]+(?:\.[0-9]*)?"
)
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_BREAKS = set("\r\n\x85\u2028\u2029")


def _printable(ch: str) -> bool:
    """Whether PyYAML accepts ``ch`` unescaped (its reader's printable set)."""
    o = ord(ch)
    if ch in "\t\n\r" or 0x20 <= o <= 0x7E or o == 0x85:
        return True
    return 0xA0 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or 0x10000 <= o <= 0x10FFFF


#: strings of this shape are plain YAML scalars for certain (a letter first, then only letters,
#: digits, spaces and punctuation that YAML gives no meaning inside a plain scalar); checking
#: them without a YAML round trip keeps writing 10,000 notes fast
_SIMPLE_PLAIN = re.compile(r"[^\W\d_][\w .,/()'+-]*(?<! )", re.UNICODE)


@functools.lru_cache(maxsize=65536)
def _plain_ok(s: str) -> bool:
    """True when ``s`` can be written unquoted and still read back as the same string."""
    if _SIMPLE_PLAIN.fullmatch(s) and s.lower() not in _QUOTE_WORDS:
        return True
    if not s or s != s.strip(" \t") or s[0] in _INDICATORS or s[0].isspace():
        return False
    if ": " in s or "#" in s or s.endswith(":") or "\t" in s:
        return False
    if any(ch in _BREAKS or not _printable(ch) or unicodedata.category(ch) == "Cc" for ch in s):
        return False
    if s.lower() in _QUOTE_WORDS or _NUMBER_RE.fullmatch(s):
        return False
    try:
        return bool(yaml.load(s, Loader=_Loader) == s)
    except yaml.YAMLError:
        return False


def quote(s: str) -> str:
    """A YAML double-quoted scalar for ``s`` (escapes only what YAML requires)."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch in _BREAKS or not _printable(ch) or unicodedata.category(ch) == "Cc":
            o = ord(ch)
            out.append(
                f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"
            )
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_scalar(value: Any) -> str:
    """One scalar as YAML text: plain where safe, double-quoted otherwise."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    s = str(value)
    return s if _plain_ok(s) else quote(s)


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_flow(str(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str):
        return quote(value)
    return format_scalar(value)


def _entry_lines(key: str, value: Any, indent: str) -> Iterator[str]:
    k = format_scalar(key)
    if isinstance(value, list | tuple):
        if not value:
            yield f"{indent}{k}: []"
            return
        yield f"{indent}{k}:"
        for v in value:
            item = _flow(v) if isinstance(v, list | tuple | Mapping) else format_scalar(v)
            yield f"{indent}  - {item}"
    elif isinstance(value, Mapping):
        if not value:
            yield f"{indent}{k}: {{}}"
            return
        yield f"{indent}{k}:"
        for sub, v in value.items():
            yield from _entry_lines(str(sub), v, indent + "  ")
    elif value is None:
        yield f"{indent}{k}:"
    else:
        yield f"{indent}{k}: {format_scalar(value)}"


def dump_value(key: str, value: Any) -> str:
    """The YAML lines for one key, Obsidian style, joined by ``\\n``, no final newline.

    ``tags: [a, b]`` becomes a block list (``tags:\\n  - a\\n  - b``), an empty list
    ``key: []``, None an empty value ``key:``; strings are quoted only when needed.
    """
    return "\n".join(_entry_lines(key, value, ""))


# --- splicing -----------------------------------------------------------------------------

_KEY_RE = re.compile(
    r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s#"'?\[\]{},&*!|>%@`][^\n]*?))[ \t]*:(?=[ \t]|$)"""
)
_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def _key_of(line: str) -> str | None:
    m = _KEY_RE.match(line)
    if m is None:
        return None
    if m.group(1) is not None:
        try:
            return str(yaml.safe_load('"' + m.group(1) + '"'))
        except yaml.YAMLError:
            return None
    if m.group(2) is not None:
        return m.group(2).replace("''", "'")
    return m.group(3)


def entries(yaml_text: str) -> list[tuple[str | None, int, int]]:
    """Top-level entries of a frontmatter as ``(key, start, end)`` offsets into ``yaml_text``.

    An entry is a key line plus the lines that continue its value (indented lines, ``-``
    list items, and blank or comment lines that are followed by more of those). Anything
    else (comments or blank lines between keys) is not part of any entry.
    """
    found: list[tuple[str | None, int, int]] = []
    current: list[Any] | None = None  # [key, start, end]
    for m in _LINE_RE.finditer(yaml_text):
        line = m.group().rstrip("\r\n")
        stripped = line.strip()
        if (line[:1] in (" ", "\t") and stripped) or line == "-" or line.startswith("- "):
            if current is not None:
                current[2] = m.end()
            continue
        if not stripped or stripped.startswith("#"):
            continue  # attaches only if a continuation follows (then current[2] moves past it)
        if current is not None:
            found.append((current[0], current[1], current[2]))
        current = [_key_of(line), m.start(), m.end()]
    if current is not None:
        found.append((current[0], current[1], current[2]))
    return found


def same_value(a: Any, b: Any) -> bool:
    """Equality that does not confuse ``True`` with ``1`` (YAML would write them apart)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, dt.date) or isinstance(b, dt.date):
        return str(a) == str(b)
    return bool(a == b) and (a is None) == (b is None)


def _with_nl(lines: str, nl: str) -> str:
    return (lines + "\n").replace("\n", nl) if nl != "\n" else lines + "\n"


def splice_frontmatter(
    text: str, updates: Mapping[str, Any], *, remove: Collection[str] = ()
) -> str:
    """Set ``updates`` and delete ``remove`` in the frontmatter; every other byte is kept.

    A key already present is replaced in place (its key line and continuation lines), unless
    its parsed value already equals the new one; a new key is appended at the end of the
    frontmatter in the order given. A note without frontmatter gets one at the top.
    """
    overlap = set(updates) & set(remove)
    if overlap:
        raise ValueError(f"keys both updated and removed: {sorted(overlap)}")
    parsed = parse_note(text)
    if parsed.frontmatter is None:
        return _create_frontmatter(text, parsed, updates)
    old = load_yaml(parsed.frontmatter, first_line=2)
    ystart, yend = parsed.yaml_span
    yaml_text = parsed.frontmatter
    nl = newline_of(text)
    spans = entries(yaml_text)
    by_key: dict[str, list[tuple[int, int]]] = {}
    for key, s, e in spans:
        if key is not None:
            by_key.setdefault(key, []).append((s, e))
    edits: list[tuple[int, int, str]] = []
    appended: list[str] = []
    for key, value in updates.items():
        where = by_key.get(key, [])
        if len(where) > 1:
            raise _duplicate(key)
        if not where:
            if key in old:  # present but not found as a plain line: refuse to guess
                raise _unsafe(f"key {key!r} is written in a form zotsync cannot edit")
            appended.append(_with_nl(dump_value(key, value), nl))
        elif not (key in old and same_value(old[key], value)):
            s, e = where[0]
            edits.append((s, e, _with_nl(dump_value(key, value), nl)))
    for key in remove:
        where = by_key.get(key, [])
        if len(where) > 1:
            raise _duplicate(key)
        if where:
            edits.append((where[0][0], where[0][1], ""))
    if not edits and not appended:
        return text
    edits.sort()
    body = replace_spans(yaml_text, edits)
    has_tail = len(yaml_text) > (edits[-1][1] if edits else 0)
    if appended and has_tail and not body.endswith("\n"):
        body += nl  # the last kept line had no line break: give it one before the new keys
    result = text[:ystart] + body + "".join(appended) + text[yend:]
    _verify(result, old, updates, remove)
    return result


def _create_frontmatter(text: str, parsed: ParsedNote, updates: Mapping[str, Any]) -> str:
    if parsed.problems and "frontmatter" in parsed.problems[0]:
        raise _unsafe(parsed.problems[0])
    if not updates:
        return text
    nl = newline_of(text)
    off = 1 if text.startswith("\ufeff") else 0
    block = "---" + nl + "".join(_with_nl(dump_value(k, v), nl) for k, v in updates.items())
    return text[:off] + block + "---" + nl + text[off:]


def _verify(
    result: str, old: Mapping[str, Any], updates: Mapping[str, Any], remove: Collection[str]
) -> None:
    """Parse the spliced note again; refuse the splice if anything but the targets moved."""
    want = {k: v for k, v in old.items() if k not in remove}
    want.update(updates)
    try:
        got = read_frontmatter(result)
    except NoteError as exc:
        raise _unsafe("the edited frontmatter would not parse") from exc
    if not same_value(got, want) or list(got) != list(want):
        raise _unsafe("editing the frontmatter would change keys other than zotsync's")


def _duplicate(key: str) -> NoteError:
    return NoteError(
        f"the frontmatter has the key {key!r} more than once",
        fix=f"delete all but one '{key}:' line",
    )


def _unsafe(why: str) -> NoteError:
    return NoteError(
        f"cannot update the frontmatter safely: {why}",
        fix="simplify the frontmatter (one 'key: value' entry per line) and sync again",
    )


# --- merge policies -----------------------------------------------------------------------
