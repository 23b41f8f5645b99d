"""The bbt-json source reads its export as a stream: same library, bounded memory, no blow-up.

The export is parsed one item at a time (ijson), so neither the document nor a dict copy of
every item is held. These tests check that the stream reads exactly what a whole-document parse
reads, in whatever order BBT wrote the top-level keys, and that hostile shapes end in a clear
error instead of exhausting memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from zotsync.errors import SourceUnavailable
from zotsync.sources.bbt_json import BbtJsonSource, library_from_bbt, stream_library
from zotsync.testing.bbt_export import bbt_export
from zotsync.testing.library_diff import library_differences
from zotsync.testing.sample_library import sample_library


@pytest.mark.parametrize("style", ["current", "legacy"])
@pytest.mark.parametrize("collections_last", [False, True])
def test_the_stream_reads_what_a_whole_document_parse_reads(
    tmp_path: Path, style: str, collections_last: bool
) -> None:
    export = bbt_export(sample_library(), style=style)  # type: ignore[arg-type]
    if collections_last:  # BBT's key order is not a contract: the map may follow the items
        export = {k: v for k, v in export.items() if k != "collections"}
        export["collections"] = bbt_export(sample_library(), style=style)["collections"]  # type: ignore[arg-type]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export, indent=1), encoding="utf-8")
    streamed, whole = stream_library(path), library_from_bbt(export)
    assert library_differences(streamed, whole, ()) == []
    assert streamed.data_dir == whole.data_dir and streamed.version == whole.version
    memberships = {i.key: i.collections for i in streamed.items}
    assert memberships["ATTN2345"] == ["COLLNLP3"]


def test_a_100k_deep_nested_export_is_refused_without_eating_memory(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"items": ' + "[ " * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from zotsync.sources.bbt_json import BbtJsonSource\n"
        "from zotsync.errors import SourceUnavailable\n"
        "try:\n"
        "    BbtJsonSource(sys.argv[1], retries=1).read()\n"
        "except SourceUnavailable as exc:\n"
        "    print(exc.message)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-500:]
    assert "not a complete JSON export" in run.stdout


def test_a_truncated_export_is_incomplete_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    text = json.dumps(bbt_export(sample_library()))
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(SourceUnavailable, match="not a complete JSON export"):
        BbtJsonSource(path, retries=2, retry_delay=0.01).read()


def test_the_stream_does_not_hold_the_document(tmp_path: Path) -> None:
    """A 2,000-item export: the stream's peak is well below a whole-document parse's."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
    from generate import generate_library

    path = tmp_path / "big.json"
    path.write_text(json.dumps(bbt_export(generate_library(2000))), encoding="utf-8")
    peaks = {}
    for how in ("stream", "whole"):
        tracemalloc.start()
        if how == "stream":
            library = BbtJsonSource(path).read()
        else:
            library = library_from_bbt(json.loads(path.read_text(encoding="utf-8")))
        peaks[how] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(library.items) == 2000
        del library
    assert peaks["stream"] < 0.7 * peaks["whole"], peaks
