"""Copy image/ink annotation renders and note images from Zotero's data dir into the vault.

This is the only I/O in ``zotsync.render``; the rest of the package only needs the mapping it
returns (annotation or attachment key -> vault-relative path). Rules, all from the sync
guarantees in PRODUCT.md:

* **Read-only on Zotero's side**: files are read from ``<data_dir>/cache/library/KEY.png``
  (``cache/groups/ID/KEY.png`` for groups) and ``<data_dir>/storage/KEY/…``; nothing there is
  ever written.
* **Idempotent**: a destination that already holds the same bytes is left alone (same bytes,
  same mtime), so a second sync writes nothing. A changed render is copied again.
* **Atomic**: a temp file in the destination folder, fsync, ``os.replace``; a crash leaves the
  old image or the new one, never half of one.
* **Confined**: the destination folder must resolve inside the vault (no ``..``, no absolute
  folder, no symlink leading out); otherwise :class:`~zotsync.errors.ConfigError`.

A missing render (Zotero draws image annotations lazily) is not an error: the key is simply
absent from the result and the callout says so.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from zotsync.errors import ConfigError
from zotsync.model import IMAGE_TYPES, Item
from zotsync.sources.packed import has_image_annotations
from zotsync.vault.atomic import file_sig, write_atomic
from zotsync.vault.confine import confine

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")
_NOTE_IMAGE = re.compile(r"data-attachment-key=[\"']([23456789A-Z]{8})[\"']")
_KEY = re.compile(r"^[A-Za-z0-9]+$")


def cache_path(item: Item, data_dir: Path, ann_key: str) -> Path:
    """Where Zotero caches the PNG render of an image/ink annotation."""
    if item.library.type == "group":
        return data_dir / "cache" / "groups" / str(item.library.id) / f"{ann_key}.png"
    return data_dir / "cache" / "library" / f"{ann_key}.png"


def vault_folder(vault: Path, folder: str) -> tuple[Path, str]:
    """``(absolute folder, vault-relative posix folder)``; refuses anything outside the vault."""
    rel = PurePosixPath(folder.replace("\\", "/").strip("/"))
    if folder.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", folder) or ".." in rel.parts:
        raise ConfigError([f"attachments folder {folder!r} must be a folder inside the vault"])
    root = vault.resolve()
    target = root.joinpath(*rel.parts)
    confine(root, target)
    return target, "" if str(rel) == "." else str(rel)


def copy_file(src: Path, dest: Path, vault_root: Path) -> bool:
    """Copy ``src`` to ``dest`` unless it already has the same bytes; True if written.

    The destination is re-checked after resolving (a symlinked file must not redirect the
    write out of the vault) and written by :func:`~zotsync.vault.atomic.write_atomic`.
    """
    data = src.read_bytes()
    confine(vault_root, dest)
    if dest.is_file() and dest.stat().st_size == len(data) and dest.read_bytes() == data:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(dest, data, expect=file_sig(dest))
    return True


def _join(rel_folder: str, name: str) -> str:
    return f"{rel_folder}/{name}" if rel_folder else name


def copy_annotation_images(
    item: Item, *, data_dir: Path, vault: Path, folder: str
) -> dict[str, str]:
    """Copy the cached renders of ``item``'s image and ink annotations into ``vault/folder``.

    Returns annotation key -> vault-relative path (``folder/KEY.png``) for every annotation
    whose render exists, whether it was copied now or was already there. Annotations without
    a render are left out.
    """
    renders = [
        (ann.key, src)
        for attachment in item.attachments
        if has_image_annotations(attachment.annotations)  # most: nothing to unpack or stat
        for ann in attachment.annotations
        if ann.type in IMAGE_TYPES
        and _KEY.match(ann.key)
        and (src := cache_path(item, data_dir, ann.key)).is_file()
    ]
    if not renders:  # Zotero renders them lazily: often none yet, and no folder to resolve
        return {}
    target, rel_folder = vault_folder(vault, folder)
    root = vault.resolve()
    paths: dict[str, str] = {}
    for key, src in renders:
        copy_file(src, target / f"{key}.png", root)
        paths[key] = _join(rel_folder, f"{key}.png")
    return paths


def note_image_keys(html: str) -> list[str]:
    """Attachment keys of the images embedded in a note (``<img data-attachment-key=…>``)."""
    keys: list[str] = []
    for key in _NOTE_IMAGE.findall(html):
        if key not in keys:
            keys.append(key)
    return keys


def note_image_paths(item: Item, *, data_dir: Path, vault: Path, folder: str) -> dict[str, str]:
    """Copy the images embedded in ``item``'s child notes into ``vault/folder``.

    An embedded image is an ``embedded_image`` attachment whose file sits in
    ``<data_dir>/storage/KEY/`` (usually ``image.png``). Returns attachment key ->
    vault-relative path (``folder/KEY.png``, keeping the image's extension) for each image
    found; pass ``paths.get`` as ``image_link`` to :func:`zotsync.render.html2md.html_to_markdown`.
    """
    target, rel_folder = vault_folder(vault, folder)
    root = vault.resolve()
    paths: dict[str, str] = {}
    for note in item.notes:
        for key in note_image_keys(note.html):
            if key in paths:
                continue
            storage = data_dir / "storage" / key
            if not storage.is_dir():
                continue
            candidates = sorted(
                p for p in storage.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not candidates:
                continue
            name = f"{key}{candidates[0].suffix.lower()}"
            copy_file(candidates[0], target / name, root)
            paths[key] = _join(rel_folder, name)
    return paths
