"""The confidence model: fitted weights point the way their features can only point."""

from dataclasses import replace

import numpy as np

from retrieval.confidence import FEATURES, SIGNS, fit


def test_a_feature_that_happens_to_go_with_answers_the_wrong_way_gets_no_weight():
    rng = np.random.default_rng(0)
    n = 200
    y = (rng.random(n) < 0.5).astype(float)
    x = rng.random((n, len(FEATURES))) * 0.2
    coverage, missing = FEATURES.index("coverage"), FEATURES.index("missing")
    x[:, coverage] += 0.6 * y  # answered questions are covered more: a weight up
    x[:, missing] += 0.3 * y  # and in this sample also miss more words: a weight up, though it means "less sure"
    weights, _ = fit(x, y)
    assert weights[coverage] > 0
    assert weights[missing] == 0.0
    assert np.all(weights * SIGNS >= 0)


def test_a_passage_sharing_the_questions_characters_but_no_word_counts_as_partly_held(engine):
    """种粮的机械化程度 shares no word with 「主要粮食作物农机化水平超 98%」 but 粮, 机, 化 and more: the
    characters' share makes the fitted model surer of it than of a passage holding none of them."""
    engine.model, model = replace(engine.model, none_below=0.0), engine.model
    try:
        answer = engine.search("镇江经开区种粮的机械化程度有多高？")
    finally:
        engine.model = model
    assert "农机化水平" in answer.hits[0].chunk.text
    evidence = answer.evidence
    assert evidence.coverage == 0.0 and evidence.chars > 0.5
    assert model.probability(evidence) > model.probability(replace(evidence, chars=0.0))
