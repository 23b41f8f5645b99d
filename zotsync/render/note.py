"""Item → the parts of its note zotsync owns: frontmatter values and region texts.

The renderer is pure: everything that needs the vault or the network (note names of linked
papers, reference lists, copied annotation images) arrives in a :class:`NoteLinks`. The template
renders a whole first-time note; for an existing note the engine only takes the region contents
out of that rendering and splices them in, so the template decides the layout of new notes and
never touches what the user wrote around the regions of old ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zotsync.errors import TemplateError
from zotsync.library.status import seed_priority, seed_status
from zotsync.model import Item
from zotsync.refs.ids import item_ids
from zotsync.render.annotations import annotation_views, render_annotations
from zotsync.render.attachments import attachment_links
from zotsync.render.html2md import html_to_markdown
from zotsync.render.templates import NOTE_TEMPLATE, Templates
from zotsync.vault.frontmatter import dump_value
from zotsync.vault.names import NameRequest, candidates, safe_filename
from zotsync.vault.regions import fm_hashes, parse_note, text_hash
from zotsync.vault.safe_links import heading_text, link_text, safe_target, url_part, wikilink

#: owned frontmatter keys, in the order a new note lists them, with their merge policy
POLICIES: dict[str, str] = {
    "title": "replace",
    "authors": "replace",
    "year": "replace",
    "venue": "replace",
    "doi": "replace",
    "arxiv": "replace",
    "url": "replace",
    "item-type": "replace",
    "citekey": "replace",
    "zotero-key": "replace",
    "zotero-library": "replace",
    "zotero-link": "replace",
    "collections": "replace",
    "related": "replace",
    "references": "replace",
    "cited-by": "replace",
    "tags": "append",
    "aliases": "append",
    "status": "keep",
    "priority": "keep",
}
ANNOTATIONS_TEMPLATE = "annotations.md.j2"
REGION_NAMES = ("header", "abstract", "related", "references", "cited-by", "annotations", "notes")
_TAG_BAD = re.compile(r"[^\w/\-]+", re.UNICODE)


def obsidian_tag(name: str) -> str | None:
    """Zotero tag → Obsidian tag: no ``#``, spaces become ``-``, nested ``a/b`` kept.

    Characters Obsidian does not allow in tags become ``-``; a tag left purely numeric (which
    Obsidian would not treat as a tag) is dropped.
    """
    tag = name.strip().lstrip("#")
    tag = re.sub(r"\s+", "-", tag)
    tag = _TAG_BAD.sub("-", tag)
    tag = re.sub(r"-{2,}", "-", tag).strip("-/")
    tag = re.sub(r"/{2,}", "/", tag)
    if not tag or tag.replace("/", "").isdigit():
        return None
    return tag


@dataclass
class NoteLinks:
    """Everything about an item's note that depends on other notes or on the vault."""

    stem: str
    related: list[str] = field(default_factory=list)
    references_text: str = ""
    cited_by_text: str = ""
    references_fm: list[str] = field(default_factory=list)
    cited_by_fm: list[str] = field(default_factory=list)
    image_paths: dict[str, str] = field(default_factory=dict)
    cite_links: dict[str, str] = field(default_factory=dict)
    data_dir: str | None = None
    base_dir: str | None = None
    collection_paths: list[str] = field(default_factory=list)


@dataclass
class RenderedNote:
    """What zotsync owns in one note."""

    frontmatter: dict[str, Any]
    regions: dict[str, str]
    body: str

    def new_note_text(self) -> str:
        """The whole text of a note created for the first time."""
        return self.frontmatter_block() + self.body

    def frontmatter_block(self) -> str:
        """The owned frontmatter as a new note's YAML block, ``---`` lines included."""
        lines = ["---\n"]
        for key, value in self.frontmatter.items():
            lines.append(dump_value(key, value) + "\n")
        lines.append("---\n")
        return "".join(lines)

    def region_hashes(self) -> dict[str, str]:
        """Each region's hash as recorded for a note that holds this rendering as it is."""
        return {name: text_hash(content) for name, content in self.regions.items()}

    def frontmatter_hashes(self) -> dict[str, str]:
        return fm_hashes(self.frontmatter)


def display_doi(item: Item) -> str:
    """The item's DOI as Zotero shows it (case kept), without URL prefixes; arXiv DOIs dropped.

    Matching uses the normalized (lowercased) form; people copy the DOI from the note, so it
    keeps the publisher's spelling.
    """
    raw = item.fields.get("DOI", "").strip()
    raw = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", raw, flags=re.IGNORECASE)
    if not raw:
        raw = item_ids(item).doi or ""
    return "" if raw.lower().startswith("10.48550/") else raw


def zotero_select_link(item: Item) -> str:
    """``zotero://select/…/items/KEY``, or "" for an item without a Zotero key."""
    if not item.has_zotero_key:
        return ""
    return f"zotero://select/{item.library.uri_path}/items/{item.key}"


def title_alias(item: Item, stem: str) -> list[str]:
    """``[title]`` when the note is not named after the title, else nothing.

    That is a note kept under its old name (``rename: false``), one the user renamed, or a
    ``{citekey}``/``{key}`` name pattern: the alias lets Obsidian find the paper by its title.
    A name made from the title (with a collision suffix or not) needs no alias.
    """
    title = item.title.strip()
    if not title:
        return []
    last = item.creators[0].last if item.creators else ""
    author_year = " ".join(p for p in (last, str(item.year or "")) if p)
    if stem in set(candidates(NameRequest(item.key, safe_filename(title), author_year))):
        return []
    return [title]


