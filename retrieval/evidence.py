"""What a candidate passage holds of a question: the Evidence the ranker and the confidence model weigh.

A question's words are weighed once per search (their idf among the chunks
searched, the weight of a word no chunk holds), then each of the few best
candidates is looked at with those weights: a handful of posting-list lookups
per word, whatever the corpus size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .confidence import Evidence
from .index import Index
from .quantities import number_fits
from .question import Question
from .tokenize import rarity


@dataclass(frozen=True)
class Searched:
    """The chunks a question is searched in: those of [lo, hi) in mask (None: every one), n of them."""

    lo: int
    hi: int
    mask: np.ndarray | None
    n: int

    @classmethod
    def of(cls, lo: int, hi: int, inside: np.ndarray) -> Searched:
        n = int(np.count_nonzero(inside))
        return cls(lo, hi, None if n == hi - lo else inside, n)

    def count(self, ids: np.ndarray) -> int:
        """How many of these chunk ids (all in [lo, hi)) are searched."""
        return len(ids) if self.mask is None else int(np.count_nonzero(self.mask[ids - self.lo]))


@dataclass(frozen=True)
class UsedIn:
    """The words the sentences of the chunks searched use (question.spelled_out's used): a word only other towns'
    reports use meets this town's by its characters alone, as a word no report uses does."""

    index: Index
    searched: Searched

    def __contains__(self, word: object) -> bool:
        tid = self.index.vocab.get(word)
        if tid is None:
            return False
        return self.searched.count(self.index.fields["words"].ids_in(tid, self.searched.lo, self.searched.hi)) > 0


@dataclass(frozen=True)
class Weights:
    """What a question's words and characters weigh among the chunks searched, the same for every candidate."""

    words: dict[str, float]  # its words but the years named -> idf (see Weigher.weight)
    chars: dict[str, float]  # its characters the reports use -> idf in the characters field
    rare: dict[str, float]  # its words the reports use -> how much lacking it counts (Evidence.missing)


class Weigher:
    """Looks at a passage with a question's weights (confidence.Evidence's features)."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def weights(self, q: Question, searched: Searched) -> Weights:
        # In the question's order (not a set's): sums are then the same in every run, to the last bit.
        words = {w: self.weight(w, searched) for w in dict.fromkeys(q.words) if w not in q.years}
        top = _unheld(searched)
        # A rare word of general Chinese (鸭梨, 病床) missing says more than a common one (孩子, 东西), which a
        # paraphrase's passage often lacks while answering it.
        rare = {w: weight * rarity(w) / top for w, weight in words.items() if w in self.index.vocab}
        # The characters' idf is over the range searched, a year's mask or not: a common character's postings
        # are not looked up one by one in the mask (milliseconds at a million chunks) for a weight that hardly changes.
        span = Searched(searched.lo, searched.hi, None, searched.hi - searched.lo)
        chars = {c: self.idf(c, span, "chars") for c in dict.fromkeys(q.chars) if c in self.index.vocab}
        return Weights(words, chars, rare)

    def evidence(self, q: Question, weights: Weights, chunk_ids: np.ndarray, scores: np.ndarray) -> list[Evidence]:
        """What each passage holds of the question; scores: theirs, best first (the margin is over the best other)."""
        words = list(weights.words)
        weight = np.array([weights.words[w] for w in words])
        exact = self._held(words, chunk_ids, ("words", "context"))
        share = exact.copy()  # how much of each question word a passage holds: a word like it counts its likeness
        for term, sim in q.neighbours.items():
            if q.stands_for[term] in weights.words:
                row = words.index(q.stands_for[term])
                share[row] = np.maximum(share[row], sim * self.holding(term, chunk_ids))
        rare = np.array([weights.rare.get(w, 0.0) for w in words])
        char_weight = np.array(list(weights.chars.values()))
        chars = self._held(list(weights.chars), chunk_ids, ("chars",))
        scores = np.asarray(scores, dtype=float)
        rival = np.full(len(scores), scores[0])  # a passage's rival is the best one, the best one's the second
        rival[0] = scores[1] if len(scores) > 1 else 0.0

        def covered(held: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
            total = weight[rows].sum()
            return weight[rows] @ held[rows] / total if total else np.zeros(len(chunk_ids))

        columns = zip(
            covered(exact),
            covered(share),
            np.sqrt(covered(share, np.array([w in q.whole for w in words], dtype=bool))),
            np.maximum(0.0, (scores - rival) / np.where(scores > 0, scores, np.inf)),
            (rare[:, None] * (1 - share)).max(axis=0, initial=0.0),
            1.0 - number_fits(q.wants, self.index.chunks.quantities[chunk_ids]),
            # Words that share characters often share meaning (机械化 ~ 农机化, 种粮 ~ 粮食) where no word matches.
            char_weight @ chars / char_weight.sum() if len(char_weight) else np.zeros(len(chunk_ids)),
        )
        return [
            Evidence(coverage=float(c), meaning=float(m), whole=float(w), margin=float(g), missing=float(r), number=float(n),
                     place=q.places_missing(self.index.chunks.text(int(i))) if q.places else 0.0, chars=float(h))
            for i, (c, m, w, g, r, n, h) in zip(chunk_ids.tolist(), columns)
        ]

    def _held(self, terms: list[str], chunk_ids: np.ndarray, fields: tuple[str, ...]) -> np.ndarray:
        """terms x chunks: 1 where the chunk holds the term in one of the fields."""
        held = np.zeros((len(terms), len(chunk_ids)))
        for row, term in enumerate(terms):
            held[row] = self.holding(term, chunk_ids, fields)
        return held

    def weight(self, word: str, searched: Searched) -> float:
        """A question word's idf among the chunks searched. A word no report uses has no idf of its own: it
        weighs as the rarest would, times its rarity in general Chinese (名字 little, 常住人口 fully)."""
        if word in self.index.vocab:
            return self.idf(word, searched)
        return _unheld(searched) * rarity(word)

    def idf(self, term: str, searched: Searched, field: str = "words") -> float:
        """The term's idf in the field among the chunks searched."""
        tid, postings = self.index.vocab.get(term), self.index.fields[field]
        if tid is None:
            df = 0
        elif searched.mask is None:
            df = postings.df_in(tid, searched.lo, searched.hi)
        else:
            df = searched.count(postings.ids_in(tid, searched.lo, searched.hi))
        return math.log((searched.n + 1) / (df + 0.5))

    def holding(self, term: str, chunk_ids: np.ndarray, fields: tuple[str, ...] = ("words", "context")) -> np.ndarray:
        """Which of the chunks hold the term in one of these fields (by default their words or their headings)."""
        tid = self.index.vocab.get(term)
        held = np.zeros(len(chunk_ids), dtype=bool)
        if tid is not None:
            for name in fields:
                held |= self.index.fields[name].holding(tid, chunk_ids)
        return held


def _unheld(searched: Searched) -> float:
    """The idf of a word no chunk searched holds."""
    return math.log((searched.n + 1) / 0.5)
