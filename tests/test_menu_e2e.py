"""Telegram conventions through the emulator: the command menu (everyone's, and each admin's by chat scope),
/help listing the same commands, and a long 「上下文」 folded in an expandable quote."""

from __future__ import annotations

import logging
import re

import pytest
import pytest_asyncio

from bot.app import ADMIN_COMMANDS
from bot.settings import Settings

from .botharness import running_bot
from .emulator import TOKEN, Emulator

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN, NEW_ADMIN, STRANGER = 42, 43, 77  # NEW_ADMIN has never written to the bot when it starts
DEFAULT = '{"type":"default"}|'


def scope(chat_id: int) -> str:
    return f'{{"type":"chat","chat_id":{chat_id}}}|'


def names(commands: list[dict]) -> list[str]:
    return [c["command"] for c in commands]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emu: Emulator, tmp_path_factory: pytest.TempPathFactory):
    await emu.send_message(ADMIN, "你好")  # the admin has talked to the bot before it starts
    tmp = tmp_path_factory.mktemp("menu")
    settings = Settings(
        telegram_bot_token=TOKEN, telegram_base_url=emu.base_url, db=tmp / "log.sqlite3", cache_dir=tmp / "cache",
        admin_ids=[ADMIN, NEW_ADMIN],
    )
    async with running_bot(settings) as app:
        await emu.wait_for_messages(ADMIN)  # the reply to 你好
        yield app


async def help_text(emu: Emulator, user: int) -> str:
    await emu.send_command(user, "/help")
    (reply,) = await emu.wait_for_messages(user)
    return reply["message"]["text"]


async def test_the_menu_has_every_user_command_and_each_known_admin_also_theirs(emu: Emulator, bot):
    commands = (await emu.bot_state())["commands"]
    assert names(commands[DEFAULT]) == ["start", "help", "ask", "towns", "reset"]
    admin_menu = names(commands[scope(ADMIN)])
    assert admin_menu[:5] == ["start", "help", "ask", "towns", "reset"]
    assert set(admin_menu[5:]) == set(ADMIN_COMMANDS)  # every admin command has a handler, and is in the menu
    assert scope(NEW_ADMIN) not in commands
    warnings = [text for level, text in bot.captured.lines if level == logging.WARNING and f"admin {NEW_ADMIN}" in text]
    assert warnings and "chat not found" in warnings[0].lower()


async def test_help_lists_the_menu_and_a_new_admin_gets_theirs_with_start(emu: Emulator, bot):
    commands = (await emu.bot_state())["commands"]
    assert re.findall(r"^/(\w+) — ", await help_text(emu, STRANGER), re.M) == names(commands[DEFAULT])
    await emu.send_command(NEW_ADMIN, "/start")
    (reply,) = await emu.wait_for_messages(NEW_ADMIN)
    listed = re.findall(r"^/(\w+) — ", reply["message"]["text"], re.M)
    commands = (await emu.bot_state())["commands"]
    assert listed == names(commands[scope(NEW_ADMIN)]) == names(commands[scope(ADMIN)])
    assert "管理员命令" in reply["message"]["text"] and "管理员命令" not in await help_text(emu, STRANGER)


async def context_of(emu: Emulator, user: int, question: str) -> str:
    await emu.send_message(user, question)
    (answer,) = await emu.wait_for_messages(user)
    keyboard = {b["text"]: b["callback_data"] for row in answer["message"]["reply_markup"]["inline_keyboard"] for b in row}
    await emu.send_callback(user, answer, keyboard["📄 上下文"])
    (context,) = await emu.wait_for_messages(user)
    return context["message"]["text"]


async def test_a_long_context_comes_in_an_expandable_quote_and_a_short_one_open(emu: Emulator, bot):
    long = await context_of(emu, 5, "镇江经开区2024年完成固定资产投资多少？")
    quote = long.split("<blockquote expandable>")[1].split("</blockquote>")[0]
    assert len(re.sub(r"<[^>]+>", "", quote)) > 400 and "<b>" in quote
    short = await context_of(emu, 5, "后白镇2025年地区生产总值是多少？")
    assert "<blockquote>" in short and "expandable" not in short
