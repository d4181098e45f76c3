"""Turn a report as extracted from a PDF or newspaper page into clean paragraphs.

The texts break sentences across blank lines (page breaks), mix half- and
full-width punctuation, put quote marks on lines of their own and repeat
passages. The reports stay as they are on disk; this module repairs them in
memory, keeping every word of the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .pages import repair
from .tables import CELL, MOST_COLUMNS, rows_of_cells, sentences, strip

HAN = "\u3400-\u4dbf\u4e00-\u9fff"
CJK = HAN + "\u3000-\u303f\uff00-\uffef“”‘’—…·"
# Full-width ASCII letters, digits and a few signs that belong with numbers.
WIDTH_TABLE = {c: chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)}  # ０-９
WIDTH_TABLE |= {c: chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)}  # Ａ-Ｚ
WIDTH_TABLE |= {c: chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)}  # ａ-ｚ
WIDTH_TABLE |= {0xFF05: "%", 0x3000: " ", 0xFF0B: "+", 0xFF0E: "."}
_FULL_PUNCT = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
_HALF_BY_CJK = re.compile(rf"(?<=[{CJK}])[,;:?!()]|[,;:?!()](?=[{CJK}])")
_SPACE_BY_CJK = re.compile(rf"(?<=[{CJK}])[ \t\u00a0]+|[ \t\u00a0]+(?=[{CJK}])")

# A line that ends a sentence: terminal punctuation, maybe followed by closing quotes or brackets.
_ENDS_SENTENCE = re.compile(r"[。！？!?；;：:…][\"”’）)」』]*$")
_HAS_SENTENCE_END = re.compile(r"[。！？!?]")
_NUMBERED_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
_SUBHEADING = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")  # （一）, the level under 一、
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s*(.*)$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*(.*)$")
_ONLY_QUOTES = re.compile(r"^[\"“”'‘’「」『』]+$")
# A byline or photo credit in brackets, e.g. 「（刘颖 马吉）」.
_BYLINE = re.compile(r"^[（(【][^）)】]{1,20}[）)】]$")
HEADING_MAX = 40
# A table extracted from a PDF puts each cell on a line of its own: a run of this many short unpunctuated lines
# is a table's cells, never headings (headings do not come four in a row).
CELL_MAX = 12
CELL_RUN = 4
TABLE_ROWS = 200  # the most rows a table read from cells one per line has
_CLAUSE = re.compile(r"[，,。；;！？!?、]")  # punctuation that cells of figures do not hold
_NOT_WORD = re.compile(rf"[^\w{HAN}]")


@dataclass(frozen=True)
class Paragraph:
    section: tuple[str, ...]  # the headings above it, outermost first
    text: str


def normalize_width(text: str) -> str:
    """Full-width letters and digits to ASCII; half-width punctuation beside Chinese to full width."""
    text = text.translate(WIDTH_TABLE)
    return _HALF_BY_CJK.sub(lambda m: _FULL_PUNCT[m.group()], text)


def squeeze_spaces(text: str) -> str:
    """Drop the spaces that PDF extraction puts between Chinese characters and numbers."""
    return _SPACE_BY_CJK.sub("", text).strip()


def _heading_level(line: str, first: bool) -> tuple[int, str] | None:
    """(level, heading text) when the line is a heading, else None."""
    md = _MARKDOWN_HEADING.match(line)
    if md:
        return len(md.group(1)), md.group(2).strip()
    if len(line) > HEADING_MAX:
        return None
    if _NUMBERED_HEADING.match(line) and line.count("。") <= 1:
        return 2, line
    if _SUBHEADING.match(line) and not _HAS_SENTENCE_END.search(line):
        return 3, line
    if _ENDS_SENTENCE.search(line) or _HAS_SENTENCE_END.search(line):
        return None
    if first:
        return 1, line
    # A short unpunctuated line is a title; a fragment cut by a page break reads
    # differently: it has several commas, numbers or brackets, or ends on a comma.
    if line.count("，") + line.count(",") > 1 or re.search(r"[0-9（）()]|[，,、]$", line):
        return None
    return 2, line


def _cell_runs(lines: list[str]) -> list[tuple[int, int]]:
    """[start, end) of each run of lines that are a table's cells, one per line (see CELL_RUN); a row of cells
    (CELL) is no cell."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, line in enumerate([*lines, ""]):
        if (line and len(line) <= CELL_MAX and CELL not in line and not _ENDS_SENTENCE.search(line)
                and not _HAS_SENTENCE_END.search(line)):
            start = i if start is None else start
            continue
        if start is not None and i - start >= CELL_RUN:
            runs.append((start, i))
        start = None
    return runs


