"""The canonical library every source contract test reads.

Each source's test expresses this same library in its own form (a real-schema
``zotero.sqlite`` for Zotero 6/7/10, web API JSON, local API JSON, a Better BibTeX export,
…) and checks that the source reads back a :class:`~zotsync.model.Library` equal to
:func:`sample_library` (minus what that source cannot know, see ``docs/sources.md``).

It covers the cases that trip readers up: base-field mapping (bookTitle, proceedingsTitle,
repository/archiveID), single-field creators, creator order and roles, manual and automatic
tags, nested collections, ``dc:relation`` both ways, a citekey in Extra, a child note, a PDF
with annotations whose page labels differ from page indexes, an EPUB annotation, and a
linked URL attachment.
"""

from __future__ import annotations

from zotsync.model import (
    Annotation,
    Attachment,
    ChildNote,
    Collection,
    Creator,
    Item,
    Library,
    LibraryRef,
    Tag,
    with_base_fields,
)

USER_ID = 1234567


def _rel(*keys: str, user_id: int = USER_ID) -> dict[str, list[str]]:
    return {"dc:relation": [f"http://zotero.org/users/{user_id}/items/{k}" for k in keys]}


def sample_library(ref: LibraryRef | None = None) -> Library:
    """Build the sample library (fresh objects on every call)."""
    ref = ref or LibraryRef("user", USER_ID)
    collections = {
        "COLLDL22": Collection("COLLDL22", "Deep Learning"),
        "COLLNLP3": Collection("COLLNLP3", "NLP", parent="COLLDL22"),
        "COLLCV44": Collection("COLLCV44", "Vision", parent="COLLDL22"),
        "COLLRL55": Collection("COLLRL55", "Reinforcement Learning"),
    }
    attention = Item(
        key="ATTN2345",
        item_type="preprint",
        fields=with_base_fields(
            "preprint",
            {
                "title": "Attention Is All You Need",
                "abstractNote": "A sequence transduction model based solely on attention.",
                "repository": "arXiv",
                "archiveID": "arXiv:1706.03762",
                "date": "2017-06-12",
                "DOI": "10.48550/arXiv.1706.03762",
                "url": "http://arxiv.org/abs/1706.03762",
                "extra": "Citation Key: vaswani2017attention",
            },
        ),
        creators=[
            Creator("Vaswani", "Ashish"),
            Creator("Shazeer", "Noam"),
            Creator("Parmar", "Niki"),
        ],
        tags=[
            Tag("nlp/transformers"),
            Tag("to-read"),
            Tag("Computer Science - Computation and Language", auto=True),
        ],
        collections=["COLLNLP3"],
        relations=_rel("BERT6789"),
        attachments=[
            Attachment(
                key="PDFA2345",
                title="Full Text PDF",
                link_mode="imported_file",
                content_type="application/pdf",
                path="storage:Vaswani et al. - 2017 - Attention Is All You Need.pdf",
                annotations=[
                    Annotation(
                        key="ANNH2345",
                        type="highlight",
                        text="The dominant sequence transduction models are based on recurrent networks",
                        comment="the baseline they replace",
                        color="#ffd400",
                        page_label="1",
                        sort_index="00000|000123|00072",
                        position={"pageIndex": 0, "rects": [[100.5, 600.25, 500.0, 612.0]]},
                        tags=[Tag("key-idea")],
                        date_added="2024-02-01T10:00:00Z",
                        date_modified="2024-02-01T10:00:00Z",
                    ),
                    Annotation(
                        key="ANNN3456",
                        type="note",
                        comment="Compare with ConvS2S here.",
                        color="#2ea8e5",
                        page_label="iii",
                        sort_index="00002|000000|00100",
                        position={"pageIndex": 2, "rects": [[50.0, 700.0, 72.0, 722.0]]},
                        date_added="2024-02-01T10:05:00Z",
                        date_modified="2024-02-01T10:05:00Z",
                    ),
                    Annotation(
                        key="ANNI4567",
                        type="image",
                        color="#5fb236",
                        page_label="3",
                        sort_index="00004|000000|00200",
                        position={"pageIndex": 4, "rects": [[80.0, 300.0, 520.0, 640.0]]},
                        date_added="2024-02-01T10:07:00Z",
                        date_modified="2024-02-01T10:07:00Z",
                    ),
                ],
                date_added="2024-01-15T09:00:00Z",
            ),
            Attachment(
                key="LINK2345",
                title="arXiv abstract page",
                link_mode="linked_url",
                content_type="text/html",
                url="https://arxiv.org/abs/1706.03762",
                date_added="2024-01-15T09:00:01Z",
            ),
        ],
        notes=[
            ChildNote(
                key="NOTE2345",
                html='<div data-schema-version="9"><h1>Reading notes</h1><p>Self-attention is <strong>O(n²)</strong> in length.</p><ul><li>multi-head</li><li>positional encoding</li></ul></div>',
                date_added="2024-02-02T08:00:00Z",
                date_modified="2024-02-02T08:30:00Z",
            )
        ],
        date_added="2024-01-15T09:00:00Z",
        date_modified="2024-02-02T08:30:00Z",
        version=10,
        citekey="vaswani2017attention",
        library=ref,
    )
    bert = Item(
        key="BERT6789",
        item_type="conferencePaper",
        fields=with_base_fields(
            "conferencePaper",
            {
                "title": "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
                "proceedingsTitle": "Proceedings of NAACL-HLT 2019",
                "conferenceName": "NAACL-HLT 2019",
                "date": "June 2019",
                "pages": "4171–4186",
                "DOI": "10.18653/v1/N19-1423",
                "url": "https://aclanthology.org/N19-1423",
            },
        ),
        creators=[
            Creator("Devlin", "Jacob"),
            Creator("Chang", "Ming-Wei"),
            Creator("Lee", "Kenton"),
            Creator("Toutanova", "Kristina"),
        ],
        tags=[Tag("nlp/transformers"), Tag("pretraining")],
        collections=["COLLNLP3"],
        relations=_rel("ATTN2345"),
        attachments=[
            Attachment(
                key="EPUB6789",
                title="BERT (EPUB)",
                link_mode="imported_file",
                content_type="application/epub+zip",
                path="storage:bert.epub",
                annotations=[
                    Annotation(
                        key="ANNE6789",
                        type="highlight",
                        text="masked language model",
                        color="#ff6666",
                        page_label="",
                        sort_index="00003|00001234",
                        position={
                            "type": "FragmentSelector",
                            "conformsTo": "http://www.idpf.org/epub/linking/cfi/epub-cfi.html",
                            "value": "epubcfi(/6/4!/4/2/1:0)",
                        },
                        date_added="2024-03-01T12:00:00Z",
                        date_modified="2024-03-01T12:00:00Z",
                    )
                ],
                date_added="2024-03-01T11:00:00Z",
            )
        ],
        date_added="2024-03-01T11:00:00Z",
        date_modified="2024-03-01T12:00:00Z",
        version=12,
        library=ref,
    )
    resnet = Item(
        key="RESN2345",
        item_type="conferencePaper",
        fields=with_base_fields(
            "conferencePaper",
            {
                "title": "Deep Residual Learning for Image Recognition",
                "proceedingsTitle": "2016 IEEE Conference on Computer Vision and Pattern Recognition (CVPR)",
                "date": "2016",
                "pages": "770-778",
                "DOI": "10.1109/CVPR.2016.90",
            },
        ),
        creators=[
            Creator("He", "Kaiming"),
            Creator("Zhang", "Xiangyu"),
            Creator("Ren", "Shaoqing"),
            Creator("Sun", "Jian"),
        ],
        tags=[Tag("computer-vision"), Tag("read")],
        collections=["COLLCV44"],
        date_added="2023-11-20T18:45:10Z",
        date_modified="2023-11-20T18:45:10Z",
        version=5,
        library=ref,
    )
    book_chapter = Item(
        key="BOOK3456",
        item_type="bookSection",
        fields=with_base_fields(
            "bookSection",
            {
                "title": "Introduction",
                "bookTitle": "Reinforcement Learning: An Introduction",
                "publisher": "MIT Press",
                "place": "Cambridge, MA",
                "date": "2018",
                "edition": "2",
                "pages": "1-22",
                "ISBN": "978-0-262-03924-6",
            },
        ),
        creators=[
            Creator("Sutton", "Richard S."),
            Creator("Barto", "Andrew G."),
            Creator("Bach", "Francis", creator_type="editor"),
        ],
        tags=[Tag("reinforcement-learning"), Tag("textbook")],
        collections=["COLLRL55"],
        date_added="2023-09-01T07:00:00Z",
        date_modified="2023-09-02T07:00:00Z",
        version=3,
        library=ref,
    )
    report = Item(
        key="REPT4567",
        item_type="report",
        fields=with_base_fields(
            "report",
            {
                "title": "Language Models are Unsupervised Multitask Learners",
                "institution": "OpenAI",
                "date": "2019-02-14",
                "url": "https://openai.com/research/better-language-models",
                "abstractNote": "GPT-2.",
            },
        ),
        creators=[Creator("OpenAI", single=True), Creator("Radford", "Alec")],
        tags=[Tag("nlp/transformers"), Tag("language models", auto=True)],
        collections=[],
        date_added="2024-04-10T21:10:00Z",
        date_modified="2024-04-10T21:10:00Z",
        version=14,
        library=ref,
    )
    return Library(
        ref=ref,
        items=[attention, bert, resnet, book_chapter, report],
        collections=collections,
        version=14,
        name="My Library",
    )


#: items that exist in the fixture but must NOT come out of any source
EXCLUDED_KEYS = (
    "TRSH2345",
)  # a trashed journal article; sources' fixtures add it, flagged as trashed
