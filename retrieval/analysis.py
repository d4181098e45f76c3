"""The per-report half of an index build: chunk a report and turn its fields into term ids.

Each report is analysed on its own, so the work runs on every core. A result is
a few arrays and strings, not a Python object per chunk, so that a million chunks
cross from the workers and sit in memory cheaply.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import count
from multiprocessing import get_context

import numpy as np

from .chunking import chunk_report
from .corpus import Report
from .fields import INDEXED
from .index import pack_texts
from .plans import report_years
from .quantities import quantity_bits
from .tokenize import Lexicon, Tokenizer

PARALLEL_ABOVE = 2_000_000  # characters of text before a process pool pays for its start-up
BATCH_CHARS = 400_000  # work sent to a worker at a time


@dataclass
class ReportTerms:
    """One report's chunks (as columns) and, per field, its term ids in a vocabulary of its own."""

    text: bytes  # the chunk texts, UTF-8, one after another
    offsets: np.ndarray  # chunk i is text[offsets[i]:offsets[i + 1]]
    sections: np.ndarray  # chunk i is in section section_names[sections[i]]
    section_names: list[str]
    paragraphs: np.ndarray
    quantities: np.ndarray  # per chunk, the units of the numbers it holds (quantities.quantity_bits)
    vocab: str  # the report's terms in id order, NUL-separated: one string, not thousands of objects
    years: list[str]  # the years the report names, for questions that name one
    fields: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (ids of every chunk, concatenated; per-chunk counts)

    def __len__(self) -> int:
        return len(self.paragraphs)

    def terms(self) -> list[str]:
        return self.vocab.split("\0") if self.vocab else []


def analyze(report: Report, tokenizer: Tokenizer) -> ReportTerms:
    """Chunks of one report and the terms of each indexed field (fields.INDEXED)."""
    chunks = chunk_report(report)
    vocab: defaultdict[str, int] = defaultdict(count().__next__)  # a new term gets the next id
    headings: dict[tuple[str, str], list[str]] = {}  # (field, section) -> its terms: a section's chunks share them
    sections: dict[str, int] = {}
    fields: dict[str, tuple[list[int], list[int]]] = {spec.name: ([], []) for spec in INDEXED}
    for chunk in chunks:
        for spec in INDEXED:
            cut = getattr(tokenizer, spec.cut)
            if spec.source == "section":
                key = (spec.name, chunk.section)
                if key not in headings:
                    headings[key] = cut(chunk.section)
                terms = headings[key]
            else:
                terms = cut(chunk.text)
            ids, lengths = fields[spec.name]
            ids.extend(map(vocab.__getitem__, terms))  # a new term gets the next id
            lengths.append(len(terms))
    return ReportTerms(
        *pack_texts([c.text for c in chunks]),
        np.array([sections.setdefault(c.section, len(sections)) for c in chunks], dtype=np.int32),
        list(sections),
        np.array([c.paragraph for c in chunks], dtype=np.int32),
        np.array([quantity_bits(c.text) for c in chunks], dtype=np.uint32),
        "\0".join(vocab),
        report_years(report),
        {name: (np.array(ids, dtype=np.int32), np.array(lengths, dtype=np.int32)) for name, (ids, lengths) in fields.items()},
    )


_worker_tokenizer: Tokenizer | None = None


def _start_worker(lexicon: Lexicon) -> None:
    global _worker_tokenizer
    _worker_tokenizer = Tokenizer(lexicon)


def _analyze_batch(reports: list[Report]) -> list[ReportTerms]:
    return [analyze(r, _worker_tokenizer) for r in reports]


def report_key(report: Report, salt: str) -> str:
    """What a report's analysis depends on: its text, file, names, title and period, and (salt) the word lists
    and code."""
    # Another town's name in its text is not part of it: looking for thousands of
    # names in every report costs more than it is worth.
    return hashlib.sha256(f"{salt}:{report.names}:{report.title}:{report.period}:{report.file}:{report.digest}".encode()).hexdigest()[:32]


def analyze_all(reports: list[Report], tokenizer: Tokenizer) -> list[ReportTerms]:
    """Every report's terms, in order; on every core when there is enough text to pay for it."""
    if sum(len(r.text) for r in reports) > PARALLEL_ABOVE and (os.cpu_count() or 1) > 1:
        return _in_pool(reports, tokenizer.lexicon)
    return [analyze(r, tokenizer) for r in reports]


def _in_pool(reports: list[Report], lexicon: Lexicon) -> list[ReportTerms]:
    """Analyse on every core. Spawned workers: forking a process with threads (the bot) is unsafe."""
    batches: list[list[Report]] = [[]]
    size = 0
    for report in reports:
        if size > BATCH_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(report)
        size += len(report.text)
    context = get_context("spawn")
    with ProcessPoolExecutor(os.cpu_count(), mp_context=context, initializer=_start_worker, initargs=(lexicon,)) as pool:
        return [terms for batch in pool.map(_analyze_batch, batches) for terms in batch]