def frontmatter_values(
    item: Item, links: NoteLinks, *, include_auto_tags: bool, with_ref_links: bool
) -> dict[str, Any]:
    """The owned frontmatter keys for ``item`` (empty values left out)."""
    ids = item_ids(item)
    venue = item.fields.get("publicationTitle") or item.fields.get("conferenceName") or ""
    if not venue and item.item_type == "preprint":
        venue = item.fields.get("publisher", "")
    tags: list[str] = []
    for tag in item.tags:
        if tag.auto and not include_auto_tags:
            continue
        converted = obsidian_tag(tag.name)
        if converted and converted.casefold() not in {t.casefold() for t in tags}:
            tags.append(converted)
    values: dict[str, Any] = {
        "title": item.title,
        "authors": [c.name for c in item.creators if c.creator_type in ("author", "inventor")]
        or [c.name for c in item.creators],
        "year": item.year,
        "venue": venue,
        "doi": display_doi(item),
        "arxiv": ids.arxiv or "",
        "url": item.fields.get("url", ""),
        "item-type": "attachment" if item.item_type == "attachment" else "",
        "citekey": item.citekey,
        # a library read from a .bib or CSL-JSON file has no Zotero keys: no zotero-* keys
        "zotero-key": item.key if item.has_zotero_key else "",
        "zotero-library": item.library.label
        if item.library.type == "group" and item.has_zotero_key
        else "",
        "zotero-link": zotero_select_link(item),
        "collections": links.collection_paths,
        "related": [f"[[{name}]]" for name in links.related],
        "references": links.references_fm if with_ref_links else [],
        "cited-by": links.cited_by_fm if with_ref_links else [],
        "tags": tags,
        "aliases": title_alias(item, links.stem),
        "status": seed_status([t.name for t in item.tags], item.fields.get("extra", "")),
        "priority": seed_priority(item.fields.get("extra", ""), [t.name for t in item.tags]),
    }
    return {k: v for k, v in values.items() if v not in (None, "", [])}


def annotations_text(views: list[Any], templates: Templates) -> str:
    """The annotations region body: the vault's ``annotations.md.j2`` if the user changed it,
    else the Python renderer, which gives the same bytes as the packaged template (tested) at a
    fraction of the sandboxed template's cost — this is most of the rendering of a big library.
    """
    if not views:
        return ""
    if templates.is_default(ANNOTATIONS_TEMPLATE):
        return render_annotations(views)
    return templates.render(ANNOTATIONS_TEMPLATE, {"annotations": views})


def note_context(
    item: Item, links: NoteLinks, callouts: dict[str, str], templates: Templates | None = None
) -> dict[str, Any]:
    """The variables a note template sees (documented in docs/note-format.md)."""
    ids = item_ids(item)
    data_dir = Path(links.data_dir) if links.data_dir else None
    base_dir = Path(links.base_dir) if links.base_dir else None

    def cite(uris: list[str]) -> str | None:
        for uri in uris:
            key = uri.rstrip("/").rsplit("/", 1)[-1]
            if key in links.cite_links:
                return f"[[{links.cite_links[key]}]]"
        return None

    notes = [
        html_to_markdown(
            n.html,
            cite_link=cite,
            image_link=lambda k: links.image_paths.get(k),
            library=item.library,
        ).strip()
        for n in item.notes
    ]
    views = annotation_views(item, image_paths=links.image_paths, callouts=callouts or None)
    return {
        "item": item,
        "key": item.key,
        "title": heading_text(item.title),
        "authors": [link_text(c.name) for c in item.creators],
        "creators": item.creators,
        "year": item.year or "",
        # Zotero text shown in the header: it cannot make a link
        "venue": heading_text(
            item.fields.get("publicationTitle") or item.fields.get("conferenceName") or ""
        ),
        "date": item.fields.get("date", ""),
        # these three go into link targets (``https://doi.org/{{ doi }}``, also in templates
        # copied into vaults long ago): encoded, and a URL of another scheme is dropped
        "doi": url_part(display_doi(item)),
        "arxiv": url_part(ids.arxiv or ""),
        "url": safe_target(item.fields.get("url", "")) or "",
        "citekey": item.citekey,
        "abstract": item.fields.get("abstractNote", "").strip(),
        "fields": item.fields,
        "tags": [t.name for t in item.tags],
        "zotero_link": zotero_select_link(item),
        "attachments": attachment_links(item, data_dir=data_dir, base_dir=base_dir),
        "related": [wikilink(name) for name in links.related],
        "references": links.references_text.strip(),
        "cited_by": links.cited_by_text.strip(),
        "annotations": views,
        "annotations_md": annotations_text(views, templates or Templates(None)).rstrip("\n"),
        "notes": [n for n in notes if n],
    }


def render_note(
    item: Item,
    links: NoteLinks,
    templates: Templates,
    *,
    callouts: dict[str, str] | None = None,
    include_auto_tags: bool = False,
    with_ref_links: bool = False,
) -> RenderedNote:
    """Render ``item``: owned frontmatter values plus the managed regions' contents."""
    body = templates.render(NOTE_TEMPLATE, note_context(item, links, callouts or {}, templates))
    parsed = parse_note(body)
    if parsed.problems:
        # values cannot do this (their marker lines are neutralised): the template itself
        # pairs its markers wrongly, and a region cut short would be spliced as if whole
        raise TemplateError(
            f"template {NOTE_TEMPLATE} renders broken region markers for {item.key}: "
            + "; ".join(parsed.problems),
            fix="make every '%% zotsync:begin NAME %%' line in the template have its end line",
        )
    regions = {name: region.content for name, region in parsed.regions.items()}
    fm = frontmatter_values(
        item, links, include_auto_tags=include_auto_tags, with_ref_links=with_ref_links
    )
    return RenderedNote(frontmatter=fm, regions=regions, body=body)
