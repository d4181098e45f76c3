"""A question searched and logged the same way wherever it was asked (a chat, inline): the search off the
event loop, a row in the query log, a line of JSON in the bot's log."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from retrieval import Answer, Engine

from . import conversation
from .conversation import Topic
from .querylog import elapsed_ms, entry_for
from .state import BotState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Looked:
    asked: str  # the question as searched: a follow-up (「那下蜀镇呢」) written out
    answer: Answer
    engine: Engine  # the index that answered: a reload may have replaced the state's since
    query_id: int | None  # None when the log could not be written


async def look_up(
    st: BotState, question: str, chat_type: str | None, user_id: int | None, limit: int, topic: Topic | None = None
) -> Looked:
    """topic: what the chat was talking about, for follow-ups (none inline)."""
    started = time.perf_counter()
    engine = st.engine  # a reload swaps st.engine; this question finishes on the index it started with
    asked, answer = await asyncio.to_thread(conversation.ask, engine, question, topic, limit)
    latency = elapsed_ms(started)
    query_id = await st.querylog.record(entry_for("telegram", chat_type, user_id, asked, answer, latency, engine.key))
    log.info(
        json.dumps(
            {
                "event": "question",
                "chat_type": chat_type,
                "latency_ms": round(latency, 1),
                "results": len(answer.hits),
                "town_filter": answer.town_filter,
                "query_id": query_id,
            },
            ensure_ascii=False,
        )
    )
    return Looked(asked, answer, engine, query_id)
