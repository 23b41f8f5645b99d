"""Moved to :mod:`zotsync.library.status` (the status vocabulary is library-wide); kept as a
re-export so code written against the old path still imports."""

from __future__ import annotations

from zotsync.library.status import (
    DEFAULT_PRIORITY,
    DEFAULT_STATUS,
    STATUS_TAGS,
    VALID_STATUSES,
    frontmatter_meta,
    is_status_tag,
    normalize_priority,
    normalize_status,
    reading_list_status,
    seed_priority,
    seed_status,
)

__all__ = [
    "DEFAULT_PRIORITY",
    "DEFAULT_STATUS",
    "STATUS_TAGS",
    "VALID_STATUSES",
    "frontmatter_meta",
    "is_status_tag",
    "normalize_priority",
    "normalize_status",
    "reading_list_status",
    "seed_priority",
    "seed_status",
]
