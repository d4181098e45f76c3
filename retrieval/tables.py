"""A report's table as sentences: each row, read with its column headings, answers a question by itself.

Flattened into text (「指标2023年2024年增长地区生产总值（亿元）36.3 38.6 6.2%…」) a table is one long passage
that holds every indicator: it ranks for any of them and answers none legibly. Each row becomes a line of its
own, its values named by their column's heading and given the unit the row or column states:
「地区生产总值：2023年 36.3亿元，2024年 38.6亿元，增长 6.2%。」

The extractors write a table they can read (.docx, a web page's <table>) as a row per line, its cells joined
by CELL; a PDF's text puts a cell on each line, and rows_of_cells finds the columns again.
"""

from __future__ import annotations

import re

from .units import FAMILY

CELL = "\t"  # between the cells of a table's row, as the extractors write it
MOST_COLUMNS = 8
LABEL_MAX = 40  # a row's label is at most a heading's length
VALUE_MAX = 16  # a value or a column's heading is short
_SENTENCE = re.compile(r"[。！？；]")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_UNIT = "|".join(sorted(map(re.escape, FAMILY), key=len, reverse=True))
# A unit a heading or label states: 「（亿元）」「(%)」, or a trailing 「%」 (增长%).
_STATED_UNIT = re.compile(rf"\s*(?:[（(]\s*((?:十|百|千|万|亿)*(?:{_UNIT}))\s*[）)]|(%))\s*$")
HAN = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character: a label holds one, a page's text too


def strip(line: str) -> str:
    """The line without the spaces around it; a table's row keeps its empty first and last cells."""
    return line.strip(" \r\n\u3000\xa0") if CELL in line else line.strip()


def rows_of_cells(lines: list[str], least: int) -> tuple[list[list[str]], int] | None:
    """A table given one cell per line from lines[0] on (a PDF's text), and how many lines it takes: the column
    count whose rows, after a first row of headings, each open with a label and hold numbers for the most lines,
    at least `least` (the run of short lines that showed a table starts here); None when no count fits."""
    best: tuple[list[list[str]], int] | None = None
    for columns in range(2, MOST_COLUMNS + 1):
        rows = [lines[:columns]]
        if len(rows[0]) < columns or any(_NUMBER.fullmatch(c) or len(c) > VALUE_MAX for c in rows[0]):
            continue
        while len(lines) >= (len(rows) + 1) * columns:
            row = lines[len(rows) * columns : (len(rows) + 1) * columns]
            if not (_is_label(row[0]) and all(_is_value(c) for c in row[1:])):
                break
            rows.append(row)
        taken = len(rows) * columns
        if len(rows) > 2 and taken >= least and (best is None or taken > best[1]):
            best = rows, taken
    return best


def sentences(rows: list[list[str]]) -> list[str]:
    """One line per row after the headings: the row's label, then each value after its column's heading
    (「2024年 38.6亿元」). A table without a row of headings gives its rows' cells one after another."""
    rows = [[c.strip() for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2 or any(_NUMBER.fullmatch(c) for c in rows[0]):
        return ["，".join(c for c in row if c) + "。" for row in rows]
    headings = [_split_unit(h) for h in rows[0]]
    lines = []
    for row in rows[1:]:
        label, row_unit = _split_unit(row[0])
        values = []
        for j, cell in enumerate(row[1:], 1):
            if not cell or cell == row[j - 1]:  # empty, or a merged cell's text repeated in each column it spans
                continue
            heading, column_unit = headings[j] if j < len(headings) else ("", "")
            unit = (column_unit or row_unit) if _NUMBER.fullmatch(cell) else ""
            values.append(f"{heading} {cell}{unit}".strip())
        lines.append(f"{label}：{'，'.join(values)}。" if values else f"{label}。")
    return lines


def _split_unit(cell: str) -> tuple[str, str]:
    """(the cell without the unit it states, that unit): 「地区生产总值（亿元）」 → (地区生产总值, 亿元)."""
    match = _STATED_UNIT.search(cell)
    if not match or match.start() == 0:
        return cell, ""
    return cell[: match.start()], match.group(1) or match.group(2)


def _is_label(cell: str) -> bool:
    """A row's first cell: words (地区生产总值（亿元）), not a number, no sentence."""
    return bool(HAN.search(cell)) and not _NUMBER.match(cell) and len(cell) <= LABEL_MAX and not _SENTENCE.search(cell)


def _is_value(cell: str) -> bool:
    """A cell of figures: 36.3, 6.2%, 提高1.8个百分点."""
    return bool(_NUMBER.search(cell)) and len(cell) <= VALUE_MAX and not _SENTENCE.search(cell)
