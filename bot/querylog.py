"""Every question, its results and its feedback, in a SQLite file (aiosqlite).

WAL and a commit per question: a crash loses nothing that was answered. A write
that fails is logged (once, until writes work again) and never costs the user
the answer.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import aiosqlite

from retrieval import Answer

log = logging.getLogger(__name__)

# Each entry brings the schema from the version before it to its own number.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE queries (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,                 -- UTC, ISO 8601
            source TEXT NOT NULL,             -- telegram, console
            chat_type TEXT,
            user TEXT,                        -- salted hash unless raw ids are configured
            question TEXT NOT NULL,
            town_filter TEXT,
            results TEXT NOT NULL,            -- JSON [[chunk_id, score], ...]
            answered INTEGER NOT NULL,
            latency_ms REAL NOT NULL,
            index_key TEXT                    -- which index answered: chunk ids refer to it
        )""",
        "CREATE INDEX queries_ts ON queries(ts)",
        """CREATE TABLE feedback (
            query_id INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
            user TEXT NOT NULL,
            value INTEGER NOT NULL CHECK (value IN (-1, 1)),
            ts TEXT NOT NULL,
            PRIMARY KEY (query_id, user)
        )""",
        "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
    2: [
        """CREATE TABLE chat_state (
            chat_id INTEGER PRIMARY KEY,
            data TEXT NOT NULL,               -- JSON: what a chat's conversation keeps (bot/conversation.py)
            ts TEXT NOT NULL
        )""",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)


@dataclass(frozen=True)
class Entry:
    source: str
    chat_type: str | None
    user_id: int | None
    question: str
    town_filter: str | None
    results: list[tuple[int, float]]
    latency_ms: float
    index_key: str


def entry_for(source: str, chat_type: str | None, user_id: int | None, question: str, answer: Answer,
              latency_ms: float, index_key: str) -> Entry:
    return Entry(source, chat_type, user_id, question, answer.town_filter,
                 [(h.chunk.id, h.score) for h in answer.hits], latency_ms, index_key)


