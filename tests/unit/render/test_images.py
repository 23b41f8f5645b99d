"""Image/ink annotation renders and note images are copied into the vault once, and only there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zotsync.errors import ConfigError
from zotsync.model import Annotation, Attachment, ChildNote, Item, LibraryRef
from zotsync.render import images
from zotsync.render.annotations import annotation_views, render_annotations
from zotsync.render.images import copy_annotation_images, note_image_paths
from zotsync.sources.packed import pack
from zotsync.vault.confine import OutsideVault

PNG = b"\x89PNG\r\n\x1a\n" + b"fake image body"


def item(library: LibraryRef | None = None) -> Item:
    anns = [
        Annotation("ANNI2345", "image", position={"pageIndex": 0}),
        Annotation("ANNK2345", "ink", position={"pageIndex": 1}),
        Annotation("ANNH2345", "highlight", text="t", position={"pageIndex": 2}),
        Annotation("ANNM2345", "image", position={"pageIndex": 3}),  # not rendered by Zotero yet
    ]
    return Item(
        "ITEM2345",
        "journalArticle",
        attachments=[Attachment("PDFA2345", content_type="application/pdf", annotations=anns)],
        library=library or LibraryRef("user", 1),
    )


@pytest.fixture
def zotero(tmp_path: Path) -> Path:
    data = tmp_path / "Zotero"
    cache = data / "cache" / "library"
    cache.mkdir(parents=True)
    (cache / "ANNI2345.png").write_bytes(PNG)
    (cache / "ANNK2345.png").write_bytes(PNG + b"ink")
    (cache / "ANNH2345.png").write_bytes(PNG)  # a highlight never gets an image
    return data


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    path = tmp_path / "vault"
    path.mkdir()
    return path


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_image_and_ink_renders_land_in_the_vault(zotero: Path, vault: Path) -> None:
    paths = copy_annotation_images(
        item(), data_dir=zotero, vault=vault, folder="Attachments/zotsync"
    )
    assert paths == {
        "ANNI2345": "Attachments/zotsync/ANNI2345.png",
        "ANNK2345": "Attachments/zotsync/ANNK2345.png",
    }
    assert (vault / paths["ANNI2345"]).read_bytes() == PNG
    assert (vault / paths["ANNK2345"]).read_bytes() == PNG + b"ink"
    assert sorted(p.name for p in (vault / "Attachments/zotsync").iterdir()) == [
        "ANNI2345.png",
        "ANNK2345.png",
    ]


def test_unchanged_image_copies_nothing(
    zotero: Path, vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = copy_annotation_images(item(), data_dir=zotero, vault=vault, folder="Attachments")
    before = snapshot(vault)

    def blow_up(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("nothing may be written for an unchanged image")

    monkeypatch.setattr(os, "replace", blow_up)
    monkeypatch.setattr(images, "write_atomic", blow_up)
    second = copy_annotation_images(item(), data_dir=zotero, vault=vault, folder="Attachments")
    assert second == first
    assert snapshot(vault) == before


def test_changed_render_is_copied_again(zotero: Path, vault: Path) -> None:
    copy_annotation_images(item(), data_dir=zotero, vault=vault, folder="Attachments")
    (zotero / "cache" / "library" / "ANNI2345.png").write_bytes(PNG + b"re-rendered")
    copy_annotation_images(item(), data_dir=zotero, vault=vault, folder="Attachments")
    assert (vault / "Attachments" / "ANNI2345.png").read_bytes() == PNG + b"re-rendered"
    assert not [p for p in (vault / "Attachments").iterdir() if p.name.endswith(".tmp")]


def test_group_renders_come_from_the_groups_cache(zotero: Path, vault: Path) -> None:
    group_cache = zotero / "cache" / "groups" / "777"
    group_cache.mkdir(parents=True)
    (group_cache / "ANNI2345.png").write_bytes(b"group png")
    paths = copy_annotation_images(
        item(LibraryRef("group", 777)), data_dir=zotero, vault=vault, folder="img"
    )
    assert paths == {"ANNI2345": "img/ANNI2345.png"}
    assert (vault / "img" / "ANNI2345.png").read_bytes() == b"group png"


def test_missing_render_is_reported_in_the_callout(zotero: Path, vault: Path) -> None:
    it = item()
    paths = copy_annotation_images(it, data_dir=zotero, vault=vault, folder="Attachments")
    text = render_annotations(annotation_views(it, image_paths=paths))
    assert "> ![[Attachments/ANNI2345.png]]" in text
    missing = text[text.index("ANNH2345\n") :]
    assert "Zotero has not rendered this image yet" in missing


def test_zotero_data_dir_is_never_written(zotero: Path, vault: Path) -> None:
    before = snapshot(zotero)
    copy_annotation_images(item(), data_dir=zotero, vault=vault, folder="Attachments")
    assert snapshot(zotero) == before


@pytest.mark.parametrize("folder", ["../outside", "/tmp/abs", "a/../../b", "C:\\x"])
def test_folder_outside_the_vault_is_refused(zotero: Path, vault: Path, folder: str) -> None:
    with pytest.raises(ConfigError):
        copy_annotation_images(item(), data_dir=zotero, vault=vault, folder=folder)
    assert not (vault.parent / "outside").exists()


def test_symlinked_folder_leading_out_of_the_vault_is_refused(
    zotero: Path, vault: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (vault / "Attachments").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutsideVault):
        copy_annotation_images(item(), data_dir=zotero, vault=vault, folder="Attachments")
    assert list(outside.iterdir()) == []


def test_renders_not_made_yet_leave_the_folder_unresolved(
    zotero: Path, vault: Path, tmp_path: Path
) -> None:
    """Zotero renders image annotations lazily: with none in its cache there is nothing to
    copy, so the folder is not even resolved (a first sync skips 3,000 resolutions at 10,000
    items), and a folder that would be refused is only refused once something is copied."""
    for png in (zotero / "cache" / "library").iterdir():
        png.unlink()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (vault / "Attachments").symlink_to(outside, target_is_directory=True)
    packed = item()
    packed.attachments[0].annotations = pack(packed.attachments[0].annotations)
    assert copy_annotation_images(packed, data_dir=zotero, vault=vault, folder="Attachments") == {}
    (zotero / "cache" / "library" / "ANNK2345.png").write_bytes(PNG)
    with pytest.raises(OutsideVault):
        copy_annotation_images(packed, data_dir=zotero, vault=vault, folder="Attachments")
    assert list(outside.iterdir()) == []


def test_symlinked_image_file_leading_out_is_not_written_through(
    zotero: Path, vault: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (vault / "Attachments").mkdir()
    os.symlink(victim, vault / "Attachments" / "ANNI2345.png")
    with pytest.raises(OutsideVault):
        copy_annotation_images(item(), data_dir=zotero, vault=vault, folder="Attachments")
    assert victim.read_text() == "precious"


def test_note_images_are_copied_with_their_extension(zotero: Path, vault: Path) -> None:
    storage = zotero / "storage" / "IMGA2345"
    storage.mkdir(parents=True)
    (storage / "image.jpeg").write_bytes(b"jpeg bytes")
    html = '<div data-schema-version="9"><p><img data-attachment-key="IMGA2345"><img data-attachment-key="IMGZ2345"></p></div>'
    it = item()
    it.notes = [ChildNote("NOTE2345", html)]
    paths = note_image_paths(it, data_dir=zotero, vault=vault, folder="Attachments")
    assert paths == {"IMGA2345": "Attachments/IMGA2345.jpeg"}
    assert (vault / "Attachments" / "IMGA2345.jpeg").read_bytes() == b"jpeg bytes"
    before = snapshot(vault)
    assert note_image_paths(it, data_dir=zotero, vault=vault, folder="Attachments") == paths
    assert snapshot(vault) == before
