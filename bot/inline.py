"""Inline mode: 「@bot 后白镇 地区生产总值」 in any chat lists up to five passages; the one chosen is posted
by Telegram itself, quoted with its source (the result's message content: nothing for the bot to do then).

Telegram sends a new query as the user types. Each one that is searched is logged (chat type ``inline``) and
counts against the user's rate limit, as a chat question does; the results are the same for everyone, so
Telegram may answer the same query from its cache for CACHE_SECONDS without asking the bot again.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from . import render, smalltalk
from .lookup import look_up
from .questions import clean_question, question_problem
from .state import state

RESULTS = 5
CACHE_SECONDS = 300


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Not a question (empty, too long, small talk) or too many: no results, a button saying what to do."""
    st, query = state(context), update.inline_query
    reports = list(st.engine.reports)
    question = clean_question(query.query)
    if not question or smalltalk.kind_of(question):
        hint = render.inline_example(reports)
    else:
        hint = question_problem(question, st.settings.max_question_chars)
    if hint:
        await query.answer([], cache_time=CACHE_SECONDS, button=render.inline_hint(hint))
        return
    if not await st.limiter.allow(query.from_user.id):
        # personal and not cached: the next user typing the same words must still get the passages
        await query.answer([], cache_time=0, is_personal=True, button=render.inline_hint(render.SLOW_DOWN))
        return
    looked = await look_up(st, question, "inline", query.from_user.id, RESULTS)
    await query.answer(render.inline_results(looked.answer, list(looked.engine.reports)), cache_time=CACHE_SECONDS)
