"""What the handlers share: the engine, settings, query log, rate limiter and reload lock."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from telegram.ext import ContextTypes

from retrieval import Engine

from .querylog import QueryLog
from .settings import Settings


class RateLimiter:
    """At most `per_minute` questions per user in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._times: dict[int, deque[float]] = defaultdict(deque)

    def allow(self, user_id: int, now: float | None = None) -> bool:
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


@dataclass
class BotState:
    """What the handlers share. `engine` is replaced whole on a reload, never changed in place."""

    engine: Engine
    settings: Settings
    querylog: QueryLog
    limiter: RateLimiter = field(init=False)
    reload_lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute)


def state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["state"]
