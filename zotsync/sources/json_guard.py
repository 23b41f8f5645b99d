"""A file reader for streamed JSON exports that refuses absurd nesting (one for every source).

Used by the bbt-json and csl-json sources before ijson sees a byte: PRODUCT guarantee 5
(a deeply nested export ends in one line, not in exhausted memory).
"""

from __future__ import annotations

from typing import BinaryIO

MAX_RUN = 256  # opening brackets in a row: far beyond any export, far below what hurts
_OPENERS = bytes.maketrans(b"{", b"[")


class GuardedReader:
    """A binary file that refuses absurd nesting before ijson sees it.

    ijson keeps the path of every open level as a string, so a 100,000-deep ``[[[[…`` costs
    memory quadratic in the depth (gigabytes). Runs of opening brackets (whitespace between
    them ignored) longer than :data:`MAX_RUN` are refused as not a complete export.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        squeezed = self.tail + chunk.translate(_OPENERS, b" \t\r\n")
        if b"[" * MAX_RUN in squeezed:
            raise ValueError(f"nested more than {MAX_RUN} levels deep")
        self.tail = squeezed[-MAX_RUN:]
        return chunk
