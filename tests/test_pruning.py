"""Pruned top-k (MaxScore) gives exactly what scoring every posting gives: the same best chunks, the same scores."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval import Engine
from retrieval.evaluate import load_questions
from retrieval.index import Index
from retrieval.pruning import Term, score_all, score_best
from retrieval.tokenize import normalize

from .conftest import DEV_QA
from .test_exact_bm25 import QUESTIONS, grown_chunks

K = 50


def assert_same_best(full: np.ndarray, pruned: np.ndarray, k: int = K) -> None:
    """Every chunk at or above the k-th best full score keeps its exact score; every other one scored is exact too."""
    scored = np.flatnonzero(pruned)
    np.testing.assert_array_equal(pruned[scored], full[scored])
    positive = np.flatnonzero(full > 0)
    kth = np.sort(full[positive])[-k] if len(positive) >= k else 0.0
    best = np.flatnonzero((full >= kth) & (full > 0))
    np.testing.assert_array_equal(pruned[best], full[best])


def answers(engine: Engine, questions: list[str], prune_above: int, **kw) -> list[tuple]:
    engine.prune_above, before = prune_above, engine.prune_above
    try:
        out = []
        for q in questions:
            a = engine.search(q, **kw)
            out.append((
                [(h.chunk.id, h.score, h.spans) for h in a.hits], [h.chunk.id for h in a.lead],
                a.total, a.confidence, a.sure, a.reason,
            ))
        return out
    finally:
        engine.prune_above = before


def test_the_search_answers_alike_pruned_or_not_on_the_seeds(engine: Engine):
    asked = QUESTIONS + ([q.question for q in load_questions(DEV_QA)] if DEV_QA.is_file() else [])
    anywhere = [engine.towns.find(normalize(q))[1] for q in asked]  # every chunk searched
    questions = asked + anywhere
    assert answers(engine, questions, 10**9) == answers(engine, questions, 0)
    # Further pages too, up to the last passage offered.
    assert answers(engine, anywhere, 10**9, limit=5, offset=45) == answers(engine, anywhere, 0, limit=5, offset=45)


def test_ties_and_a_mask_of_the_chunks_searched_on_a_small_vocabulary():
    """Few terms, many chunks: scores tie by the hundred, and the k-th best sits inside a tie."""
    rng = np.random.default_rng(7)
    vocab = [f"t{i}" for i in range(12)]
    docs = [list(rng.choice(vocab, size=rng.integers(1, 6))) for _ in range(30_000)]
    index = Index.build([], {"words": docs, "other": [d[:2] for d in docs]}, "test")
    inside = rng.random(len(docs)) < 0.6
    for _ in range(40):
        terms = [
            Term(index.fields[name], index.vocab[t], float(rng.choice([0.2, 0.3, 0.71, 1.0, 2.0])))
            for name in ("words", "other") for t in rng.choice(vocab, size=rng.integers(1, 6), replace=False)
        ]
        full = score_all(terms, 0, len(docs))
        assert_same_best(full, score_best(terms, 0, len(docs), None, K))
        full[~inside] = 0
        pruned = score_best(terms, 0, len(docs), inside, K)
        assert not pruned[~inside].any()
        assert_same_best(full, pruned)
        lo, hi = 1000, 21_000  # a range of the chunks, as a search of some reports scores
        assert_same_best(score_all(terms, lo, hi), score_best(terms, lo, hi, None, K))


@pytest.mark.slow
def test_the_pruned_best_are_bm25okapis_on_a_200k_chunk_sample(engine: Engine):
    chunks = grown_chunks(200_000)
    docs = [engine.tokenizer.terms(c.text) for c in chunks]
    chars = [engine.tokenizer.chars(c.text) for c in chunks]
    index = Index.build(chunks, {"words": docs, "chars": chars}, "test")
    reference = BM25Okapi(docs)
    n = len(chunks)
    for question in QUESTIONS + ["企业", "全年完成工业总产值多少亿元"]:
        tokens = engine.tokenizer.terms(question)
        words = [Term(index.fields["words"], index.vocab[t], float(c)) for t, c in Counter(tokens).items() if t in index.vocab]
        pruned = score_best(words, 0, n, None, K)
        theirs = reference.get_scores(tokens)
        top = np.argsort(-theirs, kind="stable")[:10]
        np.testing.assert_allclose(pruned[top], theirs[top], rtol=1e-4, atol=1e-4)  # rank-bm25's ten best, scored alike
        assert np.sort(pruned)[-1] == pytest.approx(theirs.max(), rel=1e-4)
        assert_same_best(score_all(words, 0, n), pruned)
        # With the lower-weighted terms a search adds (single characters, words like the question's).
        letters = [
            Term(index.fields["chars"], index.vocab[t], 0.2 * c)
            for t, c in Counter(engine.tokenizer.chars(question)).items() if t in index.vocab
        ]
        alike = [Term(index.fields["words"], index.vocab[t], 0.7) for t in ("发展", "项目", "建设") if t in index.vocab]
        terms = words + letters + alike
        assert_same_best(score_all(terms, 0, n), score_best(terms, 0, n, None, K))
