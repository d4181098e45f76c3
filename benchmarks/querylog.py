"""What the database costs a question: SQLite (one process) beside PostgreSQL (shared by replicas).

    python benchmarks/querylog.py [--questions 2000] [--json]

Runs, for each question, the database work the bot does for it, with the bot's own code:
  - both: read the chat's state (PersistenceInput refresh), write it back before the reply, log the question;
  - PostgreSQL only, what replicas share: take the update id (bot/replicas.first_delivery) and count the question
    against the shared rate limit (bot/state.SharedRateLimiter); SQLite keeps the limit in memory (timed too).
Questions come from 200 users in turn, each its own chat, one at a time (the bot's own concurrency only adds
waiting). SQLite is a file in a temporary folder (WAL, synchronous=FULL: an fsync per commit); PostgreSQL a
throwaway server (tests/postgres.py, fsync on) on 127.0.0.1, both on this machine's disk.
Prints per step and in all p50 / p99 in milliseconds; with --json the last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.persistence import ChatDataPersistence  # noqa: E402
from bot.querylog import Entry, QueryLog, percentile  # noqa: E402
from bot.replicas import first_delivery  # noqa: E402
from bot.state import RateLimiter, SharedRateLimiter  # noqa: E402
from tests.postgres import Postgres  # noqa: E402

USERS = 200


async def measure(target: Path | str, questions: int) -> dict[str, dict[str, float]]:
    querylog = await QueryLog(target).open()
    shared = querylog.shared
    persistence = ChatDataPersistence(querylog)
    limiter = SharedRateLimiter(querylog, 1_000_000) if shared else RateLimiter(1_000_000)
    context = SimpleNamespace(bot_data={"state": SimpleNamespace(querylog=querylog)})
    steps: dict[str, list[float]] = {}

    async def timed(name: str, work) -> None:
        started = time.perf_counter()
        await work
        steps.setdefault(name, []).append((time.perf_counter() - started) * 1000)

    for n in range(questions):
        user = 1000 + n % USERS
        started = time.perf_counter()
        if shared:
            await timed("take the update", first_delivery(SimpleNamespace(update_id=n + 1), context))
        chat_data: dict = {}
        await timed("read chat state", persistence.refresh_chat_data(user, chat_data))
        await timed("rate limit", limiter.allow(user))
        topic = {"question": f"后白镇2025年地区生产总值是多少{n}", "towns": ["后白镇"], "at": time.time()}
        await timed("write chat state", persistence.update_chat_data(user, {"topic": topic}))
        entry = Entry("telegram", "private", user, topic["question"], "后白镇", [(3, 9.5), (7, 4.25)], 3.2, "key")
        await timed("log the question", querylog.record(entry))
        steps.setdefault("all", []).append((time.perf_counter() - started) * 1000)
    await querylog.close()
    return {name: {"p50": round(percentile(v, 0.5), 3), "p99": round(percentile(v, 0.99), 3)} for name, v in steps.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="townqa-dbbench-") as tmp:
        figures["sqlite"] = asyncio.run(measure(Path(tmp) / "log.sqlite3", args.questions))
    server = Postgres().start()
    try:
        figures["postgresql"] = asyncio.run(measure(server.new_database(), args.questions))
    finally:
        server.stop()
    names = list(figures["postgresql"])
    print(f"{'ms per question':<18}" + "".join(f"{db + ' p50 / p99':>26}" for db in figures))
    for name in names:
        cells = [f"{f[name]['p50']:.3f} / {f[name]['p99']:.3f}" if name in f else "—" for f in figures.values()]
        print(f"{name:<18}" + "".join(f"{c:>26}" for c in cells))
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
