"""A message that only names a town or a year (「那下蜀镇呢？」「下蜀呢」「2023年呢」「那下蜀镇2023年的呢」) asks the
last question again, for it.

In a chat people leave out what they said a moment ago: after 「后白镇2025年地区生产总值是多少」 the next
message 「那下蜀镇呢」 means 「下蜀镇2025年地区生产总值是多少」, and 「2024年呢」 「后白镇2024年地区生产总值是多少」.
What such an elliptical follow-up adds around the town name or year is a closed set of Chinese function words;
anything else makes it a question of its own.
"""

from __future__ import annotations

import re

from .plans import YEAR
from .question import DETERMINERS, TOWN_SUFFIXES, TownMatcher
from .tokenize import normalize

# What is left of 「那下蜀镇呢？」「还有下蜀镇的呢」「下蜀镇怎么样」 once the town is taken out: topic particles,
# sentence-final particles, 'and / also / then', 'what about it', and punctuation. General Chinese.
_FUNCTION_WORDS = re.compile(r"那么|那|还有|另外|再|又|也|和|与|及|跟|的|呢|呀|啊|吧|嘛|怎么样|如何|情况|[\s、，,。.？?！!…~～]")
_PLACE = re.compile(rf"[\u4e00-\u9fff]{{1,8}}(?:{'|'.join(TOWN_SUFFIXES)})")
# A year in a follow-up (「2023年呢」, also 「2023呢」) and in the question asked again (「2025年」).
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年?(?!\d)")
_YEAR_ASKED = re.compile(YEAR.pattern + r"\s*年")


def named_only(text: str, towns: TownMatcher) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(places, years) a message names when it names nothing else: the corpus's towns it names, or the one town of
    another name (「那郭庄镇呢」: asked again, the search says the reports do not cover it), and the years it
    names; None when it says anything more, or names neither."""
    named, rest = towns.find(normalize(text))
    years = tuple(dict.fromkeys(_YEAR.findall(rest)))
    rest = _FUNCTION_WORDS.sub("", _YEAR.sub("", rest))
    if named:
        return (tuple(named), years) if not rest else None
    if _PLACE.fullmatch(rest) and rest[0] not in DETERMINERS + "什":
        return (rest,), years
    return ((), years) if years and not rest else None


def asked_again(last: str, places: tuple[str, ...], years: tuple[str, ...], towns: TownMatcher) -> str:
    """The last question with the towns it named replaced by places (prefixed when it named none) and the years
    it named by years (put after its towns when it named none); either kept when the follow-up names none."""
    if years:
        said = "和".join(f"{year}年" for year in years)
        first = _YEAR_ASKED.search(last)
        if first:
            last = last[: first.start()] + said + _YEAR_ASKED.sub("", last[first.end() :])
        else:
            lead = towns.leading(last)
            last = last[:lead] + said + last[lead:]
    if not places:
        return last
    rest = towns.without(last)
    return "和".join(places) + re.sub(r"^\s*(?:和|与|及|、|\s)+", "", rest).strip()
