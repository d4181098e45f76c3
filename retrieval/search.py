"""Answer a question: rank the chunks of the towns it names, weigh the best, and say how sure that is.

The answer is finished here, off the bot's event loop: the passages with the
spans to bold, the best passage of each town named, and when nothing answers,
why. The bot only renders it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .cache import load_index
from .chunking import Chunk
from .confidence import FALLBACK, Evidence, Model
from .corpus import Corpus, Report, load_corpus
from .evidence import Searched, UsedIn, Weigher, Weights
from .fields import FIELDS, INDEXED
from .followup import asked_again, named_only
from .index import Index
from .plans import Plans, report_years, reviewed_years
from .pruning import Term, score_all, score_best, warm_up
from .quantities import number_fits
from .question import Question, TownMatcher, parse, spelled_out
from .rerank import RERANKED, Ranker, features
from .tokenize import Lexicon, Tokenizer, rarity
from .vectors import Meanings, load_vectors

CANDIDATES = 50  # the best chunks by BM25 that the number and place preferences may reorder
NUMBER_PREFERENCE = 1.0  # a passage with the number asked for scores this much more (half for another unit)
# A passage naming the places the question names (东岳村) scores this much more: in effect those passages
# come first, as a filter would put them, but when none names the place the best of the rest still answer.
PLACE_PREFERENCE = 10.0
QUOTE_PREFERENCE = 1.0  # a passage holding the phrase a question quotes (“五大工程”) scores this much more
# The best this many candidates are read for a lead-in of targets (plans.Plans.stated); the rest go by heading.
LEADS_READ = 20
TIES_MOST = 10 * CANDIDATES  # when more chunks tie than this, the first of them (in corpus order) are weighed
# A search of more chunks than this scores only those that can be among the CANDIDATES best (pruning.py):
# below it, scoring every posting costs less than sorting out which to skip.
PRUNE_ABOVE = 20_000


@dataclass(frozen=True)
class Candidate:
    """One of the best passages for a question, as the ranker and the confidence model see it."""

    chunk_id: int
    evidence: Evidence
    features: np.ndarray  # rerank.features


@dataclass(frozen=True)
class Thresholds:
    relative: float = 0.3  # further passages must score this share of the best one


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    report: Report
    spans: tuple[tuple[int, int], ...] = ()  # where the question's words (or words like them) stand in the text


@dataclass(frozen=True)
class Answer:
    query: str
    towns: tuple[str, ...]  # the towns the question names
    terms: tuple[str, ...]  # the question's index terms that occur in the reports
    hits: tuple[Hit, ...]  # best first (the best of each town named leading); empty when nothing answers
    total: int  # how many passages are worth showing, for "more results"
    lead: tuple[Hit, ...] = ()  # what to show first: the best passage, or the best of each town named
    confidence: float = 0.0  # the probability that the lead answers the question
    sure: bool = True  # False: show the lead with a caveat
    reason: str = ""  # why there are no hits
    evidence: Evidence | None = None  # what the confidence was judged on (the weakest lead's)
    assumed: tuple[str, ...] = ()  # the towns of the conversation it was searched for, the question naming none
    considered: tuple[Candidate, ...] = ()  # the best candidates of each town, by BM25, that were weighed again
    reviewed: tuple[str, ...] = ()  # a year no report of the towns named covers: the years they review, newest first

    @property
    def town_filter(self) -> str | None:
        return self.towns[0] if len(self.towns) == 1 else None


@dataclass(frozen=True)
class Context:
    focus: Hit
    chunks: tuple[Chunk, ...]  # the passage and the sentences around it, in order


class Engine:
    """The retrieval API the bot and the command line use."""

    def __init__(
        self, corpus: Corpus, tokenizer: Tokenizer, index: Index, settings: Thresholds | None = None,
        meanings: Meanings | None = None, model: Model | None = None, ranker: Ranker | None = None,
    ) -> None:
        self.corpus = corpus
        self.tokenizer = tokenizer
        self.index = index
        self.thresholds = settings or Thresholds()
        self.meanings = meanings
        self.model = model or FALLBACK
        self.ranker = ranker  # None: the best passages stay in BM25's order
        self.weigher = Weigher(index)
        self.towns = TownMatcher(corpus.reports)
        self._reports = {r.file: r for r in corpus.reports}
        if index.chunks.years is not None:
            self.years = {doc: set(years) for doc, years in zip(index.chunks.docs, index.chunks.years)}
        else:  # an index built from token lists (benchmarks, tests): look the years up
            self.years = {r.file: set(report_years(r)) for r in corpus.reports}
        self.plans = Plans(index.chunks, corpus.reports)
        self.ranges = index.chunks.doc_ranges()  # report file -> its chunks [lo, hi)
        self._span_memo: dict[tuple[tuple[str, ...], frozenset[str], bool], list[tuple[int, int]]] = {}
        self.prune_above = PRUNE_ABOVE  # benchmarks raise it to time the search without pruning

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
        index = load_index(corpus, tokenizer, cache_dir, rebuild)
        rarity("的")  # jieba's own dictionary (0.09 s, 24 MB) loaded now, not at the first question
        vectors = load_vectors(Path(cache_dir) if cache_dir else None)
        meanings = Meanings(vectors, index.terms_of("words")) if vectors else None
        engine = cls(corpus, tokenizer, index, thresholds, meanings, Model.load(config_dir), Ranker.load(config_dir))
        if len(index.chunks) > PRUNE_ABOVE:  # done now, not at a user's question
            warm_up(len(INDEXED))  # compiled (or read from numba's cache)
            engine.plans.prepare()
        return engine

    # ------------------------------------------------------------------ what the bot may read

    @property
    def reports(self) -> tuple[Report, ...]:
        return self.corpus.reports

    @property
    def key(self) -> str:
        """Which index answered: a stored answer's chunk ids hold only for the same key."""
        return self.index.key

    def __len__(self) -> int:
        return len(self.index.chunks)

    def context(self, chunk_id: int, radius: int = 2) -> Context | None:
        """The chunk with up to radius sentences either side, within its report and section."""
        chunks = self.index.chunks
        if not 0 <= chunk_id < len(chunks):
            return None
        focus = chunks[chunk_id]
        lo = max(0, chunk_id - radius)
        around = tuple(c for c in chunks[lo : chunk_id + radius + 1] if c.doc == focus.doc and c.section == focus.section)
        return Context(Hit(focus, 0.0, self._reports[focus.doc]), around)

    # ------------------------------------------------------------------ searching

    def search(self, text: str, limit: int = 3, offset: int = 0, assume: tuple[str, ...] = ()) -> Answer:
        """The answer to a question. assume: the towns a chat was talking about; a question naming no town
        prefers them (their best passage when it answers, else the best passage anywhere when that does)."""
        q = parse(text, self.towns, self.tokenizer, self.meanings)
        assume = tuple(t for t in assume if t in self.towns.town_of.values())
        if not assume or q.towns or q.other_towns:
            return self._answer(q, limit, offset)
        there = replace(self._answer(replace(q, towns=assume), limit, offset), assumed=assume)
        if there.hits and there.sure:
            return there
        anywhere = self._answer(q, limit, offset)
        return anywhere if anywhere.hits and (anywhere.sure or not there.hits) else there

    def follow_up(self, text: str, last: str) -> str | None:
        """The last question asked again for the towns or years a message names when it names nothing else
        (「那下蜀镇呢」「2023年呢」), or None when the message is a question of its own."""
        named = named_only(text, self.towns)
        return asked_again(last, *named, self.towns) if named else None

    def _answer(self, q: Question, limit: int, offset: int) -> Answer:
        text = q.text
        terms = tuple(t for t in q.words if t in self.index.vocab)
        named = [[town] for town in q.towns] if len(q.towns) > 1 else [list(q.towns)]
        groups = [g for g in (self._spans(towns, q.years, q.plans) for towns in named) if g]
        if not terms and not q.neighbours:  # stand-ins are words of the reports
            return Answer(text, q.towns, terms, (), 0, reason="no words")
        if not groups:
            planned = q.years and not q.plans and any(self._spans(towns, q.years, True) for towns in named)
            reason = "only plans for that year" if planned else "no report for that year" if q.years else "no report"
            reviewed = reviewed_years(self.corpus.reports, q.towns) if q.years else ()
            return Answer(text, q.towns, terms, (), 0, reason=reason, reviewed=reviewed)
        # One scores array over the chunks from the first span searched to the last (a position is a chunk id
        # minus lo), the chunks outside the spans zeroed: scoring a range costs less than scoring hundreds.
        lo, hi = min(g[0][0] for g in groups), max(g[-1][1] for g in groups)
        if groups == [[(lo, hi)]]:  # one run of chunks (no town named in a corpus of one year): no mask to build
            masks, searched = [None], Searched(lo, hi, None, hi - lo)
        else:
            masks = [self._mask(group, lo, hi) for group in groups]
            searched = Searched.of(lo, hi, masks[0] if len(masks) == 1 else np.logical_or.reduce(masks))
        # The question's words the reports searched never use are searched by their characters: with a town or a year
        # named, also the words only the other reports use.
        used = self.index.vocab if searched.n == len(self.index.chunks) else UsedIn(self.index, searched)
        q = replace(q, spelled=spelled_out(q.whole, used))
        scores = self._score(self._query(q), searched, pruned=len(masks) == 1)
        leads: list[tuple[int, float, Evidence]] = []  # position, probability and evidence of each group's best
        weights = self.weigher.weights(q, searched)
        reranked: list[int] = []  # the positions weighed again, best first within each group
        considered: list[Candidate] = []
        scored = np.flatnonzero(scores > 0)  # a pruned search scores few chunks: what follows looks at those only
        for mask in masks:
            positions = scored if mask is None else scored[mask[scored]]
            if not len(positions):
                continue
            self._prefer(q, scores, positions, lo)
            if q.other_towns and not self._named(q.other_towns, positions, scores, lo):
                return Answer(text, q.towns, terms, (), 0, reason="a town the reports do not cover")
            candidates = self._candidates(q, scores, _best(positions, scores, RERANKED), lo, weights)
            considered.extend(candidates)
            order = self.ranker.order(np.array([c.features for c in candidates])) if self.ranker else range(len(candidates))
            ordered = [candidates[i] for i in order]
            reranked.extend(c.chunk_id - lo for c in ordered)
            leads.append((ordered[0].chunk_id - lo, self.model.probability(ordered[0].evidence), ordered[0].evidence))
        weakest = min(leads, key=lambda lead: lead[1], default=None)
        leads = [lead for lead in leads if self.model.verdict(lead[1]) != "none"]
        if not leads:
            return Answer(text, q.towns, terms, (), 0, reason="not in the reports", evidence=weakest and weakest[2],
                          considered=tuple(considered))
        lead_positions = [pos for pos, _, _ in leads]
        least = self.thresholds.relative * max(float(scores[pos]) for pos in lead_positions)
        matched = scored[scores[scored] >= least]
        matched = matched[~np.isin(matched, lead_positions)]
        # At most CANDIDATES passages are offered: a pruned search knows the scores of those best ones only.
        total = min(len(matched), max(0, CANDIDATES - len(leads))) + len(leads)
        # The passages weighed again come first in their new order, then the rest by score.
        first = [pos for pos in reranked if scores[pos] >= least and pos not in lead_positions]
        by_score = _best(matched, scores, max(0, min(offset + limit, total) - len(lead_positions)))
        chosen = set(first)
        rest = [*first, *(pos for pos in by_score.tolist() if pos not in chosen)][: total - len(leads)]
        order = [*lead_positions, *rest][offset : min(offset + limit, total)]
        wanted_terms = set(terms) | set(q.neighbours)
        hits = tuple(self._hit(lo + pos, float(scores[pos]), wanted_terms) for pos in order)
        _, probability, evidence = min(leads, key=lambda lead: lead[1])
        lead = hits[: len(leads)] if offset == 0 else ()
        return Answer(
            text, q.towns, terms, hits, total, lead, probability,
            self.model.verdict(probability) == "sure", evidence=evidence, considered=tuple(considered),
        )

    @staticmethod
    def _mask(spans: list[tuple[int, int]], lo: int, hi: int) -> np.ndarray:
        mask = np.zeros(hi - lo, dtype=bool)
        for a, b in spans:
            mask[a - lo : b - lo] = True
        return mask

    def _query(self, q: Question) -> dict[str, Counter[int]]:
        """Per field, the question's term ids with how much each counts."""
        vocab = self.index.vocab
        query: dict[str, Counter[int]] = {}
        for spec in FIELDS:
            values = getattr(q, spec.question)
            counted = values.items() if isinstance(values, dict) else Counter(values).items()
            query[spec.name] = Counter({vocab[t]: c for t, c in counted if t in vocab})
        return query

    def _spans(self, towns: list[str], years: frozenset[str], plans: bool) -> list[tuple[int, int]]:
        """Chunk ranges of the reports a question can be about (its towns, its years, or the years they plan
        when it asks about plans), adjacent ones merged.

        Kept per (towns, years, plans): with thousands of reports the walk costs more than the scoring."""
        key = (tuple(towns), years, plans)
        if key not in self._span_memo:
            if len(self._span_memo) > 4096:
                self._span_memo.clear()
            self._span_memo[key] = self._walk(*key)
        return self._span_memo[key]

    def _walk(self, towns: tuple[str, ...], years: frozenset[str], plans: bool) -> list[tuple[int, int]]:
        """The spans in chunk order (an updated index keeps a changed report's chunks at its end)."""
        spans: list[tuple[int, int]] = []
        wanted = [
            self.ranges[r.file] for r in self.corpus.reports
            if (not towns or r.town in towns) and r.file in self.ranges
            and years <= (self.years[r.file] | self.plans.planned[r.file] if plans else self.years[r.file])
        ]
        for lo, hi in sorted(wanted):
            if spans and spans[-1][1] == lo:
                spans[-1] = (spans[-1][0], hi)
            else:
                spans.append((lo, hi))
        return spans

    def _score(self, query: dict[str, Counter[int]], searched: Searched, pruned: bool) -> np.ndarray:
        """The chunks' scores over [lo, hi), 0 outside the chunks searched; pruned: exact for the CANDIDATES best
        (and their ties) only, the rest 0, when that many chunks are searched that it pays."""
        weights: Counter[tuple[str, int]] = Counter()  # fields on the same postings ask one list once
        for spec in FIELDS:
            for term, count in query[spec.name].items():
                weights[spec.scored_on, term] += spec.weight * count
        terms = [Term(self.index.fields[field], term, weight) for (field, term), weight in weights.items()]
        if pruned and searched.n > self.prune_above:
            return score_best(terms, searched.lo, searched.hi, searched.mask, CANDIDATES)
        scores = score_all(terms, searched.lo, searched.hi)
        if searched.mask is not None:
            scores[~searched.mask] = 0
        return scores

    def _prefer(self, q: Question, scores: np.ndarray, positions: np.ndarray, lo: int) -> None:
        """Among the best candidates, a question asking 多少亩 prefers passages that hold a number in 亩, one
        naming a place (东岳村) passages that name it, one quoting a phrase (“五大工程”) passages that hold it, one
        about plans (or not) passages under a heading of plans (or not), and one naming a year (or several
        together) passages of a year (or of a term's review), when the candidates have both."""
        top = _best(positions, scores, CANDIDATES)
        if not len(top):
            return
        # Ties with the last candidate are candidates too, so the choice does not depend on the chunks' order.
        tied = positions[scores[positions] >= scores[top[-1]]][: TIES_MOST]
        scores[tied] *= self.plans.preference(q.plans, q.years, q.span, lo + tied, lo + top[:LEADS_READ], q.this_year)
        if q.wants is not None or q.places:
            fit = number_fits(q.wants, self.index.chunks.quantities[lo + tied])
            scores[tied] *= (1 + NUMBER_PREFERENCE * fit).astype(np.float32)
        if not (q.places or q.quoted):
            return
        # Passages as stored, not normalized (hundreds may tie): a report in traditional script gets no quote's
        # preference.
        texts = [self.index.chunks.text(lo + int(pos)) for pos in tied]
        if q.places:
            scores[tied] *= np.array([1 + PLACE_PREFERENCE * (1 - q.places_missing(text)) for text in texts], np.float32)
        if q.quoted:
            scores[tied] *= np.array([1 + QUOTE_PREFERENCE * q.quotes_held(text) for text in texts], np.float32)

    def _named(self, places: tuple[str, ...], positions: np.ndarray, scores: np.ndarray, lo: int) -> bool:
        """Whether one of the best candidates names one of the places (示范镇 in a question may be a title, not a
        town: then passages name it)."""
        best = _best(positions, scores, CANDIDATES)
        return any(p in self.index.chunks.text(lo + int(pos)) for pos in best for p in places)

    def _candidates(self, q: Question, scores: np.ndarray, best: np.ndarray, lo: int, weights: Weights) -> list[Candidate]:
        """The best positions (best first) as the ranker and the confidence model see them."""
        values = scores[best]
        top = float(values[0])
        evidence = self.weigher.evidence(q, weights, lo + best, values)
        return [Candidate(lo + int(pos), e, features(float(v) / top if top > 0 else 0.0, e))
                for pos, v, e in zip(best, values, evidence)]

    def _hit(self, chunk_id: int, score: float, wanted: set[str]) -> Hit:
        chunk = self.index.chunks[chunk_id]
        spans = tuple((start, end) for terms, start, end in self.tokenizer.spans(chunk.text) if terms & wanted)
        return Hit(chunk, score, self._reports[chunk.doc], spans)


def _best(positions: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """The k positions (ascending) of highest score, best first; of chunks tying with the k-th, the first
    ones: the choice never depends on which other chunks were scored."""
    if k <= 0 or not len(positions):
        return positions[:0]
    if len(positions) > k:
        values = scores[positions]
        kth = values[np.argpartition(-values, k - 1)[k - 1]]
        above = positions[values > kth]
        positions = np.concatenate((above, positions[values == kth][: k - len(above)]))
    return positions[np.lexsort((positions, -scores[positions]))]
