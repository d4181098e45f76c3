"""Load test: many simulated Telegram users asking the real `townqa bot` process questions.

    python benchmarks/load.py [--users 200] [--seconds 120] [--interval 5] [--seed 1] [--postgres] [--json]

Starts the telegram-test-api emulator on 127.0.0.1 (tests/emulator.py; needs Node.js and npm) and
`townqa bot` as a subprocess polling it, with a temporary query log and index cache and a rate limit
high enough that no simulated user is throttled; with --postgres the query log is a throwaway PostgreSQL
database (tests/postgres.py) instead of SQLite, so the same figures say what the shared database costs. Each user then asks questions (from
../shared/eval/dev_qa.jsonl if present, else a built-in list) one at a time: it waits a random,
exponentially distributed time (mean --interval seconds, seeded RNG; the first wait is uniform so
users do not start together), sends, and waits for the bot's reply; latency is from the send to the
reply seen by the client (which polls the emulator after 5 ms, then backing off to every 50 ms,
so figures are up to ~50 ms coarse). No question is sent after
--seconds; answers still pending then get --answer-timeout seconds more.

The bot's RSS (VmRSS of its process) is sampled after the first (warm-up) answer, every 10 s, and at
the end. The bot is stopped with SIGTERM and its stderr is scanned for ERROR/CRITICAL log lines.

Note: the bot sends through PTB's AIORateLimiter, which keeps it under Telegram's overall limit of
30 messages a second; the defaults offer about 40 questions a second (200 users, one question per
~5 s each, less while they wait), so they measure the bot at that ceiling, where answers queue and
latency grows to seconds. `--interval 10` (about 20 a second) measures it below the ceiling.

Exit code 1 if a question went unanswered, an ERROR line appeared or the bot died; else 0.
With --json the last line printed is the figures as one JSON object.
All traffic goes to 127.0.0.1; every loop is bounded by a count or a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.emulator import HOST, TOKEN, Emulator  # noqa: E402
from tests.postgres import Postgres  # noqa: E402

DEV_QA = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"
SEED_QUESTIONS = [
    "后白镇2025年地区生产总值是多少",
    "下蜀镇全年空气质量优良天数是多少？",
    "镇江经开区2024年完成固定资产投资多少？",
    "西夏墅镇上半年安全检查了多少家单位",
    "后白镇2025年帮多少失业的人重新找到了工作？",
    "镇江经开区2024年提供老年助餐服务多少人次？",
    "下蜀镇地区生产总值",
    "下蜀镇 新能源汽车充电桩",
    "句容经济开发区一般公共预算收入是多少",
    "后白镇现在常住人口有多少？",
]
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b")
THROTTLED = "太频繁"
RSS_EVERY = 10.0
POLL_MIN, POLL_MAX = 0.005, 0.05  # seconds between a waiting user's looks for its reply
MAX_QUESTIONS_PER_USER = 10_000  # a hard bound on each user's loop


def load_questions(path: Path = DEV_QA) -> list[str]:
    """The dev set's questions if it exists, else the built-in seed questions."""
    questions: list[str] = []
    if path.is_file():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        questions.append(str(json.loads(line)["question"]))
    return questions or list(SEED_QUESTIONS)


def rss_mb(pid: int) -> float | None:
    """The process's resident set size in MB, from /proc/<pid>/status; None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of values; None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


class Connection:
    """One keep-alive HTTP/1.1 connection to the emulator's client API, JSON in and out.

    With httpx (tests/emulator.py's client) the load client itself used most of a CPU core at the
    default load, competing with the bot and the emulator; raw asyncio streams cost far less.
    Each simulated user has its own; it is reopened after IDLE_REOPEN s idle, before the
    emulator's 5 s keep-alive timeout could close it under a request."""

    IDLE_REOPEN = 2.0

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def post(self, route: str, payload: dict, timeout: float = 10.0) -> object:
        if self.writer is not None and time.monotonic() - self.used > self.IDLE_REOPEN:
            await self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), timeout)
        body = json.dumps(payload).encode()
        self.writer.write(
            f"POST {route} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        try:
            await self.writer.drain()
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
            length, keep = 0, True
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                    keep = False
            data = json.loads(await asyncio.wait_for(self.reader.readexactly(length), timeout))
        except BaseException:
            await self.close()
            raise
        self.used = time.monotonic() if keep else 0.0
        status = head.split(b" ", 2)[1]
        if status != b"200" or not data.get("ok"):
            raise RuntimeError(f"{route}: HTTP {status.decode()}: {data}")
        return data.get("result")


async def wait_for_reply(conn: Connection, token: str, chat: int, timeout: float) -> dict | None:
    """The bot's next message in chat, or None after timeout seconds. Polls after 5 ms, then
    backs off to every POLL_MAX s: polling every 10 ms from hundreds of waiting users would make
    this client, not the bot, the bottleneck (and the measured latency its own)."""
    delay = POLL_MIN
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / POLL_MIN) + 2):
        await asyncio.sleep(delay)
        got = await conn.post("/getUpdates", {"token": token, "chatId": chat})
        if got:
            return got  # normally one message: one reply per question
        if time.monotonic() > deadline:
            return None
        delay = min(delay * 2, POLL_MAX)
    return None


