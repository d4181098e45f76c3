"""townqa's BM25 is rank-bm25's BM25Okapi, exactly: same scores, same top 10."""

from __future__ import annotations

import importlib.util
from collections import Counter

import numpy as np
from rank_bm25 import BM25Okapi

from retrieval import Engine, load_corpus
from retrieval.chunking import chunk_reports
from retrieval.evaluate import load_questions
from retrieval.index import Index

from .conftest import DEV_QA, ROOT, SEEDS

QUESTIONS = [
    "后白镇2025年地区生产总值是多少", "下蜀镇全年空气质量优良天数是多少？", "镇江经开区2024年完成固定资产投资多少？",
    "西夏墅镇上半年安全检查了多少家单位", "黄梅街道的新社区卫生服务中心开诊了没有？", "企业 项目 投资 全年 完成",
]


def grown_chunks(n: int):
    """The benchmark's deterministic corpus of about n chunks."""
    spec = importlib.util.spec_from_file_location("townqa_benchmark", ROOT / "benchmarks" / "retrieval.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.grow(load_corpus(SEEDS), n)[1]


def compare(engine: Engine, chunks, questions: list[str]) -> None:
    docs = [engine.tokenizer.terms(c.text) for c in chunks]
    index = Index.build(chunks, {"words": docs}, "test")
    reference = BM25Okapi(docs)
    field = index.fields["words"]
    for question in questions:
        tokens = engine.tokenizer.terms(question)
        ours = np.zeros(len(chunks), dtype=np.float32)
        for term, count in Counter(t for t in tokens if t in index.vocab).items():
            field.add_scores(ours, index.vocab[term], count, 0, len(chunks))
        theirs = reference.get_scores(tokens)
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)
        top = np.argsort(-theirs, kind="stable")[:10]
        # The same ten chunks, up to ties that float32 may order differently.
        assert set(np.argsort(-ours, kind="stable")[:10]) == set(top) or np.allclose(np.sort(ours)[-10:], np.sort(theirs)[-10:], atol=1e-4)


def questions() -> list[str]:
    return QUESTIONS + ([q.question for q in load_questions(DEV_QA)] if DEV_QA.is_file() else [])


def test_scores_equal_bm25okapi_on_the_seeds(engine: Engine):
    compare(engine, chunk_reports(engine.corpus.reports), questions())


def test_scores_equal_bm25okapi_on_a_20k_chunk_sample(engine: Engine):
    compare(engine, grown_chunks(20_000), questions()[:30])
