"""Cheap facts about the inputs of a pass: fingerprints of the source's files and of the config,
and the collection filter.

The fingerprints decide whether a pass may stop early (nothing can have changed), so they are
content-based, never timestamps alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from zotsync.config import Config
from zotsync.sources.selection import restrict_to_collections


def files_fingerprint(paths: list[Path]) -> str | None:
    """Fingerprint of the source's files, from their content, never from timestamps alone.

    This decides whether a sync may stop early. SQLite files are recognised by their magic
    bytes and fingerprinted by what SQLite itself records on every change, which costs a few
    small reads instead of hashing a 140 MB database (see :func:`_sqlite_sig`); any other file
    (an export) by its size, mtime and a CRC-32 of every byte. A change that kept all of these
    cannot happen by accident.
    """
    if not paths:
        return None
    parts = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                head = fh.read(100)
                sig = _sqlite_sig(fh, head, st.st_size)
                if sig is None:
                    crc = zlib.crc32(head)
                    while chunk := fh.read(1 << 20):
                        crc = zlib.crc32(chunk, crc)
                    sig = f"crc:{crc:08x}"
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{sig}")
        except (FileNotFoundError, NotADirectoryError):
            parts.append(f"{path}:absent")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_MAGIC = (0x377F0682, 0x377F0683)


def _sqlite_sig(fh: BinaryIO, head: bytes, size: int) -> str | None:
    """What SQLite records on every commit, for a database, WAL or journal file; else None.

    * database: its 100-byte header. Without WAL, every committed write transaction increments
      the file change counter (offset 24); with WAL, the file changes only by checkpoints,
      which copy content the WAL fingerprint has already covered.
    * ``-wal``: its header (the salts change whenever the log restarts) and the header of the
      last commit frame of the current generation, whose checksum is cumulative over every
      frame before it: the log's whole committed content in 24 bytes. Frames are found by
      stepping through frame headers (a few hundred small reads), not by reading pages.
    * ``-journal``: a hot journal is rolled back by the reader; its header and size suffice
      together with the database's.
    """
    if head.startswith(_SQLITE_MAGIC):
        return "db:" + head.hex()
    if len(head) >= 32 and struct.unpack(">I", head[:4])[0] in _WAL_MAGIC:
        page = struct.unpack(">I", head[8:12])[0]
        salts = head[16:24]
        last = b""
        offset = 32
        while offset + 24 + page <= size:
            fh.seek(offset)
            frame = fh.read(24)
            if frame[8:16] != salts:
                break  # a frame of an older generation: the current log ends here
            if frame[4:8] != b"\x00\x00\x00\x00":  # a commit frame (database size set)
                last = frame
            offset += 24 + page
        return "wal:" + head[:32].hex() + ":" + last.hex()
    if head[:8] == b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7":  # rollback journal magic
        return "journal:" + head[:28].hex()
    return None


def config_fingerprint(config: Config) -> str:
    return hashlib.blake2b(
        json.dumps(asdict(config), sort_keys=True).encode(), digest_size=16
    ).hexdigest()


#: the engine's name for the one collection filter (applied to every source's library)
filter_collections = restrict_to_collections
