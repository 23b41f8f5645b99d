"""Note file names: safe on every OS, stable, and unique up to case.

A name is built from a pattern (default ``{title}``) and made safe for Windows, macOS and
Linux *and* for Obsidian links: no ``/ \\ : * ? " < > |``, none of ``# ^ [ ]`` (they end a
wikilink target), no control characters, no leading/trailing dots or spaces, no reserved
device names (``CON``, ``com1.txt``…), NFC, at most ``max_len`` characters and
:data:`MAX_STEM_BYTES` UTF-8 bytes — leaving room in the OS's 255-byte limit for ``.md`` and
the atomic writer's temp suffix. :func:`safe_filename` is idempotent, so a name already on
disk is recognised as "what the title gives". :func:`safe_segment` is the same cleaning for
index-note paths (a tag or collection name per folder), where every unsafe character becomes
``-`` and an empty name ``-``.

Identity never depends on the name (it is the ``zotero-key`` in the frontmatter), but users
link to names, so :func:`assign_names` keeps an existing name whenever it still fits and
resolves collisions deterministically: `` (Author Year)``, then `` (KEY)``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from zotsync.errors import ConfigError

#: UTF-8 budget for a stem: 255 minus ".md", the temp-file prefix/suffix and some margin.
MAX_STEM_BYTES = 200
FALLBACK = "Untitled"
PATTERN_FIELDS = ("title", "citekey", "key", "year", "author")

_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{dev}{n}" for dev in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]
}
# Characters replaced before whitespace is collapsed; ':' reads best as a dash ("BERT - Pre").
_REPLACE = str.maketrans(
    {
        ":": " - ",
        "/": "-",
        "\\": "-",
        "|": "-",
        '"': "'",
        "*": " ",
        "?": " ",
        "<": " ",
        ">": " ",
        "#": " ",
        "^": " ",
        "[": " ",
        "]": " ",
    }
)
#: index paths: every character a file name or a wikilink cannot hold becomes a dash
_DASHES = str.maketrans(dict.fromkeys('\\/:*?"<>|#^[]', "-"))
_SPACE_RE = re.compile(r"\s+")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") or ch in "\u2028\u2029\ufeff"


def _truncate(name: str, max_len: int, max_bytes: int) -> str:
    """Cut to both limits, preferring a word boundary in the last third."""
    cut = name[:max_len]
    while len(cut.encode("utf-8")) > max_bytes:
        cut = cut[:-1]
    if len(cut) < len(name):
        space = cut.rfind(" ")
        if space > len(cut) * 2 // 3:
            cut = cut[:space]
    return cut


def _strip_edges(name: str) -> str:
    return name.strip(" .")


def _unreserve(name: str, mark: str) -> str:
    head, dot, rest = name.partition(".")
    if head.rstrip(" ").upper() in _RESERVED:
        return head.rstrip(" ") + mark + dot + rest
    return name


class _Style(NamedTuple):
    table: dict[int, str]  # unsafe characters → replacements
    mark: str  # appended to a reserved device name
    fallback: str  # for a name that cleans to nothing


_FILE = _Style(_REPLACE, "_", FALLBACK)
_SEGMENT = _Style(_DASHES, "-", "-")


def _once(title: str, max_len: int, max_bytes: int, style: _Style) -> str:
    s = unicodedata.normalize("NFC", title)
    if not s.isprintable():  # fast path: most titles have no control characters at all
        s = "".join(" " if _is_control(ch) else ch for ch in s)
    s = s.translate(style.table)
    s = _SPACE_RE.sub(" ", s)
    s = _strip_edges(s)
    s = _strip_edges(_truncate(s, max_len, max_bytes))
    s = _unreserve(s, style.mark)
    s = unicodedata.normalize("NFC", s)
    return s or style.fallback


def _clean(title: str, max_len: int, max_bytes: int, style: _Style) -> str:
    s = _once(title, max_len, max_bytes, style)
    for _ in range(4):  # the steps can interact at the limits; iterate to the fixed point
        again = _once(s, max_len, max_bytes, style)
        if again == s:
            return s
        s = again
    return s


@functools.lru_cache(maxsize=65536)
def safe_filename(title: str, *, max_len: int = 120, max_bytes: int = MAX_STEM_BYTES) -> str:
    """A file stem (no ``.md``) that is valid on Windows, macOS and Linux; never empty.

    Idempotent: ``safe_filename(safe_filename(t)) == safe_filename(t)``.
    """
    if max_len < len(FALLBACK) + 1:
        raise ValueError("max_len is too small for a file name")
    return _clean(title, max_len, max_bytes, _FILE)


@functools.lru_cache(maxsize=16384)
def safe_segment(name: str) -> str:
    """One part of an index note's path: unsafe characters as ``-``, never empty or ``..``."""
    return _clean(name, 120, MAX_STEM_BYTES, _SEGMENT)


