"""Fit the ranker and the confidence model on labelled questions, and say how well they do on questions they were
not fitted on.

The ranker first: each answerable question's best candidates by BM25 (rerank.features)
are the input, whether each answers it the label; it is judged by how often the
passage it puts first answers. Then each question is searched with that ranker and
abstention off; what the search saw for its best passage (confidence.Evidence) is the
input, whether the reports answer it the label. Five folds, each class spread over them:
every figure printed is for questions outside the fold the model was fitted on. The same figures with one
fold per town say how the model carries over to a report it never saw, and with
one fold per question file (a writer's set) to people who ask in other words.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np

from .confidence import FEATURES, Model, cross_validated, fit, folds, groups
from .evaluate import Question, answers
from .rerank import SIGNS as RANK_SIGNS
from .rerank import Ranker
from .search import Engine

L2 = 1.0  # ridge on the weights: with a few hundred questions, keeps them from chasing single ones
RANK_L2 = 10.0  # the ranker's: its rows are ten candidates a question, alike in most features
# A lost answer costs a user more than a weak passage shown with a caveat: 「没有找到」 is said only
# below the probability at which at most this share of answerable questions would get it, cross-validated with
# five folds, with one town held out and with one question file held out alike. Held out so, 2% became 3.5% on
# reports and writers never seen (eval/other, eval/unseen); 1% became 1.4% there, the 2% users are promised.
MAX_FALSE_ABSTAIN = 0.01
SURE_FROM = 0.5  # the balanced model's own boundary: below it, the passage comes with a caveat


@dataclass(frozen=True)
class Figures:
    """How 「没有找到」 does on questions the model was not fitted on."""

    precision: float | None  # the share of abstentions that were right
    recall: float | None  # of unanswerable questions, the share that got 「没有找到」
    false_abstain: float | None  # of answerable questions, the share that got 「没有找到」
    unsure: float  # the share of questions shown with a caveat

    def summary(self) -> str:
        def share(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f}"

        return (f"「没有找到」 precision {share(self.precision)}, recall {share(self.recall)}, "
                f"false 「没有找到」 {share(self.false_abstain)}, with caveat {self.unsure:.3f}")


@dataclass(frozen=True)
class Ranking:
    """How often the passage put first answers, of the answerable questions whose candidates hold an answer."""

    questions: int
    by_bm25: int  # BM25's first
    folds: int  # the ranker's first, cross-validated over five folds
    by_town: int  # with one fold per town
    by_file: int  # with one fold per question file

    def summary(self) -> str:
        return (f"first passage answers, of {self.questions}: BM25 {self.by_bm25}, reranked (cross-validated) "
                f"{self.folds} (5 folds), {self.by_town} (one town out), {self.by_file} (one question file out)")


@dataclass(frozen=True)
class Calibration:
    model: Model
    ranker: Ranker
    ranking: Ranking
    questions: int
    unanswerable: int
    folds: Figures  # cross-validated over five folds
    by_town: Figures  # cross-validated with one fold per town
    by_file: Figures  # cross-validated with one fold per question file

    def summary(self) -> str:
        return (
            f"Ranking: {self.ranking.summary()}.\n"
            f"{self.questions} questions, {self.unanswerable} unanswerable; 「没有找到」 below p = {self.model.none_below:.3f}, "
            f"a caveat below {self.model.sure_from:.3f}; cross-validated (5 folds): {self.folds.summary()}; "
            f"one town left out at a time: {self.by_town.summary()}; one question file left out at a time: "
            f"{self.by_file.summary()}"
        )


def evidence_table(engine: Engine, questions: list[Question]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Question]]:
    """(features, labels, questions) of the questions whose search found a passage, and the labels of those
    that found none."""
    permissive = copy.copy(engine)
    permissive.model = replace(engine.model, none_below=0.0)
    rows, labels, empty, found = [], [], [], []
    for q in questions:
        answer = permissive.search(q.question)
        if answer.evidence is None:  # no words the reports use, or no report of that year: never answered
            empty.append(1 if q.answers else 0)
            continue
        rows.append(answer.evidence.vector())
        labels.append(1 if q.answers else 0)
        found.append(q)
    return np.array(rows).reshape(-1, len(FEATURES)), np.array(labels), np.array(empty, dtype=int), found


RankRows = list[tuple[np.ndarray, np.ndarray, Question]]  # per question: its candidates' features, which answer it


def ranking_table(engine: Engine, questions: list[Question]) -> RankRows:
    """Per answerable question whose best candidates (in BM25's order) hold an answer: their features, and which
    answer it."""
    unranked = copy.copy(engine)
    unranked.ranker, unranked.model = None, replace(engine.model, none_below=0.0)
    table = []
    for q in questions:
        if q.answers:
            candidates = unranked.search(q.question).considered
            labels = np.array([answers(q, engine.index.chunks[c.chunk_id]) for c in candidates], dtype=float)
            if labels.any():
                table.append((np.array([c.features for c in candidates]), labels, q))
    return table


def fit_ranker(table: RankRows) -> Ranker:
    weights, _ = fit(np.vstack([x for x, _, _ in table]), np.concatenate([y for _, y, _ in table]), RANK_L2, RANK_SIGNS)
    return Ranker(tuple(float(w) for w in weights))


def rank_figures(table: RankRows) -> Ranking:
    def held_out(tests: list[np.ndarray]) -> int:
        right = 0
        for test in tests:
            left_out = set(test.tolist())
            ranker = fit_ranker([row for i, row in enumerate(table) if i not in left_out])
            right += sum(int(table[i][1][ranker.order(table[i][0])[0]]) for i in test)
        return right

    every = np.arange(len(table))
    return Ranking(
        len(table), int(sum(y[0] for _, y, _ in table)), held_out([every[i::5] for i in range(5)]),
        held_out(groups([q.town for _, _, q in table])), held_out(groups([q.source for _, _, q in table])),
    )


def calibrate(engine: Engine, questions: list[Question]) -> Calibration:
    table = ranking_table(engine, questions)
    ranker = fit_ranker(table)
    engine = copy.copy(engine)
    engine.ranker = ranker  # the confidence model weighs the passage the ranker puts first
    x, y, empty, found = evidence_table(engine, questions)
    p = cross_validated(x, y, folds(y, 5), l2=L2)
    by_town = cross_validated(x, y, groups([q.town for q in found]), l2=L2)
    by_file = cross_validated(x, y, groups([q.source for q in found]), l2=L2)
    weights, bias = fit(x, y, L2)
    answerable = sum(1 for q in questions if q.answers)
    # The cut keeps false 「没有找到」 within budget however the questions were held out: a report or a writer the model
    # never saw lowers the answerable questions' probabilities, and that is what users bring.
    none_below = min(threshold(held[y == 1], int(np.sum(empty == 1)), answerable) for held in (p, by_town, by_file))
    model = Model(tuple(float(w) for w in weights), bias, none_below, max(SURE_FROM, none_below))
    return Calibration(model, ranker, rank_figures(table), len(questions), len(questions) - answerable,
                       figures(p, y, empty, model), figures(by_town, y, empty, model), figures(by_file, y, empty, model))


def figures(p: np.ndarray, y: np.ndarray, empty: np.ndarray, model: Model) -> Figures:
    """The figures of held-out probabilities p under the model's cuts. Questions the search found nothing
    for are abstentions too, whatever the model says."""
    answerable = int(np.sum(y == 1) + np.sum(empty == 1))
    unanswerable = len(y) + len(empty) - answerable
    abstained = p < model.none_below
    right = int(np.sum(abstained & (y == 0)) + np.sum(empty == 0))
    said = int(np.sum(abstained)) + len(empty)
    false = said - right
    return Figures(
        right / said if said else None,
        right / unanswerable if unanswerable else None,
        false / answerable if answerable else None,
        float(np.mean((p >= model.none_below) & (p < model.sure_from))),
    )


def threshold(answerable_p: np.ndarray, lost_anyway: int, answerable: int) -> float:
    """A cut that keeps false 「没有找到」 within MAX_FALSE_ABSTAIN (lost_anyway: found nothing at all): halfway
    between the last answerable question it may lose and the first it must keep, not on the one it keeps, so that
    the model refitted on every question does not lose it."""
    budget = int(MAX_FALSE_ABSTAIN * answerable) - lost_anyway
    ranked = np.sort(answerable_p)
    if budget < 0 or not len(ranked):
        return 0.0
    if budget >= len(ranked):
        return 1.0
    below = ranked[budget - 1] if budget > 0 else 0.0
    return float((below + ranked[budget]) / 2)
