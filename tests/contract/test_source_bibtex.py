"""The ``bibtex`` source: any .bib file, LaTeX decoded, keyed by citekey, broken entries reported.

The scenario tests go through the CLI (``zotsync sync --bibtex``) with .bib text written here;
the shared source contract runs on the sample library written by the fixture builder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from conftest import tree
from support.source_contract import MakeSource, SourceContract

from zotsync.model import Library
from zotsync.sources.bibtex import BibtexSource, library_from_bibtex
from zotsync.testing.bib_export import bibtex_text
from zotsync.testing.sample_library import sample_library


class TestBibtexContract(SourceContract):
    """What a .bib cannot hold: collections, relations, child notes, annotations, attachment
    keys/titles/modes, Zotero's change tokens and modification dates, the automatic/manual
    distinction of tags (all tags are ``keywords``), and Zotero's exact field set (BibTeX has
    no ``extra``, ``conferenceName``, …). Those are left out of the comparison, and the tests
    that are only about them are skipped below."""

    UNKNOWN_TO_SOURCE = frozenset(
        {
            "library.collections", "library.version", "item.collections", "item.relations",
            "item.notes", "item.attachments", "item.version", "item.date_modified",
            "item.citekey", "item.tags", "item.fields",
        }
    )  # fmt: skip

    @pytest.fixture
    def make_source(self) -> MakeSource:
        def make(library: Library, tmp_path: Path) -> BibtexSource:
            path = tmp_path / "library.bib"
            path.write_text(bibtex_text(library), encoding="utf-8")
            return BibtexSource(path)

        return make

    def test_tag_names_and_mapped_fields_come_through(self, read_back: Library) -> None:
        want = {i.key: i for i in sample_library().items}
        for item in read_back.items:
            assert [t.name for t in item.tags] == [t.name for t in want[item.key].tags]
            for name in ("title", "DOI", "pages", "publicationTitle", "ISBN", "place"):
                assert item.fields.get(name) == want[item.key].fields.get(name), name

    @pytest.mark.skip(reason="BibTeX has no collections")
    def test_nested_collections_keep_their_paths(self, read_back: Library) -> None: ...

    @pytest.mark.skip(reason="BibTeX has no Zotero relations")
    def test_related_items_point_at_each_other(self, read_back: Library) -> None: ...

    @pytest.mark.skip(reason="BibTeX has no annotations")
    def test_annotations_keep_page_index_label_and_reading_order(
        self, read_back: Library
    ) -> None: ...

    @pytest.mark.skip(reason="BibTeX has no child notes or attachment keys")
    def test_children_hang_under_the_right_parent(self, read_back: Library) -> None: ...

    def test_base_fields_and_user_dates_come_through(self, read_back: Library) -> None:
        by_key = {it.key: it for it in read_back.items}
        assert by_key["BOOK3456"].fields["publicationTitle"] == (
            "Reinforcement Learning: An Introduction"
        )
        assert by_key["ATTN2345"].fields["number"] == "arXiv:1706.03762"
        assert by_key["BERT6789"].year == 2019  # "June 2019" is written as an ISO date
        assert by_key["REPT4567"].creators[0].single is True


LATEX_BIB = r"""
@string{nips = {Advances in Neural Information Processing Systems}}

