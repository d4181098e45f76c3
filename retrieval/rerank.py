"""The best few passages put in order by what each holds of the question, not by BM25 alone.

BM25 adds up matches, so a passage holding several common words of a question
in everyday words can outscore the sentence that holds its rare word in the
report's own. The best RERANKED candidates are weighed again by their score
relative to the best and by what the search saw of each (confidence.Evidence:
how much of the question it holds, in whole words, in words like them and in
characters, whether it gives the number asked, the rarest word it lacks). The
weights are fitted on labelled questions (``townqa calibrate``, cross-validated)
and kept in ``config/ranking.toml``; without that file the order is BM25's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rtoml

from .confidence import Evidence, fitted_numbers
from .corpus import read_toml

FILE = "ranking.toml"
RERANKED = 10  # the best candidates by BM25 (and the preferences) that are weighed again
FEATURES = ("ratio", "coverage", "meaning", "whole", "chars", "number", "missing")  # ratio: the score over the best's
# A passage holding more of the question is never worse for it, nor one lacking the number or a rare word better.
SIGNS = np.array([1, 1, 1, 1, 1, -1, -1])


def features(ratio: float, evidence: Evidence) -> np.ndarray:
    return np.array([ratio, *(getattr(evidence, name) for name in FEATURES[1:])])


@dataclass(frozen=True)
class Ranker:
    weights: tuple[float, ...]  # one per feature, in FEATURES order

    def order(self, rows: np.ndarray) -> np.ndarray:
        """The candidates (rows of features, best by BM25 first) best first; ties keep BM25's order."""
        values = rows @ np.array(self.weights)
        return np.lexsort((np.arange(len(rows)), -values))

    def save(self, path: Path, note: str = "") -> None:
        header = "".join(f"# {line}\n" for line in note.splitlines())
        path.write_text(header + rtoml.dumps({"weights": dict(zip(FEATURES, self.weights))}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path | str) -> Ranker | None:
        """The fitted ranker in folder, or None (BM25's order) when there is none."""
        path = Path(folder) / FILE
        if not path.is_file():
            return None
        return cls(fitted_numbers(path, read_toml(path).get("weights"), dict.fromkeys(FEATURES, 0.0)))
