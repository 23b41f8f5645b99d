"""One implementation each: the collection filter, index-path cleaning, the status vocabulary.

The collection filter is checked through the CLI on a real ``zotero.sqlite`` built by the
fixture builder: ``--collection`` is case-insensitive, takes a name or a ``Parent/Child`` path,
includes subcollections, and an unknown name is a usage error that names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import given
from hypothesis import strategies as st

from zotsync.discover.rank import library_docs
from zotsync.errors import EXIT_USAGE
from zotsync.library.status import STATUS_TAGS, is_status_tag
from zotsync.model import Tag
from zotsync.sources.local import LocalSource
from zotsync.sources.selection import restrict_to_collections
from zotsync.sources.web import WebSource
from zotsync.testing.fake_zotero_api import FakeZoteroApi
from zotsync.testing.sample_library import sample_library
from zotsync.vault.names import safe_segment

Cli = Callable[..., Result]


def synced_keys(vault: Path) -> set[str]:
    keys = set()
    for note in vault.rglob("*.md"):
        text = note.read_text("utf-8")
        for line in text.splitlines():
            if line.startswith("zotero-key: "):
                keys.add(line.removeprefix("zotero-key: ").strip())
    return keys


def test_collection_option_is_case_insensitive_and_includes_subcollections(
    run_cli: Cli, make_db: Callable[..., Path], tmp_path: Path
) -> None:
    db = make_db(sample_library())
    vault = tmp_path / "v"
    assert run_cli("init", vault).exit_code == 0
    result = run_cli(
        "sync", "--vault", vault, "--zotero-db", db, "--no-refs", "--collection", "deep learning"
    )
    assert result.exit_code == 0, result.output
    assert synced_keys(vault) == {"ATTN2345", "BERT6789", "RESN2345"}


def test_collection_option_takes_a_path_in_any_case(
    run_cli: Cli, make_db: Callable[..., Path], tmp_path: Path
) -> None:
    db = make_db(sample_library())
    vault = tmp_path / "v"
    run_cli("init", vault)
    result = run_cli(
        "sync",
        "--vault",
        vault,
        "--zotero-db",
        db,
        "--no-refs",
        "--collection",
        "deep learning/NLP",
    )
    assert result.exit_code == 0, result.output
    assert synced_keys(vault) == {"ATTN2345", "BERT6789"}


def test_unknown_collection_is_one_usage_error_naming_it(
    run_cli: Cli, make_db: Callable[..., Path], tmp_path: Path
) -> None:
    db = make_db(sample_library())
    vault = tmp_path / "v"
    run_cli("init", vault)
    result = run_cli("sync", "--vault", vault, "--zotero-db", db, "--no-refs",
                     "--collection", "Robotics", "--collection", "Vision", "--json")  # fmt: skip
    assert result.exit_code == EXIT_USAGE
    assert "Robotics" in result.output and "Traceback" not in result.output
    assert "Deep Learning" in result.output  # says which collections there are
    assert synced_keys(vault) == set()  # nothing written


def test_the_filter_is_the_same_for_every_source() -> None:
    library = sample_library()
    picked = restrict_to_collections(library, ["VISION", "reinforcement learning"])
    assert {i.key for i in picked.items} == {"RESN2345", "BOOK3456"}
    assert restrict_to_collections(library, []) is library
    assert json.dumps(sorted(c.name for c in picked.collections.values()))  # collections kept


unsafe = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(unsafe)
def test_index_path_parts_are_safe_and_stable(name: str) -> None:
    part = safe_segment(name)
    assert part and part not in {".", ".."}
    assert not set(part) & set('\\/:*?"<>|#^[]')
    assert not part.endswith((".", " ")) and not part.startswith(" ")
    assert safe_segment(part) == part


def test_status_tags_are_never_topics_in_discover() -> None:
    library = sample_library()
    item = library.items[0]
    item.tags = [Tag("nlp"), Tag("Read"), Tag("skip"), Tag("priority/2")]
    doc = next(d for d in library_docs(library.items) if d.key == item.key)
    assert "nlp" in doc.topics
    assert not [t for t in doc.topics if is_status_tag(t)]
    assert all(is_status_tag(t) for t in STATUS_TAGS)


@pytest.mark.parametrize("mode", ["local", "web"])
def test_api_sources_apply_the_filter_themselves(mode: str, tmp_path: Path) -> None:
    with FakeZoteroApi(sample_library(), mode=mode) as api:
        if mode == "local":
            source: LocalSource | WebSource = LocalSource(
                tmp_path, base_url=api.url, collections=["deep learning/nlp"]
            )
        else:
            source = WebSource(api_key=api.api_key, cache_dir=tmp_path, base_url=api.url,
                               collections=["deep learning/nlp"])  # fmt: skip
        assert {i.key for i in source.read().items} == {"ATTN2345", "BERT6789"}