@inproceedings{vaswani2017attention,
  title     = {Attention Is {All} You Need: {BERT}-style Schr{\"o}dinger {\'E}t{\'e} $\alpha$-nets},
  author    = {Vaswani, Ashish and {Google Brain Team} and Ludwig van Beethoven and
               family=Wijnen, given=A. J., prefix=van, useprefix=true and King, Jr., Martin},
  editor    = {de la Fontaine, Jean},
  booktitle = nips,
  year      = 2017,
  month     = jun,
  pages     = {5998--6008},
  doi       = {https://doi.org/10.5555/3295222.3295349},
  url       = {https://example.org/paper%20one_final.pdf},
  abstract  = {We propose the {Transformer}, based solely on attention.},
  keywords  = {nlp/transformers, deep learning; to-read},
  file      = {Full Text PDF:/home/ada/Zotero/storage/ABCD2345/Vaswani - 2017.pdf:application/pdf;Snapshot:snapshots/page.html:text/html},
}

@online{devlin2019bert,
  title        = {{BERT}: Pre-training of Deep Bidirectional Transformers},
  author       = {Devlin, Jacob and Chang, Ming-Wei},
  date         = {2019-05-24},
  eprint       = {1810.04805},
  eprinttype   = {arXiv},
  file         = {/home/ada/papers/bert.pdf},
}

@techreport{who2020,
  title       = {Report on {COVID-19}},
  author      = {{World Health Organization}},
  institution = {WHO},
  date        = {2020-03/2020-04},
}

@misc{radford2019,
  title = {Language Models are Unsupervised Multitask Learners},
  author = {Radford, Alec},
  year = {2019},
  url = {https://arxiv.org/abs/1908.09203v2},
}
"""

BROKEN_ENTRY = """
@article{broken2021,
  title = {An entry whose brace never closes,
  author = {Nobody, A.}

"""


def sync(
    run_cli: Callable[..., Result], vault: Path, bib: Path, *extra: str
) -> tuple[Result, dict[str, object]]:
    result = run_cli("sync", "--vault", vault, "--bibtex", bib, "--json", *extra)
    return result, json.loads(result.stdout)


def frontmatter(path: Path) -> dict[str, object]:
    text = path.read_text("utf-8")
    data = yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert isinstance(data, dict)
    return data


def note_by_citekey(vault: Path, citekey: str) -> Path:
    hits = [
        p for p in (vault / "Papers").glob("*.md") if f"\ncitekey: {citekey}\n" in p.read_text()
    ]
    assert len(hits) == 1, hits
    return hits[0]


def test_bib_with_latex_names_and_biblatex_dates_becomes_notes_without_zotero_keys(
    vault: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    bib = tmp_path / "My Library.bib"
    bib.write_text(LATEX_BIB, encoding="utf-8")
    result, summary = sync(run_cli, vault, bib)
    assert result.exit_code == 0, result.output
    assert (summary["created"], summary["failed"]) == (4, 0)

    note = note_by_citekey(vault, "vaswani2017attention")
    fm = frontmatter(note)
    assert fm["title"] == "Attention Is All You Need: BERT-style Schrödinger Été α-nets"
    assert fm["authors"] == [
        "Ashish Vaswani",
        "Google Brain Team",
        "Ludwig van Beethoven",
        "A. J. van Wijnen",
        "Martin King, Jr.",
    ]  # the editor (Jean de la Fontaine) is not an author
    assert fm["year"] == 2017 and fm["venue"] == "Advances in Neural Information Processing Systems"
    assert fm["doi"] == "10.5555/3295222.3295349"
    assert fm["url"] == "https://example.org/paper%20one_final.pdf"  # verbatim, not LaTeX
    assert fm["tags"] == ["nlp/transformers", "deep-learning", "to-read"]
    assert "zotero-key" not in fm and "zotero-link" not in fm
    text = note.read_text("utf-8")
    assert "zotero://select" not in text and "Open in Zotero" not in text
    assert "based solely on attention" in text and "{Transformer}" not in text
    # a stored Zotero file keeps its reader link; a JabRef-style relative file is resolved
    assert "zotero://open-pdf/library/items/ABCD2345" in text
    assert (tmp_path / "snapshots" / "page.html").as_uri() in text

    bert = frontmatter(note_by_citekey(vault, "devlin2019bert"))
    assert bert["arxiv"] == "1810.04805" and bert["year"] == 2019
    assert bert["title"] == "BERT: Pre-training of Deep Bidirectional Transformers"
    who = frontmatter(note_by_citekey(vault, "who2020"))
    assert who["authors"] == ["World Health Organization"] and who["year"] == 2020
    radford = frontmatter(note_by_citekey(vault, "radford2019"))
    assert radford["arxiv"] == "1908.09203"  # from the arXiv URL

    config = yaml.safe_load((vault / "zotsync.yaml").read_text("utf-8"))
    assert config["source"] == "bibtex" and config["bibtex"] == str(bib.resolve())

    before = tree(vault)
    again = run_cli("sync", "--vault", vault, "--json")  # recorded: no options needed
    assert again.exit_code == 0 and json.loads(again.stdout)["created"] == 0
    assert tree(vault) == before


def test_a_malformed_entry_is_reported_with_its_line_and_the_rest_syncs(
    vault: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(LATEX_BIB + BROKEN_ENTRY, encoding="utf-8")
    line = (LATEX_BIB + BROKEN_ENTRY).splitlines().index("@article{broken2021,") + 1
    result, summary = sync(run_cli, vault, bib)
    assert result.exit_code == 1
    assert (summary["created"], summary["failed"]) == (4, 1)
    (error,) = summary["errors"]
    assert error.startswith(f"line {line}: the entry 'broken2021' could not be read")
    assert "fix it in the .bib file" in error
    human = run_cli("sync", "--vault", vault)
    assert human.exit_code == 1 and f"failed: line {line}" in human.stderr
    assert "Traceback" not in human.output


def test_an_entry_broken_while_editing_keeps_its_note(
    vault: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(LATEX_BIB, encoding="utf-8")
    assert sync(run_cli, vault, bib)[0].exit_code == 0
    note = note_by_citekey(vault, "who2020")
    before = note.read_bytes()
    bib.write_text(LATEX_BIB.replace("title       = {Report on {COVID-19}},", "title = {x,"))
    result, summary = sync(run_cli, vault, bib)
    assert result.exit_code == 1 and summary["trashed"] == 0
    assert note.read_bytes() == before  # not treated as deleted


def test_a_changed_title_updates_the_note_found_by_its_citekey(
    vault: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(LATEX_BIB, encoding="utf-8")
    sync(run_cli, vault, bib)
    note = note_by_citekey(vault, "radford2019")
    note.write_text(note.read_text("utf-8") + "my own thoughts\n", encoding="utf-8")
    bib.write_text(LATEX_BIB.replace("are Unsupervised", "are {Unsupervised}"))
    os.utime(bib, ns=(1, 1))  # a different stamp even on coarse clocks
    bib.write_text(LATEX_BIB.replace("Multitask Learners", "Multi-Task Learners"))
    result, summary = sync(run_cli, vault, bib)
    assert result.exit_code == 0 and summary["created"] == 0, result.output
    renamed = note_by_citekey(vault, "radford2019")
    assert renamed.name == "Language Models are Unsupervised Multi-Task Learners.md"
    assert renamed.read_text("utf-8").endswith("my own thoughts\n")


def test_missing_bib_file_exits_3_with_the_fix(
    vault: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("sync", "--vault", vault, "--bibtex", tmp_path / "nope.bib")
    assert result.exit_code == 3
    assert "not found" in result.stderr and "--bibtex" in result.stderr


def test_half_written_file_is_read_again(tmp_path: Path) -> None:
    bib = tmp_path / "export.bib"
    bib.write_text(LATEX_BIB + "@article{cut2020,\n  title = {Half", encoding="utf-8")
    source = BibtexSource(bib, retries=2, retry_delay=0.0)
    library = source.read()  # still broken after the retry: reported, the rest is there
    assert len(library.items) == 4 and len(library.problems) == 1
    assert source.watch_paths() == [bib]


def test_real_export_shapes_parse() -> None:
    """Better BibLaTeX's and JabRef's forms of the same entry."""
    bbt = library_from_bibtex(
        "@article{a, author = {family=Sales, given=Francis, prefix=de, useprefix=true},"
        " title = {T}, file = {/u/Zotero/storage/ABCDEFGH/a.pdf;/u/Zotero/storage/ABCDEFG2/b.html}}"
    )
    jabref = library_from_bibtex(
        r"@Article{a, Author = {de Sales, Francis}, Title = {T}, File = {:C\:\\papers\\a.pdf:PDF}}"
    )
    assert [c.name for c in bbt.items[0].creators] == ["Francis de Sales"]
    assert [c.name for c in jabref.items[0].creators] == ["Francis de Sales"]
    assert [a.key for a in bbt.items[0].attachments] == ["ABCDEFGH", "ABCDEFG2"]
    assert [a.path for a in jabref.items[0].attachments] == [r"C:\papers\a.pdf"]


def test_a_file_being_rewritten_is_read_again_until_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bib = tmp_path / "export.bib"
    bib.write_text(LATEX_BIB[: LATEX_BIB.index("@techreport") + 20], encoding="utf-8")

    def exporter_finishes(_seconds: float) -> None:
        bib.write_text(LATEX_BIB, encoding="utf-8")

    monkeypatch.setattr("zotsync.sources.export_file.time.sleep", exporter_finishes)
    library = BibtexSource(bib, retries=3).read()
    assert library.problems == [] and len(library.items) == 4


def test_init_records_the_bibtex_source(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(LATEX_BIB, encoding="utf-8")
    vault = tmp_path / "new-vault"
    assert run_cli("init", vault, "--bibtex", bib).exit_code == 0
    config = yaml.safe_load((vault / "zotsync.yaml").read_text("utf-8"))
    assert config["source"] == "bibtex" and config["bibtex"] == str(bib.resolve())
    result = run_cli("sync", "--vault", vault, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["created"] == 4
    doctor = run_cli("doctor", "--vault", vault)
    assert "OK   bibtex: 4 entries" in doctor.stdout
