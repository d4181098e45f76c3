"""The ranker: the best candidates by BM25 put in order by what each holds of the question."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from retrieval import CorpusError, Engine
from retrieval.confidence import Model
from retrieval.rerank import FEATURES, Ranker


def test_the_order_follows_the_weights_and_ties_keep_bm25s_order():
    ranker = Ranker(tuple(1.0 if name == "whole" else 0.0 for name in FEATURES))
    rows = np.zeros((4, len(FEATURES)))
    rows[:, FEATURES.index("ratio")] = [1.0, 0.9, 0.8, 0.7]
    rows[:, FEATURES.index("whole")] = [0.2, 0.2, 0.9, 0.5]
    assert ranker.order(rows).tolist() == [2, 3, 0, 1]


def test_a_fitted_ranker_is_kept_as_plain_weights_and_none_means_bm25s_order(tmp_path: Path):
    assert Ranker.load(tmp_path) is None
    ranker = Ranker(tuple(float(i) for i in range(len(FEATURES))))
    ranker.save(tmp_path / "ranking.toml", "fitted on a test")
    assert Ranker.load(tmp_path) == ranker
    assert (tmp_path / "ranking.toml").read_text(encoding="utf-8").startswith("# fitted on a test\n")


def test_the_sentence_that_answers_comes_before_a_longer_one_sharing_more_common_words(engine: Engine):
    """A resident's quote about the old 社区卫生服务中心 holds more of the question's words (社区, 卫生, 服务, 中心,
    新) than the sentence that answers 开诊了没有 (搬入新址，并实现全面开诊): BM25 put the quote first."""
    question = "黄梅街道的新社区卫生服务中心开诊了没有？"
    unranked = copy.copy(engine)
    unranked.ranker = None
    assert "全面开诊" not in unranked.search(question).hits[0].chunk.text
    assert "全面开诊" in engine.search(question).hits[0].chunk.text


def test_a_fitted_file_that_cannot_be_read_stops_the_load_with_its_name(tmp_path: Path):
    """A hand-edited or truncated file must not load as weights of 0 (every passage equal) nor as a traceback."""
    (tmp_path / "ranking.toml").write_text("[weights]\nratio = 'high'\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"ranking.toml: not a fitted model .*townqa calibrate --write"):
        Ranker.load(tmp_path)
    (tmp_path / "confidence.toml").write_text("[weights]\nwhole = 1.5\n", encoding="utf-8")  # no bias
    with pytest.raises(CorpusError, match="confidence.toml: not a fitted model"):
        Model.load(tmp_path)
    (tmp_path / "confidence.toml").write_text("bias = [1.0\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="confidence.toml: not valid TOML"):
        Model.load(tmp_path)
