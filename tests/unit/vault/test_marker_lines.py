"""``marker_lines`` finds exactly the marker lines a line-anchored expression finds.

The expression is the one zotsync used before (kept here as the reference): every line start,
``[ \\t]*%% zotsync:begin|end NAME %%[ \\t]*`` and the line break, a BOM allowed before the first.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.vault.regions import marker_lines

REFERENCE = re.compile(
    r"(?:^|(?<=\A\ufeff))[ \t]*%%[ \t]*zotsync:(begin|end)[ \t]+([a-z0-9-]+)[ \t]*%%[ \t]*(\r?\n|\Z)",
    re.M,
)

pieces = st.sampled_from(
    ["%% zotsync:begin a %%", "%%zotsync:end a%%", "%% zotsync:begin b-2 %% ", " \t", "\n",
     "\r\n", "\r", "text", "zotsync:", "%%", "\ufeff", "%% zotsync:end  x %%x", "é", "---\n"]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(parts=st.lists(pieces, max_size=14), start_at_line=st.integers(0, 4), bom=st.booleans())
def test_same_markers_as_the_line_anchored_expression(
    parts: list[str], start_at_line: int, bom: bool
) -> None:
    text = ("\ufeff" if bom else "") + "".join(parts)
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    start = starts[min(start_at_line, len(starts) - 1)]
    if bom and start == 0:
        start = 1  # as parse_note does: the BOM is not part of the body
    expected = [
        (m.group(1), m.group(2), m.start(), m.end()) for m in REFERENCE.finditer(text, start)
    ]
    assert list(marker_lines(text, start)) == expected
