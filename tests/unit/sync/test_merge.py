"""The pure merge, row by row of its table, and the user-text guarantee as a property; and
the writer that creates a note from a rendering."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.render.note import RenderedNote
from zotsync.state.db import ItemState
from zotsync.sync.apply import NoteWriter
from zotsync.sync.merge import merge_note
from zotsync.vault.atomic import BatchCreate, FileSig
from zotsync.vault.regions import fm_hashes, parse_note, text_hash, user_segments


def _rendered(abstract: str, title: str = "A paper") -> RenderedNote:
    body = (
        f"%% zotsync:begin header %%\n# {title}\n%% zotsync:end header %%\n\n"
        f"%% zotsync:begin abstract %%\n{abstract}\n%% zotsync:end abstract %%\n\n## Notes\n\n"
    )
    regions = {n: r.content for n, r in parse_note(body).regions.items()}
    return RenderedNote({"title": title, "status": "to-read"}, regions, body)


def _synced(rendered: RenderedNote) -> tuple[str, ItemState]:
    """A note as zotsync created it, and the state row it recorded."""
    text = rendered.new_note_text()
    regions = {n: text_hash(r.lf_content) for n, r in parse_note(text).regions.items()}
    state = ItemState(
        library="user", key="K", path="Papers/A.md", regions=regions,
        frontmatter=fm_hashes(rendered.frontmatter),
    )  # fmt: skip
    return text, state


def _merge(text: str, rendered: RenderedNote, state: ItemState, **kw: object):  # type: ignore[no-untyped-def]
    return merge_note(text, parse_note(text), rendered, state, **kw)  # type: ignore[arg-type]


def test_a_region_zotsync_wrote_is_replaced() -> None:
    text, state = _synced(_rendered("Old abstract."))
    merge = _merge(text, _rendered("New abstract."), state)
    assert "New abstract." in merge.text and "Old abstract." not in merge.text
    assert merge.conflicts == [] and not merge.overwrote_user_text


def test_a_region_the_user_edited_is_kept_as_a_conflict() -> None:
    text, state = _synced(_rendered("Old abstract."))
    edited = text.replace("Old abstract.", "My own summary.")
    merge = _merge(edited, _rendered("New abstract."), state)
    assert merge.conflicts == ["abstract"]
    assert "My own summary." in merge.text and "New abstract." not in merge.text


def test_overwrite_conflicts_replaces_the_edit_and_asks_for_a_backup() -> None:
    text, state = _synced(_rendered("Old abstract."))
    edited = text.replace("Old abstract.", "My own summary.")
    merge = _merge(edited, _rendered("New abstract."), state, overwrite_conflicts=True)
    assert merge.conflicts == [] and merge.overwrote_user_text
    assert "New abstract." in merge.text


def test_a_region_already_equal_to_the_rendering_is_recorded_not_rewritten() -> None:
    text, state = _synced(_rendered("Same."))
    state.regions = {}  # the state forgot (a rebuilt state DB): the text decides
    merge = _merge(text, _rendered("Same."), state)
    assert merge.text == text and merge.conflicts == []
    assert set(merge.region_hashes) == {"header", "abstract"}


def test_another_tools_note_gets_the_regions_after_its_frontmatter() -> None:
    foreign = "---\ntitle: Mine\ntags: [x]\n---\n# My heading\n\nMy notes.\n"
    state = ItemState(library="user", key="K")
    merge = _merge(foreign, _rendered("Abstract."), state, adopt=True)
    assert merge.adopted_foreign and "title" in merge.user_keys
    assert merge.text.index("%% zotsync:begin header %%") < merge.text.index("# My heading")
    assert merge.text.endswith("# My heading\n\nMy notes.\n")


def test_a_status_from_a_plan_checkbox_wins_and_zotero_deleted_goes() -> None:
    text, state = _synced(_rendered("A."))
    text = text.replace("status: to-read", "status: to-read\nzotero-deleted: true")
    merge = _merge(text, _rendered("A."), state, forced={"status": "read"})
    assert "status: read" in merge.text and "zotero-deleted" not in merge.text


user_lines = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"), max_size=40
).map(lambda s: s.replace("%%", "%"))


@settings(max_examples=150, deadline=None)
@given(before=user_lines, between=user_lines, after=user_lines, edit=st.booleans())
def test_user_text_outside_the_regions_survives_every_merge(
    before: str, between: str, after: str, edit: bool
) -> None:
    text, state = _synced(_rendered("Old abstract."))
    head, _, rest = text.partition("%% zotsync:begin header")
    mid = rest.replace("\n\n%% zotsync:begin abstract", f"\n{between}\n%% zotsync:begin abstract")
    note = f"{head}{before}\n%% zotsync:begin header{mid}{after}\n"
    if edit:
        note = note.replace("Old abstract.", "Edited by me.")
    merge = _merge(note, _rendered("New abstract."), state)
    assert user_segments(merge.text) == user_segments(note)
    assert ("Edited by me." in merge.text) == edit


def test_a_notes_folder_removed_during_a_pass_is_made_again(tmp_path: Path) -> None:
    """``NoteWriter.create`` makes a folder once per pass; if the user removes it meanwhile,
    the next new note makes it again instead of failing."""
    vault = tmp_path / "vault"
    vault.mkdir()
    writer, batch = NoteWriter(vault), BatchCreate()
    rendered = _rendered("An abstract.")
    writer.create(ItemState(library="user", key="K1"), rendered, "Papers/One.md", batch)
    batch.commit()
    shutil.rmtree(vault / "Papers")
    writer.create(ItemState(library="user", key="K2"), rendered, "Papers/Two.md", batch)
    assert isinstance(batch.commit()[vault / "Papers" / "Two.md"], FileSig)
    assert (vault / "Papers" / "Two.md").read_text("utf-8") == rendered.new_note_text()
