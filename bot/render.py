"""Telegram HTML for answers, context, help and errors.

Everything that comes from the corpus or from the user is escaped here, and no
message grows past Telegram's 4096-character limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape, unescape

from telegram import (
    BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, InlineQueryResultsButton,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from retrieval import Answer, Context, Hit, Report

from . import buttons, commands
from .querylog import Day, Stats
from .reload import ReloadSummary

MAX_MESSAGE = 4096
MAX_CAPTION = 1024
EXAMPLES = ("后白镇2025年地区生产总值是多少？", "下蜀镇全年空气质量优良天数是多少？", "镇江经开区2024年完成固定资产投资多少？")


def highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape text and put the spans in bold (adjacent ones as one); overlapping or stray spans are ignored."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if start < 0 or end <= start or end > len(text) or (merged and start < merged[-1][1]):
            continue
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    out, at = [], 0
    for start, end in merged:
        out += [escape(text[at:start]), "<b>", escape(text[start:end]), "</b>"]
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def source(hit: Hit) -> str:
    parts = [f"<b>{escape(hit.report.town)}</b>", f"《{escape(hit.report.title)}》"]
    if hit.chunk.section:
        parts.append(escape(hit.chunk.section))
    return "📍 " + " · ".join(parts)


def passage(hit: Hit) -> str:
    return f"<blockquote>{highlighted(hit.chunk.text, list(hit.spans))}</blockquote>\n{source(hit)}"


def fit(parts: list[str], limit: int = MAX_MESSAGE, separator: str = "\n\n") -> str:
    """Join whole parts while they fit; a single part too long is cut at a safe place."""
    out = ""
    for part in parts:
        candidate = f"{out}{separator}{part}" if out else part
        if len(candidate) > limit:
            break
        out = candidate
    if not out and parts:
        # Only text built by this module gets here: cut plain text, never inside a tag.
        out = escape(strip_tags(parts[0])[: limit - 10]) + "…"
    return out


def strip_tags(html_text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html_text))


UNSURE = "🤔 不确定是否回答了您的问题，这是最接近的原文："
SLOW_DOWN = "⏳ 提问太频繁了，请稍等一分钟再问。"


def asked_again_html(question: str) -> str:
    """A follow-up (「那下蜀镇呢」) written out, so the user sees what was looked up."""
    return f"🔁 接着上一个问题：{escape(question)}"


def assumed_note(towns: Sequence[str]) -> str:
    """Which towns a question naming none was taken to be about; plain text (the console prints it too)."""
    return f"（按{'、'.join(towns)}查找；问其他地方请写明镇名）"


def answer_html(
    hits: Sequence[Hit], first_rank: int = 1, sure: bool = True, assumed: Sequence[str] = (), again: str | None = None
) -> str:
    """Passages, numbered when there is more than one; a caveat first when the engine is unsure; what a follow-up
    asked, and which town it was taken to be about, around them."""
    parts = [asked_again_html(again)] if again else []
    parts += [] if sure else [UNSURE]
    for i, hit in enumerate(hits):
        number = f"{first_rank + i}. " if len(hits) > 1 or first_rank > 1 else ""
        parts.append(number + passage(hit))
    if assumed:
        parts.append(escape(assumed_note(assumed)))
    return fit(parts)


def why_not_found(reports: list[Report], answer: Answer | None) -> str:
    """Why, when it is plain: a town the reports do not cover, or a year the town's report does not name (or
    only plans).
    Plain text (the console prints it too); escape it for HTML."""
    if answer is None:
        return ""
    if answer.reason == "a town the reports do not cover":
        return "还没有收录这个地方的工作报告。"
    periods = [f"{r.town}的报告讲的是{r.period}" for r in reports if r.town in answer.towns and r.period]
    instead = f"要看{answer.reviewed[0]}年的，可以问“{answer.reviewed[0]}年呢”。" if answer.reviewed else ""
    if answer.reason == "no report for that year" and periods:
        return "；".join(periods) + "，没有提到问的年份。" + instead
    if answer.reason == "only plans for that year" and periods:
        return "；".join(periods) + "：问的那一年报告里只有目标和计划，问“目标”或“计划”可以找到。" + instead
    return ""


def not_found_html(reports: list[Report], answer: Answer | None = None, again: str | None = None) -> str:
    """「没有找到」, with why when it is plain, and what the bot can answer."""
    towns = "、".join(dict.fromkeys(escape(r.town) for r in reports))
    why = escape(why_not_found(reports, answer))
    return fit(
        [
            *([asked_again_html(again)] if again else []),
            f"🤷 没有找到相关内容。{why}",
            f"我能回答这些地方工作报告里的问题：{towns}。试试在问题里写明镇名和年份，换一种说法，例如：\n"
            f"「{escape(EXAMPLES[0])}」",
        ]
    )


EXPANDABLE = 400  # a context longer than this (characters shown) comes folded, in Telegram's expandable quote


def context_html(context: Context) -> str:
    """The sentences around a passage, the passage itself in bold; a new paragraph starts a new line."""
    focus, report, chunks = context.focus.chunk, context.focus.report, context.chunks
    text = ""
    for previous, chunk in zip([None, *chunks], chunks):
        if previous is not None:
            text += "\n" if chunk.paragraph != previous.paragraph else ""
        text += f"<b>{escape(chunk.text)}</b>" if chunk.id == focus.id else escape(chunk.text)
    section = f" · {escape(focus.section)}" if focus.section else ""
    header = f"📄 上下文 — <b>{escape(report.town)}</b>《{escape(report.title)}》{section}"
    quote = "blockquote expandable" if len(strip_tags(text)) > EXPANDABLE else "blockquote"
    return fit([header, f"<{quote}>{text}</blockquote>"], separator="\n")


SMALL_TALK = {
    "greeting": "👋 你好！我回答工作报告里的问题，引用原文并注明出处。",
    "thanks": "😊 不客气！还有问题随时问我。",
    "who": "🤖 我是工作报告问答机器人：回答 {towns} 工作报告里的问题，引用原文并注明出自哪个镇、哪份报告。",
    "how": "💡 直接发问题就行，最好写明镇名和年份；/towns 查看收录的报告，/help 查看帮助。",
}


def examples_for(reports: list[Report], count: int = 2) -> list[str]:
    """Example questions about towns that are loaded: the stock ones first, then one per other town."""
    towns = list(dict.fromkeys(r.town for r in reports))
    stock = [e for e in EXAMPLES if any(e.startswith(t) for t in towns)]
    made = [f"{t}的主要工作有哪些？" for t in towns if not any(e.startswith(t) for e in stock)]
    return (stock + made)[:count]


def small_talk_html(kind: str, reports: list[Report]) -> str:
    """A short friendly reply with two example questions."""
    towns = "、".join(dict.fromkeys(escape(r.town) for r in reports))
    examples = "\n".join(f"• {escape(e)}" for e in examples_for(reports))
    return fit([SMALL_TALK[kind].format(towns=towns), f"可以这样问：\n{examples}"], separator="\n")


def towns_html(reports: list[Report]) -> str:
    lines = ["🗂 <b>收录的工作报告</b>"]
    for r in reports:
        place = "，".join(p for p in (r.county, r.city) if p)
        where = f"（{escape(place)}）" if place else ""
        period = f"，{escape(r.period)}" if r.period else ""
        lines.append(f"• <b>{escape(r.town)}</b>{where}：《{escape(r.title)}》{period}")
    return fit(lines, separator="\n")


def command_lines(title: str, menu: Sequence[BotCommand]) -> str:
    return "\n".join([f"<b>{escape(title)}</b>", *(f"/{c.command} — {escape(c.description)}" for c in menu)])


def help_html(reports: list[Report], bot_username: str | None, admin: bool = False) -> str:
    """What the bot does, how to ask, and every command this user may use (the same list as the menu)."""
    towns = "、".join(dict.fromkeys(escape(r.town) for r in reports))
    mention = f"@{escape(bot_username)} " if bot_username else ""
    examples = "\n".join(f"• {escape(e)}" for e in EXAMPLES)
    parts = [
        f"👋 我回答关于 <b>{towns}</b> 工作报告的问题：引用报告原文，并注明出自哪个镇、哪份报告。",
        f"直接发问题即可，例如：\n{examples}",
        "可以接着问：问完一个镇，发「那下蜀镇呢？」换个镇问同一个问题；不写镇名的问题按刚才说的镇查找（/reset 重新开始）。",
        f"在群里：用 /ask 问题，回复我的消息，或 {mention}加问题。"
        + (f"\n在任何聊天里：输入 {mention}问题，从列表里选一段原文发出。" if mention else ""),
        command_lines("命令", commands.USER),
    ]
    if admin:
        parts.append(command_lines("管理员命令", commands.ADMIN) + "\n发来 .pdf/.docx/.html/.txt 报告文件：预览后确认加入。")
    return fit(parts)


INLINE_DESCRIPTION = 160  # characters of the passage shown under an inline result's heading
INLINE_START = "inline"  # the /start parameter of the button over inline results: the private chat's help


def inline_results(answer: Answer, reports: list[Report]) -> list[InlineQueryResultArticle]:
    """Each passage as an inline result (town and report as heading, the passage below) that posts the
    quoted passage with its source; when nothing answers, one 「没有找到」 that names the towns."""
    if not answer.hits:
        towns = "、".join(dict.fromkeys(r.town for r in reports))
        return [_article("none", "🤷 没有找到相关内容", f"能回答这些地方的工作报告：{towns}。写明镇名，换个说法试试", not_found_html(reports))]
    caveat = "" if answer.sure else "🤔 不确定 · "
    return [
        _article(str(h.chunk.id), f"{h.report.town} · 《{h.report.title}》", caveat + _shorten(h.chunk.text), answer_html([h], sure=answer.sure))
        for h in answer.hits
    ]


def _article(result_id: str, title: str, description: str, html: str) -> InlineQueryResultArticle:
    content = InputTextMessageContent(html, parse_mode=ParseMode.HTML)
    return InlineQueryResultArticle(result_id, title, content, description=description)


def _shorten(text: str, most: int = INLINE_DESCRIPTION) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def inline_hint(text: str) -> InlineQueryResultsButton:
    """A button over an empty inline result list saying what to type; it opens the private chat's help."""
    return InlineQueryResultsButton(text, start_parameter=INLINE_START)