@dataclass(frozen=True)
class StoredQuery:
    id: int
    question: str
    user: str | None
    results: list[tuple[int, float]]
    index_key: str | None
    town_filter: str | None = None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class QueryLog:
    def __init__(self, path: Path, log_user_ids: bool = False) -> None:
        self.path = path
        self.log_user_ids = log_user_ids
        self._db: aiosqlite.Connection | None = None
        self._salt = ""
        self._failing = False

    async def open(self) -> QueryLog:
        """Open (creating and migrating) the log; if that fails, say so and try again on the next write."""
        try:
            await self._connect()
        except (aiosqlite.Error, OSError) as exc:
            self._failed("open the database", exc)
        return self

    async def _connect(self) -> aiosqlite.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path)
            try:
                for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=2000"):
                    await db.execute(f"PRAGMA {pragma}")
                self._db = db
                await self._migrate()
                self._salt = await self._setting("user_salt", lambda: secrets.token_hex(16))
            except BaseException:
                self._db = None
                await db.close()
                raise
        return self._db

    @property
    def connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise aiosqlite.Error("the query log is not open")
        return self._db

    async def prune(self, days: int) -> int:
        """Delete questions (and their feedback) older than `days`; how many went."""
        cutoff = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()
        cursor = await self.connection.execute("DELETE FROM queries WHERE ts < ?", (cutoff,))
        await self.connection.commit()
        return cursor.rowcount

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def _migrate(self) -> None:
        db = self._db
        await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = await (await db.execute("SELECT max(version) FROM schema_version")).fetchone()
        current = row[0] or 0
        for version in range(current + 1, SCHEMA_VERSION + 1):
            await db.execute("BEGIN")  # a migration applies whole or not at all
            for statement in MIGRATIONS[version]:
                await db.execute(statement)
            await db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            await db.commit()
            log.info("query log %s migrated to schema %d", self.path, version)

    async def _setting(self, name: str, default) -> str:
        row = await (await self._db.execute("SELECT value FROM settings WHERE name = ?", (name,))).fetchone()
        if row:
            return row[0]
        value = default()
        await self._db.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, value))
        await self._db.commit()
        return value

    def user_key(self, user_id: int | None) -> str | None:
        """The user as stored: a salted hash, so the log can count people without naming them."""
        if user_id is None:
            return None
        if self.log_user_ids:
            return str(user_id)
        return hashlib.sha256(f"{self._salt}:{user_id}".encode()).hexdigest()[:16]

    def _failed(self, what: str, exc: Exception) -> None:
        if not self._failing:
            log.error("query log %s: cannot %s (%s); answers go on, logging resumes when it can", self.path, what, exc)
        self._failing = True

    def _succeeded(self) -> None:
        if self._failing:
            log.warning("query log %s: writing again", self.path)
        self._failing = False

    async def record(self, entry: Entry) -> int | None:
        """Store one question; its id, or None when the write failed."""
        try:
            cursor = await (await self._connect()).execute(
                "INSERT INTO queries (ts, source, chat_type, user, question, town_filter, results, answered, latency_ms, index_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    utc_now(),
                    entry.source,
                    entry.chat_type,
                    self.user_key(entry.user_id),
                    entry.question,
                    entry.town_filter,
                    json.dumps([[cid, round(score, 4)] for cid, score in entry.results]),
                    int(bool(entry.results)),
                    round(entry.latency_ms, 2),
                    entry.index_key,
                ),
            )
            await self._db.commit()
        except (aiosqlite.Error, OSError) as exc:
            self._failed("record a question", exc)
            await self._rollback()
            return None
        self._succeeded()
        return cursor.lastrowid

    async def feedback(self, query_id: int, user_id: int, value: int) -> bool:
        """Record 👍 (1) or 👎 (-1) for a question; a second press replaces the first."""
        try:
            cursor = await (await self._connect()).execute(
                "INSERT INTO feedback (query_id, user, value, ts) SELECT id, ?, ?, ? FROM queries WHERE id = ?"
                " ON CONFLICT (query_id, user) DO UPDATE SET value = excluded.value, ts = excluded.ts",
                (self.user_key(user_id), value, utc_now(), query_id),
            )
            await self._db.commit()
        except (aiosqlite.Error, OSError) as exc:
            self._failed("record feedback", exc)
            await self._rollback()
            return False
        self._succeeded()
        return cursor.rowcount > 0

    async def get(self, query_id: int) -> StoredQuery | None:
        try:
            row = await (
                await self.connection.execute(
                    "SELECT id, question, user, results, index_key, town_filter FROM queries WHERE id = ?", (query_id,)
                )
            ).fetchone()
        except (aiosqlite.Error, OSError) as exc:
            log.warning("query log %s: cannot read question %d (%s)", self.path, query_id, exc)
            return None
        if row is None:
            return None
        return StoredQuery(row[0], row[1], row[2], [(int(c), float(s)) for c, s in json.loads(row[3])], row[4], row[5])

    async def chat_states(self) -> dict[int, dict]:
        """Every chat's stored state (what the bot kept of each conversation)."""
        rows = await (await (await self._connect()).execute("SELECT chat_id, data FROM chat_state")).fetchall()
        return {int(chat_id): json.loads(data) for chat_id, data in rows}

    async def save_chat_state(self, chat_id: int, data: dict | None) -> None:
        """Store a chat's state, or drop it (None or empty)."""
        db = await self._connect()
        if data:
            await db.execute(
                "INSERT INTO chat_state (chat_id, data, ts) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data, ts = excluded.ts",
                (chat_id, json.dumps(data, ensure_ascii=False), utc_now()),
            )
        else:
            await db.execute("DELETE FROM chat_state WHERE chat_id = ?", (chat_id,))
        await db.commit()

    async def _rollback(self) -> None:
        if self._db is not None:
            with contextlib.suppress(aiosqlite.Error, OSError):
                await self._db.rollback()


# What review and export show of a question: its row and its feedback.
_REVIEW = (
    "SELECT q.id, q.ts, q.source, q.chat_type, q.user, q.question, q.town_filter, q.answered, q.latency_ms, q.results,"
    " coalesce(sum(f.value = 1), 0) AS up, coalesce(sum(f.value = -1), 0) AS down"
    " FROM queries q LEFT JOIN feedback f ON f.query_id = q.id"
)
REVIEW_COLUMNS = ("id", "ts", "source", "chat_type", "user", "question", "town_filter", "answered", "latency_ms", "results", "up", "down")


