"""Zotero child notes (HTML) to Obsidian Markdown, with the standard library's ``html.parser``.

Zotero has stored notes in several shapes over the years, and all of them must convert:

* plain text (the oldest notes, no tags at all): paragraphs on blank lines, line breaks kept;
* TinyMCE notes (Zotero ≤ 5, ``<div class="zotero-note znv1">``) with inline ``style``
  attributes for underline and strike-through and text directly inside the ``div``;
* note-editor notes (Zotero ≥ 6, ``<div data-schema-version="N">``): paragraphs, headings,
  nested lists, code, tables, ``<span class="math">$…$</span>`` and ``<pre class="math">``,
  highlights made from annotations (``data-annotation``), citations (``data-citation``) and
  embedded images (``data-attachment-key``).

The HTML is parsed into a small tree first, so a highlight can see the citation that follows
it: Zotero writes ``<span class="highlight" data-annotation=…>“text”</span> <span
class="citation" data-citation=…>(Author, 2017, p. 12)</span>``, which becomes ``==“text”==
([[Cited Paper]], [p. 12](zotero://open-pdf/…))`` — the citation as a wikilink when the cited
paper has a note, the page as a deep link back to the annotation.

Nothing Obsidian-specific is escaped (``[[``, ``==``, ``> [!`` stay as the user typed them, pain K
in anchors.md). Only two things are touched: ``<`` before a letter becomes ``&lt;`` (otherwise
Obsidian would take literal text like ``<script>`` for HTML), and ``%%`` is split with a
zero-width space, so a note can neither hide text in an Obsidian comment nor forge a
``%% zotsync:end %%`` region marker.

The tree itself (:class:`~zotsync.render.html_tree.Node`, :func:`parse_html`) lives in
:mod:`zotsync.render.html_tree`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from zotsync.model import Annotation, Attachment, LibraryRef
from zotsync.render.annotations import deep_link
from zotsync.render.html_text import backtick_fence, escape_lt, json_attr, strip_locator, wrap_text
from zotsync.render.html_tree import (
    BLOCK,
    SKIP,
    VOID,
    Node,
    find_class,
    parse_html,
    take_checkbox,
)
from zotsync.vault.safe_links import link_text, safe_target

__all__ = ["BLOCK", "SKIP", "VOID", "Node", "html_to_markdown", "parse_html"]

_WS = re.compile(r"[ \t\n\r\f]+")
_ZWSP = "\u200b"
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|<!--")
_ITEM_URI = re.compile(r"(?:/(users|groups)/(?:local/)?([^/]+))?/items/([A-Za-z0-9]+)$")


def html_to_markdown(
    html: str,
    *,
    cite_link: Callable[[list[str]], str | None] = lambda _uris: None,
    image_link: Callable[[str], str | None] = lambda _key: None,
    library: LibraryRef | None = None,
) -> str:
    """Convert one Zotero note to Obsidian Markdown (ends with one newline, or is empty).

    ``cite_link(uris)`` returns the wikilink for a cited item in the library (else the
    citation's own text is kept); ``image_link(attachment_key)`` returns the vault path of an
    embedded image (embedded as ``![[path]]``). ``library`` is used for deep links whose
    attachment URI does not name a library.
    """
    if not _TAG.search(html):
        blocks = [_plain_paragraph(p) for p in re.split(r"\n\s*\n", html.replace("\r\n", "\n"))]
    else:
        renderer = _Renderer(cite_link, image_link, library or LibraryRef())
        blocks = renderer.blocks(parse_html(html))
    text = "\n\n".join(b for b in blocks if b.strip())
    while "%%" in text:
        text = text.replace("%%", f"%{_ZWSP}%")
    return text + "\n" if text else ""


def _plain_paragraph(text: str) -> str:
    lines = [escape_lt(line.strip()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


class _Renderer:
    """Walks the tree; ``blocks`` for block context, ``inline`` for phrasing content."""

    def __init__(
        self,
        cite_link: Callable[[list[str]], str | None],
        image_link: Callable[[str], str | None],
        library: LibraryRef,
    ) -> None:
        self.cite_link = cite_link
        self.image_link = image_link
        self.library = library

    # -- blocks ---------------------------------------------------------------------------

    def blocks(self, node: Node) -> list[str]:
        out: list[str] = []
        run: list[Node | str] = []
        for child in node.children:
            if isinstance(child, Node) and child.tag in BLOCK:
                out.append(self.paragraph(run))
                run = []
                out.extend(self.block(child))
            else:
                run.append(child)
        out.append(self.paragraph(run))
        return [b for b in out if b.strip()]

    def paragraph(self, nodes: list[Node | str]) -> str:
        text = self.inline(nodes, frozenset())
        lines = [line.strip() for line in text.split("\n")]
        return "\n".join(line for line in lines if line)

    def block(self, node: Node) -> list[str]:
        tag = node.tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = " ".join(self.inline(node.children, frozenset()).split())
            return [f"{'#' * int(tag[1])} {text}"] if text else []
        if tag in ("ul", "ol"):
            return [self.list_block(node)]
        if tag == "pre":
            return [self.pre_block(node)]
        if tag == "blockquote":
            inner = "\n\n".join(self.blocks(node))
            return ["\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))]
        if tag == "table":
            return [self.table_block(node)]
        if tag == "hr":
            return ["---"]
        return self.blocks(node)

    def list_block(self, node: Node) -> str:
        ordered = node.tag == "ol"
        try:
            number = int(node.attrs.get("start", "1"))
        except ValueError:
            number = 1
        items: list[str] = []
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    items.append(f"- {child.strip()}")
                continue
            if child.tag != "li":
                items.extend(f"- {b}" for b in self.block(child) if b)
                continue
            marker = f"{number}. " if ordered else "- "
            number += 1
            checked = self._task_state(child)
            body = "\n".join(self.blocks(child))
            prefix = marker + ("" if checked is None else ("[x] " if checked else "[ ] "))
            indent = " " * len(marker)
            lines = body.split("\n") if body else [""]
            first = (prefix + lines[0]).rstrip()
            rest = [indent + line if line else "" for line in lines[1:]]
            items.append("\n".join([first, *rest]))
        return "\n".join(items)

    @staticmethod
    def _task_state(li: Node) -> bool | None:
        """True/False for a task item (tiptap ``data-checked`` or a checkbox), None otherwise."""
        if "data-checked" in li.attrs:
            return li.attrs["data-checked"] in ("true", "checked", "")
        box = take_checkbox(li)
        return None if box is None else "checked" in box.attrs

    def pre_block(self, node: Node) -> str:
        code = node.text().replace("\r\n", "\n")
        if "math" in node.classes:
            return code.strip("\n")
        language = ""
        for candidate in (node, *[c for c in node.children if isinstance(c, Node)]):
            for cls in candidate.classes:
                if cls.startswith("language-"):
                    language = cls[len("language-") :]
        if code.endswith("\n"):
            code = code[:-1]
        fence = backtick_fence(code, 3)
        return f"{fence}{language}\n{code}\n{fence}"

    def table_block(self, node: Node) -> str:
        rows: list[list[str]] = []
        stack: list[Node] = [node]
        while stack:
            current = stack.pop(0)
            for child in current.children:
                if not isinstance(child, Node):
                    continue
                if child.tag == "tr":
                    cells = [
                        c for c in child.children if isinstance(c, Node) and c.tag in ("td", "th")
                    ]
                    rows.append([self.cell(c) for c in cells])
                elif child.tag in ("thead", "tbody", "tfoot"):
                    stack.append(child)
        if not rows:
            return ""
        width = max(len(r) for r in rows) or 1
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
        lines.extend("| " + " | ".join(r) + " |" for r in rows[1:])
        return "\n".join(line.replace("|  |", "| |") for line in lines)

    def cell(self, node: Node) -> str:
        text = "<br>".join(b.replace("\n", "<br>") for b in self.blocks(node))
        return text.replace("|", "\\|")

    # -- inline ---------------------------------------------------------------------------

    def inline(self, nodes: list[Node | str], active: frozenset[str]) -> str:
        out: list[str] = []
        pending: str | None = None  # deep link of a highlight, waiting for its citation

        def add(piece: str) -> None:
            if piece.startswith(" ") and out and out[-1].endswith((" ", "\n")):
                piece = piece[1:]
            if piece:
                out.append(piece)

        for index, child in enumerate(nodes):
            if isinstance(child, str):
                add(escape_lt(_WS.sub(" ", child.replace("\xa0", " "))))
                continue
            if "citation" in child.classes and child.tag == "span":
                add(self.citation(child, pending))
                pending = None
                continue
            if pending is not None and child.tag != "br":
                add(f" ({pending})")
                pending = None
            add(self.element(child, active))
            if "data-annotation" in child.attrs:
                link = self.annotation_link(child.attrs["data-annotation"])
                if link and self._citation_follows(nodes, index):
                    pending = link
                elif link:
                    add(f" ({link})")
        if pending is not None:
            add(f" ({pending})")
        return "".join(out)

    @staticmethod
    def _citation_follows(nodes: list[Node | str], index: int) -> bool:
        for later in nodes[index + 1 :]:
            if isinstance(later, str):
                if later.strip():
                    return False
                continue
            if later.tag != "br":
                return "citation" in later.classes
        return False

    def element(self, node: Node, active: frozenset[str]) -> str:
        tag = node.tag
        if tag == "br":
            return "\n"
        if tag == "img":
            return self.image(node)
        if tag == "input":
            return ""
        if tag == "code":
            code = _WS.sub(" ", node.text())
            fence = backtick_fence(code, 1)
            pad = " " if code.startswith("`") or code.endswith("`") else ""
            return f"{fence}{pad}{code}{pad}{fence}" if code else ""
        if tag == "span" and "math" in node.classes:
            return node.text()
        if tag == "a":
            return self.link(node, active)
        marker, end = self._format(node)
        if marker and marker in active:
            marker = ""
        inner = self.inline(node.children, active | {marker} if marker else active)
        if not marker:
            return inner
        return wrap_text(inner, marker, end)

    @staticmethod
    def _format(node: Node) -> tuple[str, str | None]:
        """Markdown (or HTML) delimiters for a formatting element, ``("", None)`` for none."""
        tag = node.tag
        style = node.attrs.get("style", "").replace(" ", "").lower()
        if tag in ("strong", "b") or "font-weight:bold" in style:
            return "**", None
        if tag in ("em", "i", "cite") or "font-style:italic" in style:
            return "*", None
        if tag in ("s", "strike", "del") or "line-through" in style:
            return "~~", None
        if tag == "mark" or "highlight" in node.classes or "background-color" in style:
            return "==", None
        if tag in ("u", "ins") or "underline" in node.classes or "underline" in style:
            return "<u>", "</u>"
        if tag in ("sup", "sub"):
            return f"<{tag}>", f"</{tag}>"
        return "", None

    def link(self, node: Node, active: frozenset[str]) -> str:
        href = node.attrs.get("href", "").strip()
        text = self.inline(node.children, active).strip()
        if not href:
            return text
        target = safe_target(href)
        if target is None:  # javascript:, data: … : the text stays, the link goes
            return text
        if not text:
            return f"<{target}>"
        return f"[{text}]({target})"

    def image(self, node: Node) -> str:
        key = node.attrs.get("data-attachment-key", "")
        if key:
            target = self.image_link(key)
            if target:
                return f"![[{target}]]"
            return "*(image not available in the vault)*"
        src = node.attrs.get("src", "")
        if src.startswith(("http://", "https://")):
            return f"![{link_text(node.attrs.get('alt', ''))}]({safe_target(src)})"
        return ""

    def annotation_link(self, raw: str) -> str | None:
        """``[p. 12](zotero://open-pdf/…)`` for a ``data-annotation`` attribute, or None."""
        data = json_attr(raw)
        ann_key = data.get("annotationKey")
        uri = data.get("attachmentURI")
        if not isinstance(ann_key, str) or not isinstance(uri, str):
            return None
        match = _ITEM_URI.search(uri)
        if not match:
            return None
        library = self.library
        if match.group(1) == "groups" and match.group(2).isdigit():
            library = LibraryRef("group", int(match.group(2)))
        elif match.group(1) == "users":
            library = LibraryRef("user")
        position = data.get("position")
        ann = Annotation(
            key=ann_key,
            type="highlight",
            position=position if isinstance(position, dict) else {},
        )
        url = deep_link(library, Attachment(key=match.group(3)), ann)
        label = data.get("pageLabel")
        if isinstance(label, str) and label.strip():
            text = f"p. {label.strip()}"
        elif ann.page_index is not None:
            text = f"p. {ann.page_index + 1}"
        else:
            text = "open"
        return f"[{text}]({url})"

    def citation(self, node: Node, deep: str | None) -> str:
        """A citation span: wikilinks for items in the library, else Zotero's own text."""
        data = json_attr(node.attrs.get("data-citation", ""))
        raw_items = data.get("citationItems")
        items = [i for i in raw_items if isinstance(i, dict)] if isinstance(raw_items, list) else []
        texts = [" ".join(c.text().split()) for c in find_class(node, "citation-item")]
        whole = " ".join(node.text().split())
        pieces: list[str] = []
        linked_any = False
        for index, entry in enumerate(items):
            uris = entry.get("uris")
            uri_list = [u for u in uris if isinstance(u, str)] if isinstance(uris, list) else []
            locator = str(entry.get("locator") or "").strip()
            own = texts[index] if index < len(texts) else ""
            link = self.cite_link(uri_list) if uri_list else None
            if link:
                linked_any = True
                pieces.append(link if deep or not locator else f"{link}, p. {locator}")
            elif own:
                pieces.append(strip_locator(own, locator) if deep else own)
        if not linked_any and deep is None:
            return escape_lt(whole)
        if not pieces:
            pieces = [whole.strip("()")] if whole.strip("()") else []
        head = "; ".join(pieces)
        if deep:
            return f"({head}, {deep})" if head else f"({deep})"
        return f"({head})"
