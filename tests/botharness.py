"""Run the bot as `townqa bot` builds it, in-process against the emulator, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from telegram.ext import Application

from bot.app import build_application
from bot.querylog import QueryLog
from bot.settings import Settings
from bot.state import BotState

from .conftest import ROOT, SEEDS
from .emulator import TOKEN


class Captured(logging.Handler):
    """Every log record while the bot runs, as (level, message)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, self.format(record)))


def copied_seeds(parent: Path) -> Path:
    """The bundled reports in a folder of the test's own, for tests that add or remove reports."""
    folder = parent / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


@contextlib.asynccontextmanager
async def admin_bot(base_url: str, seeds: Path, admin: int, max_upload_bytes: int) -> AsyncIterator[Application]:
    """The bot on those reports, with its log and cache beside them and one admin."""
    tmp = seeds.parent
    settings = Settings(
        telegram_bot_token=TOKEN, telegram_base_url=base_url, seeds=seeds,
        db=tmp / "log.sqlite3", cache_dir=tmp / "cache", admin_ids=[admin], max_upload_bytes=max_upload_bytes,
    )
    async with running_bot(settings) as app:
        yield app


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[Application]:
    """The application polling the emulator; app.captured holds its log records."""
    captured = Captured()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(captured)
    root.setLevel(logging.DEBUG)
    state = BotState(settings.load_engine(), settings, QueryLog(settings.database()))
    app = build_application(settings, state)
    app.captured = captured
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()  # as run_polling does: the persistence is flushed before post_shutdown closes the log
        await app.post_shutdown(app)
        root.removeHandler(captured)
        root.setLevel(old_level)


@contextlib.contextmanager
def bot_process(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen]:
    """`townqa bot` as its own process, with the given settings in its environment; killed if left running."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args, "bot"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


async def terminate(proc: subprocess.Popen) -> tuple[int, str]:
    """SIGTERM, as a service manager stops the bot; (exit code, everything it printed)."""
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.to_thread(proc.communicate, timeout=30)
    return proc.returncode, out + err
