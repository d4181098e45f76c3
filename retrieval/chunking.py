"""Cut cleaned reports into sentence chunks: the passages the bot quotes.

A chunk is one sentence, word for word, with the headings of its section. Lead-ins
too short to stand alone are merged with the sentence they introduce, and run-on
sentences are split at semicolons or commas so that a quote stays readable on a phone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .cleaning import clean_report, dedupe
from .corpus import Report

MIN_CHARS = 16
MAX_CHARS = 200
_SENTENCE = re.compile(r".+?(?:[。！？!?…]+[\"”’）)」』]*|$)", re.S)


@dataclass(frozen=True)
class Chunk:
    id: int  # position in the index; chunks of a paragraph are consecutive
    doc: str  # report file name
    town: str
    section: str  # headings, outermost first, joined by " · "
    paragraph: int  # paragraph number within the report
    text: str


def split_sentences(text: str) -> list[str]:
    return [s for s in (m.group().strip() for m in _SENTENCE.finditer(text)) if s]


def _split_long(sentence: str) -> list[str]:
    """Split at ；(or failing that ，) into balanced parts of at most MAX_CHARS."""
    if len(sentence) <= MAX_CHARS:
        return [sentence]
    pieces = [p for p in re.split(r"(?<=[；;])", sentence) if p]
    if max(map(len, pieces)) > MAX_CHARS:
        pieces = [q for p in pieces for q in re.split(r"(?<=[，,；;])", p) if q]
    target = len(sentence) / math.ceil(len(sentence) / MAX_CHARS)
    parts: list[str] = []
    for piece in pieces:
        if parts and len(parts[-1]) + len(piece) <= max(target, MIN_CHARS * 2) + 10:
            parts[-1] += piece
        else:
            parts.append(piece)
    return parts


def _balance_quotes(text: str) -> str:
    """Drop a quote mark left over from the paragraph's opening or closing quote."""
    if text.endswith("”") and text.count("”") > text.count("“"):
        text = text[:-1]
    if text.startswith("“") and text.count("“") > text.count("”"):
        text = text[1:]
    return text


def _merge_short(sentences: list[str]) -> list[str]:
    """Attach fragments shorter than MIN_CHARS to the sentence after them (or before, at the end)."""
    merged: list[str] = []
    carry = ""
    for sentence in sentences:
        sentence = carry + sentence
        carry = ""
        if len(sentence) < MIN_CHARS:
            carry = sentence
        else:
            merged.append(sentence)
    if carry:
        if merged:
            merged[-1] += carry
        else:
            merged.append(carry)
    return merged


def chunk_report(report: Report, first_id: int = 0) -> list[Chunk]:
    paragraphs = clean_report(report.text)
    sentences = [(i, s) for i, p in enumerate(paragraphs) for s in split_sentences(p.text)]
    keep = dedupe([s for _, s in sentences])
    kept: list[list[str]] = [[] for _ in paragraphs]
    for (number, sentence), ok in zip(sentences, keep):
        if ok:
            kept[number].append(sentence)
    chunks: list[Chunk] = []
    for number, paragraph in enumerate(paragraphs):
        for text in _merge_short([_balance_quotes(p) for s in kept[number] for p in _split_long(s)]):
            chunks.append(
                Chunk(
                    id=first_id + len(chunks),
                    doc=report.file,
                    town=report.town,
                    section=" · ".join(paragraph.section),
                    paragraph=number,
                    text=text,
                )
            )
    return chunks


def chunk_reports(reports: Iterable[Report]) -> list[Chunk]:
    chunks: list[Chunk] = []
    for report in reports:
        chunks.extend(chunk_report(report, first_id=len(chunks)))
    return chunks
