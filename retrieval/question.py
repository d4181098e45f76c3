"""What a question asks: the towns and years it names, its terms, and whether it wants a number in some unit.

The same Tokenizer cuts questions and reports; this module adds what only a
question has: the town names are a filter, not words to match, and 「多少亩」
「几家」「多少钱」 ask for a number in a unit, which a passage either gives or not.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field

from .plans import PLAN, SPAN, years_named
from .corpus import Report
from .quantities import wanted_unit
from .tokenize import Tokenizer, normalize
from .vectors import Meanings

PLACE_SUFFIXES = ("街道", "社区", "镇", "乡", "村")
TOWN_SUFFIXES = ("街道", "镇", "乡")  # the places a report is about: a question naming another is not about ours
# Determiners and question words before a noun (哪个镇, 各乡镇, 本村, 全镇): a place named so is no name.
DETERMINERS = "哪几各每这那某本该此其全"
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
# A phrase in quotation marks is a name copied from a report (“五大工程”, 「白改黑」): passages holding it come first.
_QUOTED = re.compile(r"[“\"「『‘]([^”\"」』’]{2,20})[”\"」』’]")


@dataclass(frozen=True)
class Question:
    text: str  # as asked
    towns: tuple[str, ...]  # the towns it names, in order
    years: frozenset[str]  # the years it names (a filter on reports)
    plans: bool  # it asks about plans (目标, 打算): a report planning the year it names may answer
    span: bool  # it asks about several years together (这五年, 五年来): a term's review answers rather than a year's
    words: tuple[str, ...]  # its index terms, town names taken out
    whole: tuple[str, ...]  # the terms of its whole words, without their parts
    chars: tuple[str, ...]  # its characters, for the characters field
    wants: str | None  # a unit family (see quantities.UNIT_FAMILIES), "" for a number of any kind, None when no number is asked
    neighbours: dict[str, float]  # corpus words near in meaning to its words, not among them -> similarity
    stands_for: dict[str, str]  # neighbour -> the question word it stands for
    places: tuple[str, ...]  # places it names that are not towns of the corpus (郭庄镇, 东岳村)
    # The characters of its words the reports searched never use -> their share of such a word (spelled_out); set by
    # the search, which knows which reports it searches.
    spelled: dict[str, float] = field(default_factory=dict)
    quoted: tuple[str, ...] = ()  # the phrases it puts in quotation marks, normalized
    this_year: bool = False  # it says 今年 and names no year: of a report delivered early in the year it plans, that year

    @property
    def other_towns(self) -> tuple[str, ...]:
        """Towns it names that the corpus has no report of (郭庄镇), when it names none that it has."""
        return () if self.towns else tuple(p for p in self.places if p.endswith(TOWN_SUFFIXES))

    def quotes_held(self, passage: str) -> float:
        """The share of the phrases the question quotes that the passage holds."""
        return sum(phrase in passage for phrase in self.quoted) / len(self.quoted) if self.quoted else 0.0

    def places_missing(self, passage: str) -> float:
        """The share of the places the question names that the passage does not mention."""
        if not self.places:
            return 0.0
        return sum(place not in passage for place in self.places) / len(self.places)


class TownMatcher:
    """Finds town names and aliases in a question, longest name first."""

    def __init__(self, reports: tuple[Report, ...]) -> None:
        self.town_of = {normalize(name): r.town for r in reports for name in r.names}
        names = sorted(self.town_of, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, names))) if names else None

    def find(self, question: str) -> tuple[list[str], str]:
        """(towns named, the question with the names taken out)."""
        if not self._pattern:
            return [], question
        towns = list(dict.fromkeys(self.town_of[m.group()] for m in self._pattern.finditer(question)))
        return towns, self._pattern.sub(" ", question)

    def leading(self, text: str) -> int:
        """Where the town names a text opens with end (「后白镇和下蜀镇的…」: after 下蜀镇), 0 when it opens otherwise."""
        if not self._pattern:
            return 0
        end = 0
        for match in self._pattern.finditer(normalize(text)):
            if text[end : match.start()].strip(" 和与及、"):
                break
            end = match.end()
        return end

    def without(self, text: str) -> str:
        """text as written, the town names in it (in any script or width) taken out."""
        if not self._pattern:
            return text
        kept, at = [], 0
        for match in self._pattern.finditer(normalize(text)):  # normalize keeps the length: spans hold in text
            kept.append(text[at : match.start()])
            at = match.end()
        return " ".join([*kept, text[at:]])


def places(tokenizer: Tokenizer, text: str) -> list[str]:
    """Places a question names: a word ending in 镇/乡/村/街道/社区 (郭庄镇), or a name of two characters or
    more before one of them cut alone (宝华 镇, 东岳 村); not 农村, 乡镇, 几个镇 or 有个镇 (a measure word before
    the suffix counts towns, it names none)."""
    words = tokenizer.cut(text)
    found = []
    for before, word in zip(["", *words], words):
        if len(word) >= 3 and word.endswith(PLACE_SUFFIXES) and _HAN.match(word) and word[0] not in DETERMINERS:
            found.append(word)
        elif (word in PLACE_SUFFIXES and len(before) >= 2 and _HAN.match(before) and before[0] not in DETERMINERS
              and not before.endswith("个") and before not in tokenizer.lexicon.stopwords):
            found.append(before + word)
    return found


def spelled_out(words: list[str], used: Container[str]) -> dict[str, float]:
    """The characters of the words (of two Chinese characters or more) that the reports searched never use (used:
    those they do), each a 1/n share of its word: a compound's characters carry its meaning, so 托儿 finds 托位 and
    厕所 finds 户厕 by them, together counting as the word would."""
    shares: dict[str, float] = {}
    for word in dict.fromkeys(words):
        if len(word) > 1 and _HAN.match(word) and word not in used:
            for char in word:
                shares[char] = shares.get(char, 0.0) + 1 / len(word)
    return shares


def parse(text: str, towns: TownMatcher, tokenizer: Tokenizer, meanings: Meanings | None = None) -> Question:
    named, rest = towns.find(normalize(text))
    words = tokenizer.terms(rest)
    whole = tokenizer.words(rest)
    near = meanings.neighbours(whole) if meanings else {}
    # A synonym counts in the characters field as the word the reports use (its group's first):
    # 「GDP是多少」 leans to 地区生产总值 as 「地区生产总值是多少」 does.
    canonical = tokenizer.lexicon.canonical
    spelled = "".join(w for w in dict.fromkeys(words) if w in canonical and w not in rest)
    return Question(
        text=text,
        towns=tuple(named),
        years=frozenset(years_named(rest)),
        plans=bool(PLAN.search(rest)),
        span=bool(SPAN.search(rest)),
        words=tuple(words),
        whole=tuple(whole),
        chars=tuple(tokenizer.chars(rest + spelled)),
        wants=wanted_unit(rest),
        places=tuple(dict.fromkeys(places(tokenizer, rest))),
        neighbours={term: sim for term, (_, sim) in near.items()},
        stands_for={term: word for term, (word, _) in near.items()},
        quoted=tuple(_QUOTED.findall(rest)),
        this_year="今年" in rest and not years_named(rest),
    )
