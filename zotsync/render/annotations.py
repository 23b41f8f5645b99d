"""Annotations of an item as Obsidian callouts, one per annotation, each with a stable anchor.

The pipeline is pure: :func:`annotation_views` turns an :class:`~zotsync.model.Item` into flat
:class:`AnnotationView` records (everything a template needs, already made safe for a callout),
and the ``annotations.md.j2`` template — or :func:`render_annotations`, which produces the very
same text without Jinja2 — lays them out.

Why it looks the way it does:

* **Every attachment** of the item contributes (PDF, EPUB, HTML snapshot), attachments in the
  item's order and each attachment's annotations by Zotero's ``sortIndex`` (reading order).
  Tools that took only the first annotated attachment lost highlights (anchors.md pain H).
* **Deep links use the page index**, never the printed label: ``page = pageIndex + 1`` (Zotero
  ≥ 7.0.4 reads ``page`` as the 1-based physical page). EPUBs link with ``cfi=``, snapshots with
  ``sel=``, group libraries with ``groups/ID`` (pain I).
* **Block id = annotation key**, on its own line after the callout with a blank line on each
  side: Obsidian only attaches a block id to a quote/callout in that form, and a key that never
  changes keeps a user's ``[[Paper#^KEY]]`` working through every re-render (pain L2).
* **Local layout**: each callout depends only on its own annotation (no counters, no attachment
  headings), so adding, editing or deleting one annotation changes only that callout's lines.
* **Region safety**: every callout line starts with ``>``, and ``%%`` inside Zotero text is split
  with a zero-width space, so no annotation can open an Obsidian comment or forge a
  ``%% zotsync:end %%`` marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from zotsync.model import IMAGE_TYPES, Annotation, Attachment, Item, LibraryRef, Position
from zotsync.vault.safe_links import defuse_links, link_text, safe_target

#: what a Zotero key looks like (8 of [A-Z0-9]); anything else cannot become a block id
_KEY = re.compile(r"[A-Za-z0-9]{1,32}")

#: Zotero's annotation palette (reader and note editor), hex -> name.
COLOR_NAMES: dict[str, str] = {
    "#ffd400": "yellow",
    "#ff6666": "red",
    "#5fb236": "green",
    "#2ea8e5": "blue",
    "#a28ae5": "purple",
    "#e56eee": "magenta",
    "#f19837": "orange",
    "#aaaaaa": "gray",
}

DEFAULT_COLOR = "#ffd400"

#: callout type per annotation type, used unless ``callouts`` says otherwise.
DEFAULT_CALLOUTS: dict[str, str] = {
    "highlight": "quote",
    "underline": "quote",
    "note": "note",
    "text": "note",
    "image": "example",
    "ink": "example",
}

EPUB_TYPES = ("application/epub+zip",)
SNAPSHOT_TYPES = ("text/html", "application/xhtml+xml")

_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_ZWSP = "\u200b"


@dataclass(frozen=True)
class AnnotationView:
    """One annotation, flattened and made callout-safe for templates.

    ``text`` and ``comment`` have normalised newlines, no trailing spaces and no ``%%``; a
    template can split them on ``"\\n"`` and prefix each line with ``>``. ``page`` is the
    1-based physical page (``pageIndex + 1``) or None for EPUB/snapshot annotations;
    ``location`` is the link text (``p. <label>``, ``p. <page>`` or ``Open in Zotero``).
    """

    key: str
    type: str
    callout: str
    color: str
    color_name: str
    page_label: str
    page: int | None
    link: str
    text: str
    comment: str
    tags: tuple[str, ...]
    author: str
    image: str | None
    image_missing: bool
    attachment_title: str
    attachment_key: str
    location: str


def normalize_color(color: str) -> str:
    """``#RRGGBB`` in lower case; Zotero's default yellow for empty or malformed values."""
    match = _HEX_RE.match(color.strip())
    if not match:
        return DEFAULT_COLOR
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits


