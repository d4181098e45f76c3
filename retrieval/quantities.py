"""Numbers in units: which a question asks for (多少亩, 几家, 多少钱) and which a passage holds.

A passage's quantities are read once, when the index is built, into a few bits
per chunk (one per unit family, one for a quantity of any kind, each with dates
left out and kept), so that weighing hundreds of candidate passages for a
question asking 多少亩 costs an array lookup, not a regular expression each.
"""

from __future__ import annotations

import re

import numpy as np

from .tokenize import normalize
from .units import FAMILY, UNIT_FAMILIES

_UNITS = "|".join(sorted(map(re.escape, FAMILY), key=len, reverse=True))
# 几 asking how many: not 「哪几个」 (which ones), 「这几年」「近几年」「好几个」 (these few, several) or 几乎 (almost).
_HOW_MANY = r"(?<![哪这那近前头好])几(?!乎)"
# 「多少亩」「几家」「多少万元」; the question words themselves are stop words, the unit is what is left.
_ASKED_UNIT = re.compile(rf"(?:多少|{_HOW_MANY})(?:十|百|千|万|亿)*({_UNITS})")
# Nouns of a sum of money (general Chinese), and the words that may stand between such a noun and 多少.
_MONEY = "钱|资金|投资|经费|收入|补贴|补助|奖励|奖补|奖金|工资|工钱|薪酬|薪水|费用|税收|金额|总额|总值|产值|利润|营收"
_LINKING = "是|有|为|达到|达|完成|实现|共|一共|总共|合计|累计|大概|大约|约|了"
_ASKED_BY_WORD = (  # questions that name the quantity instead of its unit
    # A sum of money named by what it is (补贴, 工资, 产值…), after 多少 or before it: 「发了多少奖励补贴」「投资完成多少」.
    (re.compile(rf"多少钱|多少[\u4e00-\u9fff]{{0,4}}?(?:{_MONEY})|(?:{_MONEY})(?:{_LINKING})*多少"), "money"),
    (re.compile(rf"多大面积|面积(?:{_LINKING})*多[大少]|多大(?:的)?(?:地|规模)"), "area"),  # 「销售面积是多少」
    (re.compile(r"多久|多长时间"), "time"),  # before 多长: 「要等多长时间」 asks a duration
    (re.compile(r"多长|多远"), "length"),
    # A rate (覆盖率, 城镇化率) or share is a percentage: 「森林覆盖率达到多少」.
    (re.compile(rf"比例|占比|百分之|增长了?多少|增幅|增速|(?:率|比重)(?:{_LINKING})*多少"), "share"),
    # A count of people named by its noun: 「户籍人口有多少」 is answered by a number of 人, not of 亩 or %.
    (re.compile(rf"(?:人口|人数|户数)(?:{_LINKING})*多少"), "people"),
)
_ASKS_NUMBER = re.compile(rf"多少|{_HOW_MANY}|多大|多长|多高|多远|多重|多久|比例|占比|排名第")
# A quantity: a number (not part of a name such as PM2.5 or G312) with its unit, or in 万/亿; 「1200余万元」 and
# 「1653万余元」 alike.
_QUANTITY = re.compile(
    rf"(?<![A-Za-z\d.])\d+(?:\.\d+)?\s*(?:余|多)?\s*(?:(?:十|百|千|万|亿)+\s*(?:余|多)?\s*({_UNITS})?|({_UNITS}))"
)
# The same in Chinese numerals, of two characters or more (「六十多年」「两千亩」「三十余家」; not 「三个」, which counts
# anything, nor 「五年来」).
_NUMERALS = "〇零一二两三四五六七八九十百千"
_CHINESE_QUANTITY = re.compile(
    rf"(?<![第{_NUMERALS}万亿])[{_NUMERALS}]{{2,}}(?:余|多)?(?:万|亿)?(?:余|多)?({_UNITS})"
)
# An ordinal in Chinese numerals (「第八届」) answers 「第几届」, in its unit's family only: it is no amount, and does
# not answer 「多少游客」.
_CHINESE_ORDINAL = re.compile(rf"第[{_NUMERALS}]+({_UNITS})")
_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年(?:\d{1,2}\s*月(?:\d{1,2}\s*日)?)?")

# The bits of a passage's quantities: per family, and ANY for a quantity of any kind; dates left out (most
# questions: 「2023年」 dates a passage, it is no quantity) in the low 16 bits, dates kept (多少年) in the high 16.
_BIT = {family: 1 << i for i, family in enumerate(UNIT_FAMILIES)}
ANY = 1 << len(UNIT_FAMILIES)
DATES_KEPT = 16  # the high half's shift
assert ANY < 1 << DATES_KEPT  # both halves fit in the index's uint32 column


def wanted_unit(text: str) -> str | None:
    """The unit family a question asks a number in, "" for a number of any kind, None for no number;
    "years" for 多少年, which a date may answer (建区多少年: 「1993年建区」), where 多久 is answered by a duration."""
    match = _ASKED_UNIT.search(text)
    if match:
        return "years" if match.group(1) == "年" else FAMILY[match.group(1)]
    for pattern, family in _ASKED_BY_WORD:
        if pattern.search(text):
            return family
    return "" if _ASKS_NUMBER.search(text) else None


def quantity_bits(passage: str) -> int:
    """The families of the quantities a passage holds, as bits (see _BIT, ANY, DATES_KEPT)."""
    text = normalize(passage)
    chinese = _chinese_bits(text)  # never a date: normalize wrote a year in Chinese numerals in Arabic digits
    return (_bits(_DATE.sub("", text)) | chinese) | (_bits(text) | chinese) << DATES_KEPT


def _bits(text: str) -> int:
    bits = 0
    for a, b in _QUANTITY.findall(text):
        bits |= ANY | (_BIT[FAMILY[a or b]] if a or b else 0)
    return bits


def _chinese_bits(text: str) -> int:
    bits = 0
    for unit in _CHINESE_QUANTITY.findall(text):
        bits |= ANY | _BIT[FAMILY[unit]]
    if "第" in text:
        for unit in _CHINESE_ORDINAL.findall(text):
            bits |= _BIT[FAMILY[unit]]
    return bits


def number_fits(wants: str | None, bits: np.ndarray) -> np.ndarray:
    """Per passage (its quantity_bits): 1 when it holds the quantity asked for (in its unit family; wants ""
    any), 0.5 one in another unit, 0 none; 1 for all when no number is asked (wants None)."""
    bits = np.asarray(bits, dtype=np.int64)
    if wants is None:
        return np.ones(len(bits))
    if wants == "years":  # 「多少年」: a date is a quantity here
        bits, wants = bits >> DATES_KEPT, "time"
    held = (bits & ANY) != 0
    fitting = held if not wants else (bits & _BIT[wants]) != 0
    return np.where(fitting, 1.0, np.where(held, 0.5, 0.0))
