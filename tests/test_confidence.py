"""The confidence model: fitted weights point the way their features can only point."""

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