def color_name(color: str) -> str:
    """Palette name of ``color``; other colours (Mendeley imports, old clients) get the nearest.

    Distance is the "redmean" weighted RGB distance, a cheap approximation of how far apart two
    colours look, so a pale orange does not land on red.
    """
    hex_color = normalize_color(color)
    if hex_color in COLOR_NAMES:
        return COLOR_NAMES[hex_color]
    r, g, b = _rgb(hex_color)
    best, best_dist = "yellow", float("inf")
    for palette_hex, name in COLOR_NAMES.items():
        pr, pg, pb = _rgb(palette_hex)
        mean_r = (r + pr) / 2
        dist = (
            (2 + mean_r / 256) * (r - pr) ** 2
            + 4 * (g - pg) ** 2
            + (2 + (255 - mean_r) / 256) * (b - pb) ** 2
        )
        if dist < best_dist:
            best, best_dist = name, dist
    return best


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


def attachment_kind(
    attachment: Attachment,
    ann: Annotation | None = None,
    position: Mapping[str, object] | None = None,
) -> str:
    """``pdf``, ``epub`` or ``snapshot``: from the annotation's position when it tells, else
    from the attachment's content type (a position is per annotation and always right).
    ``position`` is the annotation's, already parsed."""
    pos = position if position is not None else (ann.position if ann is not None else None)
    if pos is not None:
        pos_type = pos.get("type")
        if pos_type == "FragmentSelector":
            return "epub"
        if pos_type == "CssSelector":
            return "snapshot"
        if "pageIndex" in pos:
            return "pdf"
    if attachment.content_type in EPUB_TYPES:
        return "epub"
    if attachment.content_type in SNAPSHOT_TYPES:
        return "snapshot"
    return "pdf"


def deep_link(
    item_library: LibraryRef,
    attachment: Attachment,
    ann: Annotation,
    position: Mapping[str, object] | None = None,
) -> str:
    """``zotero://`` link that opens the attachment at this annotation.

    PDF: ``zotero://open-pdf/<lib>/items/ATT?page=<pageIndex+1>&annotation=KEY`` (``page``
    left out when the position has no page index). EPUB: ``zotero://open/…?cfi=<cfi>``;
    snapshot: ``zotero://open/…?sel=<css selector>``; both keep ``annotation=KEY``, which
    Zotero prefers when it knows the annotation.
    """
    base = f"{item_library.uri_path}/items/{attachment.key}"
    pos = ann.position if position is None else position
    kind = attachment_kind(attachment, position=pos)
    params: list[str] = []
    if kind == "pdf":
        page = _page_index(pos)
        if page is not None:
            params.append(f"page={page + 1}")
        scheme = "zotero://open-pdf/"
    else:
        value = pos.get("value")
        if isinstance(value, str) and value:
            params.append(("cfi=" if kind == "epub" else "sel=") + quote(value, safe=""))
        scheme = "zotero://open/"
    params.append(f"annotation={ann.key}")
    return f"{scheme}{base}?{'&'.join(params)}"


def _page_index(position: Mapping[str, object]) -> int | None:
    value = position.get("pageIndex")
    return value if isinstance(value, int) else None


def callout_safe(text: str) -> str:
    """Text that can sit inside a callout: LF newlines, no trailing spaces, no ``%%``,
    no leading or trailing blank lines, runs of blank lines collapsed to one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    while "%%" in text:
        text = text.replace("%%", f"%{_ZWSP}%")
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def obsidian_tag(name: str) -> str:
    """A Zotero tag as an Obsidian tag body: no ``#``, spaces as ``-``, ``a/b`` kept."""
    return re.sub(r"\s+", "-", name.strip().lstrip("#"))


def pick_callout(ann_type: str, name: str, callouts: Mapping[str, str] | None) -> str:
    """Callout for an annotation: ``callouts`` keys ``type:color``, then ``color``, then
    ``type`` win over :data:`DEFAULT_CALLOUTS`, so users can map e.g. red to ``warning``."""
    if callouts:
        for key in (f"{ann_type}:{name}", name, ann_type):
            value = callouts.get(key)
            if value:
                return re.sub(r"[^\w-]", "", value) or "quote"
    return DEFAULT_CALLOUTS.get(ann_type, "quote")


