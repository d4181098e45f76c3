"""Undo a printed page's layout in extracted text: page numbers, running headers and footers, wrapped lines.

Extraction (extract.py) separates pages with a form feed. Page numbers are dropped
wherever they stand alone on a line; headers, footers and line wraps need the pages,
so text without form feeds (the seeds, a .docx) keeps all its other lines as they are.
"""

from __future__ import annotations

import re
from collections import Counter

PAGE_BREAK = "\f"
# 「- 3 -」「— 3 —」「第3页」「第 3 页 共 12 页」「3/12」「Page 3」, alone on a line.
PAGE_NUMBER = re.compile(
    r"^\s*(?:[-－—–]\s*\d{1,4}\s*[-－—–]|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|(?:page|p\.)\s*\d{1,4}(?:\s*of\s*\d{1,4})?)\s*$",
    re.I,
)
_ENDS = re.compile(r"[。！？!?；;：:…\"”’）)」』]$")
EDGE_LINES = 2  # a running header or footer is among the first or last lines of a page
WRAP_SHARE = 0.85  # a line this close to the page's full width was wrapped, not ended


def _running(pages: list[list[str]]) -> set[str]:
    """Lines found at the top or bottom of at least half the pages (and of at least 3)."""
    seen = Counter(line for page in pages for line in set(page[:EDGE_LINES] + page[-EDGE_LINES:]))
    least = max(3, len(pages) // 2)
    return {line for line, n in seen.items() if n >= least}


def _unwrap(lines: list[str]) -> list[str]:
    """Join a line that fills the width and stops mid-sentence to the one after it."""
    if not lines:
        return lines
    full = max(len(line) for line in lines)
    out: list[str] = []
    joining = False
    for line in lines:
        if joining:
            out[-1] += line
        else:
            out.append(line)
        joining = len(line) >= WRAP_SHARE * full and not _ENDS.search(line)
    return out


def repair(text: str) -> str:
    """The text with page numbers, running headers/footers and page-end line breaks removed."""
    if PAGE_BREAK not in text:
        return "\n".join(line for line in text.split("\n") if not PAGE_NUMBER.match(line))
    pages = [[l.strip() for l in page.splitlines() if l.strip() and not PAGE_NUMBER.match(l)] for page in text.split(PAGE_BREAK)]
    running = _running(pages) if len(pages) >= 3 else set()
    lines = [line for page in pages for line in page if line not in running]
    return "\n".join(_unwrap(lines))
