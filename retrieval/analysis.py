"""The per-report half of an index build: chunk a report and turn its fields into term ids.

Each report is analysed on its own, so the work runs on every core, and the
result is cached by the report's content: a reload re-tokenizes only the
reports that are new or changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import count
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from .chunking import chunk_report
from .corpus import Report
from .tokenize import Lexicon, Tokenizer, normalize

log = logging.getLogger(__name__)

PARALLEL_ABOVE = 2_000_000  # characters of uncached text before a process pool pays for its start-up
BATCH_CHARS = 400_000  # work sent to a worker at a time


@dataclass
class ReportTerms:
    """One report's chunks (as columns) and, per field, its term ids in a vocabulary of its own."""

    texts: list[str]
    sections: list[str]
    paragraphs: np.ndarray
    vocab: str  # the report's terms in id order, NUL-separated: one string, not thousands of objects
    years: list[str]  # the years the report names, for questions that name one
    fields: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (ids of every chunk, concatenated; per-chunk counts)

    def terms(self) -> list[str]:
        return self.vocab.split("\0") if self.vocab else []

    def save(self, path: Path) -> None:
        arrays = {f"{name}.{part}": a for name, pair in self.fields.items() for part, a in zip(("ids", "lengths"), pair)}
        names = json.dumps(
            {"texts": self.texts, "sections": self.sections, "vocab": self.vocab, "years": self.years}, ensure_ascii=False
        )
        tmp = path.with_suffix(".part.npz")
        np.savez(tmp, names=np.array(names), paragraphs=self.paragraphs, **arrays)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, fields: list[str]) -> ReportTerms:
        with np.load(path, allow_pickle=False) as data:
            names = json.loads(str(data["names"]))
            pairs = {name: (data[f"{name}.ids"], data[f"{name}.lengths"]) for name in fields}
            paragraphs = data["paragraphs"]
        return cls(names["texts"], names["sections"], paragraphs, names["vocab"], names["years"], pairs)


def analyze(report: Report, tokenizer: Tokenizer) -> ReportTerms:
    """Chunks of one report and the terms of each field: the sentence's words, its characters, its headings."""
    chunks = chunk_report(report)
    vocab: defaultdict[str, int] = defaultdict(count().__next__)  # a new term gets the next id
    headings: dict[str, list[str]] = {}
    fields: dict[str, tuple[list[int], list[int]]] = {name: ([], []) for name in FIELDS}
    for chunk in chunks:
        if chunk.section not in headings:
            headings[chunk.section] = tokenizer.terms(chunk.section)
        for name, terms in (("words", tokenizer.terms(chunk.text)), ("chars", tokenizer.chars(chunk.text)), ("context", headings[chunk.section])):
            ids, lengths = fields[name]
            ids.extend([vocab[t] for t in terms])
            lengths.append(len(terms))
    return ReportTerms(
        [c.text for c in chunks],
        [c.section for c in chunks],
        np.array([c.paragraph for c in chunks], dtype=np.int32),
        "\0".join(vocab),
        report_years(report),
        {name: (np.array(ids, dtype=np.int32), np.array(lengths, dtype=np.int32)) for name, (ids, lengths) in fields.items()},
    )


FIELDS = ("words", "chars", "context")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?=\s*年)")


def report_years(report: Report) -> list[str]:
    """The years a report names (2025年, 2024 年): a question naming another year is not about it."""
    return sorted(set(YEAR.findall(normalize(report.title + report.text))))

_worker_tokenizer: Tokenizer | None = None


def _start_worker(lexicon: Lexicon) -> None:
    global _worker_tokenizer
    _worker_tokenizer = Tokenizer(lexicon)


def _analyze_batch(reports: list[Report]) -> list[ReportTerms]:
    return [analyze(r, _worker_tokenizer) for r in reports]


def analyze_all(
    reports: tuple[Report, ...], tokenizer: Tokenizer, cache: Path | None, salt: str
) -> list[ReportTerms]:
    """Every report's terms, in order: from the cache where the report is unchanged, else computed."""
    # A report's own names are part of its key; another town's name in its text is not
    # (looking for thousands of names in every report costs more than it is worth).
    keys = [hashlib.sha256(f"{salt}:{r.names}:{r.file}:{r.text}".encode()).hexdigest()[:32] for r in reports]
    results: list[ReportTerms | None] = [None] * len(reports)
    if cache:
        for i, key in enumerate(keys):
            path = cache / f"{key}.npz"
            if path.is_file():
                try:
                    results[i] = ReportTerms.load(path, list(FIELDS))
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("token cache %s is unusable (%s); re-tokenizing", path.name, exc)
    todo = [i for i, r in enumerate(results) if r is None]
    log.info("tokenizing %d of %d reports (the rest from the token cache)", len(todo), len(reports))
    if sum(len(reports[i].text) for i in todo) > PARALLEL_ABOVE and (os.cpu_count() or 1) > 1:
        computed = _in_pool([reports[i] for i in todo], tokenizer.lexicon)
    else:
        computed = [analyze(reports[i], tokenizer) for i in todo]
    for i, terms in zip(todo, computed):
        results[i] = terms
        if cache:
            try:
                cache.mkdir(parents=True, exist_ok=True)
                terms.save(cache / f"{keys[i]}.npz")
            except OSError as exc:
                log.warning("could not cache the tokens of %s: %s", reports[i].file, exc)
    if cache:
        _forget_others(cache, set(keys))
    return results


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


def _forget_others(cache: Path, keep: set[str]) -> None:
    """Token files of reports no longer in the corpus are removed, so the cache does not grow forever."""
    for path in cache.glob("*.npz"):
        if path.stem not in keep:
            path.unlink(missing_ok=True)

