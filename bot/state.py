"""What the handlers share: the engine, settings, query log, rate limiter and reload lock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from telegram.ext import ContextTypes

from retrieval import Engine

from .database import ERRORS
from .querylog import QueryLog
from .settings import Settings

log = logging.getLogger(__name__)


class RateLimiter:
    """At most `per_minute` questions per user in any sliding minute, in this process (one process on SQLite)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._times: dict[int, deque[float]] = defaultdict(deque)

    async def allow(self, user_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._times) > 10_000:  # forget people who have not asked for a minute
            self._times = defaultdict(deque, {u: t for u, t in self._times.items() if t and now - t[-1] < 60})
        times = self._times[user_id]
        while times and now - times[0] >= 60:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True


_NOW = "extract(epoch FROM now())::float8"  # the database's clock, the same for every replica


class SharedRateLimiter:
    """At most `per_minute` questions per user in any sliding minute, counted across replicas.

    One short transaction per question: a per-user advisory lock makes two replicas asking for the same user
    take turns, and the database's clock is the only clock. A database that cannot be reached lets the
    question through (and says so): a rate limit must not stop the bot answering.
    """

    def __init__(self, querylog: QueryLog, per_minute: int) -> None:
        self.querylog = querylog
        self.per_minute = per_minute

    async def allow(self, user_id: int) -> bool:
        try:
            db = await self.querylog.connect()
            key = self.querylog.user_key(user_id)  # once connected: the salt is the database's
            async with db.transaction() as tx:
                await tx.run("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))
                await tx.run(f"DELETE FROM recent_questions WHERE at < {_NOW} - 60")
                taken = await tx.run(
                    f"INSERT INTO recent_questions (user_key, at) SELECT ?, {_NOW}"
                    " WHERE (SELECT count(*) FROM recent_questions WHERE user_key = ?) < ?",
                    (key, key, self.per_minute),
                )
                return taken.rowcount == 1
        except ERRORS as exc:
            log.warning("shared rate limit unavailable, question let through: %s", exc)
            return True


@dataclass
class BotState:
    """What the handlers share. `engine` is replaced whole on a reload, never changed in place."""

    engine: Engine
    settings: Settings
    querylog: QueryLog
    limiter: RateLimiter | SharedRateLimiter = field(init=False)
    reload_lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        per_minute = self.settings.rate_limit_per_minute
        self.limiter = SharedRateLimiter(self.querylog, per_minute) if self.querylog.shared else RateLimiter(per_minute)


def state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["state"]
