"""A chat as a conversation, through the emulator: follow-ups by town and without one, /reset, expiry, and the
conversation kept across a restart of the bot process."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
import pytest_asyncio

from bot.settings import Settings

from .botharness import bot_process, running_bot, terminate
from .emulator import TOKEN, Emulator
from .test_bot_e2e import ask, buttons

pytestmark = pytest.mark.asyncio(loop_scope="module")


def bot_settings(emu: Emulator, tmp, **more) -> Settings:
    more = {"telegram_bot_token": TOKEN, **more}
    return Settings(telegram_base_url=emu.base_url, db=tmp / "log.sqlite3", cache_dir=tmp / "cache", **more)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emu: Emulator, tmp_path_factory: pytest.TempPathFactory):
    async with running_bot(bot_settings(emu, tmp_path_factory.mktemp("conversation"))) as app:
        yield app


async def test_a_town_name_alone_asks_the_last_question_for_that_town(emu: Emulator, bot):
    first = (await ask(emu, 31, "后白镇一般公共预算收入是多少？"))["message"]["text"]
    assert "📍 <b>后白镇</b>" in first
    for message, town in (("那下蜀镇呢？", "下蜀镇"), ("西夏墅的呢", "西夏墅镇")):
        text = (await ask(emu, 31, message))["message"]["text"]
        assert f"接着上一个问题：{town}一般公共预算收入是多少" in text
        assert f"📍 <b>{town}</b>" in text and "<b>一般公共预算收入</b>" in text
    # What was looked up is what the log holds, so the buttons of that answer work on it.
    rows = sqlite3.connect(bot.bot_data["state"].querylog.path).execute(
        "SELECT question, town_filter FROM queries WHERE question LIKE '%一般公共预算收入%' ORDER BY id"
    ).fetchall()
    assert rows[-2:] == [("下蜀镇一般公共预算收入是多少？", "下蜀镇"), ("西夏墅镇一般公共预算收入是多少？", "西夏墅镇")]


async def test_a_year_alone_asks_the_last_question_for_that_year(emu: Emulator, bot):
    await ask(emu, 34, "下蜀镇一般公共预算收入是多少？")
    text = (await ask(emu, 34, "2023年呢？"))["message"]["text"]
    assert "接着上一个问题：下蜀镇2023年一般公共预算收入是多少" in text
    assert "📍 <b>下蜀镇</b>" in text and "4.85亿元" in text
    text = (await ask(emu, 34, "2024年的目标呢"))["message"]["text"]  # words of its own: a question, about 下蜀镇
    assert "接着上一个问题" not in text and "（按下蜀镇查找" in text


async def test_a_question_without_a_town_is_taken_to_be_about_the_chats_town(emu: Emulator, bot):
    await ask(emu, 32, "下蜀镇地区生产总值是多少")
    text = (await ask(emu, 32, "一般公共预算收入呢"))["message"]["text"]
    assert "📍 <b>下蜀镇</b>" in text and "（按下蜀镇查找；问其他地方请写明镇名）" in text
    # Another chat talking about 后白镇 gets 后白镇's passage for the same words.
    await ask(emu, 33, "后白镇地区生产总值是多少")
    text = (await ask(emu, 33, "一般公共预算收入呢"))["message"]["text"]
    assert "📍 <b>后白镇</b>" in text and "（按后白镇查找" in text


async def test_a_better_passage_in_another_town_still_wins(emu: Emulator, bot):
    await ask(emu, 34, "后白镇地区生产总值是多少")
    text = (await ask(emu, 34, "全年空气质量优良天数是多少"))["message"]["text"]
    assert "📍 <b>下蜀镇</b>" in text and "315天" in text and "按后白镇查找" not in text


async def test_reset_forgets_the_town(emu: Emulator, bot):
    await ask(emu, 35, "下蜀镇地区生产总值是多少")
    await emu.send_command(35, "/reset")
    (reply,) = await emu.wait_for_messages(35)
    assert "已忘记" in reply["message"]["text"]
    text = (await ask(emu, 35, "那后白镇呢"))["message"]["text"]
    assert "接着上一个问题" not in text
    assert "按下蜀镇查找" not in (await ask(emu, 35, "一般公共预算收入呢"))["message"]["text"]


async def test_small_talk_does_not_change_the_topic(emu: Emulator, bot):
    await ask(emu, 36, "后白镇一般公共预算收入是多少")
    assert "不客气" in (await ask(emu, 36, "谢谢！"))["message"]["text"]
    assert "📍 <b>下蜀镇</b>" in (await ask(emu, 36, "下蜀呢"))["message"]["text"]


async def test_the_topic_is_forgotten_after_the_window(tmp_path):
    # An emulator of its own: the module's bot polls the shared one.
    async with Emulator(token="444444:EXPIRY-TEST-TOKEN-abcdefghijklmnop") as emu, running_bot(
        bot_settings(emu, tmp_path, telegram_bot_token=emu.token, conversation_seconds=1.0)
    ):
        await ask(emu, 37, "下蜀镇地区生产总值是多少")
        assert "按下蜀镇查找" in (await ask(emu, 37, "一般公共预算收入呢"))["message"]["text"]
        await asyncio.sleep(1.5)
        assert "按下蜀镇查找" not in (await ask(emu, 37, "一般公共预算收入呢"))["message"]["text"]
        await asyncio.sleep(1.5)
        assert "接着上一个问题" not in (await ask(emu, 37, "那后白镇呢"))["message"]["text"]


async def test_the_conversation_survives_a_restart_of_the_bot_process(tmp_path):
    async with Emulator(token="555555:RESTART-TEST-TOKEN-abcdefghijklmnop") as emu:
        await restart_keeps_the_topic(emu, tmp_path)


async def restart_keeps_the_topic(emu: Emulator, tmp_path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": emu.token, "TELEGRAM_BASE_URL": emu.base_url,
        "TOWNQA_DB": str(tmp_path / "log.sqlite3"), "TOWNQA_CACHE_DIR": str(tmp_path / "cache"),
    }
    with bot_process(env) as proc:
        await emu.send_message(38, "后白镇一般公共预算收入是多少")
        (reply,) = await emu.wait_for_messages(38, timeout=60)
        assert "📍 <b>后白镇</b>" in reply["message"]["text"]
        code, output = await terminate(proc)
        assert code == 0, output[-2000:]
    with bot_process(env) as proc:
        await emu.send_message(38, "那下蜀镇呢")
        (reply,) = await emu.wait_for_messages(38, timeout=60)
        assert "接着上一个问题：下蜀镇一般公共预算收入是多少" in reply["message"]["text"]
        await terminate(proc)


async def test_a_year_the_report_does_not_cover_offers_the_year_it_does(emu: Emulator, bot):
    reply = await ask(emu, 35, "下蜀镇2025年地区生产总值是多少？")
    text = reply["message"]["text"]
    assert text.startswith("🤷 没有找到相关内容") and "下蜀镇的报告讲的是2023年" in text and "“2023年呢”" in text
    data = buttons(reply)
    assert list(data) == ["🔎 查2023年的"]
    await emu.send_callback(35, reply, data["🔎 查2023年的"])
    (again,) = await emu.wait_for_messages(35)
    text = again["message"]["text"]
    assert "接着上一个问题：下蜀镇2023年地区生产总值是多少" in text and "<b>地区生产总值</b>90亿元" in text
    assert {"👍", "👎"} <= set(buttons(again))  # an answer like any other, logged with its own buttons
