"""Webhook mode: `townqa bot` with TOWNQA_WEBHOOK_URL registers its URL and answers updates pushed to it."""

from __future__ import annotations

import asyncio
import socket

import pytest

from .botharness import bot_process, terminate
from .emulator import Emulator

TOKEN = "555555:WEBHOOK-TEST-TOKEN-abcdefghijklmnop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.asyncio
async def test_webhook_mode_sets_the_webhook_and_answers(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/townqa-hook"
    async with Emulator(token=TOKEN) as emu:
        env = {
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": emu.base_url, "TOWNQA_WEBHOOK_URL": url,
            "TOWNQA_WEBHOOK_LISTEN": "127.0.0.1", "TOWNQA_WEBHOOK_PORT": str(port),
            "TOWNQA_DB": str(tmp_path / "log.sqlite3"), "TOWNQA_CACHE_DIR": str(tmp_path / "cache"),
        }
        with bot_process(env) as proc:
            for _ in range(300):
                calls = await emu.bot_calls("setWebhook")
                if calls:
                    break
                await asyncio.sleep(0.05)
            assert calls and calls[0]["params"]["url"] == url
            await asyncio.sleep(0.3)
            await emu.send_message(5, "后白镇2025年地区生产总值是多少")
            (reply,) = await emu.wait_for_messages(5, timeout=15)
            assert "66.11亿元" in reply["message"]["text"]
            code, output = await terminate(proc)
    assert code == 0, output[-2000:]
    assert TOKEN not in output
