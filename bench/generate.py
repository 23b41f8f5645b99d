"""Generate a synthetic Zotero library of realistic size and write it as ``zotero.sqlite``.

The benchmark needs libraries of 10,000–40,000 items that look like a researcher's: long
titles and abstracts, several authors, tags from a shared pool (some nested ``a/b``), a
collection tree, a third of the papers with a PDF full of annotations, some child notes,
DOIs and arXiv ids. Deterministic for a seed.

    python bench/generate.py 10000 /tmp/bench/zotero.sqlite            # Zotero 10, WAL
    python bench/generate.py 10000 /tmp/bench/zotero.sqlite --version 7 --no-wal
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

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

KEY_CHARS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
WORDS = [
    "attention",
    "transformer",
    "learning",
    "deep",
    "neural",
    "network",
    "graph",
    "model",
    "language",
    "vision",
    "robust",
    "efficient",
    "scalable",
    "sparse",
    "dense",
    "contrastive",
    "generative",
    "diffusion",
    "reinforcement",
    "policy",
    "optimization",
    "stochastic",
    "gradient",
    "variational",
    "inference",
    "bayesian",
    "kernel",
    "embedding",
    "representation",
    "self-supervised",
    "pretraining",
    "retrieval",
    "reasoning",
    "benchmark",
    "dataset",
    "adversarial",
    "causal",
    "federated",
    "quantization",
    "distillation",
    "memory",
    "recurrent",
    "convolutional",
]
FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Yann",
    "Geoffrey",
    "Fei-Fei",
    "Andrew",
    "Yoshua",
    "Ilya",
    "Jürgen",
    "Daphne",
    "Sepp",
    "Noam",
    "Niki",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "LeCun",
    "Hinton",
    "Li",
    "Ng",
    "Bengio",
    "Sutskever",
    "Schmidhuber",
    "Koller",
    "Vaswani",
    "Müller",
    "Østergaard",
]
COLORS = ("#ffd400", "#ff6666", "#5fb236", "#2ea8e5", "#a28ae5")


def _key(rng: random.Random, used: set[str]) -> str:
    while True:
        key = "".join(rng.choice(KEY_CHARS) for _ in range(8))
        if key not in used:
            used.add(key)
            return key


def _text(rng: random.Random, low: int, high: int) -> str:
    target = rng.randint(low, high)
    out: list[str] = []
    size = 0
    while size < target:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:target].strip().capitalize()


def _iso(rng: random.Random, year: int) -> str:
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def _annotations(rng: random.Random, used: set[str], when: str) -> list[Annotation]:
    out = []
    for n in range(rng.randint(5, 40)):
        page = n // 3
        kind = rng.choice(("highlight", "highlight", "underline", "note", "image"))
        top = rng.randint(50, 750)
        out.append(
            Annotation(
                key=_key(rng, used),
                type=kind,  # type: ignore[arg-type]
                text=_text(rng, 40, 300) if kind in ("highlight", "underline") else "",
                comment=_text(rng, 10, 120) if rng.random() < 0.3 else "",
                color=rng.choice(COLORS),
                page_label=str(page + 1),
                sort_index=f"{page:05d}|{n * 100:06d}|{top:05d}",
                position={"pageIndex": page, "rects": [[72.0, float(top), 520.0, float(top + 12)]]},
                date_added=when,
                date_modified=when,
            )
        )
    return out


def generate_library(n: int, seed: int = 0) -> Library:
    """A deterministic library of ``n`` top-level items with realistic field sizes."""
    rng = random.Random(seed)
    used: set[str] = set()
    ref = LibraryRef("user", 7654321)
    tags = [f"topic-{i}" for i in range(140)] + [f"area-{i // 6}/sub-{i}" for i in range(60)]
    collections: dict[str, Collection] = {}
    for i in range(50):
        key = _key(rng, used)
        parent = rng.choice(list(collections)) if collections and i >= 8 else None
        collections[key] = Collection(key, f"{rng.choice(WORDS).title()} {i}", parent)
    coll_keys = list(collections)
    items = []
    for i in range(n):
        year = rng.randint(1990, 2025)
        added = _iso(rng, 2024)
        arxiv = (
            f"{year % 100:02d}{rng.randint(1, 12):02d}.{rng.randint(1, 99999):05d}"
            if year >= 2007
            else ""
        )
        item_type = rng.choice(
            ("journalArticle", "conferencePaper", "preprint", "book", "bookSection")
        )
        fields = {
            "title": _text(rng, 40, 150),
            "abstractNote": _text(rng, 800, 2000),
            "date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "url": f"https://example.org/paper/{i}",
        }
        if item_type == "preprint" and arxiv:
            fields.update(
                repository="arXiv", archiveID=f"arXiv:{arxiv}", DOI=f"10.48550/arXiv.{arxiv}"
            )
        elif item_type in ("journalArticle", "conferencePaper"):
            fields["DOI"] = f"10.{rng.randint(1000, 9999)}/bench.{i}"
            fields["publicationTitle" if item_type == "journalArticle" else "proceedingsTitle"] = (
                _text(rng, 20, 60)
            )
            fields["pages"] = f"{rng.randint(1, 500)}-{rng.randint(501, 900)}"
        elif item_type == "bookSection":
            fields.update(bookTitle=_text(rng, 20, 80), publisher="Bench Press")
        else:
            fields["publisher"] = "Bench Press"
        if rng.random() < 0.3:
            fields["extra"] = f"Citation Key: bench{i}"
        item = Item(
            key=_key(rng, used),
            item_type=item_type,
            fields=with_base_fields(item_type, fields),
            creators=[
                Creator(rng.choice(LAST), rng.choice(FIRST)) for _ in range(rng.randint(3, 12))
            ],
            tags=[Tag(t) for t in rng.sample(tags, rng.randint(2, 6))],
            collections=rng.sample(coll_keys, rng.randint(0, 2)),
            date_added=added,
            date_modified=added,
            version=i + 1,
            citekey=f"bench{i}" if "extra" in fields else "",
            library=ref,
        )
        if i % 3 == 0:
            item.attachments.append(
                Attachment(
                    key=_key(rng, used),
                    title="Full Text PDF",
                    content_type="application/pdf",
                    path=f"storage:paper-{i}.pdf",
                    annotations=_annotations(rng, used, added),
                    date_added=added,
                )
            )
        if rng.random() < 0.15:
            item.notes.append(
                ChildNote(
                    _key(rng, used),
                    f'<div data-schema-version="9"><p>{_text(rng, 100, 800)}</p></div>',
                    added,
                    added,
                )
            )
        items.append(item)
    if n > 1:  # a few related pairs
        for a, b in zip(items[::50], items[1::50], strict=False):
            a.relations = {"dc:relation": [f"http://zotero.org/users/{ref.id}/items/{b.key}"]}
            b.relations = {"dc:relation": [f"http://zotero.org/users/{ref.id}/items/{a.key}"]}
    return Library(ref=ref, items=items, collections=collections, version=n, name="My Library")


def main(argv: list[str] | None = None) -> int:
    """CLI: generate N items into OUT (a ``zotero.sqlite`` path) and report timings."""
    from zotsync.sources.sqlite import SqliteSource
    from zotsync.testing.zotero_db import make_zotero_db

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--version", type=int, default=10)
    parser.add_argument("--wal", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--read", action="store_true", help="also time a SqliteSource read")
    parser.add_argument(
        "--bbt-json", type=Path, help="write a Better BibTeX JSON export here instead"
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    library = generate_library(args.n, args.seed)
    t1 = time.perf_counter()
    if args.bbt_json:
        from zotsync.testing.bbt_export import write_bbt_export

        args.bbt_json.parent.mkdir(parents=True, exist_ok=True)
        write_bbt_export(args.bbt_json, library)
        size = args.bbt_json.stat().st_size / 1e6
        print(f"generated {args.n} items, wrote {args.bbt_json} ({size:.1f} MB)")
        return 0
    db = make_zotero_db(args.out, library, version=args.version, wal=args.wal)
    t2 = time.perf_counter()
    print(
        f"generated {args.n} items in {t1 - t0:.2f}s, wrote {db} ({db.stat().st_size / 1e6:.1f} MB) in {t2 - t1:.2f}s"
    )
    if args.read:
        t3 = time.perf_counter()
        got = SqliteSource(db).read()
        print(f"read {len(got.items)} items with SqliteSource in {time.perf_counter() - t3:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
