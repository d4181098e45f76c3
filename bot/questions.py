"""What counts as a question: one check shared by the console and the Telegram bot."""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 300
_MEANINGFUL = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def clean_question(text: str) -> str:
    """Drop control, formatting and lone surrogate characters (NUL, bidi marks) and surrounding space."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs") or c in "\n\t").strip()


def question_problem(text: str, max_chars: int = MAX_CHARS) -> str | None:
    """A friendly explanation when the text cannot be a question, else None."""
    if not text:
        return "请输入一个问题，例如「后白镇2025年地区生产总值是多少？」"
    if len(text) > max_chars:
        return f"问题太长了（{len(text)} 个字），请精简到 {max_chars} 个字以内。"
    if not _MEANINGFUL.search(text):
        return "没看懂这个问题：请用文字提问，例如「下蜀镇全年空气质量优良天数是多少？」"
    return None
