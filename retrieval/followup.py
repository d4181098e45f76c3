"""A message that only names a town (「那下蜀镇呢？」「下蜀呢」「西夏墅镇的呢」) asks the last question again, for it.

In a chat people leave out what they said a moment ago: after 「后白镇2025年地区生产总值是多少」 the next
message 「那下蜀镇呢」 means 「下蜀镇2025年地区生产总值是多少」. What such an elliptical follow-up adds around
the town name is a closed set of Chinese function words; anything else makes it a question of its own.
"""

from __future__ import annotations

import re

from .question import DETERMINERS, TOWN_SUFFIXES, TownMatcher
from .tokenize import normalize

# What is left of 「那下蜀镇呢？」「还有下蜀镇的呢」「下蜀镇怎么样」 once the town is taken out: topic particles,
# sentence-final particles, 'and / also / then', 'what about it', and punctuation. General Chinese.
_FUNCTION_WORDS = re.compile(r"那么|那|还有|另外|再|又|也|和|与|及|跟|的|呢|呀|啊|吧|嘛|怎么样|如何|情况|[\s、，,。.？?！!…~～]")
_PLACE = re.compile(rf"[\u4e00-\u9fff]{{1,8}}(?:{'|'.join(TOWN_SUFFIXES)})")


def towns_only(text: str, towns: TownMatcher) -> tuple[str, ...]:
    """The places a message names when it names nothing else: the corpus's towns it names, or the one town of
    another name (「那郭庄镇呢」: asked again, the search says the reports do not cover it); () otherwise."""
    named, rest = towns.find(normalize(text))
    rest = _FUNCTION_WORDS.sub("", rest)
    if named:
        return tuple(named) if not rest else ()
    return (rest,) if _PLACE.fullmatch(rest) and rest[0] not in DETERMINERS + "什" else ()


def asked_again(last: str, places: tuple[str, ...], towns: TownMatcher) -> str:
    """The last question with the towns it named replaced by places (prefixed when it named none)."""
    rest = towns.without(last)
    return "和".join(places) + re.sub(r"^\s*(?:和|与|及|、|\s)+", "", rest).strip()
