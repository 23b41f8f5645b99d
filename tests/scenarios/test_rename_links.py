"""Title changes in Zotero: the note follows, and so does every link to it in the vault.

PRODUCT "Rename": every form of link (``[[Old]]``, ``[[Old|alias]]``, ``[[Old#Heading]]``,
``[[Old#^block]]``, ``![[Old]]``, ``[text](Papers/Old%20Name.md)``) is rewritten outside code,
with a backup of each touched file; ``rename: false`` keeps names and records the new title in
``aliases``; a note the user renamed or moved keeps its name and place.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import MemorySource, backups, note_path, paper, small_library, sync_memory

from zotsync import api as planning
from zotsync.config import CONFIG_NAME
from zotsync.model import LibraryRef
from zotsync.vault.frontmatter import read_frontmatter
from zotsync.vault.links import find_wikilinks

OLD, NEW = "Old Name", "New Name"

LOG = """# Reading log

See [[Old Name]] and [[Old Name|the old one]].
The method: [[Old Name#Method]]; a quote: [[Old Name#^abc123]].
![[Old Name]]
Path form: [[Papers/Old Name]] and [md](Papers/Old%20Name.md) and [angle](<Papers/Old Name.md>).
Relative: [rel](../Papers/Old%20Name.md#Method)
Inline code stays: `[[Old Name]]` and `[x](Papers/Old%20Name.md)`.

```markdown
[[Old Name]] in a fence stays
[y](Papers/Old%20Name.md)
```

~~~
![[Old Name]]
~~~
Unrelated: [[Old Names]] and [[Old Name Two]].
"""

LOG_AFTER = """# Reading log

See [[New Name]] and [[New Name|the old one]].
The method: [[New Name#Method]]; a quote: [[New Name#^abc123]].
![[New Name]]
Path form: [[Papers/New Name]] and [md](Papers/New%20Name.md) and [angle](<Papers/New Name.md>).
Relative: [rel](../Papers/New%20Name.md#Method)
Inline code stays: `[[Old Name]]` and `[x](Papers/Old%20Name.md)`.

```markdown
[[Old Name]] in a fence stays
[y](Papers/Old%20Name.md)
```

~~~
![[Old Name]]
~~~
Unrelated: [[Old Names]] and [[Old Name Two]].
"""


def renaming_source() -> MemorySource:
    target = paper("OLDN2222", OLD, year=2019, tags=("ml",))
    other = paper("OTHR3333", "Other Paper", year=2020, tags=("ml",))
    other.relations = {"dc:relation": ["http://zotero.org/users/424242/items/OLDN2222"]}
    target.relations = {"dc:relation": ["http://zotero.org/users/424242/items/OTHR3333"]}
    return MemorySource(small_library(target, other))


def links_to_old(text: str) -> list[str]:
    """Links (outside code) that still point at the old note."""
    outside = re.sub(r"```.*?```|~~~.*?~~~|`[^`\n]*`", "", text, flags=re.S)
    hits = [
        t
        for t in find_wikilinks(outside)
        if t.split("#")[0].split("|")[0].strip() in (OLD, f"Papers/{OLD}")
    ]
    hits += re.findall(r"\]\(<?[^)]*Old(?:%20| )Name\.md", outside)
    return hits


def test_title_change_rewrites_every_link_to_the_note(vault: Path) -> None:
    source = renaming_source()
    sync_memory(vault, source)
    log = vault / "Journal" / "Reading log.md"
    log.parent.mkdir()
    log.write_text(LOG, "utf-8")
    own = note_path(vault, "OLDN2222")
    own.write_text(own.read_text("utf-8") + "\nSelf: [[Old Name#Notes]]\n", "utf-8")
    other = note_path(vault, "OTHR3333")
    other.write_text(other.read_text("utf-8") + "\nBuilds on ![[Old Name#^q1]].\n", "utf-8")
    planning.plan(vault, week="2031-W10", count=2)
    plan_note = vault / "Reading Plans" / "2031-W10.md"
    assert "[[Old Name]]" in plan_note.read_text("utf-8")
    sync_memory(vault, source)

    source.set_title("OLDN2222", NEW)
    report = sync_memory(vault, source)
    assert report.result.renamed == 1 and report.result.failed == 0
    assert not (vault / "Papers" / f"{OLD}.md").exists()
    assert note_path(vault, "OLDN2222") == vault / "Papers" / f"{NEW}.md"

    assert log.read_text("utf-8") == LOG_AFTER
    assert note_path(vault, "OLDN2222").read_text("utf-8").endswith("\nSelf: [[New Name#Notes]]\n")
    assert other.read_text("utf-8").endswith("\nBuilds on ![[New Name#^q1]].\n")
    stale = {
        p.relative_to(vault).as_posix(): links_to_old(p.read_text("utf-8"))
        for p in vault.rglob("*.md")
        if ".zotsync" not in p.parts
    }
    assert {k: v for k, v in stale.items() if v} == {}
    assert "[[New Name]]" in plan_note.read_text("utf-8")
    backed_up = {b.name for b in backups(vault)}
    assert {"Reading log.md", "Other Paper.md", "2031-W10.md"} <= backed_up


def test_rename_off_keeps_the_name_and_records_the_title_in_aliases(vault: Path) -> None:
    config = vault / CONFIG_NAME
    config.write_text(config.read_text("utf-8").replace("rename: true", "rename: false"), "utf-8")
    source = renaming_source()
    sync_memory(vault, source)
    log = vault / "log.md"
    log.write_text("see [[Old Name]]\n", "utf-8")
    source.set_title("OLDN2222", NEW)
    report = sync_memory(vault, source)
    assert report.result.renamed == 0
    note = note_path(vault, "OLDN2222")
    assert note == vault / "Papers" / f"{OLD}.md"
    fm = read_frontmatter(note.read_text("utf-8"))
    assert fm["title"] == NEW
    assert NEW in fm["aliases"]
    assert "# New Name" in note.read_text("utf-8")
    assert log.read_text("utf-8") == "see [[Old Name]]\n"  # still resolves: same file


def test_user_renamed_note_keeps_its_name_through_title_changes(vault: Path) -> None:
    source = renaming_source()
    sync_memory(vault, source)
    mine = vault / "Papers" / "My favourite.md"
    (vault / "Papers" / f"{OLD}.md").rename(mine)
    sync_memory(vault, source)
    assert note_path(vault, "OLDN2222") == mine
    source.set_title("OLDN2222", NEW)
    report = sync_memory(vault, source)
    assert report.result.failed == 0
    assert note_path(vault, "OLDN2222") == mine
    assert "# New Name" in mine.read_text("utf-8")
    # other notes link to the user's name, not to a title that is no file
    assert "[[My favourite]]" in note_path(vault, "OTHR3333").read_text("utf-8")


def test_user_moved_note_stays_where_the_user_put_it(vault: Path) -> None:
    source = renaming_source()
    sync_memory(vault, source)
    moved = vault / "Archive" / "2019" / f"{OLD}.md"
    moved.parent.mkdir(parents=True)
    (vault / "Papers" / f"{OLD}.md").rename(moved)
    source.set_title("OLDN2222", NEW)
    report = sync_memory(vault, source)
    assert report.result.failed == 0 and report.result.created == 0
    assert note_path(vault, "OLDN2222") == moved
    assert "\ntitle: New Name\n" in moved.read_text("utf-8")


def test_title_with_link_syntax_gives_a_working_wikilink(vault: Path) -> None:
    tricky = paper("TRCK2222", "A|B #1 [draft] ^x", year=2021)
    citing = paper("CITE3333", "Citing Paper", year=2022)
    citing.relations = {"dc:relation": ["http://zotero.org/users/424242/items/TRCK2222"]}
    source = MemorySource(small_library(tricky, citing))
    sync_memory(vault, source)
    note = note_path(vault, "TRCK2222")
    stem = note.stem
    assert not set("|#[]^") & set(stem)
    text = note_path(vault, "CITE3333").read_text("utf-8")
    targets = find_wikilinks(text)
    assert stem in targets  # the related link resolves to the file
    assert "# A|B #1 [draft] ^x" in note.read_text("utf-8")
    assert read_frontmatter(note.read_text("utf-8"))["title"] == "A|B #1 [draft] ^x"


def test_group_library_note_is_found_after_a_rename(vault: Path) -> None:
    group = LibraryRef("group", 99)
    item = paper("GRPA2222", OLD)
    item.library = group
    source = MemorySource(small_library(item))
    source.library.ref = group
    sync_memory(vault, source)
    source.set_title("GRPA2222", NEW)
    assert sync_memory(vault, source).result.renamed == 1
    text = note_path(vault, "GRPA2222").read_text("utf-8")
    assert "zotero://select/groups/99/items/GRPA2222" in text