def _sorted(annotations: Iterable[Annotation]) -> list[Annotation]:
    # Zotero's sortIndex compares as a string (zero-padded fields); the key breaks ties so
    # the order never depends on the source's row order.
    return sorted(annotations, key=lambda a: (a.sort_index, a.date_added, a.key))


def annotation_views(
    item: Item,
    *,
    image_paths: Mapping[str, str] | None = None,
    callouts: Mapping[str, str] | None = None,
) -> list[AnnotationView]:
    """All annotations of ``item``: attachments in the item's order, each in reading order.

    ``image_paths`` maps an image/ink annotation key to its vault-relative PNG (see
    :func:`zotsync.render.images.copy_annotation_images`); one without a path is flagged
    ``image_missing`` so the callout can say Zotero has not rendered it yet.
    """
    image_paths = image_paths or {}
    views: list[AnnotationView] = []
    for attachment in item.attachments:
        if not _KEY.fullmatch(attachment.key):
            continue  # keys become block ids and link parts: a malformed one is dropped
        for ann in _sorted(attachment.annotations):
            if not _KEY.fullmatch(ann.key):
                continue
            # a lazy Position is parsed once here, not once per use
            raw = ann.position
            pos = raw.as_dict() if isinstance(raw, Position) else raw
            hex_color = normalize_color(ann.color)
            name = color_name(hex_color)
            page_index = _page_index(pos)
            page = page_index + 1 if page_index is not None else None
            label = " ".join(ann.page_label.replace("[", "(").replace("]", ")").split())
            is_image = ann.type in IMAGE_TYPES
            image = image_paths.get(ann.key) if is_image else None
            if label:
                location = f"p. {label}"
            elif page is not None:
                location = f"p. {page}"
            else:
                location = "Open in Zotero"
            views.append(
                AnnotationView(
                    key=ann.key,
                    type=ann.type,
                    callout=pick_callout(ann.type, name, callouts),
                    color=hex_color,
                    color_name=name,
                    page_label=label,
                    page=page,
                    link=safe_target(deep_link(item.library, attachment, ann, pos)) or "",
                    text=callout_safe(defuse_links(ann.text)),  # PDF text makes no link
                    comment=callout_safe(ann.comment),
                    tags=tuple(t for t in (obsidian_tag(tag.name) for tag in ann.tags) if t),
                    author=link_text(ann.author),
                    image=image,
                    image_missing=is_image and image is None,
                    attachment_title=" ".join(attachment.title.split()),
                    attachment_key=attachment.key,
                    location=link_text(location),
                )
            )
    return views


MISSING_IMAGE = "*Zotero has not rendered this image yet — open the attachment in Zotero once.*"


def render_callout(view: AnnotationView) -> str:
    """One annotation: the callout, a blank line, ``^KEY``, a newline (the template's form)."""
    header = f"> [!{view.callout}|{view.color_name}] [{view.location}]({view.link})"
    if view.author:
        header += f" · {view.author}"
    parts: list[list[str]] = []
    if view.text:
        parts.append(view.text.split("\n"))
    if view.image:
        parts.append([f"![[{view.image}]]"])
    elif view.image_missing:
        parts.append([MISSING_IMAGE])
    if view.comment:
        parts.append(view.comment.split("\n"))
    if view.tags:
        parts.append([" ".join("#" + t for t in view.tags)])
    lines = [header]
    for index, part in enumerate(parts):
        if index:
            lines.append(">")
        lines.extend(f"> {line}" if line else ">" for line in part)
    return "\n".join(lines) + f"\n\n^{view.key}\n"


def render_annotations(views: Iterable[AnnotationView]) -> str:
    """The ``annotations`` region body; byte-identical to ``annotations.md.j2``'s output."""
    return "\n".join(render_callout(v) for v in views)