def start_bot(env: dict[str, str], log_dir: Path) -> tuple[subprocess.Popen, Path, Path]:
    """`townqa bot` (as tests/botharness.bot_process runs it), its output going to files so a full
    pipe can never block it."""
    out_path, err_path = log_dir / "bot.stdout", log_dir / "bot.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "bot"],
            cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
        )
    return proc, out_path, err_path


def stop_bot(proc: subprocess.Popen, timeout: float = 30.0) -> int:
    """SIGTERM, as a service manager stops the bot; SIGKILL if it is still up after timeout."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


async def run_load(
    users: int = 200,
    seconds: float = 120.0,
    interval: float = 5.0,
    seed: int = 1,
    answer_timeout: float = 30.0,
    startup_timeout: float = 120.0,
    progress: bool = False,
    db: str | None = None,
) -> dict:
    """Run the whole load test and return its figures (see the module docstring)."""
    questions = load_questions()
    rng = random.Random(seed)
    latencies: list[float] = []
    counts = {"sent": 0, "answered": 0, "unanswered": 0, "throttled": 0, "send_failed": 0, "extra_replies": 0}
    rss_samples: list[float] = []

    def say(text: str) -> None:
        if progress:
            print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="townqa-load-") as tmp:
        tmp_path = Path(tmp)
        async with Emulator() as emu:
            env = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_BASE_URL": emu.base_url,  # 127.0.0.1 only
                "TOWNQA_DB": db or str(tmp_path / "log.sqlite3"),
                "TOWNQA_CACHE_DIR": str(tmp_path / "cache"),
                "TOWNQA_RATE_LIMIT_PER_MINUTE": "1000000",
            }
            proc, _out_path, err_path = start_bot(env, tmp_path)
            bot_died = False
            try:
                # Warm-up: the first answer says the bot is up (it may build its index first).
                warm_user = 1
                started = time.monotonic()
                await emu.send_message(warm_user, questions[0])
                deadline = started + startup_timeout
                while True:
                    if await emu.get_updates(warm_user):
                        break
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"the bot gave no first answer within {startup_timeout:.0f}s "
                            f"(exit code {proc.poll()}):\n{err_path.read_text(errors='replace')[-4000:]}"
                        )
                    await asyncio.sleep(0.05)
                say(f"bot up after {time.monotonic() - started:.1f}s")
                rss_start = rss_mb(proc.pid)
                if rss_start is not None:
                    rss_samples.append(rss_start)

                # One plan per user, drawn up front from the seeded RNG: (first wait, later waits,
                # question order), so a rerun with the same seed sends the same traffic.
                plans = []
                for _ in range(users):
                    first = rng.uniform(0, min(interval, seconds))
                    waits = [rng.expovariate(1 / interval) for _ in range(int(seconds / interval * 4) + 8)]
                    order = rng.sample(range(len(questions)), len(questions))
                    plans.append((first, waits, order))

                t0 = time.monotonic()
                stop_sending = t0 + seconds

                async def user(index: int) -> None:
                    chat = 1000 + index
                    first, waits, order = plans[index]
                    conn = Connection(HOST, emu.port)
                    try:
                        await asyncio.sleep(first)
                        await ask_all(chat, waits, order, conn)
                    finally:
                        await conn.close()

                async def ask_all(chat: int, waits: list[float], order: list[int], conn: Connection) -> None:
                    for n in range(MAX_QUESTIONS_PER_USER):
                        if time.monotonic() >= stop_sending:
                            return
                        text = questions[order[n % len(order)]]
                        message = emu._message(chat, text, None, "private", None, None, None, None, None)
                        sent_at = time.monotonic()
                        try:
                            await conn.post("/sendMessage", message)
                        except Exception:  # noqa: BLE001 - counted, the run goes on
                            counts["send_failed"] += 1
                            await asyncio.sleep(1.0)
                            continue
                        counts["sent"] += 1
                        replies = await wait_for_reply(conn, TOKEN, chat, answer_timeout)
                        if replies is None:
                            counts["unanswered"] += 1
                            return  # a later reply would be taken for the next question's
                        latencies.append(time.monotonic() - sent_at)
                        counts["answered"] += 1
                        counts["extra_replies"] += len(replies) - 1
                        if any(THROTTLED in (r.get("message", {}).get("text") or "") for r in replies):
                            counts["throttled"] += 1
                        wait = waits[n % len(waits)]
                        if time.monotonic() + wait >= stop_sending:
                            return
                        await asyncio.sleep(wait)

                async def sample_rss() -> None:
                    for _ in range(int((seconds + answer_timeout) / RSS_EVERY) + 2):
                        await asyncio.sleep(RSS_EVERY)
                        value = rss_mb(proc.pid)
                        if value is not None:
                            rss_samples.append(value)
                        say(f"t={time.monotonic() - t0:5.0f}s sent={counts['sent']} "
                            f"answered={counts['answered']} rss={value}")

                sampler = asyncio.create_task(sample_rss())
                try:
                    await asyncio.gather(*(user(i) for i in range(users)))
                finally:
                    sampler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sampler
                elapsed = time.monotonic() - t0
                rss_end = rss_mb(proc.pid)
                if rss_end is not None:
                    rss_samples.append(rss_end)
                bot_died = proc.poll() is not None
            finally:
                exit_code = stop_bot(proc)
            stderr = err_path.read_text(encoding="utf-8", errors="replace")

    error_lines = [line for line in stderr.splitlines() if ERROR_LINE.search(line)]
    active = min(elapsed, seconds) if latencies else elapsed
    figures = {
        "users": users,
        "seconds": seconds,
        "interval_s": interval,
        "seed": seed,
        "questions_in_list": len(questions),
        "sent": counts["sent"],
        "answered": counts["answered"],
        "unanswered": counts["unanswered"],
        "send_failed": counts["send_failed"],
        "throttled": counts["throttled"],
        "extra_replies": counts["extra_replies"],
        "elapsed_s": round(elapsed, 2),
        "answers_per_s": round(counts["answered"] / active, 2) if active > 0 else 0.0,
        "latency_ms": {
            name: (round(v * 1000, 1) if v is not None else None)
            for name, v in (
                ("p50", percentile(latencies, 50)),
                ("p90", percentile(latencies, 90)),
                ("p99", percentile(latencies, 99)),
                ("max", max(latencies) if latencies else None),
            )
        },
        "rss_mb": {
            "start": round(rss_start, 1) if rss_start is not None else None,
            "end": round(rss_end, 1) if rss_end is not None else None,
            "peak": round(max(rss_samples), 1) if rss_samples else None,
            "samples": len(rss_samples),
        },
        "error_lines": len(error_lines),
        "error_examples": error_lines[:5],
        "bot_died": bot_died,
        "bot_exit_code": exit_code,
    }
    return figures


def failed(figures: dict) -> bool:
    return bool(
        figures["unanswered"] or figures["send_failed"] or figures["error_lines"] or figures["bot_died"]
    )


def report(figures: dict) -> str:
    lat, rss = figures["latency_ms"], figures["rss_mb"]
    lines = [
        f"users {figures['users']}, {figures['seconds']:g}s, mean interval {figures['interval_s']:g}s, "
        f"seed {figures['seed']} ({figures['questions_in_list']} questions in the list)",
        f"query log           {figures.get('database', 'sqlite')}",
        f"questions sent      {figures['sent']}",
        f"answered            {figures['answered']}",
        f"unanswered          {figures['unanswered']}" + (
            f" (+{figures['send_failed']} sends failed)" if figures["send_failed"] else ""),
        f"throttled replies   {figures['throttled']}  (extra replies {figures['extra_replies']})",
        f"answers per second  {figures['answers_per_s']}",
        f"latency ms          p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}",
        f"bot RSS MB          start {rss['start']}  end {rss['end']}  peak {rss['peak']} "
        f"({rss['samples']} samples)",
        f"ERROR lines         {figures['error_lines']}",
        f"bot exit code       {figures['bot_exit_code']} (SIGTERM at the end)",
    ]
    lines += [f"  {line}" for line in figures["error_examples"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="simulated users (default 200)")
    parser.add_argument("--seconds", type=float, default=120.0, help="how long questions are sent (default 120)")
    parser.add_argument("--interval", type=float, default=5.0,
                        help="mean seconds between a user's answer and its next question (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="RNG seed (default 1)")
    parser.add_argument("--answer-timeout", type=float, default=30.0,
                        help="seconds to wait for each answer (default 30)")
    parser.add_argument("--postgres", action="store_true", help="log to a throwaway PostgreSQL instead of SQLite")
    parser.add_argument("--json", action="store_true", help="end with the figures as one JSON line")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0 or args.interval <= 0 or args.answer_timeout <= 0:
        parser.error("--users, --seconds, --interval and --answer-timeout must be positive")
    server = Postgres().start() if args.postgres else None
    try:
        figures = asyncio.run(run_load(
            users=args.users, seconds=args.seconds, interval=args.interval, seed=args.seed,
            answer_timeout=args.answer_timeout, progress=not args.quiet, db=server.new_database() if server else None,
        ))
    finally:
        if server:
            server.stop()
    figures["database"] = "postgresql" if server else "sqlite"
    print(report(figures), flush=True)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 1 if failed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
