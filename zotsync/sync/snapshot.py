"""Cheap facts about the inputs of a pass: fingerprints of the source's files and of the config,
and the collection filter.

The fingerprints decide whether a pass may stop early (nothing can have changed), so they are
content-based, never timestamps alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import asdict
from pathlib import Path

from zotsync.config import Config
from zotsync.sources.selection import restrict_to_collections


def files_fingerprint(paths: list[Path]) -> str | None:
    """Fingerprint of the source's files: size, mtime and a CRC-32 of every byte.

    This decides whether a sync may stop early, so it reads the content rather than trusting
    timestamps (ext4 stamps files with a few milliseconds' granularity; Zotero writes fast). A
    change that kept a file's size, its mtime to the nanosecond *and* its CRC cannot happen by
    accident; CRC-32 is used because it reads a 140 MB database five times faster than a
    cryptographic hash, which matters for the one-second no-op target.
    """
    if not paths:
        return None
    parts = []
    for path in paths:
        try:
            st = os.stat(path)
            crc = 0
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    crc = zlib.crc32(chunk, crc)
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{crc:08x}")
        except FileNotFoundError:
            parts.append(f"{path}:absent")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def config_fingerprint(config: Config) -> str:
    return hashlib.blake2b(
        json.dumps(asdict(config), sort_keys=True).encode(), digest_size=16
    ).hexdigest()


#: the engine's name for the one collection filter (applied to every source's library)
filter_collections = restrict_to_collections
