"""The /stats chart: a PNG of a sane size, drawn from the counts given, with no glyph missing."""

from __future__ import annotations

import struct
import warnings
from datetime import date, timedelta

from bot.charts import daily_png
from bot.querylog import Day

START = date(2026, 5, 1)


def days(counts: list[tuple[int, int, int, int]]) -> list[Day]:
    return [Day(START + timedelta(days=i), *c) for i, c in enumerate(counts)]


def size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_the_chart_is_a_png_drawn_from_the_counts_without_missing_glyphs():
    busy = days([(i % 7 * 3, i % 7 * 2, i % 3, i % 2) for i in range(30)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" before drawing a box
        png = daily_png(busy)
        empty = daily_png(days([(0, 0, 0, 0)] * 30))
    width, height = size(png)
    assert 600 <= width <= 2000 and 400 <= height <= 1200 and size(empty) == (width, height)
    assert png != empty
    one_more = busy[:-1] + [Day(busy[-1].day, busy[-1].questions + 5, busy[-1].answered, 0, 0)]
    assert daily_png(one_more) != png
