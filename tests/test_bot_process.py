"""`townqa bot` as a process: debug logging on, the token must appear in no line; SIGTERM stops it; SIGHUP reloads."""

from __future__ import annotations

import asyncio
import shutil
import signal

import pytest

from .botharness import bot_process, terminate
from .conftest import SEEDS
from .emulator import Emulator

# Shaped like a real token, so both the exact-match and the shape redaction are exercised.
TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def bot_env(emu: Emulator, tmp_path, **more: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": emu.token, "TELEGRAM_BASE_URL": emu.base_url,
        "TOWNQA_DB": str(tmp_path / "log.sqlite3"), "TOWNQA_CACHE_DIR": str(tmp_path / "cache"), **more,
    }


@pytest.mark.asyncio
async def test_bot_process_answers_logs_no_token_and_stops_on_sigterm(tmp_path):
    async with Emulator(token=TOKEN) as emu:
        with bot_process(bot_env(emu, tmp_path), "-v") as proc:
            await emu.send_message(5, "后白镇2025年地区生产总值是多少")
            (reply,) = await emu.wait_for_messages(5, timeout=30)
            assert "66.11亿元" in reply["message"]["text"]
            code, output = await terminate(proc)
    assert code == 0, output[-2000:]
    assert "DEBUG" in output and "getUpdates" in output  # debug logging was really on
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert '"event": "question"' in output
    assert " ERROR " not in output


@pytest.mark.asyncio
async def test_sighup_reloads_the_corpus_while_serving(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    question = "宝华镇新建了多少座智慧农业大棚？"
    async with Emulator(token="333333:SIGHUP-TEST-TOKEN-abcdefghijklmnop") as emu:
        with bot_process(bot_env(emu, tmp_path, TOWNQA_SEEDS=str(seeds))) as proc:
            await emu.send_message(5, question)
            (reply,) = await emu.wait_for_messages(5, timeout=30)
            assert "没有找到" in reply["message"]["text"]
            (seeds / "005_baohua.txt").write_text("宝华镇全镇新建智慧农业大棚120座，带动农户增收。", encoding="utf-8")
            with (seeds / "manifest.toml").open("a", encoding="utf-8") as manifest:
                manifest.write('\n[[report]]\nfile = "005_baohua.txt"\ntown = "宝华镇"\ntitle = "宝华镇2025年工作总结"\n')
            proc.send_signal(signal.SIGHUP)
            for _ in range(100):
                await emu.send_message(5, question)
                (reply,) = await emu.wait_for_messages(5, timeout=30)
                if "120" in reply["message"]["text"]:
                    break
                await asyncio.sleep(0.1)
            assert "120" in reply["message"]["text"]
            code, output = await terminate(proc)
    assert code == 0 and "corpus reloaded: 6 reports" in output
