"""kill -9 under traffic: every answered question is in the log, and the database is intact."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3

import pytest

from .botharness import bot_process, terminate
from .emulator import Emulator

TOKEN = "444444:CRASH-TEST-TOKEN-abcdefghijklmnopq"
QUESTIONS = ["后白镇2025年地区生产总值是多少", "下蜀镇全年空气质量优良天数是多少？", "后白镇现在常住人口有多少？"]


@pytest.mark.asyncio
async def test_kill_9_under_traffic_loses_no_answered_question(tmp_path):
    db = tmp_path / "log.sqlite3"
    users = range(100, 120)
    async with Emulator(token=TOKEN) as emu:
        env = {
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": emu.base_url, "TOWNQA_DB": str(db),
            "TOWNQA_CACHE_DIR": str(tmp_path / "cache"), "TOWNQA_LOG_USER_IDS": "true",
            "TOWNQA_RATE_LIMIT_PER_MINUTE": "1000",
        }
        with bot_process(env) as proc:
            await emu.send_message(1, "后白镇2025年地区生产总值是多少")
            await emu.wait_for_messages(1, timeout=30)  # the bot is up

            async def traffic() -> None:
                for round_ in range(30):
                    await asyncio.gather(*(emu.send_message(u, QUESTIONS[(u + round_) % 3]) for u in users))
                    await asyncio.sleep(0.02)

            sender = asyncio.create_task(traffic())
            while len(await emu.bot_messages()) < 150:
                await asyncio.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
            await sender
            proc.wait(timeout=10)
            answered = {u: len(await emu.bot_messages(u)) for u in users}
        assert sum(answered.values()) >= 100
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            logged = dict(conn.execute("SELECT user, count(*) FROM queries GROUP BY user").fetchall())
        for user, replies in answered.items():
            assert logged.get(str(user), 0) >= replies, (user, replies, logged.get(str(user)))
        with bot_process(env) as proc:  # a restart serves again from the same database
            await emu.send_message(2, "下蜀镇全年空气质量优良天数是多少？")
            (reply,) = await emu.wait_for_messages(2, timeout=30)
            assert "315天" in reply["message"]["text"]
            code, _ = await terminate(proc)
    assert code == 0
