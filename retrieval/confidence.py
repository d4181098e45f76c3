"""How likely the best passage answers the question: a small logistic model over what the search saw.

「没有找到」 used to be one hand threshold on how much of the question the passage
holds. Paraphrases hold little of it in the question's own words and still
answer, so the decision now weighs several signals, each a share in [0, 1] that
means the same in any corpus (no raw BM25 score, which grows with the corpus).
The weights are fitted on labelled questions (``townqa calibrate``, with
cross-validation) and kept in ``config/confidence.toml``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rtoml

from .corpus import CorpusError, read_toml

FILE = "confidence.toml"


@dataclass(frozen=True)
class Evidence:
    """What the search saw for its best passage; every value is a share in [0, 1]."""

    coverage: float  # of the question's weight (idf), the words the passage or its headings hold
    meaning: float  # the same, counting a word as held when a word near in meaning stands in for it
    whole: float  # the same over whole words only, not their parts (地区生产总值, not 地区 and 总值), its square
    # root: the first words held say more than the last (a passage holding none seldom answers, one holding half often)
    margin: float  # how far the best passage leads the second: (s1 - s2) / s1
    missing: float  # the rarest question word the reports use and the passage lacks: idf / its largest value, times
    # its rarity in general Chinese (鸭梨 weighs, 孩子 hardly: a paraphrase's passage often lacks a common word)
    number: float  # a number was asked and the passage holds none (1), one in another unit (0.5), or fits (0)
    place: float  # the share of places the question names (郭庄镇) that the passage does not mention
    chars: float = 0.0  # of the question's characters' weight (idf), those the passage holds (机械化 ~ 农机化)

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in FEATURES])


FEATURES = ("coverage", "meaning", "whole", "margin", "missing", "number", "place", "chars")
# Which way each feature may move the confidence: more of the question held, a wider lead, is never
# evidence against an answer, nor a missing word, number or place evidence for one. A fitted weight
# of the other sign would chase a few questions where the two happen to go together.
SIGNS = np.array([1, 1, 1, 1, -1, -1, -1, 1])


@dataclass(frozen=True)
class Model:
    weights: tuple[float, ...]  # one per feature, in FEATURES order
    bias: float
    none_below: float = 0.5  # below this probability: 「没有找到」
    sure_from: float = 0.75  # from none_below up to this: the passage with a caveat

    def probability(self, evidence: Evidence) -> float:
        z = self.bias + float(np.dot(self.weights, evidence.vector()))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def verdict(self, probability: float) -> str:
        """"none", "unsure" or "sure"."""
        if probability < self.none_below:
            return "none"
        return "unsure" if probability < self.sure_from else "sure"

    def save(self, path: Path, note: str = "") -> None:
        data = {"weights": dict(zip(FEATURES, self.weights)), "bias": self.bias,
                "none_below": self.none_below, "sure_from": self.sure_from}
        header = "".join(f"# {line}\n" for line in note.splitlines())
        path.write_text(header + rtoml.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path | str) -> Model:
        """The fitted model in folder, or the fallback when there is none (a corpus never calibrated)."""
        path = Path(folder) / FILE
        if not path.is_file():
            return FALLBACK
        data = read_toml(path)
        # A feature newer than the file weighs 0 until it is refitted.
        weights = fitted_numbers(path, data.get("weights"), dict.fromkeys(FEATURES, 0.0))
        bias, none_below, sure_from = fitted_numbers(path, data, {"bias": None, "none_below": 0.5, "sure_from": 0.75})
        return cls(weights, bias, none_below, sure_from)


def fitted_numbers(path: Path, table: object, defaults: dict[str, float | None]) -> tuple[float, ...]:
    """The numbers of a fitted file's table in the order of defaults (a name missing takes its default; None: it
    must be there), or a CorpusError saying how to write the file again: no engine starts on weights it cannot read."""
    if isinstance(table, dict):
        numbers = [table.get(name, default) for name, default in defaults.items()]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
            return tuple(float(v) for v in numbers)
    raise CorpusError(f"{path.name}: not a fitted model (write it again with `townqa calibrate --write`)")


# Without a fitted file: the passage must hold a fifth of the question, as the old threshold said.
FALLBACK = Model(tuple(20.0 if f == "coverage" else 0.0 for f in FEATURES), -4.0)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, signs: np.ndarray = SIGNS) -> tuple[np.ndarray, float]:
    """Logistic regression with each weight of its feature's sign (signs) or 0: a weight fitted the other
    way is held at 0 and the rest refitted, until none is."""
    free = np.ones(x.shape[1], dtype=bool)
    while True:
        w, b = _logistic(x[:, free], y, l2)
        wrong = w * signs[free] < 0
        if not wrong.any():
            weights = np.zeros(x.shape[1])
            weights[free] = w
            return weights, b
        free[np.flatnonzero(free)[np.argmin(w * signs[free])]] = False  # the most wrong first


def _logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method, classes weighted to count alike."""
    n, d = x.shape
    balance = np.where(y == 1, n / (2 * max(y.sum(), 1)), n / (2 * max(n - y.sum(), 1)))
    design = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.diag([l2] * d + [0.0])  # the bias is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(design @ w, -30, 30)))
        gradient = design.T @ (balance * (p - y)) + penalty @ w
        hessian = (design * (balance * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(d + 1), gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:d], float(w[d])


def folds(y: np.ndarray, k: int) -> list[np.ndarray]:
    """k test folds, each class spread evenly over them, in a fixed order (no randomness)."""
    assignment = np.empty(len(y), dtype=int)
    for label in (0, 1):
        members = np.flatnonzero(y == label)
        assignment[members] = np.arange(len(members)) % k
    return [np.flatnonzero(assignment == i) for i in range(k)]


def groups(names: list[str]) -> list[np.ndarray]:
    """One test fold per name (a town, a question file): the model is judged on what it was not fitted on."""
    labels = np.array(names)
    return [np.flatnonzero(labels == name) for name in sorted(set(names))]


def cross_validated(x: np.ndarray, y: np.ndarray, tests: list[np.ndarray], l2: float = 1.0) -> np.ndarray:
    """Each question's probability from a model fitted without its test fold."""
    out = np.empty(len(y))
    for test in tests:
        train = np.setdiff1d(np.arange(len(y)), test)
        w, b = fit(x[train], y[train], l2)
        out[test] = 1 / (1 + np.exp(-np.clip(x[test] @ w + b, -30, 30)))
    return out
