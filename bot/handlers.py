"""Telegram handlers: plain ``async def name(update, context)`` functions, wired up in app.py."""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import NetworkError, TelegramError
from telegram.ext import ContextTypes


from . import buttons, commands, conversation, render, smalltalk
from .lookup import look_up
from .persistence import store_now
from .questions import clean_question, question_problem
from .state import state

log = logging.getLogger(__name__)

LOGGED_RESULTS = 10  # results stored per question: what 「上下文」 can point at


async def reply_html(message: Message, text: str, **kwargs) -> Message:
    return await message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=message.chat.type != ChatType.PRIVATE, **kwargs)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, restate: bool = False) -> None:
    """The question path: check, rate-limit, search, log, reply. restate: say what was asked (a button asked it)."""
    st = state(context)
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    question = clean_question(text)
    problem = question_problem(question, st.settings.max_question_chars)
    if problem:
        await reply_html(message, render.escape(problem))
        return
    talk = smalltalk.kind_of(question)
    if talk:
        await reply_html(message, render.small_talk_html(talk, list(st.engine.reports)))
        return
    if user and not await st.limiter.allow(user.id):
        await reply_html(message, render.escape(render.SLOW_DOWN))
        return
    topic = conversation.current(context.chat_data, st.settings.conversation_seconds)
    looked = await look_up(st, question, chat.type if chat else None, user.id if user else None, LOGGED_RESULTS, topic)
    answer, query_id = looked.answer, looked.query_id
    conversation.remember(context.chat_data, looked.asked, answer, topic)
    await store_now(context, chat.id if chat else None)  # before the reply: the next message may reach another replica
    again = looked.asked if restate or looked.asked != question else None
    if not answer.hits:
        keyboard = render.years_keyboard(query_id, answer.reviewed) if query_id else None
        await reply_html(message, render.not_found_html(list(looked.engine.reports), answer, again), reply_markup=keyboard)
    else:
        shown = len(answer.lead)
        keyboard = render.answer_keyboard(query_id, 0, shown, answer.total > shown) if query_id else None
        html = render.answer_html(answer.lead, sure=answer.sure, assumed=answer.assumed, again=again)
        await reply_html(message, html, reply_markup=keyboard)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help; an admin in a private chat also gets the admins' commands (and their menu)."""
    st, user = state(context), update.effective_user
    admin = user is not None and user.id in st.settings.admin_ids and update.effective_chat.type == ChatType.PRIVATE
    if admin:
        await commands.set_admin_menu(context.bot, user.id)
    await reply_html(update.effective_message, render.help_html(list(st.engine.reports), context.bot.username, admin))


async def towns(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply_html(update.effective_message, render.towns_html(list(state(context).engine.reports)))


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask 问题: works in every chat."""
    parts = (update.effective_message.text or "").split(maxsplit=1)
    if len(parts) < 2:
        await reply_html(update.effective_message, "用法：<code>/ask 问题</code>，例如 /ask 后白镇2025年地区生产总值是多少？")
        return
    await answer_question(update, context, parts[1])


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reset: forget the chat's last question and towns."""
    had = conversation.forget(context.chat_data)
    await store_now(context, update.effective_chat.id if update.effective_chat else None)
    await reply_html(update.effective_message, "🔄 好的，之前的话题已忘记。" if had else "🔄 现在没有记着的话题，直接提问吧。")


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a private chat every text message is a question."""
    await answer_question(update, context, update.effective_message.text or "")


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group, only a reply to the bot or a message that mentions it is a question."""
    message = update.effective_message
    text = message.text or ""
    mention = f"@{context.bot.username}" if context.bot.username else None
    mentioned = bool(mention) and mention.lower() in text.lower()
    replied = message.reply_to_message is not None and (
        message.reply_to_message.from_user is not None and message.reply_to_message.from_user.id == context.bot.id
    )
    if not (mentioned or replied):
        return
    if mention:
        text = re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE)
    await answer_question(update, context, text)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files: say what the bot can do."""
    await reply_html(update.effective_message, "我只能回答文字问题 🙂 请用文字提问，例如「后白镇2025年地区生产总值是多少？」")


EXPIRED = "这个按钮已过期，请重新提问。"


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str):
    """The button and its logged question, or None after telling the user the button has expired."""
    query = update.callback_query
    pressed = buttons.parse(kind, query.data)
    stored = await state(context).querylog.get(pressed.query_id) if pressed else None
    if stored is None:
        await query.answer(EXPIRED)
        return None
    return pressed, stored


async def more_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """「更多结果」: the next passages of the stored question."""
    found = await _pressed(update, context, buttons.MORE)
    if found is None:
        return
    pressed, stored = found
    query, st = update.callback_query, state(context)
    assume = (stored.town_filter,) if stored.town_filter else ()  # the town a follow-up was assumed to be about
    answer = await asyncio.to_thread(st.engine.search, stored.question, st.settings.top_k, pressed.arg, assume)
    if not answer.hits:
        await query.answer("没有更多结果了。")
        return
    await query.answer()
    shown = pressed.arg + len(answer.hits)
    keyboard = render.answer_keyboard(stored.id, pressed.arg, len(answer.hits), answer.total > shown)
    html = render.answer_html(answer.hits, first_rank=pressed.arg + 1)
    await context.bot.send_message(update.effective_chat.id, html, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def context_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """「上下文」: the sentences around one passage of the stored answer."""
    found = await _pressed(update, context, buttons.CONTEXT)
    if found is None:
        return
    pressed, stored = found
    query, engine = update.callback_query, state(context).engine
    if stored.index_key != engine.key:
        await query.answer("报告已经更新，请重新提问。")
        return
    around = engine.context(stored.results[pressed.arg][0]) if pressed.arg < len(stored.results) else None
    if around is None:
        await query.answer(EXPIRED)
        return
    await query.answer()
    await context.bot.send_message(update.effective_chat.id, render.context_html(around), parse_mode=ParseMode.HTML)


async def year_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """「查2023年的」 under 「没有找到」 for a year the town's report does not cover: the question again, for that year."""
    found = await _pressed(update, context, buttons.YEAR)
    if found is None:
        return
    pressed, stored = found
    await update.callback_query.answer()
    year = f"{pressed.arg}年呢"
    await answer_question(update, context, state(context).engine.follow_up(year, stored.question) or year, restate=True)


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎, stored with the question."""
    found = await _pressed(update, context, buttons.FEEDBACK)
    if found is None:
        return
    pressed, stored = found
    query = update.callback_query
    ok = await state(context).querylog.feedback(stored.id, query.from_user.id, pressed.arg)
    await query.answer("谢谢反馈！" if ok else "反馈暂时没有记下，请稍后再试。")


async def expired_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button data: old or forged. A polite note, never an exception."""
    await update.callback_query.answer(EXPIRED)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the exception; tell the user something went wrong; the bot keeps running."""
    if update is None and isinstance(context.error, NetworkError):
        # Telegram unreachable while polling: PTB retries by itself; a warning, not a traceback per retry.
        log.warning("Telegram is unreachable, retrying: %s", context.error)
        return
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update):
        try:
            if update.callback_query:
                await update.callback_query.answer("抱歉，出了点问题，请稍后再试。")
            elif update.effective_message:
                await update.effective_message.reply_text("抱歉，出了点问题，请稍后再试。")
        except TelegramError:
            log.warning("could not tell the user about the error")
