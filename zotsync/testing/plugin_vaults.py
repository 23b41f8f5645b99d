"""Vaults of literature notes as other Obsidian/Zotero tools write them, for adoption tests.

Each style writes one note per item the way that tool identifies its paper, with the
frontmatter and body shapes its default templates produce, plus text, tags and keys of the
user's own (what adoption must keep):

=====================  ===============================  ======================================
style                  file                             identity
=====================  ===============================  ======================================
``citations``          ``Reading notes/@CITEKEY.md``    the name; ``zotero://select/items/@CK``
``zotero-integration`` ``Literature Notes/CITEKEY.md``  ``citekey``; ``zotero://select/library``
``zotlit``             ``ZotLit/<title>.md``            ``zotero-key`` (and ``citekey``)
``mdnotes``            ``mdnotes/<author> - <title>``   ``zotero://select/items/1_KEY`` only
``paperforge``         ``Literature/KEY - <title>.md``  ``zotero_key`` (and ``doi``)
=====================  ===============================  ======================================

The texts are written for these tests from the tools' documented placeholders; they are not
copies of the tools' templates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from zotsync.model import Item

STYLES = ("citations", "zotero-integration", "zotlit", "mdnotes", "paperforge")


def _authors(item: Item) -> str:
    return ", ".join(c.name for c in item.creators)


def _user_part(item: Item) -> str:
    return (
        "\n## My notes\n\n"
        f"- read on the train; the argument about {item.title.split()[0].lower()} is the core\n"
        "- compare with [[Some Other Note]]\n\n"
        "```\n%% not a zotsync marker %%\n```\n"
    )


def _citations(item: Item) -> tuple[str, str]:
    text = (
        "---\n"
        f'title: "{item.title}"\n'
        f"authors: {_authors(item)}\n"
        f"year: {item.year}\n"
        "tags: [reading-note]\n"
        "---\n\n"
        f"# {item.title}\n\n"
        f"[Open in Zotero](zotero://select/items/@{item.citekey})\n" + _user_part(item)
    )
    return f"Reading notes/@{item.citekey}.md", text


def _zotero_integration(item: Item) -> tuple[str, str]:
    text = (
        "---\n"
        f"citekey: {item.citekey}\n"
        f'title: "{item.title}"\n'
        f"year: {item.year}\n"
        "date-read: 2024-03-05\n"
        "tags:\n  - literature-note\n  - to-review\n"
        "---\n\n"
        f"> [!info] {item.title}\n"
        f"> {_authors(item)} ({item.year})\n"
        f"> [Zotero](zotero://select/library/items/{item.key})\n\n"
        "%% begin annotations %%\n"
        "> [!quote] a highlight the plugin imported\n"
        "%% end annotations %%\n" + _user_part(item)
    )
    return f"Literature Notes/{item.citekey}.md", text


def _zotlit(item: Item) -> tuple[str, str]:
    text = (
        "---\n"
        f"zotero-key: {item.key}\n"
        f"citekey: {item.citekey}\n"
        'zt-attachments:\n  - "123"\n'
        "aliases: [my short name]\n"
        "---\n\n"
        f"# {item.title}\n\n"
        f"[Zotero](zotero://select/library/items/{item.key})\n" + _user_part(item)
    )
    return f"ZotLit/{item.title}.md", text


def _mdnotes(item: Item) -> tuple[str, str]:
    last = item.creators[0].last if item.creators else "Anon"
    text = (
        f"# {item.title}\n\n"
        "## Metadata\n\n"
        "* Item Type: [[Article]]\n"
        f"* Authors: [[{_authors(item)}]]\n"
        f"* Date: [[{item.year}]]\n"
        f"* Zotero links: [Local library](zotero://select/items/1_{item.key}), "
        f"[Cloud library](http://zotero.org/users/424242/items/{item.key})\n"
        "\n#paper\n" + _user_part(item)
    )
    return f"mdnotes/{last} - {item.title}.md", text


def _paperforge(item: Item) -> tuple[str, str]:
    doi = item.fields.get("DOI", "")
    text = (
        "---\n"
        f"zotero_key: {item.key}\n"
        f'title: "{item.title}"\n'
        f"year: {item.year}\n"
        f"doi: {doi}\n"
        "analyze: false\n"
        "do_ocr: true\n"
        "tags:\n  - 文献阅读\n"
        "---\n\n"
        f"## {item.title}\n" + _user_part(item)
    )
    return f"Literature/{item.key} - {item.title}.md", text


_WRITERS: dict[str, Callable[[Item], tuple[str, str]]] = {
    "citations": _citations,
    "zotero-integration": _zotero_integration,
    "zotlit": _zotlit,
    "mdnotes": _mdnotes,
    "paperforge": _paperforge,
}


def plugin_note(style: str, item: Item) -> tuple[str, str]:
    """``(vault-relative path, text)`` of ``item``'s note as ``style`` writes it."""
    return _WRITERS[style](item)


def write_plugin_vault(vault: Path, style: str, items: Sequence[Item]) -> dict[str, Path]:
    """Write one ``style`` note per item under ``vault``; returns item key -> file."""
    out: dict[str, Path] = {}
    for item in items:
        rel, text = plugin_note(style, item)
        path = vault / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        out[item.key] = path
    return out