def inline_example(reports: list[Report]) -> str:
    return f"💡 输入问题，例如「{examples_for(reports, 1)[0]}」"


YEARS_OFFERED = 3  # at most this many years a question can be asked again for, newest first


def years_keyboard(query_id: int, years: Sequence[str]) -> InlineKeyboardMarkup | None:
    """Under 「没有找到」 for a year the town's report does not cover: the question asked again for one it does."""
    offered = years[:YEARS_OFFERED]
    if not offered:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"🔎 查{y}年的", callback_data=buttons.data(buttons.YEAR, query_id, int(y))) for y in offered]]
    )


def answer_keyboard(query_id: int, first: int, count: int, more: bool) -> InlineKeyboardMarkup:
    """Buttons under passages first..first+count-1 (0-based ranks) of a stored question."""
    context = [
        InlineKeyboardButton("📄 上下文" if count == 1 else f"📄 {rank + 1}", callback_data=buttons.data(buttons.CONTEXT, query_id, rank))
        for rank in range(first, first + count)
    ]
    rows = [context]
    if more:
        rows.append([InlineKeyboardButton("➕ 更多结果", callback_data=buttons.data(buttons.MORE, query_id, first + count))])
    rows.append(
        [
            InlineKeyboardButton("👍", callback_data=buttons.data(buttons.FEEDBACK, query_id, 1)),
            InlineKeyboardButton("👎", callback_data=buttons.data(buttons.FEEDBACK, query_id, -1)),
        ]
    )
    return InlineKeyboardMarkup(rows)


