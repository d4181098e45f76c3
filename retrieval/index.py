"""BM25 postings: built once from the chunks, saved as arrays, memory-mapped on load.

Scores are BM25 in the exact sense of rank-bm25's ``BM25Okapi`` (same idf,
same epsilon floor for very common terms), precomputed per (term, chunk) so a
query only adds up the postings of its few terms.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from .chunking import Chunk

K1, B, EPSILON = 1.5, 0.75, 0.25
ARRAYS = ("indptr", "indices", "data")


@dataclass(frozen=True)
class Field:
    """Column-wise postings of one field: for term t, chunks indices[indptr[t]:indptr[t+1]]."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def build(cls, docs: list[list[int]], vocab_size: int) -> Field:
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), [len(d) for d in docs])
        cols = np.fromiter((t for d in docs for t in d), dtype=np.int64, count=len(rows))
        tf = sparse.csc_matrix(
            (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(len(docs), vocab_size)
        )
        tf.sum_duplicates()
        tf.sort_indices()
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        avgdl = lengths.mean() if len(docs) and lengths.sum() else 1.0
        n = len(docs)
        df = np.diff(tf.indptr).astype(np.float64)
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        seen = df > 0  # rank-bm25 only knows terms that occur; its floor averages over those
        if seen.any():
            idf[seen & (idf < 0)] = EPSILON * idf[seen].mean()
        norm = K1 * (1 - B + B * lengths / avgdl)
        freq = tf.data
        doc_of = tf.indices
        term_of = np.repeat(np.arange(vocab_size), np.diff(tf.indptr))
        weights = idf[term_of] * freq * (K1 + 1) / (freq + norm[doc_of])
        return cls(tf.indptr.astype(np.int64), doc_of.astype(np.int32), weights.astype(np.float32))

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


@dataclass(frozen=True)
class Index:
    vocab: dict[str, int]
    fields: dict[str, Field]  # e.g. the sentence's words, its word pairs, its headings
    chunks: list[Chunk]
    key: str

    @classmethod
    def build(cls, chunks: list[Chunk], terms: dict[str, list[list[str]]], key: str) -> Index:
        """terms[field][i]: the terms of chunk i in that field; one vocabulary serves all fields."""
        vocab: dict[str, int] = {}
        ids = {name: [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in docs] for name, docs in terms.items()}
        fields = {name: Field.build(docs, len(vocab)) for name, docs in ids.items()}
        return cls(vocab, fields, chunks, key)

    def save(self, folder: Path) -> None:
        """Write the index to folder atomically: a crash leaves the old cache or none."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        try:
            for name, field in self.fields.items():
                for array in ARRAYS:
                    np.save(tmp / f"{name}.{array}.npy", getattr(field, array))
            (tmp / "chunks.json").write_text(
                json.dumps([asdict(c) for c in self.chunks], ensure_ascii=False), encoding="utf-8"
            )
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
        chunks = [Chunk(**c) for c in json.loads((folder / "chunks.json").read_text(encoding="utf-8"))]
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
