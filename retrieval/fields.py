"""The index's fields, each declared once: how much it counts, and how a report and a question are cut into it.

A field is searched with the question's terms of the same kind, so reports and
questions always meet through one analyzer (as whoosh declares a field with its
analyzer). A field without a source of its own is scored on another field's
postings: the semantic field asks the sentence's words with the question's
neighbours in meaning instead of its own words, and the spelled field asks its
characters with those of the question's words the reports searched do not use,
at no cost in index size.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    name: str
    weight: float  # how much a match counts, relative to a word of the sentence itself
    question: str  # which of the question's term lists queries it (an attribute of question.Question)
    source: str | None = None  # what of a chunk is cut into it: "text" or "section"; None: no postings of its own
    cut: str = "terms"  # the Tokenizer method that cuts it: "terms" (words and their parts) or "chars"
    postings: str | None = None  # for a field without a source: whose postings it is scored on

    @property
    def scored_on(self) -> str:
        return self.postings or self.name


FIELDS = (
    FieldSpec("words", 1.0, question="words", source="text"),
    FieldSpec("chars", 0.2, question="chars", source="text", cut="chars"),
    FieldSpec("context", 0.3, question="words", source="section"),
    FieldSpec("meaning", 1.0, question="neighbours", postings="words"),
    FieldSpec("spelled", 1.0, question="spelled", postings="chars"),
)
INDEXED = tuple(f for f in FIELDS if f.source)  # the fields a build writes postings for
