"""Links to an item's attachments for the note's ``header`` region.

Each attachment gets up to two links, because they answer different needs: ``open_url``
(``zotero://open-pdf/…``) opens the file in Zotero's reader, where annotations live, and
``file_url`` (``file://…``) opens the file itself from the vault, which also works when Zotero
is closed. Where the file lives depends on the link mode (zotero-facts.md §1.4):

* stored (``imported_file``/``imported_url``): ``<data_dir>/storage/<KEY>/<filename>``;
* linked files: an absolute path, or ``attachments:<relative>`` under the "base directory" of
  Zotero's preferences (not in the database, so the caller passes it);
* linked URLs: the URL itself, no file.

This module only builds strings: it never checks whether the file exists (the vault may be
synced to a machine where it does not) and never touches the disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from zotsync.model import Attachment, Item, LibraryRef
from zotsync.vault.safe_links import link_text, safe_target

#: content types Zotero's reader opens (and ``zotero://open-pdf`` therefore works for)
READER_TYPES = {
    "application/pdf": "pdf",
    "application/epub+zip": "epub",
    "text/html": "snapshot",
    "application/xhtml+xml": "snapshot",
}

_WINDOWS_ABS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


@dataclass(frozen=True)
class AttachmentLink:
    """One attachment as the header shows it.

    ``kind`` is ``pdf``, ``epub``, ``snapshot`` (reader types), ``file`` (any other stored or
    linked file) or ``url`` (a linked URL). ``open_url`` is the ``zotero://`` reader link (or
    the URL for linked URLs), ``file_url`` the ``file://`` URI of the file; either may be None.
    """

    title: str
    kind: str
    open_url: str | None
    file_url: str | None

    def markdown(self) -> str:
        """``[title](open_url) ([file](file_url))`` — the default header form."""
        parts: list[str] = []
        title = link_text(self.title.replace("[", "(").replace("]", ")"))
        open_url = safe_target(self.open_url) if self.open_url else None
        file_url = safe_target(self.file_url) if self.file_url else None
        if open_url:
            parts.append(f"[{title}]({open_url})")
        if file_url:
            parts.append(f"([file]({file_url}))" if parts else f"[{title}]({file_url})")
        return " ".join(parts) if parts else title


def open_link(library: LibraryRef, attachment_key: str) -> str:
    """``zotero://open-pdf/<library|groups/ID>/items/KEY``: opens it in Zotero's reader."""
    return f"zotero://open-pdf/{library.uri_path}/items/{attachment_key}"


def linked_file_uri(path: str, base_dir: Path | None) -> str | None:
    """``file://`` URI of a linked file's Zotero path, or None when it can't be resolved.

    Handles absolute POSIX and Windows paths and ``attachments:`` paths relative to the base
    directory (Zotero writes them with ``/``; old Windows rows may use ``\\``). Mac alias
    records from Zotero 1–2 (``AAAA…``) cannot be resolved without macOS.
    """
    if path.startswith("attachments:"):
        if base_dir is None:
            return None
        relative = path[len("attachments:") :].replace("\\", "/").lstrip("/")
        parts = [p for p in PurePosixPath(relative).parts if p not in ("", ".")]
        return (base_dir.absolute().joinpath(*parts)).as_uri()
    if _WINDOWS_ABS.match(path):
        return PureWindowsPath(path).as_uri()
    if path.startswith("/"):
        return PurePosixPath(path).as_uri()
    return None


def attachment_kind(attachment: Attachment) -> str:
    """``pdf``/``epub``/``snapshot`` for reader types, ``url`` for links, else ``file``."""
    if attachment.link_mode == "linked_url":
        return "url"
    return READER_TYPES.get(attachment.content_type.split(";")[0].strip().lower(), "file")


def attachment_links(
    item: Item, *, data_dir: Path | None, base_dir: Path | None
) -> list[AttachmentLink]:
    """Links for every attachment of ``item`` in the item's order (embedded note images left
    out: they belong to notes). ``data_dir`` is Zotero's data directory (None: no ``file://``
    links for stored files); ``base_dir`` the linked-attachment base directory."""
    links: list[AttachmentLink] = []
    for att in item.attachments:
        if att.link_mode == "embedded_image":
            continue
        kind = attachment_kind(att)
        title = " ".join(att.title.split()) or att.filename or att.key
        if kind == "url":
            links.append(
                AttachmentLink(title, kind, safe_target(att.url) if att.url else None, None)
            )
            continue
        # a file known only from a .bib (no Zotero attachment key) has no reader link
        open_url = open_link(item.library, att.key) if kind != "file" and att.key else None
        file_url: str | None = None
        if att.link_mode in ("imported_file", "imported_url"):
            if data_dir is not None and att.filename:
                file_url = (data_dir.absolute() / "storage" / att.key / att.filename).as_uri()
        elif att.link_mode == "linked_file" and att.path:
            file_url = linked_file_uri(att.path, base_dir)
        links.append(
            AttachmentLink(title, kind, open_url, safe_target(file_url) if file_url else None)
        )
    return links
