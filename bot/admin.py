"""Admin commands: reload and grow the corpus, review the query log. Only ids in TOWNQA_ADMIN_IDS."""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import re
import secrets
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from retrieval import CorpusError, load_corpus, remove_report
from retrieval.ingest import prepare

from . import buttons, charts, render
from .handlers import reply_html
from .persistence import PENDING, store_now
from .database import ERRORS
from .querylog import Review, to_csv
from .reload import ReloadBusy, reload_engine
from .state import state
from .uploads import preview_lines, report_rows, write

log = logging.getLogger(__name__)

PENDING_SECONDS = 600  # an unconfirmed upload or removal is forgotten after this
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


async def _pending(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, item: dict) -> str:
    """Keep what a button will confirm in chat_data under a fresh token, with its expiry, as JSON stored at once:
    the press may reach another replica."""
    token = secrets.token_hex(8)
    context.chat_data[PENDING] = {"token": token, "action": action, "item": item, "expires": time.time() + PENDING_SECONDS}
    await store_now(context, update.effective_chat.id)
    return token


def _buttons(token: str, yes: str, action: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(yes, callback_data=buttons.confirm_data(action, token)),
        InlineKeyboardButton("❌ 取消", callback_data=buttons.confirm_data("cancel", token)),
    ]])


@admin_only
async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A .pdf/.docx/.html/.txt document (caption `town=宝华镇 title=…` optional): check, preview, wait for 加入."""
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
    try:
        preview = await asyncio.to_thread(prepare, st.settings.path(st.settings.seeds), name, data, fields, st.settings.max_upload_bytes)
    except CorpusError as exc:
        log.info("upload refused: %s", exc)
        await reply_html(message, render.problem_html("没有添加", str(exc)))
        return
    item = {"name": name, "fields": fields, "data": base64.b64encode(data).decode("ascii")}
    token = await _pending(update, context, "add", item)
    log.info("upload previewed by %s: %s", update.effective_user.id, name)
    await reply_html(message, render.lines_html("📄 预览，确认后加入：", preview_lines(preview)), reply_markup=_buttons(token, "✅ 加入", "add"))


@admin_only
async def reports(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    st = state(context)
    rows = await asyncio.to_thread(report_rows, load_corpus(st.settings.path(st.settings.seeds)))
    log.info("reports listed by %s", update.effective_user.id)
    await reply_html(update.effective_message, render.lines_html(f"{len(rows)} 份报告：", [f"{f} · {t} · {p or '—'} · {n} 段" for f, t, p, n in rows]))


@admin_only
async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remove FILE: asks to confirm with a button."""
    args = context.args or []
    if len(args) != 1:
        await reply_html(update.effective_message, "用法：<code>/remove 文件名</code>（见 <code>/reports</code>）")
        return
    token = await _pending(update, context, "remove", {"file": args[0]})
    await reply_html(update.effective_message, render.lines_html("确认移除这份报告？", [args[0]]), reply_markup=_buttons(token, "🗑 移除", "remove"))


@admin_only
async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """加入 / 移除 / 取消: only a fresh token of this chat does anything."""
    st = state(context)
    query = update.callback_query
    await query.answer()
    action, token = buttons.parse_confirm(query.data)  # routed here by its pattern
    pending = context.chat_data.get(PENDING)
    if not isinstance(pending, dict) or pending.get("token") != token or pending.get("expires", 0) < time.time():
        await reply_html(update.effective_message, "这个按钮已过期，请重新发送。")
        return
    del context.chat_data[PENDING]
    await store_now(context, update.effective_chat.id)
    await query.edit_message_reply_markup(None)
    if action == "cancel":
        await reply_html(update.effective_message, "已取消，没有改动。")
        return
    folder = st.settings.path(st.settings.seeds)
    async with st.reload_lock:  # no reload may read the folder half-written
        try:
            item = pending["item"]
            if action == "add":  # checked again against the corpus as it is now, on whichever replica this is
                data = base64.b64decode(item["data"])
                preview = await asyncio.to_thread(prepare, folder, item["name"], data, item["fields"], st.settings.max_upload_bytes)
                undo = await asyncio.to_thread(write, folder, preview, data, st.settings.max_upload_bytes)
            else:
                undo = await asyncio.to_thread(remove_report, folder, item["file"])
        except CorpusError as exc:
            await reply_html(update.effective_message, render.problem_html("没有改动", str(exc)))
            return
    log.info("%s confirmed by %s", action, update.effective_user.id)
    if not await do_reload(update, context, "没有改动"):
        undo()


@admin_only
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The chart of the last 30 days, today's figures in its caption."""
    st = state(context)
    review = Review(st.querylog)
    try:
        figures, days = await review.stats(), await review.daily(charts.DAYS)
    except ERRORS as exc:
        await reply_html(update.effective_message, render.problem_html("查询日志暂时不可用", str(exc)))
        return
    png = await asyncio.to_thread(charts.daily_png, days)
    caption = render.stats_html(figures, days, len(st.engine.reports), len(st.engine))
    await update.effective_message.reply_photo(png, caption=caption, parse_mode=ParseMode.HTML, filename="townqa-stats.png")


@admin_only
async def recent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _review(update, context, "最近的提问", "recent")


@admin_only
async def unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _review(update, context, "没有答案或 👎 的提问", "unanswered")


async def _review(update: Update, context: ContextTypes.DEFAULT_TYPE, title: str, view: str) -> None:
    try:
        rows = await getattr(Review(state(context).querylog), view)(count_arg(context))
    except ERRORS as exc:
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
    except ERRORS as exc:
        await reply_html(update.effective_message, render.problem_html("查询日志暂时不可用", str(exc)))
        return
    await update.effective_message.reply_document(
        to_csv(rows).encode("utf-8-sig"), filename="townqa-queries.csv", caption=f"{len(rows)} 条提问"
    )

