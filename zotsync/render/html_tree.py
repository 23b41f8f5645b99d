"""A small, forgiving HTML tree for Zotero notes, built on the standard library's ``html.parser``.

Notes are converted from a tree, not from a token stream, because a highlight must see the
citation that follows it and a list item must find its checkbox before its text is rendered.
Zotero's HTML is not always well formed (TinyMCE left unclosed ``<p>`` and stray end tags), so
the builder closes an open ``<p>`` at the next one, ignores end tags with no open element, and
drops ``script``/``style``/``head`` content entirely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["BLOCK", "SKIP", "VOID", "Node", "find_class", "parse_html", "take_checkbox"]

VOID = {"br", "img", "hr", "input", "meta", "link", "col", "wbr", "source", "area", "base"}
SKIP = {"script", "style", "head", "title", "template"}
BLOCK = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "blockquote",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "hr", "address", "section", "article",
    "header", "footer", "figure", "figcaption", "dl", "dt", "dd", "center", "body", "html",
    "main", "aside", "nav", "caption",
}  # fmt: skip


@dataclass
class Node:
    """An element of the parsed note; text children are plain strings."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """All text below this node, as written (no whitespace collapsing)."""
        out: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                out.append(child)
            elif child.tag == "br":
                out.append("\n")
            else:
                out.append(child.text())
        return "".join(out)


class _TreeBuilder(HTMLParser):
    """Builds a :class:`Node` tree; forgiving about unclosed and stray end tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag in SKIP:
                self.skipping += 1
            return
        if tag in SKIP:
            self.skipping = 1
            return
        if tag == "p" and self.stack[-1].tag == "p":  # <p> implicitly closes an open <p>
            self.stack.pop()
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag in SKIP:
                self.skipping -= 1
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.stack[-1].children.append(data)


def parse_html(html: str) -> Node:
    """Parse ``html`` into a tree rooted at a ``root`` node."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def find_class(node: Node, cls: str) -> list[Node]:
    """The outermost descendants of ``node`` carrying class ``cls``, in document order."""
    found: list[Node] = []
    for child in node.children:
        if isinstance(child, Node):
            if cls in child.classes:
                found.append(child)
            else:
                found.extend(find_class(child, cls))
    return found


def take_checkbox(node: Node) -> Node | None:
    """Remove and return the first checkbox of a list item (outside nested lists)."""
    for child in node.children:
        if not isinstance(child, Node) or child.tag in ("ul", "ol"):
            continue
        if child.tag == "input" and child.attrs.get("type") == "checkbox":
            node.children.remove(child)
            return child
        found = take_checkbox(child)
        if found is not None:
            return found
    return None
