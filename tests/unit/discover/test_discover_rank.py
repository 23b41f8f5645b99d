"""TF-IDF ranking: on-topic first, library papers never, weighted by what the user reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.discover.rank import LibraryDoc, library_docs, paper_weight, rank_papers, tokens
from zotsync.model import Item, Tag, with_base_fields
from zotsync.testing.fake_arxiv import paper

NLP_LIBRARY = [
    LibraryDoc(
        "ATTN",
        "Attention Is All You Need",
        "Transformer language model based on self-attention for machine translation.",
        ("nlp",),
        2.0,
        "Attention Is All You Need",
    ),
    LibraryDoc(
        "BERT",
        "BERT: Pre-training of Deep Bidirectional Transformers",
        "Masked language model pretraining of transformer encoders for language understanding.",
        ("nlp",),
    ),
    LibraryDoc(
        "GPT2",
        "Language Models are Unsupervised Multitask Learners",
        "Large transformer language models learn tasks from web text without supervision.",
        ("nlp",),
    ),
    LibraryDoc(
        "T5XX",
        "Exploring Transfer Learning with a Unified Text-to-Text Transformer",
        "Text-to-text transformer language model transfer learning.",
        ("nlp",),
    ),
]
ON_TOPIC = [
    paper(
        "2611.00001",
        "Sparse attention transformers for long language model contexts",
        "We make transformer self-attention sparse so language models read long documents.",
    ),
    paper(
        "2611.00002",
        "Pretraining bidirectional transformers on code",
        "Masked language model pretraining of transformer encoders on source code.",
    ),
    paper(
        "2611.00003",
        "Instruction tuning language models",
        "Language models fine-tuned on instructions generalise to unseen tasks.",
    ),
]
OFF_TOPIC = [
    paper(
        "2611.00101",
        "Dust polarisation in the interstellar medium",
        "Microwave foreground emission from galactic dust grains.",
        categories=("astro-ph.GA",),
    ),
    paper(
        "2611.00102",
        "Exoplanet transit photometry with InGaAs detectors",
        "Near infrared photometry of bright dwarfs with small telescopes.",
        categories=("astro-ph.EP",),
    ),
    paper(
        "2611.00103",
        "Star formation in dwarf galaxies",
        "Galactic star formation rates measured with infrared surveys.",
        categories=("astro-ph.GA",),
    ),
]


def test_on_topic_papers_rank_first() -> None:
    ranked = rank_papers(OFF_TOPIC + ON_TOPIC, NLP_LIBRARY)
    assert {r.paper.id for r in ranked[:3]} == {p.id for p in ON_TOPIC}
    assert all(r.score > 0 for r in ranked[:3])
    assert ranked[0].score > ranked[3].score


def test_explanation_names_topic_and_most_similar_library_papers() -> None:
    ranked = {r.paper.id: r for r in rank_papers(ON_TOPIC, NLP_LIBRARY)}
    bert_like = ranked["2611.00002"]
    assert bert_like.topics == ("nlp",)
    assert bert_like.similar[0].key == "BERT"
    assert ranked["2611.00001"].similar[0].note == "Attention Is All You Need"
    assert (
        bert_like.to_json()["similar"][0] == "BERT: Pre-training of Deep Bidirectional Transformers"
    )


def test_papers_already_in_library_never_appear() -> None:
    dup_id = paper("1706.03762", "Attention Is All You Need", "Transformer self-attention.")
    dup_doi = paper("2611.00009", "BERT journal version", doi="10.18653/V1/N19-1423")
    known = {"1706.03762", "10.48550/arxiv.1706.03762", "10.18653/v1/n19-1423"}
    ranked = rank_papers([dup_id, dup_doi, *ON_TOPIC], NLP_LIBRARY, known=known)
    assert {r.paper.id for r in ranked} == {p.id for p in ON_TOPIC}


def test_a_paper_like_what_the_user_read_beats_one_like_what_was_merely_saved() -> None:
    docs = [
        LibraryDoc(
            "READ",
            "Graph neural networks for molecules",
            "Message passing on molecular graphs.",
            ("graphs",),
            paper_weight("read"),
        ),
        LibraryDoc(
            "SAVE",
            "Diffusion models for image synthesis",
            "Denoising diffusion generates images.",
            ("images",),
            paper_weight("to-read"),
        ),
    ]
    like_read = paper(
        "2611.00201", "Graph neural networks for proteins", "Message passing on protein graphs."
    )
    like_saved = paper(
        "2611.00202",
        "Diffusion models for video synthesis",
        "Denoising diffusion generates videos.",
    )
    ranked = rank_papers([like_saved, like_read], docs)
    assert [r.paper.id for r in ranked] == ["2611.00201", "2611.00202"]


def test_weights_follow_status_and_priority() -> None:
    assert paper_weight("read") == paper_weight("reading") == 2.0
    assert paper_weight("to-read") == paper_weight(None) == 1.0
    # priority 1 is the most important (as the planner reads it)
    assert paper_weight("to-read", 3) == paper_weight("to-read", "medium") == 1.5
    assert paper_weight("to-read", 1) == paper_weight("to-read", "high") == 2.0
    assert paper_weight("read", 1) == 3.0
    assert paper_weight("read", -4) == 3.0  # capped
    assert paper_weight(None, "low") == 1.0


def test_library_docs_use_tags_collections_and_vault_status() -> None:
    item = Item(
        key="K1",
        item_type="journalArticle",
        fields=with_base_fields("journalArticle", {"title": "T", "abstractNote": "A"}),
        tags=[Tag("nlp"), Tag("read"), Tag("Computer Science", auto=True)],
        collections=["C1"],
    )
    (doc,) = library_docs(
        [item], collection_names={"C1": "Deep Learning/NLP"}, note_names={"K1": "T (2020)"}
    )
    assert doc.topics == ("nlp", "Deep Learning/NLP")
    assert doc.weight == 2.0 and doc.note == "T (2020)"
    (doc,) = library_docs([item], statuses={"K1": "to-read"})
    assert doc.weight == 1.0


def test_tokens_stem_plurals_and_keep_title_phrases() -> None:
    toks = tokens("Language Models", "studies of transformers")
    assert toks.count("model") == 2 and "language_model" in toks
    assert "transformer" in toks and "of" not in toks


words = st.sampled_from(
    [
        "attention",
        "transformer",
        "galaxy",
        "dust",
        "language",
        "graph",
        "molecule",
        "image",
        "protein",
        "star",
    ]
)
titles = st.lists(words, min_size=1, max_size=6).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(
    cand_titles=st.lists(titles, min_size=1, max_size=8),
    known_mask=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_ranking_is_ordered_bounded_and_never_lists_known_papers(
    cand_titles: list[str], known_mask: list[bool]
) -> None:
    cands = [paper(f"2611.{i:05d}", t) for i, t in enumerate(cand_titles)]
    known = {c.id for c, k in zip(cands, known_mask, strict=False) if k}
    ranked = rank_papers(cands, NLP_LIBRARY, known=known)
    assert {r.paper.id for r in ranked} == {c.id for c in cands} - known
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0001 for s in scores)
    assert ranked == rank_papers(list(reversed(cands)), NLP_LIBRARY, known=known)
