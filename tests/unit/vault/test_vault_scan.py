"""Vault scan: identity from frontmatter, unchanged files never opened, nothing followed out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zotsync.vault import scan
from zotsync.vault.atomic import FileSig, file_sig
from zotsync.vault.scan import NoteFile, identity_of, scan_notes


def write(vault: Path, rel: str, text: str | bytes) -> Path:
    path = vault / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    v = tmp_path / "vault"
    write(v, "Papers/Attention.md", "---\ntitle: Attention\nzotero-key: ABCD1234\n---\nbody\n")
    write(
        v,
        "Papers/Group Paper.md",
        "\ufeff---\r\nzotero-key: 'GRP00001'\r\nzotero-library: group:42\r\n---\r\n",
    )
    write(v, "Moved/Deep/Renamed by user.md", "---\nzotero-key: MOVED001\ntags: [x]\n---\n")
    write(v, "Notes/plain.md", "# no frontmatter\nzotero-key: NOTME\n")
    write(v, "Notes/other.md", "---\ntitle: mine\n---\n")
    write(v, "Notes/unrelated broken.md", "---\ntitle: [unclosed\n---\n")
    write(v, "Broken.md", "---\nzotero-key: BRKN0001\ntitle: [unclosed\n---\n")
    write(v, "Latin1.md", b"---\nzotero-key: LAT\ntitle: caf\xe9\n---\n")
    for hidden in (".obsidian/x.md", ".trash/y.md", ".zotsync/backups/1/z.md", ".git/w.md"):
        write(v, hidden, "---\nzotero-key: HIDDEN01\n---\n")
    write(v, "Papers/.Attention.md.zotsync-tmp-0123abcd", "---\nzotero-key: TMP\n---\n")
    write(v, "Papers/readme.txt", "---\nzotero-key: TXT\n---\n")
    return v


def by_path(notes: list[NoteFile]) -> dict[str, NoteFile]:
    return {n.path.as_posix(): n for n in notes}


def test_scan_reads_identity_wherever_the_note_lives(vault: Path) -> None:
    notes = by_path(scan_notes(vault))
    assert sorted(notes) == [
        "Broken.md",
        "Latin1.md",
        "Moved/Deep/Renamed by user.md",
        "Notes/other.md",
        "Notes/plain.md",
        "Notes/unrelated broken.md",
        "Papers/Attention.md",
        "Papers/Group Paper.md",
    ]
    assert (notes["Papers/Attention.md"].key, notes["Papers/Attention.md"].library) == (
        "ABCD1234",
        None,
    )
    assert (notes["Papers/Group Paper.md"].key, notes["Papers/Group Paper.md"].library) == (
        "GRP00001",
        "group:42",
    )
    assert notes["Moved/Deep/Renamed by user.md"].key == "MOVED001"
    assert notes["Notes/plain.md"].key is None and notes["Notes/plain.md"].error is None
    assert notes["Notes/other.md"].key is None
    assert notes["Papers/Attention.md"].sig == file_sig(vault / "Papers/Attention.md")


def test_broken_frontmatter_is_reported_not_guessed(vault: Path) -> None:
    notes = by_path(scan_notes(vault))
    broken = notes["Broken.md"]
    assert broken.key is None and broken.error is not None and "line" in broken.error
    assert "UTF-8" in (notes["Latin1.md"].error or "")
    # a note that never mentions zotero-key is not ours: its YAML is not even parsed
    assert notes["Notes/unrelated broken.md"].error is None


def test_unchanged_notes_are_not_opened(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = scan_notes(vault)
    known = {n.path.as_posix(): (n.sig, n.key, n.library) for n in first if n.error is None}
    opened: list[Path] = []
    real_read_head = scan.read_head

    def spy(path: Path) -> str:
        opened.append(path)
        return real_read_head(path)

    monkeypatch.setattr(scan, "read_head", spy)
    assert scan_notes(vault, known=known) == first
    assert sorted(p.name for p in opened) == ["Broken.md", "Latin1.md"]  # errors are re-read
    opened.clear()
    path = vault / "Papers/Attention.md"
    path.write_text("---\nzotero-key: CHANGED1\n---\nnew body, new size\n", encoding="utf-8")
    again = by_path(scan_notes(vault, known=known))
    assert sorted(p.name for p in opened) == ["Attention.md", "Broken.md", "Latin1.md"]
    assert again["Papers/Attention.md"].key == "CHANGED1"


def test_a_remembered_key_is_reused_only_for_the_same_signature(vault: Path) -> None:
    rel = "Papers/Attention.md"
    stale = FileSig(1, 2, 3)
    notes = by_path(scan_notes(vault, known={rel: (stale, "WRONGKEY", None)}))
    assert notes[rel].key == "ABCD1234"


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlinks_are_not_followed(vault: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.md", "---\nzotero-key: OUTSIDE1\n---\n")
    (vault / "Linked").symlink_to(outside)
    (vault / "Papers" / "alias.md").symlink_to(outside / "secret.md")
    (vault / "Papers" / "inside-alias.md").symlink_to(vault / "Papers" / "Attention.md")
    (vault / "Loop").symlink_to(vault)
    notes = by_path(scan_notes(vault))
    assert not any(n.key == "OUTSIDE1" for n in notes.values())
    assert [n.key for n in notes.values()].count("ABCD1234") == 1
    assert not any(p.startswith(("Linked/", "Loop/")) for p in notes)


def test_extra_skip_dirs(vault: Path) -> None:
    notes = by_path(scan_notes(vault, skip_dirs={"Moved", "Notes"}))
    assert not any(p.startswith(("Moved/", "Notes/")) for p in notes)
    assert "Papers/Attention.md" in notes


def test_frontmatter_longer_than_the_first_read_is_read_whole(tmp_path: Path) -> None:
    filler = "".join(f"k{i}: {'x' * 60}\n" for i in range(400))
    write(tmp_path, "Long.md", "---\n" + filler + "zotero-key: LONG0001\n---\nbody\n")
    assert scan_notes(tmp_path)[0].key == "LONG0001"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\nzotero-key: K1\n---\n", ("K1", None)),
        ('---\nzotero-key: "K2"\nzotero-library: group:7\n---\n', ("K2", "group:7")),
        ("---\n---\n", (None, None)),
        ("no frontmatter", (None, None)),
        ("---\nabstract: |\n  zotero-key: FAKE\nzotero-key: REAL\n---\n", ("REAL", None)),
        ("---\nzotero-key: 12345678\n---\n", ("12345678", None)),
    ],
)
def test_identity_of_fast_and_full_paths_agree(
    text: str, expected: tuple[str | None, str | None]
) -> None:
    assert identity_of(text) == expected
    assert identity_of(text, parse_yaml=False) == expected


def test_a_long_note_cut_inside_a_multibyte_character_still_scans(tmp_path: Path) -> None:
    """Regression: reading only the head of a big index note split an 'é' in two."""
    from zotsync.vault import scan as scan_mod

    body = "# Index\n\n" + "é" * (scan_mod._HEAD)  # 2 bytes each: the head ends mid-character
    (tmp_path / "Index.md").write_text(body, encoding="utf-8")
    (notes,) = scan_mod.scan_notes(tmp_path)
    assert notes.error is None
