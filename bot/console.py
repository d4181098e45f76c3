"""The console chat and plain-text answers: townqa without Telegram. Questions are logged too."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from retrieval import Answer, Engine, Hit

from .querylog import QueryLog, elapsed_ms, entry_for
from .questions import clean_question, question_problem


def source_line(hit: Hit) -> str:
    parts = [hit.report.town, f"《{hit.report.title}》"]
    if hit.chunk.section:
        parts.append(hit.chunk.section)
    return " · ".join(parts)


def towns_of(engine: Engine) -> str:
    return "、".join(sorted({r.town for r in engine.reports}))


def not_found_text(engine: Engine) -> str:
    towns = towns_of(engine)
    return f"没有找到相关内容。可以换个说法，或在问题里写明镇名。目前收录的报告：{towns}。"


def format_answer(answer: Answer, engine: Engine) -> str:
    if not answer.hits:
        return not_found_text(engine)
    lines = [] if answer.sure else ["不确定是否回答了您的问题，这是最接近的原文："]
    for rank, hit in enumerate(answer.hits, 1):
        lines.append(f"{rank}. 「{hit.chunk.text}」")
        lines.append(f"   —— {source_line(hit)}")
    return "\n".join(lines)


async def reply(engine: Engine, text: str, limit: int, querylog: QueryLog) -> str:
    """The answer to one line as text; real questions go to the query log."""
    question = clean_question(text)
    problem = question_problem(question)
    if problem:
        return problem
    started = time.perf_counter()
    answer = engine.search(question, limit=limit)
    await querylog.record(entry_for("console", None, None, question, answer, elapsed_ms(started), engine.key))
    return format_answer(answer, engine)


async def chat(engine: Engine, limit: int, querylog: QueryLog, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """One question per line until end of input; prompts only when a person is typing."""
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
        print(await reply(engine, line, limit, querylog), file=stdout, flush=True)
        if interactive:
            print(file=stdout)
