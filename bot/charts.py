"""The /stats chart: questions per day, the share answered and 👍/👎, as PNG bytes.

Drawn on a bare matplotlib Figure with the Agg canvas (no pyplot, no global state, so the bot can draw in a
thread). The labels are English words and numbers: matplotlib's own fonts (DejaVu) have no Chinese or emoji
glyphs and nothing is downloaded, so Chinese labels would come out as empty boxes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .querylog import Day

ANSWERED, MISSED, SHARE, UP, DOWN = "#2e7d32", "#bdbdbd", "#1565c0", "#43a047", "#e53935"
DAYS = 30  # how far back the chart looks
SIZE, DPI = (9, 5.5), 110  # 990 x 605 pixels
TICK_EVERY = 5  # days between date labels
HEADROOM = 1.3  # room above the highest bar for the legend


def daily_png(days: Sequence[Day]) -> bytes:
    """Bars of questions per day (answered or not) with the answered share as a line; feedback below."""
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1.3])
    x = range(len(days))
    answered = [d.answered for d in days]
    top.bar(x, answered, color=ANSWERED, label="answered")
    top.bar(x, [d.questions - d.answered for d in days], bottom=answered, color=MISSED, label="no answer")
    asked, found = sum(d.questions for d in days), sum(answered)
    share = f", {found / asked:.0%} answered" if asked else ""
    top.set_title(f"Questions per day (UTC), last {len(days)} days: {asked} asked{share}", loc="left")
    top.set_ylabel("questions")
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_ylim(0, max([d.questions for d in days] + [1]) * HEADROOM)
    shares = top.twinx()
    asked_days = [(i, d.answered / d.questions) for i, d in enumerate(days) if d.questions]
    shares.plot([i for i, _ in asked_days], [s for _, s in asked_days], color=SHARE, marker="o", markersize=3, label="answered share")
    shares.set_ylim(0, HEADROOM)
    shares.set_yticks([0, 0.25, 0.5, 0.75, 1])
    shares.yaxis.set_major_formatter(PercentFormatter(1.0))
    shares.set_ylabel("answered share")
    handles = [h for ax in (top, shares) for h in ax.get_legend_handles_labels()[0]]
    top.legend(handles=handles, loc="upper left", frameon=False, ncols=3)

    bottom.bar(x, [d.up for d in days], color=UP, label=f"helpful: {sum(d.up for d in days)}")
    bottom.bar(x, [-d.down for d in days], color=DOWN, label=f"not helpful: {sum(d.down for d in days)}")
    bottom.axhline(0, color="black", linewidth=0.6)
    bottom.set_ylim(-max([d.down for d in days] + [1]) * 1.1, max([d.up for d in days] + [1]) * 1.8)
    bottom.set_ylabel("feedback")
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{abs(value):.0f}"))
    bottom.legend(loc="upper left", frameon=False, ncols=2)
    ticks = sorted({*range(len(days) - 1, -1, -TICK_EVERY)})
    bottom.set_xticks(ticks, [days[i].day.strftime("%m-%d") for i in ticks])
    bottom.set_xlim(-0.6, len(days) - 0.4)

    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
