"""Chinese text to index terms: one function used for reports and questions alike.

The same normalisation on both sides is what makes a question in traditional
script, full-width digits or a colloquial synonym meet the report's wording.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import opencc
import rjieba
import stopwordsiso

from .cleaning import HAN, WIDTH_TABLE

_CONTENT = re.compile(rf"[0-9A-Za-z{HAN}]")
# 「1000余亩」「20多家」: jieba cuts 余亩 and 多家, and the unit a question asks about (多少亩) is lost.
# 余/多 after a number only say "about": they are dropped before cutting.
_APPROXIMATE = re.compile(rf"(?<=\d)[余多](?=[{HAN}])")


@lru_cache(maxsize=1)
def _general() -> tuple[rjieba.Jieba, float]:
    """jieba's own dictionary, without the words a Tokenizer adds (which it gives a high frequency to keep whole),
    and the log frequency of its commonest word, 的."""
    general = rjieba.Jieba()
    return general, math.log1p(general.suggest_freq("的"))


@lru_cache(maxsize=65536)
def rarity(word: str) -> float:
    """How rare a word is in general Chinese, 0 (the commonest, 的) to 1 (not in jieba's dictionary): its
    frequency there, on a log scale. A paraphrase's passage often lacks a common word of the question (孩子,
    找到), seldom a rare one (鸭梨, 户籍)."""
    general, commonest = _general()
    frequency = general.suggest_freq(word) if general.has_word(word) else 0  # a dictionary word's own frequency
    return max(0.0, 1 - math.log1p(frequency) / commonest)


def _for_cutting(text: str) -> str:
    """The text jieba cuts, for terms and highlights alike; as long as text, so offsets hold."""
    return _APPROXIMATE.sub(" ", normalize(text))


def _t2s_table() -> dict[int, str]:
    """OpenCC's traditional-to-simplified mapping, character by character.

    One str.translate keeps offsets (for highlighting) and is fast enough for a
    million passages, where a converter call per passage is not.
    """
    chars = [chr(c) for r in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)) for c in range(*r)]
    simplified = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    return {ord(t): s for t, s in zip(chars, simplified) if t != s and len(s) == 1}


_NORMALIZE = {**WIDTH_TABLE, **_t2s_table()}


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


_NEEDS_TABLE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_NORMALIZE)) + "]")


# A year in Chinese numerals (「二〇二五年」「一九九三年」), digit by digit as people write years: Arabic digits then.
_CHINESE_YEAR = re.compile(r"(?:一九|二[〇零])[〇零一二三四五六七八九]{2}(?=\s*年)")
_DIGIT = str.maketrans("〇零一二三四五六七八九", "00123456789")


def normalize(text: str) -> str:
    """Simplified script, half-width letters and digits, years in Arabic digits, lower case; the same length as
    text."""
    if _NEEDS_TABLE.search(text):  # most report text is simplified already: skip the slower translate
        text = text.translate(_NORMALIZE)
    if "〇" in text or "零" in text or "一九" in text:
        text = _CHINESE_YEAR.sub(lambda m: m.group().translate(_DIGIT), text)
    return text.lower()


@dataclass(frozen=True)
class Lexicon:
    """The word lists from config/: stop words, synonym groups, words to keep whole."""

    stopwords: frozenset[str]
    synonyms: dict[str, str]  # word -> the first word of its group
    words: tuple[str, ...]  # user dictionary lines for jieba
    names: tuple[str, ...]  # town names and aliases, also kept whole
    fingerprint: str  # of the word lists from config/, not of the names

    @cached_property
    def canonical(self) -> frozenset[str]:
        """The words synonyms map to: the reports' own wording."""
        return frozenset(self.synonyms.values())

    @classmethod
    def from_folder(cls, folder: Path | str, extra_words: Iterable[str] = ()) -> Lexicon:
        folder = Path(folder)
        # The general list for Chinese (stopwords-iso, 794 function words and particles), then the
        # question words and relative time words of config/stopwords.txt.
        stop = sorted(stopwordsiso.stopwords("zh")) + _read_lines(folder / "stopwords.txt")
        groups = [[normalize(w) for w in line.split()] for line in _read_lines(folder / "synonyms.txt")]
        user = _read_lines(folder / "userdict.txt")
        synonyms = {word: group[0] for group in groups for word in group}
        # Town names and synonym phrases are kept whole, so that they are one term each.
        words = tuple(user) + tuple(f"{w} 50000 n" for w in synonyms if len(w) > 1)
        names = tuple(sorted({normalize(w) for w in extra_words if len(w) > 1}))
        digest = hashlib.sha256("\n".join([*stop, *(" ".join(g) for g in groups), *words]).encode())
        return cls(frozenset(normalize(w) for w in stop), synonyms, words, names, digest.hexdigest())


