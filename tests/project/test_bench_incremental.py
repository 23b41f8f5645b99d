"""The one-change benchmark produces its figures, and each pass changed what it should.

No timing is asserted (the machine may be busy): only that the in-place edit rewrote one note
through the incremental path and the rename renamed one, and that the report shows the rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from incremental import bench_one_change, render_incremental  # noqa: E402

from zotsync import api  # noqa: E402
from zotsync.testing.zotero_db import make_zotero_db  # noqa: E402

pytestmark = pytest.mark.slow


def test_one_change_bench_edits_one_item_per_pass(tmp_path: Path) -> None:
    from support.crash_helpers import bench_generator

    db = make_zotero_db(
        tmp_path / "zotero" / "zotero.sqlite", bench_generator().generate_library(60), version=10
    )
    vault = tmp_path / "vault"
    api.init_vault(vault, api.SourceOptions(zotero_db=str(db)))
    api.sync(vault, refs=False)
    figures = bench_one_change(vault, db, 60)
    assert figures["import_floor_s"] > 0 and figures["copy_floor_s"] > 0
    assert figures["abstract"]["updated"] == [1, 1, 1]
    assert figures["abstract"]["files_written"] == 1  # the note; no index note moved
    assert figures["title"]["updated"] == [1, 1, 1]
    assert figures["title"]["files_written"] >= 1
    text = render_incremental({"sizes": [{"n": 60, "noop": {"seconds": 0.1},
                                          "one_change": figures}]})  # fmt: skip
    assert "| 60 |" in text and "in-place edit" in text
