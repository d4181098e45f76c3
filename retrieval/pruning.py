"""The k best chunks of a large search without scoring every posting: MaxScore, as Lucene and PISA prune.

Each posting list (a field's term, with the weight the question gives it) has
an upper bound: its highest weight in any chunk. Lists are taken from the
highest bound down and scored whole until the bounds of the lists left add up
to less than the k-th best partial score: a chunk in none of the lists scored
so far cannot reach the k best, so the long lists of common words and single
characters, whose bounds are low, are only looked up for the few chunks still
in the running, and a chunk is dropped as soon as its bound falls short.

The survivors are then scored again from scratch in the question's own order of
lists, with the same float32 arithmetic as a full scoring, so their scores (and
the order of ties) are exactly those of scoring everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import Field

SAFETY = 1 - 1e-5  # the k-th partial score is lowered this much before pruning: float32 sums differ by order
UNION_MOST = 1 << 12  # the k-th best is taken over all chunks seen while they are this few, else over the last list


@dataclass(frozen=True)
class Term:
    field: Field
    term: int
    weight: float  # the question's weight of the term in the field (the field's weight times the term's count)

    @property
    def bound(self) -> float:
        return self.weight * float(self.field.bounds[self.term])


def score_all(terms: list[Term], lo: int, hi: int) -> np.ndarray:
    """Every chunk's score over [lo, hi), each term added in turn (the reference the pruned path equals)."""
    scores = np.zeros(hi - lo, dtype=np.float32)
    for t in terms:
        t.field.add_scores(scores, t.term, t.weight, lo, hi)
    return scores


def score_best(terms: list[Term], lo: int, hi: int, inside: np.ndarray | None, k: int) -> np.ndarray:
    """Scores over [lo, hi) as score_all gives them for every chunk inside (a mask; None: all) that can be among
    the k best, ties with the k-th included; every other chunk scores 0."""
    if any(t.bound <= 0 < t.field.df_in(t.term, lo, hi) for t in terms):  # a term of negative idf: bounds fail
        scores = score_all(terms, lo, hi)
        return scores if inside is None else np.where(inside, scores, np.float32(0))
    lists = sorted((t for t in terms if t.bound > 0), key=lambda t: -t.bound)
    left = np.cumsum([t.bound for t in lists][::-1])[::-1].tolist() + [0.0]  # left[j]: bounds of lists j.. added up
    partial = np.zeros(hi - lo, dtype=np.float32)
    seen: list[np.ndarray] = []
    threshold, j = 0.0, 0
    while j < len(lists) and (j == 0 or left[j] >= threshold):  # a chunk in lists j.. alone could still be among the best
        t = lists[j]
        t.field.add_scores(partial, t.term, t.weight, lo, hi)
        ids = t.field.ids_in(t.term, lo, hi) - lo
        seen.append(ids if inside is None else ids[inside[ids]])
        few = sum(len(ids) for ids in seen) <= UNION_MOST  # the chunks seen so far, at once while they are few
        pool = np.unique(np.concatenate(seen)) if few and len(seen) > 1 else seen[-1]
        threshold = max(threshold, _kth(partial[pool], k))
        j += 1
    # Only a chunk of the lists scored can reach the threshold: its partial score is then above 0.
    candidates = np.flatnonzero(partial + np.float32(left[j]) >= max(threshold, np.finfo(np.float32).tiny))
    if inside is not None:
        candidates = candidates[inside[candidates]]
    scores = partial[candidates]
    for i in range(j, len(lists)):  # the rest looked up for the candidates only, dropping those that fall short
        t = lists[i]
        scores += t.weight * t.field.weights_at(t.term, candidates + lo)
        keep = scores + np.float32(left[i + 1]) >= threshold
        candidates, scores = candidates[keep], scores[keep]
        threshold = max(threshold, _kth(scores, k))
    survivors = candidates[scores >= threshold]
    exact = np.zeros(len(survivors), dtype=np.float32)
    for t in terms:  # in the question's order, as score_all adds them
        exact += t.weight * t.field.weights_at(t.term, survivors + lo)
    partial[:] = 0
    partial[survivors] = exact
    return partial


def _kth(scores: np.ndarray, k: int) -> float:
    """The k-th highest score, lowered by SAFETY (0 when there are fewer than k): no chunk at or above the
    true k-th best of the complete scores is ever below it."""
    if len(scores) < k:
        return 0.0
    return float(np.partition(scores, len(scores) - k)[len(scores) - k]) * SAFETY
