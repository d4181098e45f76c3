"""BM25 postings and the chunks they point at: built once, saved as arrays, memory-mapped on load.

Scores are BM25 in the exact sense of rank-bm25's ``BM25Okapi`` (same idf,
same epsilon floor for very common terms), precomputed per (term, chunk) so a
query only adds up the postings of its few terms. Term frequencies and field
lengths are kept beside the scores, so adding or removing reports edits the
postings instead of rebuilding them; only the scores, which depend on the whole
corpus, are recomputed. Builds work through the postings in blocks, so a million
chunks are indexed in well under the memory they take as Python objects.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import shutil
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .chunking import Chunk
from .quantities import quantity_bits

if TYPE_CHECKING:
    from .analysis import ReportTerms
    from .corpus import Report

K1, B, EPSILON = 1.5, 0.75, 0.25
ARRAYS = ("indptr", "indices", "tf", "lengths", "data", "bounds")
COLUMNS = ("offsets", "doc", "section", "paragraph", "quantities")
SORT_BLOCK = 1 << 21  # term occurrences sorted at a time: bounds a build's memory
WEIGH_BLOCK = 1 << 22  # postings weighed at a time
TF_MAX = np.iinfo(np.uint16).max  # term frequencies are stored in 16 bits (a chunk has at most ~200 characters)


@dataclass(frozen=True)
class Postings:
    """For term t, the chunks indices[indptr[t]:indptr[t+1]] (ascending), each with the term's frequency."""

    indptr: np.ndarray  # int64, one more than the terms
    indices: np.ndarray  # int32
    tf: np.ndarray  # uint16

    @classmethod
    def empty(cls, vocab_size: int = 0) -> Postings:
        return cls(np.zeros(vocab_size + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.uint16))

    @classmethod
    def from_blocks(cls, blocks: Iterable[np.ndarray], n: int, vocab_size: int, occurrences: int) -> Postings:
        """From keys term * n + chunk, one per term occurrence (occurrences in all), in blocks of
        ascending, disjoint term ranges.

        Each block is sorted in place and reduced to its postings before the next
        is made, so a build holds one block of keys at a time; the postings go
        straight into arrays of their final kind.
        """
        df = np.zeros(vocab_size, np.int64)
        indices, tf = np.empty(occurrences, np.int32), np.empty(occurrences, np.uint16)
        size = 0
        for keys in blocks:
            keys.sort()
            first = np.ones(len(keys), dtype=bool)
            np.not_equal(keys[1:], keys[:-1], out=first[1:])
            starts = np.flatnonzero(first)
            del first
            end = size + len(starts)
            tf[size:end] = np.minimum(np.diff(starts, append=len(keys)), TF_MAX)
            unique = keys[starts]
            del keys, starts
            df += np.bincount(unique // n, minlength=vocab_size)
            indices[size:end] = unique % n
            size = end
            del unique
        indices.resize(size, refcheck=False)  # shrinks in place: no second copy of the postings
        tf.resize(size, refcheck=False)
        return cls(np.r_[0, np.cumsum(df)].astype(np.int64), indices, tf)

    def renumbered(self, new_id: np.ndarray) -> Postings:
        """The postings with chunk c renumbered new_id[c]; chunks mapped to -1 are dropped."""
        ids = new_id[self.indices]
        keep = ids >= 0
        kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        return Postings(kept_before[self.indptr], ids[keep], self.tf[keep])

    def then(self, other: Postings) -> Postings:
        """These postings followed, term by term, by other's, whose chunks all come after these.

        other may know more terms. Runs of terms other has no postings for are
        copied in one piece, so adding a report costs about one copy of the arrays.
        """
        if not len(self.indices):
            return other
        extra = len(other.indptr) - len(self.indptr)
        mine = np.concatenate((self.indptr, np.full(extra, self.indptr[-1]))) if extra > 0 else self.indptr
        indptr = mine + other.indptr  # both count postings up to each term
        indices, tf = np.empty(int(indptr[-1]), np.int32), np.empty(int(indptr[-1]), np.uint16)
        done = 0  # self's postings copied so far
        for t in np.flatnonzero(np.diff(other.indptr)):
            stop, at = int(mine[t + 1]), done + int(other.indptr[t])
            end = at + stop - done
            indices[at:end], tf[at:end] = self.indices[done:stop], self.tf[done:stop]
            lo, hi = int(other.indptr[t]), int(other.indptr[t + 1])
            indices[end : end + hi - lo], tf[end : end + hi - lo] = other.indices[lo:hi], other.tf[lo:hi]
            done = stop
        at = done + int(other.indptr[-1])
        indices[at:], tf[at:] = self.indices[done:], self.tf[done:]
        return Postings(indptr, indices, tf)


@dataclass(frozen=True)
class Field:
    """One field's postings with their BM25 weights (data), and each chunk's length in the field."""

    indptr: np.ndarray
    indices: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray
    data: np.ndarray
    bounds: np.ndarray  # float32, per term: its highest weight in any chunk (0 when it occurs in none), for pruning

    @classmethod
    def build(cls, ids: np.ndarray, lengths: np.ndarray, vocab_size: int) -> Field:
        """From every chunk's term ids, concatenated (ids), and how many each chunk has (lengths)."""
        n = max(len(lengths), 1)
        return cls.weigh(Postings.from_blocks(_key_blocks(ids, lengths, 0, n, vocab_size), n, vocab_size, len(ids)), lengths)

    @classmethod
    def weigh(cls, postings: Postings, lengths: np.ndarray) -> Field:
        """The BM25Okapi weight of every posting, from the field's statistics over all chunks."""
        n = len(lengths)
        df = np.diff(postings.indptr).astype(np.float64)
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        seen = df > 0  # rank-bm25 only knows terms that occur; its floor averages over those
        if seen.any():
            idf[seen & (idf < 0)] = EPSILON * idf[seen].mean()
        avgdl = lengths.mean() if n and lengths.sum() else 1.0
        norm = (K1 * (1 - B + B * lengths.astype(np.float64) / avgdl)).astype(np.float32)
        idf = idf.astype(np.float32)
        data = np.empty(len(postings.indices), np.float32)
        for lo in range(0, len(data), WEIGH_BLOCK):
            hi = min(lo + WEIGH_BLOCK, len(data))
            first = int(np.searchsorted(postings.indptr, lo, side="right")) - 1  # the terms of postings lo..hi-1
            last = int(np.searchsorted(postings.indptr, hi - 1, side="right"))
            per_term = np.diff(np.clip(postings.indptr[first : last + 1], lo, hi))
            tf = postings.tf[lo:hi].astype(np.float32)
            data[lo:hi] = np.repeat(idf[first:last], per_term) * (tf * np.float32(K1 + 1) / (tf + norm[postings.indices[lo:hi]]))
        return cls(postings.indptr, postings.indices, postings.tf, lengths.astype(np.int32), data, _maxima(postings.indptr, data))

    @property
    def postings(self) -> Postings:
        return Postings(self.indptr, self.indices, self.tf)

    def add_scores(self, scores: np.ndarray, term: int, weight: float, lo: int, hi: int) -> None:
        """Add weight * BM25(term, chunk) to scores[chunk - lo] for chunks in [lo, hi)."""
        start, end = int(self.indptr[term]), int(self.indptr[term + 1])
        if start == end:
            return
        ids = self.indices[start:end]
        a, b = _between(ids, lo, hi)
        scores[ids[a:b] - lo] += weight * self.data[start + a : start + b]

    def holding(self, term: int, chunks: np.ndarray) -> np.ndarray:
        """Which of these chunk ids contain the term: one search of its list for all of them."""
        ids = self.indices[int(self.indptr[term]) : int(self.indptr[term + 1])]
        if not len(ids):
            return np.zeros(len(chunks), dtype=bool)
        at = ids.searchsorted(chunks.astype(ids.dtype))  # in the list's own type (see _between)
        return ids[np.minimum(at, len(ids) - 1)] == chunks

    def df_in(self, term: int, lo: int, hi: int) -> int:
        """How many chunks in [lo, hi) contain the term (of all chunks: the list's length, nothing searched)."""
        if lo <= 0 and hi >= len(self.lengths):
            return int(self.indptr[term + 1] - self.indptr[term])
        return len(self.ids_in(term, lo, hi))

    def ids_in(self, term: int, lo: int, hi: int) -> np.ndarray:
        """The chunks in [lo, hi) that contain the term, ascending."""
        ids = self.indices[int(self.indptr[term]) : int(self.indptr[term + 1])]
        a, b = _between(ids, lo, hi)
        return ids[a:b]


def _between(ids: np.ndarray, lo: int, hi: int) -> tuple[int, int]:
    """Where chunks lo .. hi-1 start and end in a posting list. The bounds are given in the list's own type: numpy
    would otherwise convert the whole list to theirs on every call (0.3 ms for a list of 500,000 chunks)."""
    a, b = ids.searchsorted(np.array((lo, hi), dtype=ids.dtype))
    return int(a), int(b)


def _maxima(indptr: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The highest of each term's weights, 0 for a term without postings."""
    bounds = np.zeros(len(indptr) - 1, np.float32)
    held = np.flatnonzero(np.diff(indptr))
    if len(held):
        bounds[held] = np.maximum.reduceat(data, indptr[held])
    return bounds


def _ids_of(terms: list[str], vocab: dict[str, int]) -> np.ndarray:
    """The ids of distinct terms in vocab, adding the new ones; in C-level loops (millions of terms per build)."""
    new = [t for t in terms if t not in vocab]
    vocab.update(zip(new, range(len(vocab), len(vocab) + len(new))))
    return np.fromiter(map(vocab.__getitem__, terms), np.int32, len(terms))


def _take_field(name: str, remaps: list[np.ndarray], analysed: Sequence[ReportTerms]) -> tuple[np.ndarray, np.ndarray]:
    """The reports' term ids of one field in the joint vocabulary, and their chunks' lengths.

    Each report's own arrays are dropped as they are copied, so the field is in memory once.
    """
    ids = np.empty(sum(len(a.fields[name][0]) for a in analysed), np.int32)
    lengths, at = [np.zeros(0, np.int32)], 0
    for remap, a in zip(remaps, analysed):
        own, counts = a.fields.pop(name)
        ids[at : at + len(own)] = remap[own]
        at += len(own)
        lengths.append(counts)
    _give_back_freed_memory()
    return ids, np.concatenate(lengths)


def _give_back_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc), so that the many small arrays of the
    reports, once dropped, do not keep counting against a build's memory."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()


def _key_blocks(ids: np.ndarray, lengths: np.ndarray, first: int, n: int, vocab_size: int) -> Iterator[np.ndarray]:
    """Keys term * n + chunk for the occurrences ids (of chunks first, first + 1, ... with lengths),
    a range of terms at a time, each range holding about SORT_BLOCK occurrences."""
    if not len(ids):
        return
    chunk_starts = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
    through = np.cumsum(np.bincount(ids, minlength=vocab_size))  # occurrences of terms <= t
    block_of_term = (through - 1) // SORT_BLOCK  # ascending, so each block is a range of terms
    block = block_of_term.astype(np.uint16 if block_of_term[-1] < 2**16 else np.int64)[ids]
    for b in np.unique(block):
        at = np.flatnonzero(block == b)
        keys = ids[at].astype(np.int64) * n
        keys += np.searchsorted(chunk_starts, at, side="right") - 1 + first
        del at
        yield keys
        del keys


def pack_texts(texts: Sequence[str]) -> tuple[bytes, np.ndarray]:
    """Texts as one UTF-8 buffer and the offsets of each: text i is buffer[offsets[i]:offsets[i + 1]]."""
    encoded = [t.encode() for t in texts]
    return b"".join(encoded), np.concatenate(([0], np.cumsum([len(e) for e in encoded], dtype=np.int64)))


@contextmanager
def written_folder(folder: Path) -> Iterator[Path]:
    """A new folder to write into, beside folder; it takes folder's place whole when the block succeeds,
    so that a crash leaves the old folder or none, never half of one."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
    try:
        yield tmp
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The [lo, hi) runs of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], mask, [False])).astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


class ChunkStore(Sequence[Chunk]):
    """Chunks as columns: the texts in one UTF-8 buffer, the rest as arrays; a Chunk is made on access."""

    def __init__(
        self, text, offsets, doc, section, paragraph, quantities, docs: list[str], towns: list[str],
        sections: list[str], years: list[list[str]] | None = None, keys: list[str] | None = None,
    ) -> None:
        self._text = text
        self.offsets, self.doc, self.section, self.paragraph = offsets, doc, section, paragraph
        self.quantities = quantities  # per chunk, the units of the numbers it holds (quantities.quantity_bits)
        self.docs, self.towns, self.sections = docs, towns, sections  # towns[i] is the town of docs[i]
        self.years = years  # years[i]: the years docs[i] names (from reports); None when not known
        self.keys = keys or []  # keys[i]: what docs[i] was analysed from (analysis.report_key), to reuse it

    @classmethod
    def empty(cls) -> ChunkStore:
        none = np.zeros(0, np.int32)
        return cls(b"", np.zeros(1, np.int64), none, none, none, np.zeros(0, np.uint32), [], [], [], [], [])

    @classmethod
    def from_chunks(cls, chunks: Sequence[Chunk]) -> ChunkStore:
        docs: dict[str, int] = {}
        towns: list[str] = []
        sections: dict[str, int] = {}
        for c in chunks:
            if c.doc not in docs:
                docs[c.doc] = len(docs)
                towns.append(c.town)
        return cls(
            *pack_texts([c.text for c in chunks]),
            np.array([docs[c.doc] for c in chunks], dtype=np.int32),
            np.array([sections.setdefault(c.section, len(sections)) for c in chunks], dtype=np.int32),
            np.array([c.paragraph for c in chunks], dtype=np.int32),
            np.array([quantity_bits(c.text) for c in chunks], dtype=np.uint32),
            list(docs),
            towns,
            list(sections),
        )

    def updated(
        self, removed: set[str], reports: Sequence[Report], analysed: Sequence[ReportTerms], keys: Sequence[str]
    ) -> tuple[ChunkStore, np.ndarray | None]:
        """These chunks without the removed reports', then the new reports' chunks.

        Also returns each old chunk's new id (-1 if removed), or None when none was removed.
        """
        ranges = self.doc_ranges()
        kept_docs = [i for i, d in enumerate(self.docs) if d not in removed]
        keep = np.ones(len(self), dtype=bool)
        for d in removed & ranges.keys():
            keep[slice(*ranges[d])] = False
        new_id = None if keep.all() else np.where(keep, np.cumsum(keep) - 1, -1).astype(np.int32)
        sizes = [np.diff(self.offsets)[keep]] + [np.diff(a.offsets) for a in analysed]
        view = memoryview(self._text)
        texts = [view[int(self.offsets[lo]) : int(self.offsets[hi])] for lo, hi in _runs(keep)]
        doc_of = np.full(len(self.docs), -1, np.int32)
        doc_of[kept_docs] = np.arange(len(kept_docs), dtype=np.int32)
        doc = [doc_of[self.doc[keep]]]
        names = {name: i for i, name in enumerate(self.sections)}
        section = [np.asarray(self.section)[keep]]
        for i, a in enumerate(analysed):
            texts.append(a.text)
            doc.append(np.full(len(a), len(kept_docs) + i, np.int32))
            ids = np.array([names.setdefault(name, len(names)) for name in a.section_names], dtype=np.int32)
            section.append(ids[a.sections] if len(ids) else np.zeros(0, np.int32))
        years = self.years or [[] for _ in self.docs]
        store = ChunkStore(
            b"".join(texts),
            np.concatenate(([0], np.cumsum(np.concatenate(sizes), dtype=np.int64))),
            np.concatenate(doc).astype(np.int32),
            np.concatenate(section).astype(np.int32),
            np.concatenate([np.asarray(self.paragraph)[keep]] + [a.paragraphs for a in analysed]).astype(np.int32),
            np.concatenate([np.asarray(self.quantities)[keep]] + [a.quantities for a in analysed]).astype(np.uint32),
            [self.docs[i] for i in kept_docs] + [r.file for r in reports],
            [self.towns[i] for i in kept_docs] + [r.town for r in reports],
            list(names),
            [years[i] for i in kept_docs] + [a.years for a in analysed],
            [self.keys[i] for i in kept_docs] + list(keys),
        )
        return store, new_id

    def __len__(self) -> int:
        return len(self.doc)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        doc = int(self.doc[i])
        return Chunk(i, self.docs[doc], self.towns[doc], self.sections[int(self.section[i])], int(self.paragraph[i]), self.text(i))

    def __iter__(self) -> Iterator[Chunk]:
        return (self[i] for i in range(len(self)))

    def text(self, i: int) -> str:
        """Chunk i's text alone, without making its Chunk."""
        return self._text[int(self.offsets[i]) : int(self.offsets[i + 1])].decode()

    def doc_ranges(self) -> dict[str, tuple[int, int]]:
        """Each report's chunks [lo, hi): a report's chunks are consecutive."""
        starts = np.flatnonzero(np.r_[True, self.doc[1:] != self.doc[:-1]]) if len(self) else np.zeros(0, int)
        ends = np.r_[starts[1:], len(self)]
        return {self.docs[int(self.doc[s])]: (int(s), int(e)) for s, e in zip(starts, ends)}

    def save(self, folder: Path) -> None:
        (folder / "chunks.text").write_bytes(bytes(self._text))
        for name in COLUMNS:
            np.save(folder / f"chunks.{name}.npy", getattr(self, name))
        names = {"docs": self.docs, "towns": self.towns, "sections": self.sections, "years": self.years, "keys": self.keys}
        (folder / "chunks.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> ChunkStore:
        names = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        columns = {name: np.asarray(np.load(folder / f"chunks.{name}.npy", mmap_mode="r")) for name in COLUMNS}
        with open(folder / "chunks.text", "rb") as f:
            text = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
        store = cls(text, **columns, **names)
        n = len(store.doc)
        if any(len(columns[c]) != n for c in ("section", "paragraph", "quantities")) or len(store.offsets) != n + 1:
            raise ValueError("cache chunk columns are inconsistent")
        if n and (int(store.offsets[-1]) != len(text) or int(store.doc.max()) >= len(store.docs)):
            raise ValueError("cache chunk texts are inconsistent")
        return store


@dataclass(frozen=True)
class Index:
    vocab: dict[str, int]
    fields: dict[str, Field]  # e.g. the sentence's words, its characters, its headings
    chunks: ChunkStore
    key: str

    @classmethod
    def empty(cls) -> Index:
        return cls({}, {}, ChunkStore.empty(), "")

    def terms_of(self, field: str) -> list[str]:
        """The terms that occur in a field."""
        occurs = np.diff(self.fields[field].indptr) > 0 if field in self.fields else np.zeros(len(self.vocab), bool)
        return [t for t, i in self.vocab.items() if occurs[i]]

    def updated(
        self, removed: set[str], reports: Sequence[Report], analysed: Sequence[ReportTerms], keys: Sequence[str], key: str
    ) -> Index:
        """This index without the removed reports, plus the new reports (analysed, with their keys).

        Kept chunks keep their order and the new ones follow; term ids stay and
        new terms get the next ones. Each field is edited and re-weighed in turn.
        The analyses are used up: each part is dropped as soon as it has been
        copied, so that a million chunks are never in memory twice. A full build
        is the update of an empty index.
        """
        vocab = dict(self.vocab)
        remaps = []
        for a in analysed:
            remaps.append(_ids_of(a.terms(), vocab))
            a.vocab = ""
        chunks, new_id = self.chunks.updated(removed, reports, analysed, keys)
        for a in analysed:
            a.text = b""
        _give_back_freed_memory()
        first = len(chunks) - sum(len(a) for a in analysed)  # the first new chunk's id
        fields = {}
        for name in dict.fromkeys([*self.fields, *(analysed[0].fields if analysed else ())]):
            ids, lengths = _take_field(name, remaps, analysed)
            n = max(len(chunks), 1)
            added = Postings.from_blocks(_key_blocks(ids, lengths, first, n, len(vocab)), n, len(vocab), len(ids))
            del ids
            old = self.fields.get(name)
            if old is None:
                postings, old_lengths = Postings.empty(), np.zeros(0, np.int32)
            elif new_id is None:
                postings, old_lengths = old.postings, old.lengths
            else:
                postings, old_lengths = old.postings.renumbered(new_id), old.lengths[new_id >= 0]
            fields[name] = Field.weigh(postings.then(added), np.concatenate((old_lengths, lengths)))
            del postings, added
        return Index(vocab, fields, chunks, key)

    @classmethod
    def build(cls, chunks: Sequence[Chunk], terms: dict[str, Iterable[list[str]]], key: str) -> Index:
        """terms[field] yields the terms of each chunk in turn; one vocabulary serves all fields.

        Terms become ids as they arrive, so the fields may be generators and no
        list of strings per chunk is ever held.
        """
        vocab: dict[str, int] = {}
        collected = {}
        for name, docs in terms.items():
            ids, lengths = array("i"), array("i")
            for doc in docs:
                ids.extend([vocab.setdefault(t, len(vocab)) for t in doc])
                lengths.append(len(doc))
            collected[name] = (np.frombuffer(ids, dtype=np.int32), np.frombuffer(lengths, dtype=np.int32))
        fields = {name: Field.build(ids, lengths, len(vocab)) for name, (ids, lengths) in collected.items()}
        store = chunks if isinstance(chunks, ChunkStore) else ChunkStore.from_chunks(chunks)
        return cls(vocab, fields, store, key)

    def save(self, folder: Path) -> None:
        """Write the index to folder atomically: a crash leaves the old cache or none."""
        with written_folder(folder) as tmp:
            for name, field in self.fields.items():
                for array_name in ARRAYS:
                    np.save(tmp / f"{name}.{array_name}.npy", getattr(field, array_name))
            self.chunks.save(tmp)
            (tmp / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
            # Written last: a folder without it is incomplete and is never loaded.
            meta = {"key": self.key, "chunks": len(self.chunks), "fields": list(self.fields)}
            (tmp / "meta.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, key: str | None) -> Index:
        """Load a saved index (built for key; None: whatever it was built for).

        Raises ValueError (or OSError) when it is stale or damaged.
        """
        meta = json.loads((folder / "meta.json").read_text())
        if key is not None and meta.get("key") != key:
            raise ValueError("cache was built from another corpus or config")
        chunks = ChunkStore.load(folder)
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        if len(chunks) != meta.get("chunks"):
            raise ValueError("cache chunk count does not match")
        fields = {}
        for name in meta["fields"]:
            # Plain ndarrays over the mapped files: memmap's subclass overhead on every slice is not.
            field = Field(**{a: np.asarray(np.load(folder / f"{name}.{a}.npy", mmap_mode="r")) for a in ARRAYS})
            if (
                len(field.indptr) != len(vocab) + 1
                or field.indptr[-1] != len(field.indices)
                or not len(field.indices) == len(field.tf) == len(field.data)
                or len(field.bounds) != len(vocab)
                or len(field.lengths) != len(chunks)
            ):
                raise ValueError(f"cache arrays of {name} are inconsistent")
            fields[name] = field
        return cls(vocab, fields, chunks, meta["key"])
