"""The real bot Application against the telegram-test-api emulator on 127.0.0.1, acting as users.

Needs Node.js and npm (tests/emulator is installed with `npm ci` on first use).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

import pytest
import pytest_asyncio

from bot.settings import Settings

from .botharness import running_bot
from .emulator import BOT_USERNAME, TOKEN, Emulator

pytestmark = pytest.mark.asyncio(loop_scope="module")

GROUP = -100200300


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emu: Emulator, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("bot")
    settings = Settings(
        telegram_bot_token=TOKEN,
        telegram_base_url=emu.base_url,
        db=tmp / "log.sqlite3",
        cache_dir=tmp / "cache",
        rate_limit_per_minute=20,
    )
    async with running_bot(settings) as app:
        yield app


async def ask(emu: Emulator, user: int, text: str, **kwargs) -> dict:
    await emu.send_message(user, text, **kwargs)
    (reply,) = await emu.wait_for_messages(kwargs.get("chat_id") or user, timeout=5)
    return reply


def buttons(entry: dict) -> dict[str, str]:
    rows = entry["message"].get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def test_start_explains_the_bot_and_registers_commands(emu: Emulator, bot):
    await emu.send_command(1, "/start")
    (reply,) = await emu.wait_for_messages(1)
    text = reply["message"]["text"]
    for town in ("后白镇", "下蜀镇", "镇江经开区", "西夏墅镇", "句容经济开发区"):
        assert town in text
    assert "/ask" in text and "例如" in text
    state = await emu.bot_state()
    assert {"start", "help", "ask", "towns"} <= {c["command"] for cmds in state["commands"].values() for c in cmds}
    await emu.send_command(1, "/towns")
    (reply,) = await emu.wait_for_messages(1)
    assert "《后白镇：以奋进之姿谱写高质量发展华章》" in reply["message"]["text"]


async def test_a_question_gets_its_passage_and_town_within_a_second(emu: Emulator, bot):
    started = time.monotonic()
    reply = await ask(emu, 2, "后白镇2025年地区生产总值是多少？")
    assert time.monotonic() - started < 1.0
    message = reply["message"]
    assert message["parse_mode"] == "HTML"
    assert message["text"].startswith("<blockquote>") and "66.11亿元" in message["text"]
    assert "<b>地区生产总值</b>" in message["text"]
    assert "📍 <b>后白镇</b>" in message["text"]
    assert set(buttons(reply)) == {"📄 上下文", "➕ 更多结果", "👍", "👎"}


async def test_more_results_and_context_buttons(emu: Emulator, bot):
    reply = await ask(emu, 3, "下蜀镇地区生产总值")
    data = buttons(reply)
    await emu.send_callback(3, reply, data["➕ 更多结果"])
    (more,) = await emu.wait_for_messages(3)
    assert more["message"]["text"].startswith("2. <blockquote>")
    assert "下蜀镇" in more["message"]["text"]
    await emu.send_callback(3, reply, data["📄 上下文"])
    (context,) = await emu.wait_for_messages(3)
    text = context["message"]["text"]
    assert text.startswith("📄 上下文") and "<b>" in text
    first_passage = reply["message"]["text"].split("<blockquote>")[1].split("</blockquote>")[0]
    plain = first_passage.replace("<b>", "").replace("</b>", "")
    assert f"<b>{plain}</b>" in text


async def test_a_question_naming_two_towns_gets_a_passage_of_each_in_one_reply(emu: Emulator, bot):
    reply = await ask(emu, 40, "后白镇和下蜀镇的地区生产总值分别是多少？")
    text = reply["message"]["text"]
    assert text.startswith("1. <blockquote>") and "\n\n2. <blockquote>" in text
    assert text.index("📍 <b>后白镇</b>") < text.index("📍 <b>下蜀镇</b>")
    assert "66.11亿元" in text
    data = buttons(reply)
    assert {"📄 1", "📄 2", "👍", "👎"} <= set(data)
    await emu.send_callback(40, reply, data["📄 2"])
    (context,) = await emu.wait_for_messages(40)
    assert "📄 上下文 — <b>下蜀镇</b>" in context["message"]["text"]


async def test_a_doubtful_passage_comes_with_a_caveat(emu: Emulator, bot):
    reply = await ask(emu, 41, "郭庄镇2025年地区生产总值是多少？")
    text = reply["message"]["text"]
    assert text.startswith("🤔 不确定是否回答了您的问题") or text.startswith("🤷 没有找到相关内容")


async def test_feedback_is_recorded_with_its_question(emu: Emulator, bot):
    reply = await ask(emu, 4, "下蜀镇全年空气质量优良天数是多少？")
    await emu.send_callback(4, reply, buttons(reply)["👎"])
    for _ in range(100):
        answers = await emu.callback_answers()
        if any(a.get("text") == "谢谢反馈！" for a in answers):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail(f"no feedback acknowledgement: {answers}")
    with sqlite3.connect(bot.bot_data["state"].querylog.path) as db:
        rows = db.execute(
            "SELECT q.question, f.value FROM feedback f JOIN queries q ON q.id = f.query_id"
        ).fetchall()
    assert ("下蜀镇全年空气质量优良天数是多少？", -1) in rows


async def test_not_found_is_friendly_and_helpful(emu: Emulator, bot):
    reply = await ask(emu, 5, "后白镇现在常住人口有多少？")
    text = reply["message"]["text"]
    assert "没有找到相关内容" in text and "后白镇" in text and "例如" in text
    assert "reply_markup" not in reply["message"]


async def test_html_in_the_question_is_never_echoed_raw(emu: Emulator, bot):
    reply = await ask(emu, 6, "后白镇2025年<地区生产总值>是多少？&amp;")
    assert "<地区生产总值>" not in reply["message"]["text"]
    assert "66.11亿元" in reply["message"]["text"]
    reply = await ask(emu, 6, "<script>alert(1)</script>")
    assert "<script>" not in reply["message"]["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("？？！！", "没看懂这个问题"), ("😀😀😀", "没看懂这个问题"), ("后白镇" * 101, "问题太长了")],
)
async def test_questions_that_are_not_questions_get_a_clear_message(emu: Emulator, bot, text: str, expected: str):
    reply = await ask(emu, 7, text)
    assert expected in reply["message"]["text"]


async def test_a_sticker_gets_a_note_that_the_bot_answers_text(emu: Emulator, bot):
    message = emu._message(8, "", None, "private", None, None, None, None, None)
    del message["text"]
    message["sticker"] = {"file_id": "s1", "file_unique_id": "u1", "width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"}
    await emu._post("/sendMessage", message)
    (reply,) = await emu.wait_for_messages(8)
    assert "只能回答文字问题" in reply["message"]["text"]


async def test_in_a_group_only_mentions_replies_and_ask_are_questions(emu: Emulator, bot):
    group = {"chat_id": GROUP, "chat_type": "supergroup", "title": "镇里的群"}
    await emu.send_message(9, "大家好，今天开会", **group)
    await emu.expect_no_messages(GROUP, within=0.4)
    mention = f"@{BOT_USERNAME} 后白镇2025年地区生产总值是多少"
    await emu.send_message(9, mention, entities=[{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}], **group)
    (reply,) = await emu.wait_for_messages(GROUP)
    assert "66.11亿元" in reply["message"]["text"]
    await emu.send_message(10, "那下蜀镇呢？下蜀镇地区生产总值", reply_to=reply["message"] | {"message_id": reply["messageId"], "from": {"id": 123456, "is_bot": True, "first_name": "TownQA Test Bot"}, "chat": {"id": GROUP, "type": "supergroup", "title": "镇里的群"}, "date": int(time.time())}, **group)
    (reply2,) = await emu.wait_for_messages(GROUP)
    assert "下蜀镇" in reply2["message"]["text"]
    await emu.send_command(11, "/ask 西夏墅镇上半年安全检查了多少家单位", chat_id=GROUP, chat_type="supergroup", title="镇里的群")
    (reply3,) = await emu.wait_for_messages(GROUP)
    assert "233家" in reply3["message"]["text"]


async def test_old_or_forged_buttons_get_a_polite_answer(emu: Emulator, bot):
    reply = await ask(emu, 12, "下蜀镇 新能源汽车充电桩")
    before = len(await emu.callback_answers())
    forged = ("m:99999999:1", "c:1:999", "f:1:7", "junk", "c:abc:1", "y:99999999:2023", "y:1:1066")
    for data in forged:
        await emu.send_callback(12, reply, data)
    for _ in range(200):
        answers = (await emu.callback_answers())[before:]
        if len(answers) >= len(forged):
            break
        await asyncio.sleep(0.02)
    assert len(answers) == len(forged) and all("过期" in a["text"] for a in answers)


async def test_too_many_questions_from_one_user_are_slowed_politely(emu: Emulator, bot):
    for i in range(21):
        await emu.send_message(13, f"下蜀镇 新能源汽车充电桩 {i}")
    replies = await emu.wait_for_messages(13, count=21, timeout=15)
    assert sum("太频繁" in r["message"]["text"] for r in replies) == 1


async def test_thirty_users_asking_four_questions_at_once_all_get_answers(emu: Emulator, bot):
    questions = ["后白镇2025年地区生产总值是多少", "下蜀镇全年空气质量优良天数是多少？", "镇江经开区2024年完成固定资产投资多少？", "西夏墅镇上半年安全检查了多少家单位"]
    users = range(1000, 1030)
    started = time.monotonic()
    await asyncio.gather(*(emu.send_message(u, q) for u in users for q in questions))
    replies = await asyncio.gather(*(emu.wait_for_messages(u, count=4, timeout=30) for u in users))
    elapsed = time.monotonic() - started
    print(f"\n120 questions from 30 users answered in {elapsed:.2f}s")
    for user_replies in replies:
        texts = " ".join(r["message"]["text"] for r in user_replies)
        assert "66.11亿元" in texts and "315天" in texts and "227亿元" in texts and "233家" in texts


async def test_nothing_at_error_level_and_every_question_logged(bot):
    lines = bot.captured.lines
    assert sum('"event": "question"' in text for _, text in lines) >= 130
    assert not [text for level, text in lines if level >= logging.ERROR]
    with sqlite3.connect(bot.bot_data["state"].querylog.path) as db:
        (count,) = db.execute("SELECT count(*) FROM queries").fetchone()
    assert count >= 130


@pytest.mark.parametrize(
    ("text", "expected"),
    [("你好", "你好！"), ("谢谢！", "不客气"), ("你是谁？", "工作报告问答机器人"), ("怎么用", "直接发问题")],
)
async def test_small_talk_gets_a_friendly_reply_with_two_examples_and_is_not_searched(emu: Emulator, bot, text, expected):
    user = 50 + len(text)
    reply = await ask(emu, user, text)
    message = reply["message"]
    assert expected in message["text"] and "没有找到" not in message["text"]
    assert message["text"].count("\n• ") == 2 and "后白镇2025年地区生产总值是多少？" in message["text"]
    assert "reply_markup" not in message
    with sqlite3.connect(bot.bot_data["state"].querylog.path) as db:
        assert db.execute("SELECT count(*) FROM queries WHERE question = ?", (text,)).fetchone() == (0,)


async def test_a_greeting_before_a_real_question_is_still_searched(emu: Emulator, bot):
    reply = await ask(emu, 60, "你好，后白镇的地区生产总值是多少")
    assert "66.11亿元" in reply["message"]["text"] and "📍 <b>后白镇</b>" in reply["message"]["text"]