@dataclass(frozen=True)
class Stats:
    today: int
    week: int
    answered_share: float | None
    p50_ms: float | None
    p95_ms: float | None
    up: int
    down: int
    top_towns: list[tuple[str, int]]


@dataclass(frozen=True)
class Day:
    """One UTC day of the log, for the /stats chart."""

    day: date
    questions: int
    answered: int
    up: int
    down: int


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(share * len(values)))]


class Review:
    """Read-only views of the log for admins; errors propagate to the caller, who reports them."""

    def __init__(self, querylog: QueryLog) -> None:
        self.db = querylog

    async def _rows(self, sql: str, params: tuple = ()) -> list[dict]:
        cursor = await self.db.connection.execute(sql, params)
        return [dict(zip(REVIEW_COLUMNS, row)) for row in await cursor.fetchall()]

    async def stats(self, now: datetime | None = None) -> Stats:
        now = now or datetime.now(timezone.utc)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
        week = (now - timedelta(days=7)).isoformat()
        db = self.db.connection
        (today,) = await (await db.execute("SELECT count(*) FROM queries WHERE ts >= ?", (day,))).fetchone()
        rows = await (await db.execute("SELECT answered, latency_ms FROM queries WHERE ts >= ?", (week,))).fetchall()
        up, down = await (
            await db.execute(
                "SELECT coalesce(sum(value = 1), 0), coalesce(sum(value = -1), 0) FROM feedback WHERE ts >= ?", (week,)
            )
        ).fetchone()
        towns = await (
            await db.execute(
                "SELECT town_filter, count(*) AS n FROM queries WHERE ts >= ? AND town_filter IS NOT NULL"
                " GROUP BY town_filter ORDER BY n DESC, town_filter LIMIT 5",
                (week,),
            )
        ).fetchall()
        latencies = [r[1] for r in rows]
        return Stats(
            today=today,
            week=len(rows),
            answered_share=sum(r[0] for r in rows) / len(rows) if rows else None,
            p50_ms=percentile(latencies, 0.5),
            p95_ms=percentile(latencies, 0.95),
            up=up,
            down=down,
            top_towns=[(t, n) for t, n in towns],
        )

    async def daily(self, days: int = 30, now: datetime | None = None) -> list[Day]:
        """The last `days` UTC days to today, oldest first, days without questions included."""
        first = (now or datetime.now(timezone.utc)).date() - timedelta(days=days - 1)
        db, since = self.db.connection, first.isoformat()
        asked = await (
            await db.execute(
                "SELECT substr(ts, 1, 10) AS day, count(*), coalesce(sum(answered), 0) FROM queries WHERE ts >= ? GROUP BY day",
                (since,),
            )
        ).fetchall()
        rated = await (
            await db.execute(
                "SELECT substr(ts, 1, 10) AS day, coalesce(sum(value = 1), 0), coalesce(sum(value = -1), 0)"
                " FROM feedback WHERE ts >= ? GROUP BY day",
                (since,),
            )
        ).fetchall()
        questions = {day: (n, answered) for day, n, answered in asked}
        feedback = {day: (up, down) for day, up, down in rated}
        dates = [first + timedelta(days=i) for i in range(days)]
        return [Day(d, *questions.get(d.isoformat(), (0, 0)), *feedback.get(d.isoformat(), (0, 0))) for d in dates]

    async def recent(self, limit: int) -> list[dict]:
        return await self._rows(f"{_REVIEW} GROUP BY q.id ORDER BY q.id DESC LIMIT ?", (limit,))

    async def unanswered(self, limit: int) -> list[dict]:
        """Questions without an answer or with a 👎: the list a maintainer works from."""
        return await self._rows(
            f"{_REVIEW} GROUP BY q.id HAVING q.answered = 0 OR down > 0 ORDER BY q.id DESC LIMIT ?", (limit,)
        )

    async def export(self, since: str | None = None) -> list[dict]:
        return await self._rows(f"{_REVIEW} WHERE q.ts >= ? GROUP BY q.id ORDER BY q.id", (since or "",))


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, REVIEW_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
