"""Faults a running bot must ride out: what a user or an operator would notice.

1. the query-log database stops accepting writes, read-only or on a full disk (and later accepts them again);
2. the Bot API goes away and comes back (the bot process is not restarted);
3. /reload while ten users keep asking;
4. a corrupt index cache at start.

Needs Node.js and npm (the telegram-test-api emulator), like the other end-to-end tests,
`chattr` on a filesystem that supports the immutable flag (the tests run as root, where
chmod stops no write) and, for the full disk, a small tmpfs mount (root again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from retrieval import Engine

from .botharness import bot_process, running_bot, terminate
from .conftest import CONFIG, SEEDS
from .emulator import TOKEN, Emulator, _free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTIONS = ["后白镇2025年地区生产总值是多少？", "下蜀镇全年空气质量优良天数是多少？", "后白镇现在常住人口有多少？"]


def settings_for(emu: Emulator, tmp: Path, **more) -> Settings:
    more = {"db": tmp / "qlog" / "log.sqlite3", **more}
    return Settings(
        telegram_bot_token=TOKEN, telegram_base_url=emu.base_url, cache_dir=tmp / "cache", rate_limit_per_minute=10_000, **more
    )


async def ask(emu: Emulator, user: int, text: str, timeout: float = 5.0) -> dict:
    await emu.send_message(user, text)
    (reply,) = await emu.wait_for_messages(user, timeout=timeout)
    return reply


def rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM queries").fetchone()[0]


# ---------------------------------------------------------------- 1. the query log stops writing


def chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


@contextlib.contextmanager
def read_only(db: Path) -> Iterator[None]:
    """Immutable database, WAL and folder: even root cannot write them. Not the -shm file:
    SQLite maps it, and a write to a mapped immutable file is a SIGBUS that kills the process."""
    frozen = [db, db.with_name(db.name + "-wal"), db.parent]
    assert all(p.exists() for p in frozen), list(db.parent.iterdir())
    chattr("+i", *frozen)
    try:
        yield
    finally:
        chattr("-i", *frozen)


@contextlib.contextmanager
def disk_full(db: Path) -> Iterator[None]:
    """Fill the (small) filesystem the database is on to the last byte; free it again after."""
    filler = db.parent / "filler"
    with open(filler, "wb") as out, contextlib.suppress(OSError):  # ENOSPC: full
        for _ in range(10_000):
            out.write(b"\0" * 65536)
            out.flush()
    try:
        yield
    finally:
        filler.unlink()


@contextlib.contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    """A 4 MB tmpfs at folder, for a disk that can really be full; skips where it cannot be mounted."""
    folder.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.parametrize("fault", ["read-only", "disk-full"])
async def test_query_log_write_failure_costs_no_answer_and_is_reported_once(emu: Emulator, tmp_path, fault):
    if fault == "read-only" and shutil.which("chattr") is None:
        pytest.skip("chattr is not available")
    await emu.reset()
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(small_disk(tmp_path / "small")) if fault == "disk-full" else tmp_path / "qlog"
        settings = settings_for(emu, tmp_path, db=folder / "log.sqlite3")
        db = settings.db
        async with running_bot(settings) as app:
            reply = await ask(emu, 11, QUESTIONS[0])
            assert "66.11亿元" in reply["message"]["text"]
            assert rows(db) == 1
            with read_only(db) if fault == "read-only" else disk_full(db):
                for user in (12, 13, 14, 12):
                    reply = await ask(emu, user, QUESTIONS[0])
                    assert "66.11亿元" in reply["message"]["text"]  # the user still gets the answer
            failing = [m for lvl, m in app.captured.lines if lvl >= logging.ERROR]
            print("\nERROR lines while the log could not be written:", *failing, sep="\n  ")
            assert len(failing) == 1, failing
            assert "query log" in failing[0] and "cannot record a question" in failing[0]
            assert not any("writing again" in m for _, m in app.captured.lines)

            for user in (15, 16):
                reply = await ask(emu, user, QUESTIONS[1])
                assert "315天" in reply["message"]["text"]
            assert rows(db) == 3  # the first question and the two after the fault
            again = [(lvl, m) for lvl, m in app.captured.lines if "writing again" in m]
            assert len(again) == 1 and again[0][0] == logging.WARNING, again
            assert len([1 for lvl, _ in app.captured.lines if lvl >= logging.ERROR]) == 1
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ---------------------------------------------------------------- 2. the Bot API goes away


class FixedPortEmulator(Emulator):
    """An emulator that always listens on the same port, so a "new Telegram" can replace it."""

    def __init__(self, token: str, port: int) -> None:
        super().__init__(token)
        self.fixed_port = port

    def start_blocking(self) -> None:
        if self.running:
            return
        node = shutil.which("node")
        if node is None:
            pytest.skip("Node.js is not installed")
        self.ensure_installed()
        self._launch(node, self.fixed_port)


async def test_bot_survives_the_bot_api_going_away_and_coming_back(tmp_path):
    token = "555555:RESTART-TEST-TOKEN-abcdefghijklmn"
    emu = FixedPortEmulator(token, _free_port())
    await emu.start()
    try:
        env = {
            "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_BASE_URL": emu.base_url,
            "TOWNQA_DB": str(tmp_path / "log.sqlite3"), "TOWNQA_CACHE_DIR": str(tmp_path / "cache"),
        }
        with bot_process(env) as proc:
            reply = await ask(emu, 7, QUESTIONS[0], timeout=30)  # the bot is up
            assert "66.11亿元" in reply["message"]["text"]
            last_id = max(e["updateId"] for e in await emu.history())

            await emu.stop()
            await asyncio.sleep(2.0)
            assert proc.poll() is None, "the bot exited while the Bot API was away"
            await emu.start()
            restarted = time.monotonic()
            # A new emulator counts update ids from 1 again (Telegram never does), and updates
            # under the bot's offset are taken as confirmed: use up the old ids first.
            while (await emu.send_message(999, "你好"))["update_id"] <= last_id:
                pass
            reply = await ask(emu, 7, QUESTIONS[1], timeout=40)
            print(f"\nanswered {time.monotonic() - restarted:.1f}s after the Bot API came back")
            assert "315天" in reply["message"]["text"]
            assert proc.poll() is None
            code, output = await terminate(proc)
    finally:
        await emu.stop()
    assert code == 0, output[-2000:]
    # An outage is said as a warning, not as an error with a traceback for every retry.
    assert " ERROR " not in output, output[-2000:]
    assert "Telegram is unreachable" in output


# ---------------------------------------------------------------- 3. /reload under load


async def test_reload_under_load_answers_everyone_without_stalls(emu: Emulator, tmp_path):
    await emu.reset()
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    settings = settings_for(emu, tmp_path, admin_ids=[42], seeds=seeds)
    latencies: list[float] = []
    slowest: list[tuple[float, float]] = []  # (latency, when it was asked, s after the start)
    reload_at: list[float] = []
    users = range(201, 211)
    async with running_bot(settings) as app:
        begin = time.monotonic()
        end = begin + 5.0

        async def user(uid: int) -> int:
            asked = 0
            while time.monotonic() < end:
                question = QUESTIONS[(uid + asked) % len(QUESTIONS)]
                started = time.monotonic()
                reply = await ask(emu, uid, question, timeout=10)
                latencies.append(time.monotonic() - started)
                slowest.append((latencies[-1], started - begin))
                assert "66.11亿元" in reply["message"]["text"] or "315天" in reply["message"]["text"] \
                    or "没有找到" in reply["message"]["text"], reply["message"]["text"]
                asked += 1
            return asked

        async def admin() -> list[str]:
            texts = []
            for at in (1.0, 3.0):
                await asyncio.sleep(max(0.0, begin + at - time.monotonic()))
                reload_at.append(time.monotonic() - begin)
                await emu.send_command(42, "/reload")
                texts += [e["message"]["text"] for e in await emu.wait_for_messages(42, 2, timeout=15)]
            return texts

        *asked, reload_texts = await asyncio.gather(*(user(u) for u in users), admin())
        await emu.expect_no_messages(201, within=0.2)
        errors = [m for lvl, m in app.captured.lines if lvl >= logging.ERROR]
        reloads = [m for _, m in app.captured.lines if "corpus reloaded" in m]
    median = statistics.median(latencies)
    print(
        f"\n{len(latencies)} questions from {len(users)} users (per user {asked}); latency s: "
        f"median {median:.3f}, p95 {sorted(latencies)[int(0.95 * len(latencies))]:.3f}, max {max(latencies):.3f}"
    )
    print("slowest (latency s @ asked s):", ", ".join(f"{x:.3f}@{t:.2f}" for x, t in sorted(slowest)[-8:]),
          "; /reload sent at", ", ".join(f"{t:.2f}" for t in reload_at))
    print("reload replies:", reload_texts)
    assert all(n >= 2 for n in asked), asked
    assert max(latencies) <= median + 1.0, (median, max(latencies))
    assert [t.startswith("🔄") for t in reload_texts] == [True, False, True, False], reload_texts
    assert all(t.startswith("✅ 已重新加载：5 份报告") for t in reload_texts[1::2]), reload_texts
    assert len(reloads) == 2, reloads
    assert not errors, errors


# ---------------------------------------------------------------- 4. a corrupt index cache


async def test_corrupt_index_cache_is_rebuilt_with_a_warning(tmp_path):
    cache = tmp_path / "cache"
    await asyncio.to_thread(Engine.load, SEEDS, CONFIG, cache)
    npys = [p for p in cache.glob("*/*.npy")]
    assert npys, list(cache.rglob("*"))
    for path in npys:
        path.write_bytes(b"this is not a numpy array \x00\xff" * 3)
    token = "666666:CACHE-TEST-TOKEN-abcdefghijklmnop"
    async with Emulator(token=token) as emu:
        env = {
            "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_BASE_URL": emu.base_url,
            "TOWNQA_DB": str(tmp_path / "log.sqlite3"), "TOWNQA_CACHE_DIR": str(cache),
        }
        with bot_process(env) as proc:
            reply = await ask(emu, 8, QUESTIONS[0], timeout=30)
            assert "66.11亿元" in reply["message"]["text"]
            proc.send_signal(15)
            out, err = await asyncio.to_thread(proc.communicate, timeout=30)
    warnings = [line for line in err.splitlines() if " WARNING " in line and "rebuilding" in line]
    print("\n" + "\n".join(warnings))
    assert len(warnings) == 1, err[-3000:]
    assert "index cache" in warnings[0]
    assert proc.returncode == 0, err[-2000:]
    assert " ERROR " not in err, err[-3000:]
    # and the rebuilt cache is good again: a second load uses it without a warning
    key_folder = npys[0].parent
    Engine.load(SEEDS, CONFIG, cache)  # raises nothing; the files are real arrays again
    import numpy as np

    for path in key_folder.glob("*.npy"):
        np.load(path, mmap_mode="r")
