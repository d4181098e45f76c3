"""The k best chunks of a large search without scoring every posting: MaxScore, as Lucene and PISA prune.

Each posting list (a field's term, with the weight the question gives it) has
an upper bound: its highest weight in any chunk. The lists are added up whole,
highest bound first, into a score per chunk, until the bounds of the lists left
add up to less than the k-th best score so far: a chunk none of the lists added
holds can then not reach the k best. The lists left (the long lists of common
words and single characters, whose bounds are low) are only looked up for the
chunks still in the running, highest bound first, and a chunk is dropped as
soon as what the lists left could add would not lift it to the k-th best.

Both this and the full scoring add each chunk's weights in one order, highest
bound first, in float32, so the chunks kept have exactly the scores (and the
ties) of scoring everything. The loops are compiled with numba, as bm25s
compiles its own scoring: a list of 100,000 postings is a few hundred
microseconds, not a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .index import Field

SAFETY = 1 - 1e-5  # the k-th best is lowered this much before pruning: float32 sums differ by order
READ_WHOLE = 8  # a list is read whole rather than looked up when it is this many times shorter than the chunks


@dataclass(frozen=True)
class Term:
    field: Field
    term: int
    weight: float  # the question's weight of the term in the field (the field's weight times the term's count)

    @property
    def bound(self) -> float:
        return self.weight * float(self.field.bounds[self.term])


def by_bound(terms: list[Term]) -> list[Term]:
    """The order both paths add the terms in, highest bound first (ties: the question's order reversed), so
    that a chunk's float32 sum is the same whether it was scored in full or pruned."""
    return sorted(terms, key=lambda t: t.bound)[::-1]


def score_all(terms: list[Term], lo: int, hi: int) -> np.ndarray:
    """Every chunk's score over [lo, hi), each term added in turn (the reference the pruned path equals)."""
    scores = np.zeros(hi - lo, dtype=np.float32)
    for t in by_bound(terms):
        t.field.add_scores(scores, t.term, t.weight, lo, hi)
    return scores


def score_best(terms: list[Term], lo: int, hi: int, inside: np.ndarray | None, k: int) -> np.ndarray:
    """Scores over [lo, hi) as score_all gives them for every chunk inside (a mask; None: all) that can be among
    the k best, ties with the k-th included; every other chunk scores 0."""
    if any(t.bound <= 0 < t.field.df_in(t.term, lo, hi) for t in terms):  # a term of negative idf: bounds fail
        scores = score_all(terms, lo, hi)
        return scores if inside is None else np.where(inside, scores, np.float32(0))
    lists = by_bound([t for t in terms if t.bound > 0])[::-1]  # lowest bound first
    scores = np.zeros(hi - lo, dtype=np.float32)
    if not lists:
        return scores
    fields = list({id(t.field): t.field for t in lists}.values())
    slot = {id(f): i for i, f in enumerate(fields)}
    found, sums = _maxscore(
        tuple(_readonly(f.indices) for f in fields), tuple(_readonly(f.data) for f in fields),
        np.array([slot[id(t.field)] for t in lists], dtype=np.int64),
        np.array([t.field.indptr[t.term] for t in lists], dtype=np.int64),
        np.array([t.field.indptr[t.term + 1] for t in lists], dtype=np.int64),
        np.array([t.weight for t in lists], dtype=np.float32), np.array([t.bound for t in lists], dtype=np.float64),
        np.zeros(0, dtype=np.bool_) if inside is None else inside, lo, hi, k,
    )
    scores[found] = sums
    return scores


def warm_up(fields: int) -> None:
    """Compile the search for 1 .. fields fields at once (numba compiles per number of fields: about 5 s each the
    first time, then read from its cache in retrieval/__pycache__), so that no question waits for it."""
    ids, weights = _readonly(np.arange(2, dtype=np.int32)), _readonly(np.ones(2, dtype=np.float32))
    for n in range(1, fields + 1):
        one = np.zeros(1, dtype=np.int64)
        _maxscore((ids,) * n, (weights,) * n, one, one, one + 2, np.ones(1, np.float32), np.ones(1), np.zeros(0, np.bool_), 0, 2, 1)


def _readonly(array: np.ndarray) -> np.ndarray:
    """A read-only plain view: the fields' arrays (memory-mapped or built) then share one compiled type."""
    view = array.view(np.ndarray)
    view.flags.writeable = False
    return view


@njit(cache=True, nogil=True)
def _maxscore(indices, data, which, first, last, weight, bound, inside, lo, hi, k):
    """(positions, scores): the chunks (id - lo, ascending) that may be among the k best and their sums. List i
    is field which[i]'s postings first[i] .. last[i] - 1; the lists by bound, lowest first; inside empty: every
    chunk in [lo, hi) counts. Each chunk's sum is added up from the highest bound down, as score_all adds it."""
    n = len(which)
    start, end = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for i in range(n):  # each list's postings of chunks in [lo, hi)
        start[i] = _seek(indices[which[i]], first[i], last[i], lo)
        end[i] = _seek(indices[which[i]], start[i], last[i], hi)
    left = np.zeros(n + 1)  # left[i]: the bounds of lists 0 .. i-1 added up
    for i in range(n):
        left[i + 1] = left[i] + bound[i]
    masked = len(inside) > 0
    width = hi - lo
    partial = np.zeros(width, dtype=np.float32)
    touched = np.empty(width, dtype=np.int64)  # the chunks with a partial score, in the order found
    count = 0
    most = 0.0  # the highest partial score
    threshold = 0.0  # at most the k-th best complete score: the k-th best partial one
    j = n  # lists j .. n-1 are added whole, highest bound first, until the others cannot lift a chunk to the k best
    while j > 0 and (j == n or left[j] >= threshold):
        j -= 1
        ids, values, w = indices[which[j]], data[which[j]], weight[j]
        for p in range(start[j], end[j]):
            at = ids[p] - lo
            if masked and not inside[at]:
                continue
            if partial[at] == 0:
                touched[count] = at
                count += 1
            partial[at] += np.float32(w * values[p])
            if partial[at] > most:
                most = partial[at]
        if count >= k and left[j] < most:  # stopping may be possible
            threshold = max(threshold, _kth_best(partial, touched[:count], k) * SAFETY)
    # The lists 0 .. j-1 are looked up for the chunks that could still reach the threshold, highest bound first
    # (a list much shorter than them, read whole).
    keep = touched
    m = _sift(partial, keep, count, left[j], threshold)
    ordered = False  # keep[:m] is in the order found until a list is looked up, which needs it ascending
    for i in range(j - 1, -1, -1):
        ids, values, w = indices[which[i]], data[which[i]], weight[i]
        if end[i] - start[i] < READ_WHOLE * m:
            for p in range(start[i], end[i]):
                partial[ids[p] - lo] += np.float32(w * values[p])
        else:
            if not ordered:
                _ascending(keep, m, width)
                ordered = True
            a = start[i]
            for c in range(m):
                a = _seek(ids, a, end[i], keep[c] + lo)
                if a < end[i] and ids[a] - lo == keep[c]:
                    partial[keep[c]] += np.float32(w * values[a])
        if m >= k:
            threshold = max(threshold, _kth_best(partial, keep[:m], k) * SAFETY)
        m = _sift(partial, keep, m, left[i], threshold)
    if not ordered:
        _ascending(keep, m, width)
    found = keep[:m].copy()
    return found, partial[found]


@njit(cache=True, nogil=True)
def _sift(partial, keep, m, rest, threshold):
    """Keep, in place and in order, the chunks of keep[:m] that the lists not yet added (bounds adding up to
    rest) could still lift to the threshold; how many."""
    kept = 0
    for c in range(m):
        if partial[keep[c]] + rest >= threshold:
            keep[kept] = keep[c]
            kept += 1
    return kept


@njit(cache=True, nogil=True)
def _ascending(keep, m, width):
    """keep[:m] in ascending order, in place: sorted when they are few, else marked and read off in order."""
    if m * 16 < width:
        keep[:m] = np.sort(keep[:m])
        return
    marked = np.zeros(width, dtype=np.bool_)
    for c in range(m):
        marked[keep[c]] = True
    found = 0
    for at in range(width):
        if marked[at]:
            keep[found] = at
            found += 1


@njit(cache=True, nogil=True, inline="always")
def _seek(ids, a, stop, target):
    """The first position in ids[a:stop] (ascending) holding target or more: galloping from a, as the chunks
    looked up ascend and are mostly near the last one found."""
    step = 1
    b = a
    while b < stop and ids[b] < target:
        a = b + 1
        b += step
        step *= 2
    b = min(b, stop)
    while a < b:
        mid = (a + b) >> 1
        if ids[mid] < target:
            a = mid + 1
        else:
            b = mid
    return a


@njit(cache=True, nogil=True)
def _kth_best(scores, positions, k):
    """The k-th highest of scores[positions] (there are at least k), through a min-heap of the k best."""
    heap = np.empty(k, dtype=np.float32)
    for c in range(k):
        heap[c] = scores[positions[c]]
    heap.sort()  # a sorted array is a min-heap
    for c in range(k, len(positions)):
        value = scores[positions[c]]
        if value <= heap[0]:
            continue
        heap[0] = value
        i = 0
        while True:  # sift down
            child = 2 * i + 1
            if child >= k:
                break
            if child + 1 < k and heap[child + 1] < heap[child]:
                child += 1
            if heap[child] >= heap[i]:
                break
            heap[i], heap[child] = heap[child], heap[i]
            i = child
    return heap[0]
