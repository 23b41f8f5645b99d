"""Standalone attachments are papers: a PDF, EPUB or snapshot dropped into Zotero on its own.

Zotero lets a file live at the top level, without a parent item ("standalone attachment"); many
people keep whole reading lists that way. Each source reads such a file as an
:class:`~zotsync.model.Item` of type ``attachment`` whose one attachment is the file itself
(same key), so its annotations, reader link and file link render like any paper's. Its title is
the attachment's title, else the file name.

When the user later runs Zotero's "Create Parent Item", the attachment gets a parent: the
attachment key disappears from the top level and shows up under a new regular item. That item
lists the keys of its reader files in ``former_keys``, and the engine moves the old note (and its
state row) to the new item instead of writing a second note (``sync/former.py``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePath

from zotsync.model import Attachment, Item, Library

#: what Zotero's reader opens; other files (a .docx, a linked URL) are not papers on their own
PAPER_TYPES = frozenset(
    {"application/pdf", "application/epub+zip", "text/html", "application/xhtml+xml"}
)


def is_paper_file(att: Attachment) -> bool:
    """A PDF, EPUB or snapshot with a file (linked URLs and other files are not papers)."""
    if att.link_mode in ("linked_url", "embedded_image"):
        return False
    return att.content_type.split(";")[0].strip().lower() in PAPER_TYPES


def standalone_title(att: Attachment) -> str:
    """The attachment's title, else its file name, else its key."""
    name = att.filename or (PurePath(att.path.replace("\\", "/")).name if att.path else "")
    return " ".join(att.title.split()) or name or att.key


def prepare(library: Library, *, standalone: bool) -> Library:
    """Keep standalone attachments that are papers (all of them out with ``standalone:
    false``), give each a title, and list every regular item's reader files in
    ``former_keys`` so a note made for one of them while it stood alone can be carried over."""
    items: list[Item] = []
    for item in library.items:
        if item.item_type == "attachment":
            own = next((a for a in item.attachments if a.key == item.key), None)
            if not standalone or own is None or not is_paper_file(own):
                continue
            if not item.fields.get("title"):
                item.fields["title"] = standalone_title(own)
        else:
            item.former_keys = [a.key for a in item.attachments if is_paper_file(a)]
        items.append(item)
    return library if len(items) == len(library.items) else replace(library, items=items)
