"""Inline mode through the emulator: 「@bot 问题」 typed in any chat lists passages, the chosen one is posted
quoted with its source; logged as chat type inline; rate-limited like chat questions; never a crash."""

from __future__ import annotations

import logging
import re
import sqlite3

import pytest
import pytest_asyncio
from telegram import Bot, InlineQueryResultArticle, InputTextMessageContent
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.settings import Settings

from .botharness import running_bot
from .emulator import BOT_USERNAME, TOKEN, Emulator

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOWNS = ("后白镇", "下蜀镇", "镇江经开区", "西夏墅镇", "句容经济开发区")
PER_MINUTE = 5


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emu: Emulator, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("inline")
    settings = Settings(
        telegram_bot_token=TOKEN, telegram_base_url=emu.base_url, db=tmp / "log.sqlite3", cache_dir=tmp / "cache",
        rate_limit_per_minute=PER_MINUTE, max_question_chars=100,
    )
    async with running_bot(settings) as app:
        yield app


async def inline(emu: Emulator, user: int, query: str, chat_type: str = "supergroup") -> tuple[str, dict]:
    query_id = await emu.send_inline_query(user, query, chat_type)
    return query_id, await emu.wait_for_inline_answer(query_id)


def logged(bot, question: str) -> list[tuple]:
    with sqlite3.connect(bot.bot_data["state"].querylog.path) as db:
        return db.execute("SELECT source, chat_type, answered FROM queries WHERE question = ?", (question,)).fetchall()


@pytest.mark.parametrize(
    ("user", "query", "town", "figure"),
    [(1, "后白镇 地区生产总值", "后白镇", "66.11亿元"), (2, "下蜀镇 空气质量优良天数", "下蜀镇", "315天"),
     (8, "西夏墅镇 安全检查", "西夏墅镇", "233家")],  # 8 passages match the last: 5 are listed
)
async def test_up_to_five_passages_the_named_town_first_and_the_chosen_one_is_posted_with_its_source(
    emu: Emulator, bot, user: int, query: str, town: str, figure: str
):
    query_id, answer = await inline(emu, user, query)
    results = answer["results"]
    found = bot.bot_data["state"].engine.search(query, 50)
    assert len(results) == min(5, len(found.hits)) and {r["type"] for r in results} == {"article"}
    first = results[0]
    assert first["title"].startswith(f"{town} · 《") and figure in first["description"]
    assert len({r["id"] for r in results}) == len(results)
    assert answer["cache_time"] > 0 and not answer["is_personal"]  # the same for everyone: Telegram may cache it
    posted = await emu.choose_inline_result(query_id, first["id"])
    assert posted["parse_mode"] == "HTML" and posted["via_bot"]["username"] == BOT_USERNAME
    assert posted["text"].startswith("<blockquote>" if found.sure else "🤔 不确定是否回答了您的问题") and figure in posted["text"]
    assert first["description"].startswith("🤔 不确定") != found.sure
    assert f"📍 <b>{town}</b>" in posted["text"] and f"《{first['title'].split('《', 1)[1]}" in posted["text"]
    assert logged(bot, query) == [("telegram", "inline", 1)]


async def test_nothing_found_is_one_result_naming_the_towns(emu: Emulator, bot):
    query_id, answer = await inline(emu, 3, "后白镇现在常住人口有多少")
    (result,) = answer["results"]
    assert "没有找到" in result["title"] and all(t in result["description"] for t in TOWNS)
    assert "没有找到相关内容" in (await emu.choose_inline_result(query_id, result["id"]))["text"]
    assert logged(bot, "后白镇现在常住人口有多少") == [("telegram", "inline", 0)]


@pytest.mark.parametrize(
    ("query", "hint"),
    [("", "输入问题，例如"), ("   ", "输入问题，例如"), ("你好", "输入问题，例如"), ("？？！！", "没看懂这个问题"), ("后白镇" * 40, "问题太长了")],
)
async def test_what_is_not_a_question_gets_no_results_and_a_button_saying_what_to_type(emu: Emulator, bot, query, hint):
    _, answer = await inline(emu, 4, query)
    assert answer["results"] == [] and hint in answer["button"]["text"]
    assert logged(bot, query.strip()) == []


async def test_the_button_over_the_results_opens_the_help_in_the_private_chat(emu: Emulator, bot):
    _, answer = await inline(emu, 5, "")
    await emu.send_command(5, f"/start {answer['button']['start_parameter']}")
    (reply,) = await emu.wait_for_messages(5)
    assert "直接发问题即可" in reply["message"]["text"] and f"@{BOT_USERNAME} 问题" in reply["message"]["text"]


async def test_a_user_over_the_limit_is_told_to_wait_and_others_still_get_passages(emu: Emulator, bot):
    answers = [(await inline(emu, 6, f"西夏墅镇 安全检查 {i}"))[1] for i in range(PER_MINUTE + 1)]
    assert all(a["results"] for a in answers[:PER_MINUTE])
    slowed = answers[PER_MINUTE]
    assert slowed["results"] == [] and "太频繁" in slowed["button"]["text"]
    assert slowed["cache_time"] == 0 and slowed["is_personal"]  # never served from the cache to someone else
    assert (await inline(emu, 7, "西夏墅镇 安全检查 5"))[1]["results"]
    await emu.send_message(6, "西夏墅镇上半年安全检查了多少家单位")  # chat questions share the same limit
    (reply,) = await emu.wait_for_messages(6)
    assert "太频繁" in reply["message"]["text"]


async def test_nothing_at_error_level(bot):
    assert not [text for level, text in bot.captured.lines if level >= logging.ERROR]



async def test_the_emulator_refuses_inline_answers_telegram_refuses(emu: Emulator):
    """So that a result the bot built wrong fails these tests as it would fail in Telegram (a second bot, which
    nothing answers for)."""
    token = "654321:OTHER-BOT"
    other = Bot(token, base_url=emu.bot_api_url)

    def article(result_id: str, text: str) -> InlineQueryResultArticle:
        return InlineQueryResultArticle(result_id, "标题", InputTextMessageContent(text, parse_mode=ParseMode.HTML))

    async with other:
        for results, error in (
            ([article("1", "<b>没有闭合")], "parse entities"),
            ([article("1", "一"), article("1", "二")], "RESULT_ID_DUPLICATE"),
            ([article("x" * 65, "一")], "RESULT_ID_INVALID"),
            ([article(str(i), "一") for i in range(51)], "RESULTS_TOO_MUCH"),
        ):
            sent = await emu._post("/sendInlineQuery", {"botToken": token, "from": emu.user(9), "query": "后白镇"})
            with pytest.raises(BadRequest, match=re.compile(re.escape(error), re.I)):
                await other.answer_inline_query(sent["inline_query_id"], results)
        sent = await emu._post("/sendInlineQuery", {"botToken": token, "from": emu.user(9), "query": "后白镇"})
        assert await other.answer_inline_query(sent["inline_query_id"], [article("1", "<b>一</b>")])
        with pytest.raises(BadRequest, match="too old"):  # an inline query is answered once
            await other.answer_inline_query(sent["inline_query_id"], [article("1", "一")])
