"""What a chat was talking about: its last question and the towns it was about, for a while.

Kept as a plain dict in PTB's ``context.chat_data`` (so the persistence can store it as JSON), and used
for follow-ups: 「那下蜀镇呢？」 asks the last question again for 下蜀镇, and a question naming no town prefers the
chat's town. /reset, or ``window`` seconds without a question, forgets it.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import dataclass

from retrieval import Answer, Engine

KEY = "topic"  # the chat_data entry
WINDOW_SECONDS = 1800.0  # how long a topic is kept without a question (TOWNQA_CONVERSATION_SECONDS)


@dataclass(frozen=True)
class Topic:
    question: str  # the last question, as searched (a follow-up written out)
    towns: tuple[str, ...]  # the towns the chat was about
    at: float  # when it was asked, in seconds since the epoch (a restart keeps the clock)


def current(chat_data: MutableMapping, window: float, now: float | None = None) -> Topic | None:
    """The chat's topic, or None when there is none or it is older than window seconds (then it is dropped)."""
    stored = chat_data.get(KEY)
    if stored is None:
        return None
    try:
        topic = Topic(str(stored["question"]), tuple(map(str, stored["towns"])), float(stored["at"]))
    except (KeyError, TypeError, ValueError):  # written by another version: forget it rather than fail
        topic = None
    if topic is None or (time.time() if now is None else now) - topic.at > window:
        chat_data.pop(KEY, None)
        return None
    return topic


def remember(chat_data: MutableMapping, asked: str, answer: Answer, before: Topic | None, now: float | None = None) -> None:
    """Keep the question just asked; a question that named no town (and was not assumed one) keeps the towns
    the chat was about."""
    towns = answer.towns or (before.towns if before else ())
    chat_data[KEY] = {"question": asked, "towns": list(towns), "at": time.time() if now is None else now}


def forget(chat_data: MutableMapping) -> bool:
    """Drop the topic; whether there was one."""
    return chat_data.pop(KEY, None) is not None


def ask(engine: Engine, question: str, topic: Topic | None, limit: int) -> tuple[str, Answer]:
    """(the question as searched, its answer): a town-only follow-up asks the last question again for its town,
    any other question prefers the towns the chat was about."""
    if topic is None:
        return question, engine.search(question, limit)
    again = engine.follow_up(question, topic.question)
    if again:
        return again, engine.search(again, limit)
    return question, engine.search(question, limit, assume=topic.towns)
