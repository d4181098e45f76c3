"""Answer a question: find the town it names, rank that town's chunks, or say nothing matched."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analysis import YEAR, analyze_all, report_key, report_years
from .chunking import Chunk
from .corpus import Corpus, Report, load_corpus
from .index import Index
from .tokenize import Lexicon, Tokenizer, normalize

log = logging.getLogger(__name__)

# The code that decides what is indexed is part of the cache key, so an upgrade never serves a stale index.
_INDEXING_CODE = ("cleaning.py", "chunking.py", "tokenize.py", "analysis.py", "index.py", "search.py")
# How much a match in each field counts, relative to a word of the sentence itself.
FIELD_WEIGHTS = {"words": 1.0, "chars": 0.2, "context": 0.3}


@dataclass(frozen=True)
class Thresholds:
    """When to say 「没有找到」 rather than show a weak passage; calibrated on the seed corpus."""

    # Share of the question's weight (idf among the reports searched) that the best
    # passage and its headings hold. On the dev questions the unanswerable ones
    # score 0.0-0.21 and the answered ones 0.26 and up.
    min_coverage: float = 0.2
    relative: float = 0.3  # further passages must score this share of the best one


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    report: Report


@dataclass(frozen=True)
class Answer:
    query: str
    town_filter: str | None  # the town named in the question, if any
    terms: tuple[str, ...]  # the question's index terms that occur in the reports
    hits: tuple[Hit, ...]  # best first; empty when nothing answers the question
    total: int  # how many passages passed the threshold, for "more results"


class TownMatcher:
    """Finds town names and aliases in a question, longest name first."""

    def __init__(self, reports: tuple[Report, ...]) -> None:
        self.town_of = {normalize(name): r.town for r in reports for name in r.names}
        names = sorted(self.town_of, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, names))) if names else None

    def find(self, question: str) -> tuple[list[str], str]:
        """(towns named, the question with the names taken out)."""
        if not self._pattern:
            return [], question
        towns = list(dict.fromkeys(self.town_of[m.group()] for m in self._pattern.finditer(question)))
        return towns, self._pattern.sub(" ", question)


class Engine:
    """The retrieval API the bot and the command line use."""

    def __init__(self, corpus: Corpus, tokenizer: Tokenizer, index: Index, settings: Thresholds) -> None:
        self.corpus = corpus
        self.tokenizer = tokenizer
        self.index = index
        self.thresholds = settings
        self.towns = TownMatcher(corpus.reports)
        self.reports = {r.file: r for r in corpus.reports}
        if index.chunks.years is not None:
            self.years = {doc: set(years) for doc, years in zip(index.chunks.docs, index.chunks.years)}
        else:  # an index built from token lists (benchmarks, tests): look the years up
            self.years = {r.file: set(report_years(r)) for r in corpus.reports}
        self.ranges = index.chunks.doc_ranges()  # report file -> its chunks [lo, hi)

    @classmethod
    def load(
        cls,
        seeds: Path | str,
        config_dir: Path | str,
        cache_dir: Path | str | None,
        thresholds: Thresholds | None = None,
        rebuild: bool = False,
    ) -> Engine:
        """Read the corpus and the word lists, and load the cached index or build it.

        Raises CorpusError when the corpus is unusable; a damaged cache is only rebuilt.
        """
        corpus = load_corpus(seeds)
        lexicon = Lexicon.from_folder(config_dir, [n for r in corpus.reports for n in r.names])
        tokenizer = Tokenizer(lexicon)
        key = cache_key(corpus, lexicon)
        cache = Path(cache_dir) if cache_dir else None
        folder = cache / key[:16] if cache else None
        index = None
        if folder and folder.exists() and not rebuild:
            try:
                index = Index.load(folder, key)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("index cache %s is unusable (%s); rebuilding it", folder, exc)
        if index is None:
            base = None if rebuild or not cache else latest_index(cache, skip=folder)
            index = build_index(corpus, tokenizer, key, base)
            if folder:
                try:
                    index.save(folder)
                    forget_others(cache, folder)
                except OSError as exc:
                    log.warning("could not save the index cache in %s: %s", folder, exc)
        return cls(corpus, tokenizer, index, thresholds or Thresholds())

    def _spans(self, towns: list[str], years: set[str]) -> list[tuple[int, int]]:
        """Chunk ranges of the reports a question can be about (its towns, its years), adjacent ones merged."""
        spans: list[tuple[int, int]] = []
        for r in self.corpus.reports:
            if (towns and r.town not in towns) or not years <= self.years[r.file] or r.file not in self.ranges:
                continue
            lo, hi = self.ranges[r.file]
            if spans and spans[-1][1] == lo:
                spans[-1] = (spans[-1][0], hi)
            else:
                spans.append((lo, hi))
        return spans

    def search(self, question: str, limit: int = 3, offset: int = 0) -> Answer:
        towns, rest = self.towns.find(normalize(question))
        years = set(YEAR.findall(rest))
        words = self.tokenizer.terms(rest)
        query = {
            name: Counter(t for t in terms if t in self.index.vocab)
            for name, terms in query_terms(self.tokenizer, rest, words).items()
        }
        town = towns[0] if len(towns) == 1 else None
        spans = self._spans(towns, years)
        if not query["words"] or not spans:
            return Answer(question, town, tuple(query["words"]), (), 0)
        scores = np.concatenate([self._score(query, lo, hi) for lo, hi in spans])
        starts = np.cumsum([0] + [hi - lo for lo, hi in spans])

        def chunk_id(pos: int) -> int:
            """Position in `scores` -> chunk id (spans ascend, so positions keep the ids' order)."""
            span = int(np.searchsorted(starts, pos, side="right")) - 1
            return spans[span][0] + pos - int(starts[span])

        best = int(np.argmax(scores))
        if scores[best] <= 0 or self._coverage(words, years, chunk_id(best), spans) < self.thresholds.min_coverage:
            return Answer(question, town, tuple(query["words"]), (), 0)
        matched = scores >= self.thresholds.relative * float(scores[best])
        total = int(np.count_nonzero(matched))
        wanted = min(offset + limit, total)
        if wanted <= 0:
            return Answer(question, town, tuple(query["words"]), (), total)
        top = np.argpartition(-scores, wanted - 1)[:wanted] if wanted < len(scores) else np.arange(len(scores))
        top = top[matched[top]]
        order = top[np.lexsort((top, -scores[top]))][offset : offset + limit]
        hits = []
        for pos in order:
            chunk = self.index.chunks[chunk_id(int(pos))]
            hits.append(Hit(chunk, float(scores[pos]), self.reports[chunk.doc]))
        return Answer(question, town, tuple(query["words"]), tuple(hits), total)

    def _score(self, query: dict[str, Counter[str]], lo: int, hi: int) -> np.ndarray:
        scores = np.zeros(hi - lo, dtype=np.float32)
        for name, terms in query.items():
            field, weight = self.index.fields[name], FIELD_WEIGHTS[name]
            for term, count in terms.items():
                field.add_scores(scores, self.index.vocab[term], weight * count, lo, hi)
        return scores

    def _coverage(self, words: list[str], years: set[str], chunk_id: int, spans: list[tuple[int, int]]) -> float:
        """Share of the question's meaning found in the passage or its headings.

        Each word weighs its idf among the reports searched, so words common in
        that town (上半年 in a half-year report) count little and a word the
        reports never use (常住人口) counts fully against the passage.
        """
        n = sum(hi - lo for lo, hi in spans)
        total = found = 0.0
        for term in set(words) - years:
            tid = self.index.vocab.get(term)
            df, present = 0, False
            if tid is not None:
                for name in ("words", "context"):
                    field = self.index.fields[name]
                    if name == "words":
                        df = sum(field.df_in(tid, lo, hi) for lo, hi in spans)
                    present = present or field.df_in(tid, chunk_id, chunk_id + 1) > 0
            weight = math.log((n + 1) / (df + 0.5))
            total += weight
            found += weight * present
        return found / total if total else 0.0

    def highlights(self, answer: Answer, text: str) -> list[tuple[int, int]]:
        """Where the question's words (or their synonyms) stand in a passage: (start, end) spans."""
        wanted = set(answer.terms)
        return [(start, end) for term, start, end in self.tokenizer.spans(text) if term in wanted]

    def context(self, chunk_id: int, radius: int = 2) -> list[Chunk]:
        """The chunk with up to radius sentences either side, within its report and section."""
        chunks = self.index.chunks
        if not 0 <= chunk_id < len(chunks):
            return []
        focus = chunks[chunk_id]
        lo = max(0, chunk_id - radius)
        return [c for c in chunks[lo : chunk_id + radius + 1] if c.doc == focus.doc and c.section == focus.section]


def key_of_analysis(lexicon: Lexicon) -> str:
    """What a report's tokens depend on besides its text: the word lists and the code."""
    digest = hashlib.sha256(lexicon.fingerprint.encode())
    for name in _INDEXING_CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def cache_key(corpus: Corpus, lexicon: Lexicon) -> str:
    return hashlib.sha256(f"{corpus.fingerprint}:{lexicon.names}:{key_of_analysis(lexicon)}".encode()).hexdigest()


def query_terms(tokenizer: Tokenizer, text: str, words: list[str]) -> dict[str, list[str]]:
    """The question's terms per field. A synonym counts in the characters field as the word the
    reports use (its group's first): 「GDP是多少」 leans to 地区生产总值 as 「地区生产总值是多少」 does."""
    canonical = tokenizer.lexicon.canonical
    spelled = "".join(w for w in dict.fromkeys(words) if w in canonical and w not in text)
    return {"words": words, "chars": tokenizer.chars(text + spelled), "context": words}


def build_index(corpus: Corpus, tokenizer: Tokenizer, key: str, base: Index | None = None) -> Index:
    """Index the corpus, starting from base (an index of an earlier corpus) when there is one.

    Only the reports that base lacks, or holds in another version, are analysed:
    adding one report to a million chunks tokenizes that report alone.
    """
    salt = key_of_analysis(tokenizer.lexicon)
    wanted = [(r.file, report_key(r, salt)) for r in corpus.reports]
    base = base or Index.empty()
    docs, keys = base.chunks.docs, base.chunks.keys
    held = list(zip(docs, keys + [""] * (len(docs) - len(keys))))  # a report without a key is not reused
    removed = {doc for doc, _ in set(held) - set(wanted)}
    ranges = base.chunks.doc_ranges()
    if 2 * sum(hi - lo for doc, (lo, hi) in ranges.items() if doc in removed) > len(base.chunks):
        base, held, removed = Index.empty(), [], set()  # mostly another corpus: start afresh, without its leftovers
    kept = {pair for pair in held if pair[0] not in removed}
    todo = [i for i, pair in enumerate(wanted) if pair not in kept]
    log.info("tokenizing %d of %d reports (the rest from the index cache)", len(todo), len(corpus.reports))
    reports = [corpus.reports[i] for i in todo]
    return base.updated(removed, reports, analyze_all(reports, tokenizer), [wanted[i][1] for i in todo], key)


def latest_index(cache: Path, skip: Path | None) -> Index | None:
    """The most recently saved index in the cache folder (other than skip), to build on; None if none loads."""
    saved = sorted((p.parent for p in cache.glob("*/meta.json") if p.parent != skip), key=lambda p: p.stat().st_mtime)
    for folder in reversed(saved):
        try:
            return Index.load(folder, None)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.info("not building on %s (%s)", folder, exc)
    return None


def forget_others(cache: Path, keep: Path) -> None:
    """Remove the cache's other indexes (and token files of older versions): the newest is all a build needs.

    A process still serving from a removed index keeps its mapped files until it lets them go.
    """
    for path in cache.iterdir():
        if path != keep and path.is_dir() and ((path / "meta.json").exists() or path.name == "tokens"):
            shutil.rmtree(path, ignore_errors=True)