def format_pattern(pattern: str, values: Mapping[str, str]) -> str:
    """Fill a name pattern (``{title}``, ``{citekey}``, ``{key}``, ``{year}``, ``{author}``).

    The result is passed through :func:`safe_filename`; a pattern that comes out empty
    (e.g. ``{citekey}`` for an item without one) falls back to the item key.
    """
    unknown = [f for f in _PLACEHOLDER_RE.findall(pattern) if f not in PATTERN_FIELDS]
    if unknown:
        raise ConfigError(
            [
                f"unknown field {{{f}}} in the note name pattern {pattern!r}; "
                f"use {', '.join('{' + p + '}' for p in PATTERN_FIELDS)}"
                for f in unknown
            ]
        )
    raw = _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), "") or "", pattern)
    if not raw.strip(" .-_()"):
        raw = values.get("key", "") or ""
    return safe_filename(raw)


@dataclass(frozen=True)
class NameRequest:
    """One item wanting a name: ``base`` is its safe stem, ``current`` its stem on disk."""

    key: str
    base: str
    author_year: str
    current: str | None = None


def with_suffix(base: str, suffix: str, *, max_len: int = 120) -> str:
    """``base (suffix)`` within the length limits (the base is shortened, not the suffix)."""
    tail = f" ({safe_filename(suffix, max_len=40)})"
    room = max_len - len(tail)
    room_bytes = MAX_STEM_BYTES - len(tail.encode("utf-8"))
    return _strip_edges(_truncate(base, room, room_bytes)) + tail


def candidates(req: NameRequest) -> Iterable[str]:
    """The names an item may have, in order of preference."""
    yield req.base
    if req.author_year.strip():
        yield with_suffix(req.base, req.author_year)
    yield with_suffix(req.base, req.key)


def assign_names(wanted: Sequence[NameRequest], taken: Mapping[str, str]) -> dict[str, str]:
    """Give every request a stem, unique up to case within the folder; deterministic.

    ``taken`` maps casefolded stems of files in the folder to their owner; a name owned by
    the request's own key counts as free for it. An item keeps its ``current`` name while
    that is still one of its candidates (its base, ``base (Author Year)`` or ``base (KEY)``).
    Other items sharing a base all get `` (Author Year)`` when that is unique, else `` (KEY)``.
    """
    used: dict[str, str] = dict(taken)
    result: dict[str, str] = {}

    def free(name: str, key: str) -> bool:
        return used.get(name.casefold(), key) == key

    ordered = sorted(wanted, key=lambda r: (r.base.casefold(), r.key))
    # 1. keep current names that still fit (first claim wins on a case-only clash)
    for req in ordered:
        if (
            req.current is not None
            and req.current in candidates(req)
            and free(req.current, req.key)
        ):
            result[req.key] = req.current
            used[req.current.casefold()] = req.key
    rest = [r for r in ordered if r.key not in result]
    group_size = Counter(r.base.casefold() for r in rest)
    ay_count = Counter(
        with_suffix(r.base, r.author_year).casefold() for r in rest if r.author_year.strip()
    )
    # 2. a base nobody else wants and nobody has: plain
    for req in rest:
        if group_size[req.base.casefold()] == 1 and free(req.base, req.key):
            result[req.key] = req.base
            used[req.base.casefold()] = req.key
    # 3. collisions: (Author Year) when unique, then (KEY), then (KEY n)
    for req in rest:
        if req.key in result:
            continue
        name = None
        if req.author_year.strip():
            ay = with_suffix(req.base, req.author_year)
            if ay_count[ay.casefold()] == 1 and free(ay, req.key):
                name = ay
        if name is None:
            name = with_suffix(req.base, req.key)
            n = 2
            while not free(name, req.key):
                name = with_suffix(req.base, f"{req.key} {n}")
                n += 1
        result[req.key] = name
        used[name.casefold()] = req.key
    return result
