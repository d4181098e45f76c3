"""Undo a printed page's layout in extracted text: page numbers, running headers and footers, wrapped lines.

Extraction (extract.py) separates pages with a form feed. Page numbers are dropped
wherever they stand alone on a line; running headers and footers need the pages. Line
wraps are undone within pages, and in text without form feeds (a PDF converted to .txt
elsewhere) when most of its lines fill one short printed width; text written a
paragraph per line (the seeds, a .docx) keeps its lines as they are.
"""

from __future__ import annotations

import re
from collections import Counter

from .tables import CELL, strip

PAGE_BREAK = "\f"
# 「- 3 -」「— 3 —」「第3页」「第 3 页 共 12 页」「3/12」「Page 3」, alone on a line.
PAGE_NUMBER = re.compile(
    r"^\s*(?:[-－—–]\s*\d{1,4}\s*[-－—–]|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|(?:page|p\.)\s*\d{1,4}(?:\s*of\s*\d{1,4})?)\s*$",
    re.I,
)
# A line ends a sentence with its punctuation, maybe inside closing quotes: a closing quote alone does not
# (「…荣获“河北省卫生乡镇”」 wraps on to the next line).
_ENDS = re.compile(r"[。！？!?；;：:…][\"”’）)」』]*$")
_MARKED_HEADING = re.compile(r"^\s*#{1,6} ")  # a heading as an extractor marks it (Markdown, from a .docx's styles)
EDGE_LINES = 2  # a running header or footer is among the first or last lines of a page
WRAP_SHARE = 0.85  # a line this close to the page's full width was wrapped, not ended
PRINTED_WIDTH = 120  # at most this many characters fill a printed line; paragraphs run longer
WRAPPED_LINES = 0.5  # text is hard-wrapped when this share of its lines fill its width


def _running(pages: list[list[str]]) -> set[str]:
    """Lines found at the top or bottom of at least half the pages (and of at least 3)."""
    seen = Counter(line for page in pages for line in set(page[:EDGE_LINES] + page[-EDGE_LINES:]))
    least = max(3, len(pages) // 2)
    return {line for line, n in seen.items() if n >= least}


def _width(lines: list[str]) -> int:
    """The printed width of hard-wrapped lines, or 0 when the lines are paragraphs: the length most lines reach
    (the 90th percentile: a longer title or date line is no guide), when at most a printed line's and at least
    WRAPPED_LINES of the lines come near it."""
    lengths = sorted(len(line) for line in lines)
    if not lengths:
        return 0
    width = lengths[int(0.9 * (len(lengths) - 1))]
    near = sum(1 for n in lengths if n >= WRAP_SHARE * width)
    return width if width <= PRINTED_WIDTH and near >= WRAPPED_LINES * len(lengths) else 0


def _unwrap(lines: list[str], full: int | None = None) -> list[str]:
    """Join a line that fills the width (by default the longest line's) and stops mid-sentence to the one after it.
    A paragraph's first line fills the width with its indent (「　　坚持…」), which the line joined loses. A table's
    row and a marked heading are never joined."""
    if not lines:
        return lines
    full = full or max(len(line) for line in lines)
    out: list[str] = []
    joining = False
    for line in lines:
        alone = CELL in line or bool(_MARKED_HEADING.match(line))  # a table's row, a heading the extractor marked
        if joining and not alone:
            out[-1] += line.strip()
        else:
            out.append(strip(line))
        joining = len(line) >= WRAP_SHARE * full and not _ENDS.search(line) and not alone
    return out


def repair(text: str) -> str:
    """The text with page numbers, running headers/footers and page-end line breaks removed."""
    if PAGE_BREAK not in text:
        lines = [line for line in text.split("\n") if not PAGE_NUMBER.match(line)]
        printed = [line.rstrip(" \r\u3000\xa0") for line in lines if line.strip()]
        width = _width(printed)
        return "\n".join(_unwrap(printed, width) if width else lines)
    pages = [[strip(l) for l in page.splitlines() if l.strip() and not PAGE_NUMBER.match(l)] for page in text.split(PAGE_BREAK)]
    running = _running(pages) if len(pages) >= 3 else set()
    lines = [line for page in pages for line in page if line not in running]
    # The width most lines reach, not the widest line's: in a proportional font a line of digits and punctuation
    # holds more characters, and lines a few characters short of it were left unjoined.
    return "\n".join(_unwrap(lines, _width(lines) or None))
