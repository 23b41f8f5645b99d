"""Small text helpers of the HTML → Markdown conversion (escaping, wrapping, fences)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

_WS = re.compile(r"[ \t\n\r\f]+")
_ZWSP = "\u200b"
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|<!--")
_ITEM_URI = re.compile(r"(?:/(users|groups)/(?:local/)?([^/]+))?/items/([A-Za-z0-9]+)$")


def escape_lt(text: str) -> str:
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)


def wrap_text(content: str, marker: str, end: str | None = None) -> str:
    """``marker content end`` with surrounding spaces moved outside, as Markdown needs."""
    if not content.strip():
        return content
    stripped = content.strip(" ")
    lead = " " if content.startswith(" ") else ""
    trail = " " if content.endswith(" ") else ""
    return f"{lead}{marker}{stripped}{marker if end is None else end}{trail}"


def backtick_fence(text: str, minimum: int) -> str:
    runs = [len(m) for m in re.findall(r"`+", text)]
    return "`" * max(minimum, max(runs, default=0) + 1)


def json_attr(value: str) -> dict[str, object]:
    try:
        data = json.loads(unquote(value))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def strip_locator(text: str, locator: str) -> str:
    """``Vaswani et al., 2017, p. 12`` -> ``Vaswani et al., 2017`` (the deep link says p. 12)."""
    if not locator:
        return text
    pattern = r",?\s*(?:pp?\.\s*)?" + re.escape(locator) + r"$"
    stripped = re.sub(pattern, "", text)
    return stripped or text
