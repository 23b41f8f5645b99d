"""The Zotero item for an arXiv paper, shaped exactly as Zotero's own arXiv translator does.

Why mimic the translator (``zotero/translators`` ``arXiv.org.js``): a paper added with
``zotsync add`` should be indistinguishable from one saved with the browser button, so
duplicate detection, citation keys and the sync see the same fields either way. From one
Atom entry the translator makes:

- ``itemType`` ``preprint``; ``title`` and ``abstractNote`` with whitespace collapsed;
- creators split at the last space (``cleanAuthor(name, "author")``: ``"Peter H. N. de With"``
  → first ``"Peter H. N. de"``, last ``"With"``), all ``author``;
- ``date`` = the entry's ``updated`` day (``YYYY-MM-DD``);
- ``url`` ``http://arxiv.org/abs/<id>`` (unversioned), ``DOI`` ``10.48550/arXiv.<id>``,
  ``archiveID`` ``arXiv:<id>``, ``repository`` ``arXiv``, ``libraryCatalog`` ``arXiv.org``;
- ``extra`` ``arXiv:<id> [<primary category>]`` (old-style ids: no category), plus
  ``version: N`` when a version was asked for;
- one tag, the primary category; the comment as a note ``Comment: …``;
- attachments "Preprint PDF" (``http://arxiv.org/pdf/<id>v<N>``) and "Snapshot" (the abs
  page).

When arXiv knows a journal DOI the translator keeps that DOI and asks Crossref for the
journal data, turning the item into a ``journalArticle``; zotsync does not call Crossref
here, so such an item is a ``journalArticle`` with the journal DOI and the journal reference
in ``extra`` (``publicationTitle`` is left for Zotero or the user). Pure functions only.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from zotsync.arxiv_api import ArxivPaper

LIBRARY_CATALOG = "arXiv.org"


def clean_author(name: str) -> dict[str, str]:
    """Split a display name at its last space, as the translator's ``cleanAuthor`` does."""
    text = " ".join(name.replace("\u00a0", " ").split()).strip(" .,/[]:")
    first, _, last = text.rpartition(" ")
    return {"firstName": first, "lastName": last, "creatorType": "author"}


def translator_item(
    paper: ArxivPaper,
    *,
    requested_version: int | None = None,
    item_id: str | None = None,
) -> dict[str, Any]:
    """The connector ``saveItems`` item (translator format) for one arXiv paper.

    ``item_id`` is the connector-local id that ``saveAttachment`` refers back to
    (``parentItemID``); by default derived from the arXiv id so the JSON is reproducible.
    """
    aid = paper.id
    abs_url = f"http://arxiv.org/abs/{aid}"
    version = requested_version or paper.version
    extra = (
        f"arXiv:{aid}"
        if "/" in aid or not paper.primary_category
        else (f"arXiv:{aid} [{paper.primary_category}]")
    )
    item: dict[str, Any] = {
        "id": item_id or f"arxiv-{aid}",
        "itemType": "preprint",
        "title": " ".join(paper.title.split()),
        "creators": [clean_author(a) for a in paper.authors],
        "date": paper.updated.date().isoformat(),
        "abstractNote": " ".join(paper.summary.split()),
        "url": abs_url,
    }
    if paper.doi:
        item["itemType"] = "journalArticle"
        item["DOI"] = paper.doi
        if paper.journal_ref:
            extra += f"\nJournal: {paper.journal_ref}"
    else:
        item["DOI"] = f"10.48550/arXiv.{aid}"
        item["archiveID"] = f"arXiv:{aid}"
        item["repository"] = "arXiv"
        if requested_version:
            extra += f"\nversion: {requested_version}"
    item["extra"] = extra
    item["libraryCatalog"] = LIBRARY_CATALOG
    item["tags"] = [{"tag": paper.primary_category}] if paper.primary_category else []
    item["notes"] = (
        [{"note": f"Comment: {' '.join(paper.comment.split())}"}] if paper.comment else []
    )
    item["attachments"] = [
        {
            "title": "Preprint PDF",
            "url": f"http://arxiv.org/pdf/{aid}v{version}",
            "mimeType": "application/pdf",
        },
        {"title": "Snapshot", "url": abs_url, "mimeType": "text/html"},
    ]
    return item


def web_api_item(
    item: dict[str, Any], *, tags: Sequence[str] = (), collections: Sequence[str] = ()
) -> dict[str, Any]:
    """The same item as Zotero web API JSON (``POST /items``): tags as objects, notes and
    attachments removed (they become child items), the user's tags and collections added.

    The translator's category tag is an *automatic* tag (type 1), as the connector saves it;
    the user's tags are manual.
    """
    data = {k: v for k, v in item.items() if k not in ("id", "notes", "attachments", "tags")}
    data["tags"] = [{"tag": t["tag"], "type": 1} for t in item.get("tags", [])]
    data["tags"] += [{"tag": t} for t in tags]
    data["collections"] = list(collections)
    data["relations"] = {}
    return data


def note_html(note: str) -> str:
    """A translator note (plain text) as the HTML Zotero stores for notes."""
    return f"<p>{html.escape(note)}</p>"
