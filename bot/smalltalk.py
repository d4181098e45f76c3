"""Small talk: greetings, thanks, 「你是谁」, 「怎么用」 get a friendly reply instead of a search.

A message counts only when, apart from punctuation, emoji, spaces and a few particles, it is nothing but
one of these everyday Chinese phrases (and their English equivalents): 「你好，后白镇的GDP是多少」 is a question.
"""

from __future__ import annotations

import re

GREETING, THANKS, WHO, HOW = "greeting", "thanks", "who", "how"
PHRASES = {
    GREETING: ("你好", "您好", "你们好", "大家好", "嗨", "哈喽", "哈罗", "早上好", "上午好", "中午好", "下午好", "晚上好",
               "早", "早安", "晚安", "在吗", "在不在", "hi", "hello", "hey"),
    THANKS: ("谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "非常感谢", "太感谢了", "谢了", "辛苦了", "好的谢谢", "好的",
             "好", "明白了", "知道了", "收到", "ok", "thanks", "thank you", "thx"),
    WHO: ("你是谁", "您是谁", "你是什么", "你是干什么的", "你是做什么的", "你叫什么", "你能做什么", "你会什么",
          "你能干什么", "介绍一下你自己", "自我介绍一下"),
    HOW: ("怎么用", "如何使用", "怎么使用", "怎么提问", "如何提问", "怎么问", "帮助", "使用说明", "help"),
}
_FILLER = re.compile(r"[\s\W_啊呀呢吧哦噢哈嘛啦喔~～]+")  # punctuation, emoji, space and particles around a phrase
_KIND = {_FILLER.sub("", phrase): kind for kind, phrases in PHRASES.items() for phrase in phrases}


def kind_of(text: str) -> str | None:
    """Which kind of small talk the message is, or None for anything else (a question)."""
    core = _FILLER.sub("", text.lower())
    if not core:
        return None
    if core in _KIND:
        return _KIND[core]
    # 「你好你好」「谢谢谢谢」: one phrase repeated
    for phrase, kind in _KIND.items():
        if len(core) % len(phrase) == 0 and core == phrase * (len(core) // len(phrase)):
            return kind
    return None