class Tokenizer:
    """jieba's algorithm and dictionary (rjieba, its Rust port: 20x faster, no load time)
    with the lexicon's words, stop words and synonyms applied."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        stop_chars = "".join(sorted(w for w in lexicon.stopwords if len(w) == 1 and "\u4e00" <= w <= "\u9fff"))
        self._han = re.compile(f"(?![{re.escape(stop_chars)}])[\u4e00-\u9fff]" if stop_chars else "[\u4e00-\u9fff]")
        self._memo: dict[str, tuple[str, ...]] = {}  # cut word -> its terms: words repeat, the checks need not
        self._jieba = rjieba.Jieba()
        for line in [*lexicon.words, *(f"{n} 50000" for n in lexicon.names)]:
            word, *rest = line.split()
            freq = int(rest[0]) if rest and rest[0].isdigit() else None
            self._jieba.add_word(normalize(word), freq, None)

    def terms(self, text: str) -> list[str]:
        """Index terms of a text, in order, repeats kept (BM25 counts them).

        jieba's search mode: each word cut, then its parts in the dictionary as well
        (拖欠工资 gives 拖欠, 工资, 拖欠工资), so that a question's 工资 meets a report's
        拖欠工资 and the other way round, as Elasticsearch's IK analyzer does with
        ik_max_word. A stop word goes whole, parts and all (上半年 leaves no 半年).
        """
        return [term for terms in self._cut(text) for term in terms]

    def words(self, text: str) -> list[str]:
        """The terms of a text's whole words, without their parts."""
        return [terms[-1] for terms in self._cut(text) if terms]

    def cut(self, text: str) -> list[str]:
        """The words of a text as jieba cuts them, stop words and punctuation included."""
        return [w for w in self._jieba.cut(_for_cutting(text)) if w.strip()]

    def _cut(self, text: str) -> list[tuple[str, ...]]:
        """Each cut word's terms (its parts, then itself), memoised: words repeat, the checks need not."""
        memo = self._memo
        words = self._jieba.cut(_for_cutting(text))
        for word in [w for w in words if w not in memo]:
            memo[word] = self._word(word)
        return [memo[word] for word in words]

    def _word(self, word: str) -> tuple[str, ...]:
        """A cut word's terms: its dictionary parts, then itself (jieba's cut_for_search, word by word)."""
        if self._term(word) is None:
            return ()
        parts = self._jieba.cut_for_search(word) if len(word) > 2 else [word]
        return tuple(t for t in map(self._term, parts) if t)

    def spans(self, text: str) -> list[tuple[frozenset[str], int, int]]:
        """Whole words of text with the terms each stands for (its own and its parts'), and where it stands:
        a passage is bolded word by word, 拖欠工资 whole for a question about 工资."""
        prepared = _for_cutting(text)
        if len(prepared) != len(text):  # lower() changed a length (rare letters): offsets would lie
            return []
        out = []
        for word, start, end in self._jieba.tokenize(prepared):
            if word not in self._memo:
                self._memo[word] = self._word(word)
            if self._memo[word]:
                out.append((frozenset(self._memo[word]), start, end))
        return out

    def _term(self, word: str) -> str | None:
        """The index term for a cut word: None for stop words and punctuation, synonyms mapped."""
        word = word.strip()
        if not word or word in self.lexicon.stopwords or not _CONTENT.search(word):
            return None
        return self.lexicon.synonyms.get(word, word)

    def chars(self, text: str) -> list[str]:
        """Chinese characters, for the partial matches word cutting misses (草皮 ~ 退草还田)."""
        return self._han.findall(normalize(text))
