"""The console chat and plain-text answers: townqa without Telegram. Questions are logged too."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from retrieval import Answer, Engine, Hit

from . import conversation
from .querylog import QueryLog, elapsed_ms, entry_for
from .render import assumed_note, why_not_found
from .questions import clean_question, question_problem


def source_line(hit: Hit) -> str:
    parts = [hit.report.town, f"《{hit.report.title}》"]
    if hit.chunk.section:
        parts.append(hit.chunk.section)
    return " · ".join(parts)


def towns_of(engine: Engine) -> str:
    return "、".join(sorted({r.town for r in engine.reports}))


def not_found_text(engine: Engine, answer: Answer | None = None) -> str:
    towns = towns_of(engine)
    why = why_not_found(list(engine.reports), answer)
    return f"没有找到相关内容。{why}可以换个说法，或在问题里写明镇名。目前收录的报告：{towns}。"


def format_answer(answer: Answer, engine: Engine, again: str | None = None) -> str:
    lines = [f"（接着上一个问题：{again}）"] if again else []
    if not answer.hits:
        return "\n".join([*lines, not_found_text(engine, answer)])
    lines += [] if answer.sure else ["不确定是否回答了您的问题，这是最接近的原文："]
    for rank, hit in enumerate(answer.hits, 1):
        lines.append(f"{rank}. 「{hit.chunk.text}」")
        lines.append(f"   —— {source_line(hit)}")
    if answer.assumed:
        lines.append(assumed_note(answer.assumed))
    return "\n".join(lines)


async def reply(engine: Engine, text: str, limit: int, querylog: QueryLog, chat_data: dict | None = None,
                window: float = conversation.WINDOW_SECONDS) -> str:
    """The answer to one line as text; real questions go to the query log. chat_data: what the console chat
    keeps between lines, for follow-ups (「那下蜀镇呢」)."""
    question = clean_question(text)
    problem = question_problem(question)
    if problem:
        return problem
    chat_data = {} if chat_data is None else chat_data
    started = time.perf_counter()
    topic = conversation.current(chat_data, window)
    asked, answer = conversation.ask(engine, question, topic, limit)
    conversation.remember(chat_data, asked, answer, topic)
    await querylog.record(entry_for("console", None, None, asked, answer, elapsed_ms(started), engine.key))
    return format_answer(answer, engine, asked if asked != question else None)


async def chat(engine: Engine, limit: int, querylog: QueryLog, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
               window: float = conversation.WINDOW_SECONDS) -> None:
    """One question per line until end of input, follow-ups understood; prompts only when a person is typing."""
    chat_data: dict = {}
    interactive = stdin.isatty()
    if interactive:
        towns = towns_of(engine)
        print(f"townqa：关于 {towns} 工作报告的问答。输入问题后回车，Ctrl-D 退出。", file=stdout)
    while True:
        if interactive:
            print("问> ", end="", file=stdout, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        if not line.strip():
            continue
        print(await reply(engine, line, limit, querylog, chat_data, window), file=stdout, flush=True)
        if interactive:
            print(file=stdout)