def stats_html(stats: Stats, days: Sequence[Day], reports: int, chunks: int) -> str:
    """The figures under the /stats chart (a photo caption: at most 1024 characters)."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    asked = sum(d.questions for d in days)
    answered = sum(d.answered for d in days) / asked if asked else None
    towns = "、".join(f"{escape(t)} {n}" for t, n in stats.top_towns) or "-"
    return fit(
        [
            "📊 <b>统计</b>",
            f"今天提问 {stats.today} 个；近 7 天 {stats.week} 个，有答案 {share(stats.answered_share)}",
            f"近 {len(days)} 天 {asked} 个，有答案 {share(answered)}，👍 {sum(d.up for d in days)} · 👎 {sum(d.down for d in days)}",
            f"延迟 p50 {ms(stats.p50_ms)}，p95 {ms(stats.p95_ms)}",
            f"近 7 天反馈 👍 {stats.up} · 👎 {stats.down}",
            f"问得最多的镇（7 天）：{towns}",
            f"索引：{reports} 份报告，{chunks} 段",
        ],
        limit=MAX_CAPTION,
        separator="\n",
    )


def queries_html(title: str, rows: list[dict]) -> str:
    """One line per logged question, newest first."""
    if not rows:
        return f"{escape(title)}：暂无记录。"
    lines = [f"<b>{escape(title)}</b>"]
    for row in rows:
        mark = "✅" if row["answered"] else "❌"
        feedback = (" 👍" * min(row["up"], 1)) + (" 👎" * min(row["down"], 1))
        town = f" [{escape(row['town_filter'])}]" if row["town_filter"] else ""
        when = escape(row["ts"][:16].replace("T", " "))
        lines.append(f"{mark} #{row['id']} {when}{town} {escape(row['question'][:120])}{feedback}")
    return fit(lines, separator="\n")


def reload_html(summary: ReloadSummary) -> str:
    def files(names: list[str]) -> str:
        return "、".join(escape(n) for n in names) if names else "无"

    return fit(
        [
            f"✅ 已重新加载：{summary.reports} 份报告，{summary.chunks} 段，用时 {summary.seconds:.1f} 秒",
            f"新增：{files(summary.added)}\n删除：{files(summary.removed)}\n修改：{files(summary.changed)}",
        ],
        separator="\n",
    )


def problem_html(what: str, problem: str) -> str:
    return fit([f"⚠️ {escape(what)}", f"<code>{escape(problem)}</code>", "仍在使用原来的索引回答问题。"], separator="\n")


def lines_html(title: str, lines: Sequence[str]) -> str:
    """A bold title over escaped lines (an upload's preview, the report list)."""
    return "\n".join([f"<b>{escape(title)}</b>", *map(escape, lines)])[:4000]
