"""BM25 postings and the chunks they point at: built once, saved as arrays, memory-mapped on load.

Scores are BM25 in the exact sense of rank-bm25's ``BM25Okapi`` (same idf,
same epsilon floor for very common terms), precomputed per (term, chunk) so a
query only adds up the postings of its few terms. Terms become ids as they are
read, and chunks are stored as columns, so a million chunks fit in memory and
load in a moment.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .chunking import Chunk
from .corpus import Report

if TYPE_CHECKING:
    from .analysis import ReportTerms

K1, B, EPSILON = 1.5, 0.75, 0.25
ARRAYS = ("indptr", "indices", "data")
COLUMNS = ("offsets", "doc", "section", "paragraph")


@dataclass(frozen=True)
class Field:
    """Column-wise postings of one field: for term t, chunks indices[indptr[t]:indptr[t+1]]."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def build(cls, ids: np.ndarray, lengths: np.ndarray, vocab_size: int) -> Field:
        """From every chunk's term ids, concatenated (ids), and how many each chunk has (lengths)."""
        keys = ids.astype(np.int64)
        keys *= max(len(lengths), 1)
        keys += np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
        return cls.from_keys(keys, lengths, vocab_size)

    @classmethod
    def from_keys(cls, keys: np.ndarray, lengths: np.ndarray, vocab_size: int) -> Field:
        """From one key term * chunks + chunk per term occurrence (any order; sorted here, in place).

        One sort gives the postings; arrays are freed as soon as they are used, so
        that building a field holds little more than its keys.
        """
        n = max(len(lengths), 1)
        keys.sort()
        first = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        del first
        freq = np.diff(np.append(starts, len(keys))).astype(np.float32)
        unique = keys[starts]
        del keys, starts
        term_of = (unique // n).astype(np.int32)
        doc_of = (unique % n).astype(np.int32)
        del unique
        df = np.bincount(term_of, minlength=vocab_size).astype(np.float64)
        indptr = np.r_[0, np.cumsum(df)].astype(np.int64)
        idf = np.log(len(lengths) - df + 0.5) - np.log(df + 0.5)
        seen = df > 0  # rank-bm25 only knows terms that occur; its floor averages over those
        if seen.any():
            idf[seen & (idf < 0)] = EPSILON * idf[seen].mean()
        lengths = lengths.astype(np.float64)
        avgdl = lengths.mean() if len(lengths) and lengths.sum() else 1.0
        norm = (K1 * (1 - B + B * lengths / avgdl)).astype(np.float32)
        weights = idf.astype(np.float32)[term_of]
        del term_of
        weights *= freq * np.float32(K1 + 1) / (freq + norm[doc_of])
        return cls(indptr, doc_of, weights)

    def add_scores(self, scores: np.ndarray, term: int, weight: float, lo: int, hi: int) -> None:
        """Add weight * BM25(term, chunk) to scores[chunk - lo] for chunks in [lo, hi)."""
        start, end = int(self.indptr[term]), int(self.indptr[term + 1])
        if start == end:
            return
        ids = self.indices[start:end]
        a, b = np.searchsorted(ids, [lo, hi])
        scores[ids[a:b] - lo] += weight * self.data[start + a : start + b]

    def df_in(self, term: int, lo: int, hi: int) -> int:
        """How many chunks in [lo, hi) contain the term."""
        ids = self.indices[int(self.indptr[term]) : int(self.indptr[term + 1])]
        a, b = np.searchsorted(ids, [lo, hi])
        return int(b - a)


class ChunkStore(Sequence[Chunk]):
    """Chunks as columns: the texts in one UTF-8 buffer, the rest as arrays; a Chunk is made on access."""

    def __init__(
        self, text, offsets, doc, section, paragraph, docs: list[str], towns: list[str], sections: list[str],
        years: list[list[str]] | None = None,
    ) -> None:
        self._text = text
        self.offsets, self.doc, self.section, self.paragraph = offsets, doc, section, paragraph
        self.docs, self.towns, self.sections = docs, towns, sections  # towns[i] is the town of docs[i]
        self.years = years  # years[i]: the years docs[i] names (from_reports); None when not known

    @classmethod
    def from_chunks(cls, chunks: Sequence[Chunk]) -> ChunkStore:
        docs: dict[str, int] = {}
        towns: list[str] = []
        sections: dict[str, int] = {}
        encoded = [c.text.encode() for c in chunks]
        for c in chunks:
            if c.doc not in docs:
                docs[c.doc] = len(docs)
                towns.append(c.town)
        return cls(
            b"".join(encoded),
            np.r_[0, np.cumsum([len(e) for e in encoded], dtype=np.int64)].astype(np.int64),
            np.array([docs[c.doc] for c in chunks], dtype=np.int32),
            np.array([sections.setdefault(c.section, len(sections)) for c in chunks], dtype=np.int32),
            np.array([c.paragraph for c in chunks], dtype=np.int32),
            list(docs),
            towns,
            list(sections),
        )

    @classmethod
    def from_reports(cls, reports: Sequence[Report], analysed: Sequence[ReportTerms]) -> ChunkStore:
        sections: dict[str, int] = {}
        encoded = [t.encode() for terms in analysed for t in terms.texts]
        counts = [len(terms.texts) for terms in analysed]
        return cls(
            b"".join(encoded),
            np.r_[0, np.cumsum([len(e) for e in encoded], dtype=np.int64)].astype(np.int64),
            np.repeat(np.arange(len(reports), dtype=np.int32), counts),
            np.array([sections.setdefault(s, len(sections)) for terms in analysed for s in terms.sections], dtype=np.int32),
            np.concatenate([terms.paragraphs for terms in analysed] or [np.zeros(0, np.int32)]).astype(np.int32),
            [r.file for r in reports],
            [r.town for r in reports],
            list(sections),
            [terms.years for terms in analysed],
        )

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
        text = self._text[int(self.offsets[i]) : int(self.offsets[i + 1])].decode()
        return Chunk(i, self.docs[doc], self.towns[doc], self.sections[int(self.section[i])], int(self.paragraph[i]), text)

    def __iter__(self) -> Iterator[Chunk]:
        return (self[i] for i in range(len(self)))

    def doc_ranges(self) -> dict[str, tuple[int, int]]:
        """Each report's chunks [lo, hi): a report's chunks are consecutive."""
        starts = np.flatnonzero(np.r_[True, self.doc[1:] != self.doc[:-1]]) if len(self) else np.zeros(0, int)
        ends = np.r_[starts[1:], len(self)]
        return {self.docs[int(self.doc[s])]: (int(s), int(e)) for s, e in zip(starts, ends)}

    def save(self, folder: Path) -> None:
        (folder / "chunks.text").write_bytes(bytes(self._text))
        for name in COLUMNS:
            np.save(folder / f"chunks.{name}.npy", getattr(self, name))
        names = {"docs": self.docs, "towns": self.towns, "sections": self.sections, "years": self.years}
        (folder / "chunks.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> ChunkStore:
        names = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        columns = {name: np.asarray(np.load(folder / f"chunks.{name}.npy", mmap_mode="r")) for name in COLUMNS}
        with open(folder / "chunks.text", "rb") as f:
            text = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
        store = cls(text, **columns, **names)
        n = len(store.doc)
        if any(len(columns[c]) != n for c in ("section", "paragraph")) or len(store.offsets) != n + 1:
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
    def from_reports(cls, reports: Sequence[Report], analysed: Sequence[ReportTerms], key: str) -> Index:
        """Join the reports' own vocabularies into one and their chunks into one store.

        Fields are built one at a time and each report's ids are dropped once
        used, so only one field's postings are ever being built.
        """
        vocab: dict[str, int] = {}
        remaps = []
        for a in analysed:
            terms = a.terms()
            remaps.append(np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), np.int32, len(terms)))
        n = sum(len(a.texts) for a in analysed)
        fields = {}
        for name in list(analysed[0].fields if analysed else ()):
            keys = np.empty(sum(len(a.fields[name][0]) for a in analysed), dtype=np.int64)
            at = first_chunk = 0
            for remap, a in zip(remaps, analysed):
                ids, lengths = a.fields[name]
                part = keys[at : at + len(ids)]
                np.multiply(remap[ids], n, out=part, dtype=np.int64)
                part += np.repeat(np.arange(first_chunk, first_chunk + len(lengths), dtype=np.int64), lengths)
                at += len(ids)
                first_chunk += len(lengths)
            lengths = np.concatenate([a.fields[name][1] for a in analysed])
            for a in analysed:
                del a.fields[name]
            fields[name] = Field.from_keys(keys, lengths, len(vocab))
            del keys, lengths
        return cls(vocab, fields, ChunkStore.from_reports(reports, analysed), key)

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
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        try:
            for name, field in self.fields.items():
                for array_name in ARRAYS:
                    np.save(tmp / f"{name}.{array_name}.npy", getattr(field, array_name))
            self.chunks.save(tmp)
            (tmp / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
            # Written last: a folder without it is incomplete and is never loaded.
            meta = {"key": self.key, "chunks": len(self.chunks), "fields": list(self.fields)}
            (tmp / "meta.json").write_text(json.dumps(meta))
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, key: str) -> Index:
        """Load a saved index; raises ValueError (or OSError) when it is stale or damaged."""
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("key") != key:
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
                or len(field.indices) != len(field.data)
            ):
                raise ValueError(f"cache arrays of {name} are inconsistent")
            fields[name] = field
        return cls(vocab, fields, chunks, key)
