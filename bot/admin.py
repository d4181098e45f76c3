"""Admin commands: reload and grow the corpus, review the query log. Only ids in TOWNQA_ADMIN_IDS."""

from __future__ import annotations

import asyncio
import functools
import logging
import re

import aiosqlite
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from retrieval import CorpusError, add_report

from . import render
from .handlers import reply_html
from .querylog import Review, to_csv
from .reload import ReloadBusy, reload_engine
from .state import state

log = logging.getLogger(__name__)

CAPTION_FIELD = re.compile(r"(town|title|aliases|county|city|province|period)\s*[=＝]\s*(.*?)(?=\s+\w+\s*[=＝]|$)", re.S)


def admin_only(handler):
    """Refuse anyone not named in admin_ids with 「无权限」, and log the attempt."""

    @functools.wraps(handler)
    async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or user.id not in state(context).settings.admin_ids:
            log.warning("refused %s for user %s in %s chat", handler.__name__, user.id if user else None, update.effective_chat.type if update.effective_chat else None)
            await reply_html(update.effective_message, "⛔ 无权限")
            return
        await handler(update, context)

    return checked


def count_arg(context: ContextTypes.DEFAULT_TYPE, default: int = 10, most: int = 50) -> int:
    args = context.args or []
    return max(1, min(most, int(args[0]))) if args and args[0].isdigit() else default


async def do_reload(update: Update, context: ContextTypes.DEFAULT_TYPE, what: str = "重新加载失败") -> bool:
    """Reload and reply with the summary or the problem; True when the new corpus serves."""
    message = update.effective_message
    try:
        summary = await reload_engine(state(context))
    except ReloadBusy:
        await reply_html(message, "⏳ 正在重新加载，请稍候再试。")
        return False
    except CorpusError as exc:
        log.warning("reload refused: %s", exc)
        await reply_html(message, render.problem_html(what, str(exc)))
        return False
    await reply_html(message, render.reload_html(summary))
    return True


@admin_only
async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply_html(update.effective_message, "🔄 正在重新加载报告……")
    await do_reload(update, context)


@admin_only
async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A .txt document with a caption `town=宝华镇 title=2025年工作总结`: check, write, reload."""
    st = state(context)
    message = update.effective_message
    document = message.document
    fields = {k: v.strip() for k, v in CAPTION_FIELD.findall(message.caption or "")}
    name = document.file_name or ""
    if document.file_size and document.file_size > st.settings.max_upload_bytes:
        await reply_html(message, render.problem_html("没有添加", f"{name}: {document.file_size} bytes, more than the limit of {st.settings.max_upload_bytes}"))
        return
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError as exc:
        await reply_html(message, render.problem_html("没有添加：下载文件失败", str(exc)))
        return
    async with st.reload_lock:  # no reload may read the folder half-written
        try:
            undo = await asyncio.to_thread(
                add_report, st.settings.path(st.settings.seeds), name, data, fields, st.settings.max_upload_bytes
            )
        except CorpusError as exc:
            await reply_html(message, render.problem_html("没有添加", str(exc)))
            return
    if not await do_reload(update, context, "没有添加"):
        undo()


@admin_only
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    st = state(context)
    try:
        figures = await Review(st.querylog).stats()
    except aiosqlite.Error as exc:
        await reply_html(update.effective_message, render.problem_html("查询日志暂时不可用", str(exc)))
        return
    await reply_html(update.effective_message, render.stats_html(figures, len(st.engine.reports), len(st.engine)))


@admin_only
async def recent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _review(update, context, "最近的提问", "recent")


@admin_only
async def unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _review(update, context, "没有答案或 👎 的提问", "unanswered")


async def _review(update: Update, context: ContextTypes.DEFAULT_TYPE, title: str, view: str) -> None:
    try:
        rows = await getattr(Review(state(context).querylog), view)(count_arg(context))
    except aiosqlite.Error as exc:
        await reply_html(update.effective_message, render.problem_html("查询日志暂时不可用", str(exc)))
        return
    await reply_html(update.effective_message, render.queries_html(title, rows))


@admin_only
async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The whole log (or since a date: /export 2026-11-01) as a CSV document."""
    since = (context.args or [None])[0]
    if since and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
        await reply_html(update.effective_message, "用法：<code>/export</code> 或 <code>/export 2026-11-01</code>")
        return
    try:
        rows = await Review(state(context).querylog).export(since)
    except aiosqlite.Error as exc:
        await reply_html(update.effective_message, render.problem_html("查询日志暂时不可用", str(exc)))
        return
    await update.effective_message.reply_document(
        to_csv(rows).encode("utf-8-sig"), filename="townqa-queries.csv", caption=f"{len(rows)} 条提问"
    )