def _tables(lines: list[str]) -> tuple[dict[int, tuple[int, list[str]]], set[int]]:
    """The tables among the lines, {start: (end, its rows as sentences)}: rows of cells joined by CELL (as the
    extractors write them), or cells one per line whose columns can be found again; and the lines of cell
    runs whose columns cannot (kept as they were, the cells apart)."""
    found: dict[int, tuple[int, list[str]]] = {}
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and CELL in lines[end]:
            end += 1
        if end - start >= 2:
            found[start] = (end, sentences([line.split(CELL) for line in lines[start:end]]))
        else:  # a PDF's row on one line, its cells apart by spaces: as many cells on each line of the run
            cells = _spaced(lines[start])
            while end < len(lines) and len(cells) > 2 and len(_spaced(lines[end])) == len(cells):
                end += 1
            run = [cell for line in lines[start:end] for cell in _spaced(line)]
            table = rows_of_cells(run, len(run)) if end - start >= 3 else None
            if table and len(table[0][0]) == len(cells):
                found[start] = (end, sentences(table[0]))
        start = max(end, start + 1)
    loose: set[int] = set()
    taken = 0
    rows_found = {i for start, (end, _) in found.items() for i in range(start, end)}
    for start, end in _cell_runs(lines):
        if start < taken or start in rows_found:  # the rows of a table found already
            continue
        table = rows_of_cells(lines[start : start + MOST_COLUMNS * TABLE_ROWS], end - start)
        if table:
            rows, taken = table[0], start + table[1]
            found[start] = (taken, sentences(rows))
        else:
            loose.update(range(start, end))
    return found, loose


def _spaced(line: str) -> list[str]:
    """The cells of a line that may be a table's row with its cells apart by spaces (no sentence)."""
    return [] if _CLAUSE.search(line) else line.split()


def _caption(line: str) -> bool:
    """Whether the line above a table names it (「表1 2024年主要经济指标完成情况」) rather than heading a section."""
    return (len(line) <= HEADING_MAX and not _HAS_SENTENCE_END.search(line) and not _ENDS_SENTENCE.search(line)
            and not (_NUMBERED_HEADING.match(line) or _SUBHEADING.match(line) or _MARKDOWN_HEADING.match(line)))


def _tidy_heading(text: str) -> str:
    return text.replace("**", "").strip().rstrip("，,、：:。").strip()


def clean_report(text: str) -> list[Paragraph]:
    """Split a report into paragraphs, each with its section headings, repairing broken lines. A table's rows
    are paragraphs of their own (tables.py), under its caption."""
    paragraphs: list[Paragraph] = []
    stack: list[tuple[int, str]] = []
    buffer = ""
    lead = ""

    def headings() -> tuple[str, ...]:
        return tuple(h for lv, h in stack if h and lv > 1)

    def flush() -> None:
        nonlocal buffer, lead
        body = squeeze_spaces(buffer.replace("**", ""))
        if body:
            paragraphs.append(Paragraph(headings() + ((lead,) if lead else ()), body))
        buffer, lead = "", ""

    lines = [strip(normalize_width(raw)) for raw in repair(text).splitlines()]
    lines = [line for line in lines if line and not (_ONLY_QUOTES.match(line) or _BYLINE.match(line))]
    tables, cells = _tables(lines)
    inside = {i for start, (end, _) in tables.items() for i in range(start, end)}
    captions = {start - 1 for start in tables if start > 0 and start - 1 not in inside | cells and _caption(lines[start - 1])}
    after_table = 0
    for i, line in enumerate(lines):
        if i < after_table:
            continue
        if i in tables:  # each row a paragraph of its own, under the table's caption
            flush()
            after_table, rows = tables[i]
            caption = (squeeze_spaces(lines[i - 1]),) if i - 1 in captions else ()
            paragraphs += [Paragraph(headings() + caption, squeeze_spaces(row)) for row in rows]
            continue
        if i in captions:
            flush()
            continue
        # A title-like line wins even mid-sentence: the continuations after page
        # breaks in the reports are long lines, a truncated sentence before a title is not.
        heading = None if i in cells else _heading_level(line, first=i == 0)
        if heading:
            flush()
            level, title = heading
            stack = [(lv, h) for lv, h in stack if lv < level] + [(level, _tidy_heading(title))]
            continue
        if buffer and _ENDS_SENTENCE.search(buffer) and not buffer.endswith(("：", ":")):
            flush()
        bold = _BOLD_LEAD.match(line)
        if bold and not buffer:
            lead, line = _tidy_heading(bold.group(1)), bold.group(2).strip()
        # A table's cells stay apart (36.3 and 38.6, not 36.338.6); squeeze_spaces drops the spaces beside Chinese.
        buffer += " " + line if buffer and (i in cells or buffer[-1:].isdigit() and line[:1].isdigit()) else line
    flush()
    return paragraphs


def dedupe(sentences: list[str], min_len: int = 12) -> list[bool]:
    """Mark the sentences to keep: drop repeats and truncated copies of an earlier sentence."""
    seen: set[str] = set()
    earlier = ""  # every kept sentence, NUL-separated, for the substring test
    keep: list[bool] = []
    for sentence in sentences:
        key = _NOT_WORD.sub("", sentence)
        repeated = bool(key) and (key in seen or (len(key) >= min_len and key in earlier))
        keep.append(not repeated)
        if not repeated and key:
            seen.add(key)
            earlier += key + "\0"
    return keep
