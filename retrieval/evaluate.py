"""Score the engine on a question set: how often the right passage comes first."""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import Chunk
from .search import Answer, Engine

DEPTH = 5  # MRR@5: ranks beyond this count as a miss


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    town: str
    answers: tuple[str, ...]
    type: str
    source: str = ""  # the file it came from: a writer's question set


@dataclass
class Tally:
    answerable: int = 0
    hit1: int = 0
    hit3: int = 0
    rr: float = 0.0
    unanswerable: int = 0
    abstained: int = 0
    false_abstain: int = 0

    def as_dict(self) -> dict[str, float | int | None]:
        a, u = self.answerable, self.unanswerable
        return {
            "answerable": a,
            "hit@1": round(self.hit1 / a, 3) if a else None,
            "hit@3": round(self.hit3 / a, 3) if a else None,
            "mrr@5": round(self.rr / a, 3) if a else None,
            "false_abstain": round(self.false_abstain / a, 3) if a else None,
            "unanswerable": u,
            "abstain": round(self.abstained / u, 3) if u else None,
        }


@dataclass
class Report:
    overall: Tally = field(default_factory=Tally)
    by_type: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    passage_lengths: list[int] = field(default_factory=list)
    misses: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            **self.overall.as_dict(),
            "median_passage_chars": statistics.median(self.passage_lengths) if self.passage_lengths else None,
            "by_type": {t: tally.as_dict() for t, tally in sorted(self.by_type.items())},
        }


def load_questions(path: Path | str) -> list[Question]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            questions.append(
                Question(str(d.get("id", number)), d["question"], d.get("town", ""), tuple(d["answers"]), d.get("type", ""),
                         Path(path).name)
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {number}: not a question record ({exc})") from exc
    return questions


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def answers(question: Question, chunk: Chunk) -> bool:
    """Whether the passage is from the right town and holds an answer string."""
    text = _squash(chunk.text)
    return (not question.town or chunk.town == question.town) and any(_squash(a) in text for a in question.answers)


def first_hit_rank(question: Question, answer: Answer) -> int | None:
    """1-based rank of the first passage that answers the question."""
    return next((rank for rank, hit in enumerate(answer.hits, 1) if answers(question, hit.chunk)), None)


def evaluate(engine: Engine, questions: list[Question]) -> Report:
    report = Report()
    for q in questions:
        answer = engine.search(q.question, limit=DEPTH)
        report.passage_lengths.extend(len(h.chunk.text) for h in answer.hits[:1])
        for tally in (report.overall, report.by_type[q.type]):
            if not q.answers:
                tally.unanswerable += 1
                tally.abstained += not answer.hits
                continue
            tally.answerable += 1
            rank = first_hit_rank(q, answer)
            tally.false_abstain += not answer.hits
            if rank:
                tally.hit1 += rank == 1
                tally.hit3 += rank <= 3
                tally.rr += 1 / rank
        wrong = (not q.answers and answer.hits) or (q.answers and first_hit_rank(q, answer) != 1)
        if wrong:
            report.misses.append(
                {
                    "id": q.id,
                    "question": q.question,
                    "type": q.type,
                    "rank": first_hit_rank(q, answer) if q.answers else None,
                    "top": [f"{h.score:.2f} {h.chunk.town}: {h.chunk.text[:60]}" for h in answer.hits[:3]],
                }
            )
    return report
