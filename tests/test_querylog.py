"""The query log on a real SQLite file and a real PostgreSQL database: schema, records, feedback, review,
retention, failures. Each test runs on both (PostgreSQL skipped, saying how to install it, where it is missing)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from bot import database
from bot.querylog import SCHEMA_VERSION, Entry, QueryLog, Review, to_csv

pytestmark = pytest.mark.asyncio


def entry(question: str, results=((3, 9.5), (7, 4.25)), user: int | None = 42, town: str | None = "后白镇", latency: float = 12.5) -> Entry:
    return Entry("telegram", "private", user, question, town, list(results), latency, "key")


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a fresh log goes: a SQLite file, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "data" / "q.sqlite3"
    return request.getfixturevalue("postgres").new_database()


def peek(target: Path | str, sql: str, params: tuple = ()) -> list[tuple]:
    """What another connection sees: only what was committed."""
    if database.is_url(target):
        with psycopg.connect(str(target)) as conn:
            return conn.execute(database.POSTGRES.sql(sql), params).fetchall()
    with sqlite3.connect(target) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture
async def qlog(target: Path | str):
    log = await QueryLog(target).open()
    yield log
    await log.close()


async def test_the_schema_is_created_versioned_and_sqlite_is_in_wal_mode(qlog: QueryLog):
    assert peek(qlog.target, "SELECT max(version) FROM schema_version") == [(SCHEMA_VERSION,)]
    if not database.is_url(qlog.target):
        assert peek(qlog.target, "PRAGMA journal_mode") == [("wal",)]
    await qlog.close()
    reopened = await QueryLog(qlog.target).open()  # opening again migrates nothing and keeps the data
    assert peek(qlog.target, "SELECT count(*) FROM schema_version") == [(SCHEMA_VERSION,)]
    await reopened.close()


async def test_replicas_opening_a_new_database_together_migrate_it_once(target: Path | str):
    logs = await asyncio.gather(*(QueryLog(target).open() for _ in range(4)))
    assert peek(target, "SELECT version FROM schema_version ORDER BY version") == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    assert len({log.user_key(42) for log in logs}) == 1  # one salt: the same user is one key on every replica
    for log in logs:
        await log.close()


async def test_a_question_is_stored_with_everything_review_needs(qlog: QueryLog):
    query_id = await qlog.record(entry("后白镇2025年地区生产总值是多少", latency=12.34))
    (row,) = peek(qlog.target, 'SELECT ts, source, chat_type, "user", question, town_filter, results, answered, latency_ms FROM queries WHERE id = ?', (query_id,))
    ts, source, chat_type, user, question, town, results, answered, latency = row
    assert abs(datetime.fromisoformat(ts) - datetime.now(timezone.utc)) < timedelta(seconds=5)
    assert (source, chat_type, question, town, answered, latency) == ("telegram", "private", "后白镇2025年地区生产总值是多少", "后白镇", 1, 12.34)
    assert results == "[[3, 9.5], [7, 4.25]]"
    assert user != "42" and len(user) == 16  # a salted hash, not the id
    stored = await qlog.get(query_id)
    assert stored.question == "后白镇2025年地区生产总值是多少" and stored.results == [(3, 9.5), (7, 4.25)]


async def test_raw_user_ids_only_when_configured(target: Path | str):
    log = await QueryLog(target, log_user_ids=True).open()
    await log.record(entry("问题"))
    assert peek(target, 'SELECT "user" FROM queries') == [("42",)]
    await log.close()


async def test_the_user_hash_is_stable_across_restarts(target: Path | str):
    first = await QueryLog(target).open()
    key = first.user_key(42)
    await first.close()
    second = await QueryLog(target).open()
    assert second.user_key(42) == key and second.user_key(43) != key
    await second.close()


async def test_feedback_is_linked_to_its_question_and_a_second_press_replaces_the_first(qlog: QueryLog):
    query_id = await qlog.record(entry("问题"))
    assert await qlog.feedback(query_id, 42, 1)
    assert await qlog.feedback(query_id, 42, -1)
    assert await qlog.feedback(query_id, 43, 1)
    assert not await qlog.feedback(999, 42, 1)  # no such question
    assert sorted(peek(qlog.target, "SELECT value FROM feedback WHERE query_id = ?", (query_id,))) == [(-1,), (1,)]


async def test_review_stats_recent_unanswered_and_export(qlog: QueryLog):
    a = await qlog.record(entry("有答案", latency=10))
    b = await qlog.record(entry("没有答案", results=(), latency=30, town=None))
    c = await qlog.record(entry("有答案但不好", latency=20, town="下蜀镇"))
    await qlog.feedback(c, 42, -1)
    await qlog.feedback(a, 42, 1)
    review = Review(qlog)
    stats = await review.stats()
    assert (stats.today, stats.week, stats.up, stats.down) == (3, 3, 1, 1)
    assert stats.answered_share == pytest.approx(2 / 3)
    assert stats.p50_ms == 20 and stats.p95_ms == 30
    assert stats.top_towns == [("下蜀镇", 1), ("后白镇", 1)]
    assert [r["id"] for r in await review.recent(2)] == [c, b]
    assert [r["question"] for r in await review.unanswered(10)] == ["有答案但不好", "没有答案"]
    rows = await review.export()
    csv_text = to_csv(rows)
    assert csv_text.splitlines()[0].startswith("id,ts,source") and "有答案但不好" in csv_text
    assert await review.export("2999-01-01") == []


async def test_daily_counts_cover_30_days_to_today_with_empty_days(qlog: QueryLog):
    now = datetime.now(timezone.utc)
    ids = [await qlog.record(entry(q, results=r)) for q, r in (("今天", ((1, 2.0),)), ("今天没答案", ()), ("前天", ((1, 2.0),)), ("很久以前", ((1, 2.0),)))]
    await qlog.feedback(ids[0], 42, 1)
    await qlog.feedback(ids[1], 42, -1)
    await qlog.feedback(ids[1], 43, -1)
    for query_id, back in ((ids[2], 2), (ids[3], 30)):
        await qlog.database.run("UPDATE queries SET ts = ? WHERE id = ?", ((now - timedelta(days=back)).isoformat(), query_id))
    days = await Review(qlog).daily(30)
    assert len(days) == 30 and days[-1].day == now.date() and days[0].day == now.date() - timedelta(days=29)
    assert (days[-1].questions, days[-1].answered, days[-1].up, days[-1].down) == (2, 1, 1, 2)
    assert (days[-3].questions, days[-3].answered) == (1, 1)
    assert sum(d.questions for d in days) == 3  # 30 days back is one day too old
    assert [d.day for d in days] == sorted(d.day for d in days)


async def test_retention_prunes_old_questions_and_their_feedback(qlog: QueryLog):
    old = await qlog.record(entry("很久以前"))
    await qlog.feedback(old, 42, 1)
    new = await qlog.record(entry("最近"))
    long_ago = (datetime.now(timezone.utc) - timedelta(days=400)).isoformat()
    await qlog.database.run("UPDATE queries SET ts = ? WHERE id = ?", (long_ago, old))
    assert await qlog.prune(365) == 1
    assert await qlog.get(old) is None and await qlog.get(new) is not None
    assert peek(qlog.target, "SELECT count(*) FROM feedback") == [(0,)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_log_that_cannot_be_written_is_reported_once_and_recovers(
    backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
):
    if backend == "sqlite":
        blocker = tmp_path / "data"
        blocker.write_text("a file where the folder should be")
        target, repair = blocker / "q.sqlite3", blocker.unlink
    else:  # a database that does not exist yet, then is created
        server = request.getfixturevalue("postgres")
        monkeypatch.setattr(database, "CONNECT_SECONDS", 0.5)
        url = server.new_database()
        name = url.rsplit("/", 1)[1]
        target = url + "x"

        def repair():
            with psycopg.connect(server.url(), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}x")
    log = QueryLog(target)
    with caplog.at_level(logging.WARNING, logger="bot.querylog"):
        await log.open()
        assert await log.record(entry("一")) is None
        assert await log.record(entry("二")) is None
        assert not await log.feedback(1, 42, 1)
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    repair()
    with caplog.at_level(logging.WARNING, logger="bot.querylog"):
        assert await log.record(entry("三")) == 1
    assert "writing again" in caplog.text
    await log.close()


async def test_a_database_url_is_named_in_logs_without_its_password():
    assert database.describe("postgresql://townqa:s3cret@db.example:5433/townqa") == "postgresql://townqa@db.example:5433/townqa"
    assert database.describe(Path("data/q.sqlite3")) == "data/q.sqlite3"


async def test_the_bot_prunes_by_retention_on_its_job_queue_when_it_starts(qlog: QueryLog):
    from types import SimpleNamespace

    from bot.app import PRUNE_EVERY, prune_log, schedule_pruning
    from telegram.ext import Application

    old = await qlog.record(entry("很久以前"))
    long_ago = (datetime.now(timezone.utc) - timedelta(days=40)).isoformat()
    await qlog.database.run("UPDATE queries SET ts = ? WHERE id = ?", (long_ago, old))
    recent = await qlog.record(entry("最近"))
    state = SimpleNamespace(querylog=qlog, settings=SimpleNamespace(log_retention_days=30))
    app = Application.builder().token("1:x").build()
    app.bot_data["state"] = state
    schedule_pruning(app)
    (job,) = app.job_queue.jobs()
    assert job.callback is prune_log and job.job.trigger.interval.total_seconds() == PRUNE_EVERY
    await prune_log(SimpleNamespace(bot_data=app.bot_data))
    assert await qlog.get(old) is None and await qlog.get(recent) is not None
    state.settings.log_retention_days = None
    other = Application.builder().token("1:x").build()
    other.bot_data["state"] = state
    schedule_pruning(other)
    assert not other.job_queue.jobs()
