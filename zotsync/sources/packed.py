"""An attachment's annotations kept as one bytes object, unpacked each time they are read.

Annotations are most of a big library's memory: at 10,000 items the generated library has
76,000 of them, and as objects (an :class:`~zotsync.model.Annotation`, its ``Position``, an
empty tag list and seven small strings each) they took 53 MB of the model's 88 MB. Packed as
pickled tuples compressed with zlib, one bytes object per attachment, they take 6.5 MB (the
formats measured are in ``docs/performance.md``). Only two readers ever look at them: the
renderer, once per note, and the image copier, which needs to know only whether there are
image or ink annotations (kept beside the bytes, so it never unpacks).

A :class:`PackedAnnotations` is a read-only sequence equal to the list it was made from, so
rendering, comparing and hashing treat it like that list. Sources pack what they read; a
hand-built ``Attachment`` keeps a plain list.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterator, Sequence
from typing import overload

from zotsync.model import IMAGE_TYPES, Annotation, AnnotationType, Position, Tag

#: key, type, text, comment, color, page label, sort index, position JSON, author, tags as
#: (name, auto) pairs, date added, date modified, is external: ``Annotation``'s field order
AnnotationRow = tuple[
    str, AnnotationType, str, str, str, str, str, str, str, tuple[tuple[str, bool], ...],
    str, str, bool,
]  # fmt: skip


def row_of(ann: Annotation) -> AnnotationRow:
    """``ann`` as the plain row it is packed as (plain values pickle small and fast)."""
    position = ann.position
    raw = position.raw if isinstance(position, Position) else Position(position).raw
    tags = tuple((t.name, t.auto) for t in ann.tags)
    return (
        ann.key, ann.type, ann.text, ann.comment, ann.color, ann.page_label, ann.sort_index,
        raw, ann.author, tags, ann.date_added, ann.date_modified, ann.is_external,
    )  # fmt: skip


def _annotation(row: AnnotationRow) -> Annotation:
    key, kind, text, comment, color, label, sort, raw, author, tags, added, modified, ext = row
    return Annotation(
        key, kind, text, comment, color, label, sort, Position(raw),
        author, [Tag(n, a) for n, a in tags], added, modified, ext,
    )  # fmt: skip


class PackedAnnotations(Sequence[Annotation]):
    """Annotations in reading order, stored as the compressed pickle of one plain row each."""

    __slots__ = ("_blob", "_len", "types")

    def __init__(self, annotations: Sequence[Annotation]) -> None:
        self._pack(tuple(row_of(a) for a in annotations))

    @classmethod
    def of_rows(cls, rows: Sequence[AnnotationRow]) -> PackedAnnotations:
        """Packed straight from rows (a source that reads rows need not build objects)."""
        packed = cls.__new__(cls)
        packed._pack(tuple(rows))
        return packed

    def _pack(self, rows: tuple[AnnotationRow, ...]) -> None:
        # level 1: a third of the pickle's size at a fifth of level 6's time
        self._blob = zlib.compress(pickle.dumps(rows, protocol=5), 1)
        self._len = len(rows)
        #: the annotation types present (``image`` and ``ink`` mean image files to copy)
        self.types: frozenset[str] = frozenset(r[1] for r in rows)

    def _rows(self) -> tuple[AnnotationRow, ...]:
        rows: tuple[AnnotationRow, ...] = pickle.loads(zlib.decompress(self._blob))
        return rows

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Annotation]:
        return (_annotation(r) for r in self._rows())

    @overload
    def __getitem__(self, index: int) -> Annotation: ...
    @overload
    def __getitem__(self, index: slice) -> list[Annotation]: ...
    def __getitem__(self, index: int | slice) -> Annotation | list[Annotation]:
        rows = self._rows()
        if isinstance(index, slice):
            return [_annotation(r) for r in rows[index]]
        return _annotation(rows[index])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedAnnotations) and other._blob == self._blob:
            return True
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedAnnotations({list(self)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # the bytes as they are: pickling (the render-input hash does) never unpacks; the types
        # sorted, since a set's order changes with the interpreter's hash seed and equal
        # annotations must pickle to equal bytes in every process
        return (_unpickle, (self._blob, self._len, tuple(sorted(self.types))))


def _unpickle(blob: bytes, length: int, types: tuple[str, ...]) -> PackedAnnotations:
    packed = PackedAnnotations.__new__(PackedAnnotations)
    packed._blob, packed._len, packed.types = blob, length, frozenset(types)
    return packed


NONE = PackedAnnotations(())  # shared by every attachment without annotations (read-only)


def pack(annotations: Sequence[Annotation]) -> PackedAnnotations:
    """``annotations`` packed (the shared :data:`NONE` when there are none)."""
    return PackedAnnotations(annotations) if annotations else NONE


def has_image_annotations(annotations: Sequence[Annotation]) -> bool:
    """Whether any annotation is an image or ink one, without unpacking a packed sequence."""
    if isinstance(annotations, PackedAnnotations):
        return not annotations.types.isdisjoint(IMAGE_TYPES)
    return any(a.type in IMAGE_TYPES for a in annotations)
