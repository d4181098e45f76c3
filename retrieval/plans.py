"""Years a report reviews and years it only plans, and which of its passages stand under a heading of plans or
of several years.

A work report delivered early in a year reviews the year before and sets the targets of the new one, often under
a heading of their own (「二、2025年工作目标和主要任务」) that repeats the review's topics. A question about what a
year achieved is answered from the review, one about plans (目标, 打算…) or about the year planned from the plans.
A report at the end of a term also reviews the term (「五年来」「过去五年」), again on the same topics: a question
naming one year is answered from that year's part, one about the years together (这五年, 五年来) from the term's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from .corpus import Report
from .tokenize import normalize

YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?=\s*年)")


def years_named(text: str) -> set[str]:
    """The years a (normalized) text names: 2025年, 2024 年; of a span (2021—2025年) the last only, since a
    question about a year inside it is seldom answered by what the span sums up."""
    return set(YEAR.findall(text))


# Words of a plan in report language (目标, 计划, 思路…): a period's part naming them only plans its years.
PLAN = re.compile(r"目标|计划|打算|准备|预期|预计|力争|争取|规划|思路|安排|展望|设想")
# Several years together, in a heading (「五年来」「过去五年」「“十四五”以来」) or a question (「这五年」); not 累计,
# which reports also say of one year (「全年累计接待游客」).
SPAN = re.compile(r"[两二三四五六七八九十几多]年(?:来|内|间|以来)|过去的?[两二三四五六七八九十几]年|近[两二三四五六七八九十几]年"
                  r"|这[两二三四五六七八九十几]年|十[一二三四五六七]五[”\"]?(?:期间|以来|时期)|(?:19|20)\d{2}年以来|这些年")
# A passage that opens on a lead-in naming a plan (「今年全镇经济社会发展的预期目标是：」) states plans whatever its
# heading; not 预计, which in a review estimates what the year achieved (「预计完成一般公共预算收入4.85亿元」).
_PLAN_LEAD = re.compile(r"^[^：:。；;]{0,30}(?:目标|计划|打算|安排|规划|思路|展望|设想)[^：:。；;]{0,6}[：:]")
# A passage under a heading of plans (「二、2025年工作目标和主要任务」) scores this much more for a question about
# plans, and one under any other heading this much more for a question that is not: 「2024年新增停车泊位多少个」
# asks what was done, not what the next year's plan promises: 「推动满意率提升至96%以上」 does not answer
# 「满意的比例有多少」. Twice the score, since a plan repeats the review's topics in fewer words and BM25 favours the
# shorter passage.
TENSE_PREFERENCE = 1.0
# A question naming a year prefers passages of that year's part to those under a term's review (「五年来」), and
# one about the years together (这五年, 五年来) the review's, by this much.
SPAN_PREFERENCE = 0.5


def period_years(period: str) -> tuple[set[str], set[str]]:
    """(the years a report's period reviews, the years it only plans): 「2023年，及2024年目标」 gives
    ({2023}, {2024}); a report delivered early in a year says 今年 for the year it plans."""
    reviewed: set[str] = set()
    planned: set[str] = set()
    for part in re.split(r"[，,、；;]|及|和|与", normalize(period)):
        (planned if PLAN.search(part) else reviewed).update(years_named(part))
    return reviewed, planned - reviewed


def reviewed_years(reports: Sequence[Report], towns: Sequence[str]) -> tuple[str, ...]:
    """The years the reports of these towns review (by their period), newest first: what a question naming another
    year can be asked about instead."""
    return tuple(sorted({y for r in reports if r.town in towns for y in period_years(r.period)[0]}, reverse=True))


def report_years(report: Report) -> list[str]:
    """The years a report names in its title or text, or that its period reviews: a question naming another
    year is not about it (unless it asks about the plans for a year the period plans, see period_years)."""
    named = years_named(normalize(" ".join((report.title, report.text))))
    return sorted(named | period_years(report.period)[0])


class Plans:
    """Per report the years it only plans; per chunk whether it stands under a heading of plans or of a term's
    review; and the preference a question's time gives its candidates."""

    def __init__(self, chunks, reports: Sequence[Report]) -> None:
        self.chunks = chunks  # the index's ChunkStore
        self.planned = {r.file: period_years(r.period)[1] for r in reports}

    @property
    def under(self) -> np.ndarray:
        """Per chunk, whether its heading names a plan (目标, 安排…) or a year its report's period only plans."""
        return self._marks[0]

    @property
    def spanning(self) -> np.ndarray:
        """Per chunk, whether its heading reviews several years together (「五年来」)."""
        return self._marks[1]

    @cached_property
    def _marks(self) -> tuple[np.ndarray, np.ndarray]:
        """(under, spanning), judged once per report and heading for the whole index at its first use."""
        chunks = self.chunks
        width = len(chunks.sections)
        keys, where = np.unique(np.asarray(chunks.doc, dtype=np.int64) * width + chunks.section, return_inverse=True)
        plans = np.zeros(len(keys), dtype=bool)
        spans = np.zeros(len(keys), dtype=bool)
        for i, key in enumerate(keys.tolist()):
            heading, file = chunks.sections[key % width], chunks.docs[key // width]
            plans[i] = bool(PLAN.search(heading) or years_named(heading) & self.planned.get(file, set()))
            spans[i] = bool(SPAN.search(heading))
        where = where.reshape(-1)
        return plans[where], spans[where]

    def stated(self, chunk_ids: np.ndarray, read: np.ndarray) -> np.ndarray:
        """Per chunk, whether it states plans: it stands under a heading of plans or, for the chunks also in read
        (a question's best few candidates: texts are not read for the whole index), opens on a lead-in naming one."""
        flags = self.under[chunk_ids].copy()
        opens = {i for i in read.tolist() if _PLAN_LEAD.match(self.chunks.text(i))}
        if opens:
            flags |= np.isin(chunk_ids, list(opens))
        return flags

    def preference(self, plans: bool, years: frozenset[str], span: bool, candidates: np.ndarray,
                   read: np.ndarray, this_year: bool = False) -> np.ndarray:
        """Per candidate, the factor a question's time gives its score: passages of plans for a question about
        plans (and the others for one that is not), of a term's review for one about several years (and the
        others for one naming a year), each only when the candidates have both kinds. read: see stated."""
        factor = np.ones(len(candidates), dtype=np.float32)
        tense = self.stated(candidates, read) == self.asked(plans, years, candidates, this_year)
        if not tense.all():
            factor *= (1 + TENSE_PREFERENCE * tense).astype(np.float32)
        if years or span:
            spanned = self.spanning[candidates] == span
            if not spanned.all():
                factor *= (1 + SPAN_PREFERENCE * spanned).astype(np.float32)
        return factor

    def prepare(self) -> None:
        """Mark the passages now (0.25 s at 1M chunks) rather than at the first question."""
        for marks in self._marks:
            marks.flags.writeable = False

    def asked(self, plans: bool, years: frozenset[str], chunk_ids: np.ndarray, this_year: bool = False) -> np.ndarray:
        """Per chunk, whether a question is about plans for its report: it says so (plans) or names a year the
        report only plans (「2025年新增停车泊位多少个」 of a 2024 report asks what 2025 is to bring), or says 今年 of a
        report delivered early in the year it plans (「今年打算新增多少学位」 of the same report: 2025)."""
        if plans or not (years or this_year):
            return np.full(len(chunk_ids), plans)
        docs = self.chunks.doc[chunk_ids]
        planning = {d: bool(years & self.planned.get(self.chunks.docs[d], set()) if years
                            else self.planned.get(self.chunks.docs[d]))
                    for d in np.unique(docs).tolist()}
        return np.array([planning[d] for d in docs.tolist()], dtype=bool)
