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
        words = {w: self.weight(w, searched) for w in set(q.words) - q.years}
        top = math.log((searched.n + 1) / 0.5)  # the idf of a word no chunk holds
        # A rare word of general Chinese (鸭梨, 病床) missing says more than a common one (孩子, 东西), which a
        # paraphrase's passage often lacks while answering it.
        rare = {w: weight * rarity(w) / top for w, weight in words.items() if w in self.index.vocab}
        # The characters' idf is over the range searched, a year's mask or not: a common character's postings
        # are not looked up one by one in the mask (milliseconds at a million chunks) for a weight that hardly changes.
        span = Searched(searched.lo, searched.hi, None, searched.hi - searched.lo)
        chars = {c: self.idf(c, span, "chars") for c in set(q.chars) if c in self.index.vocab}
        return Weights(words, chars, rare)

    def evidence(self, q: Question, weights: Weights, chunk_id: int, score: float, rival: float) -> Evidence:
        """What the passage holds of the question; rival: the best score of another candidate."""
        held = {t for t in [*q.words, *q.neighbours] if self.holds(chunk_id, t)}
        share = {t: 1.0 for t in held}  # how much of each question word the passage holds
        for term, sim in q.neighbours.items():
            if term in held:
                word = q.stands_for[term]
                share[word] = max(share.get(word, 0.0), sim)
        weight = weights.words

        def covered(words: set[str], shares: dict[str, float]) -> float:
            total = sum(weight[w] for w in words)
            return sum(weight[w] * shares.get(w, 0.0) for w in words) / total if total else 0.0

        chars = sum(weights.chars.values())
        return Evidence(
            coverage=covered(set(weight), {t: 1.0 for t in held}),
            meaning=covered(set(weight), share),
            whole=math.sqrt(covered(set(q.whole) & set(weight), share)),
            margin=max(0.0, (score - rival) / score) if score > 0 else 0.0,
            missing=max((r * (1 - share.get(w, 0.0)) for w, r in weights.rare.items()), default=0.0),
            number=1.0 - float(number_fits(q.wants, self.index.chunks.quantities[chunk_id : chunk_id + 1])[0]),
            place=q.places_missing(self.index.chunks.text(chunk_id)),
            # Words that share characters often share meaning (机械化 ~ 农机化, 种粮 ~ 粮食) where no word matches.
            chars=sum(w for c, w in weights.chars.items() if self.holds(chunk_id, c, ("chars",))) / chars if chars else 0.0,
        )

    def weight(self, word: str, searched: Searched) -> float:
        """A question word's idf among the chunks searched. A word no report uses has no idf of its own: it
        weighs as the rarest would, times its rarity in general Chinese (名字 little, 常住人口 fully)."""
        if word in self.index.vocab:
            return self.idf(word, searched)
        return math.log((searched.n + 1) / 0.5) * rarity(word)

    def idf(self, term: str, searched: Searched, field: str = "words") -> float:
        """The term's idf in the field among the chunks searched."""
        tid = self.index.vocab.get(term)
        df = searched.count(self.index.fields[field].ids_in(tid, searched.lo, searched.hi)) if tid is not None else 0
        return math.log((searched.n + 1) / (df + 0.5))

    def holds(self, chunk_id: int, term: str, fields: tuple[str, ...] = ("words", "context")) -> bool:
        """Whether the chunk holds the term in one of these fields (by default its words or its headings)."""
        tid = self.index.vocab.get(term)
        if tid is None:
            return False
        return any(self.index.fields[name].df_in(tid, chunk_id, chunk_id + 1) for name in fields)
