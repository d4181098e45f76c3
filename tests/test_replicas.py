"""What replicas share through PostgreSQL, one level below the e2e test: two query logs on one database stand
for two replicas. The rate limit holds across them, even asked at the same moment; an update is taken once;
a reload notice reaches the other replica and not the sender; the database going away costs no answer."""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace

import pytest
from telegram.ext import ApplicationHandlerStop

from bot import database, replicas
from bot.querylog import Entry, QueryLog
from bot.state import SharedRateLimiter

pytestmark = pytest.mark.asyncio


def entry(question: str) -> Entry:
    return Entry("telegram", "private", 42, question, "后白镇", [(3, 9.5)], 1.0, "key")


@pytest.fixture
async def two(postgres):
    url = postgres.new_database()
    logs = [await QueryLog(url).open() for _ in range(2)]
    yield logs
    for log in logs:
        await log.close()


async def test_the_rate_limit_holds_across_replicas_asked_at_once(two):
    limiters = [SharedRateLimiter(log, 5) for log in two]
    allowed = await asyncio.gather(*(limiters[n % 2].allow(42) for n in range(12)))
    assert sum(allowed) == 5
    assert await limiters[0].allow(43) and await limiters[1].allow(43)  # another user has his own count
    await two[0].database.run("UPDATE recent_questions SET at = at - 61")  # a minute later
    assert await limiters[1].allow(42)


async def test_an_update_is_taken_by_one_replica_only(two):
    contexts = [SimpleNamespace(bot_data={"state": SimpleNamespace(querylog=log)}) for log in two]
    update = SimpleNamespace(update_id=77)
    await replicas.first_delivery(update, contexts[0])
    with pytest.raises(ApplicationHandlerStop):
        await replicas.first_delivery(update, contexts[1])
    await replicas.first_delivery(SimpleNamespace(update_id=78), contexts[1])


async def test_a_reload_notice_reaches_the_other_replica_and_not_the_sender(two):
    heard: list[str] = []

    async def listen(me: str) -> None:
        async def reload() -> None:
            heard.append(me)

        listener = asyncio.create_task(replicas.follow_reloads(str(two[1].target), reload, me))
        await asyncio.sleep(0.5)  # listening
        await replicas.announce_reload(two[0])  # sent as this process, replicas.REPLICA
        await asyncio.sleep(0.5)
        listener.cancel()

    await listen(replicas.REPLICA)  # the sender's own notice: no reload
    await listen("another replica")
    assert heard == ["another replica"]


async def test_postgresql_going_away_costs_one_slow_write_and_logging_resumes(caplog: pytest.LogCaptureFixture):
    from .postgres import Postgres

    server = Postgres().start()  # its own server: this one is stopped
    try:
        log = await QueryLog(server.new_database()).open()
        assert await log.record(entry("之前")) is not None
        server.pause()
        with caplog.at_level(logging.WARNING, logger="bot.querylog"):
            started = time.monotonic()
            assert await log.record(entry("一")) is None  # waits CONNECT_SECONDS for a connection
            first = time.monotonic() - started
            started = time.monotonic()
            for question in ("二", "三", "四"):
                assert await log.record(entry(question)) is None
            after = time.monotonic() - started
        assert first < database.CONNECT_SECONDS + 1.5 and after < 0.1, (first, after)
        assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
        server.resume()
        await asyncio.sleep(database.PAUSE_SECONDS)
        with caplog.at_level(logging.WARNING, logger="bot.querylog"):
            assert await log.record(entry("回来了")) is not None
        assert "writing again" in caplog.text
        await log.close()
    finally:
        server.stop()
