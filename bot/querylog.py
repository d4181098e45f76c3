"""Every question, its results and its feedback, in a SQLite file (aiosqlite).

WAL and a commit per question: a crash loses nothing that was answered. A write
that fails is logged (once, until writes work again) and never costs the user
the answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import aiosqlite

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


@dataclass(frozen=True)
class StoredQuery:
    id: int
    question: str
    user: str | None
    results: list[tuple[int, float]]
    index_key: str | None


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=FULL")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._db.execute("PRAGMA busy_timeout=2000")
        await self._migrate()
        self._salt = await self._setting("user_salt", lambda: secrets.token_hex(16))
        return self

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
            cursor = await self._db.execute(
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
        except (aiosqlite.Error, OSError, AttributeError) as exc:
            self._failed("record a question", exc)
            await self._rollback()
            return None
        self._succeeded()
        return cursor.lastrowid

    async def feedback(self, query_id: int, user_id: int, value: int) -> bool:
        """Record 👍 (1) or 👎 (-1) for a question; a second press replaces the first."""
        try:
            cursor = await self._db.execute(
                "INSERT INTO feedback (query_id, user, value, ts) SELECT id, ?, ?, ? FROM queries WHERE id = ?"
                " ON CONFLICT (query_id, user) DO UPDATE SET value = excluded.value, ts = excluded.ts",
                (self.user_key(user_id), value, utc_now(), query_id),
            )
            await self._db.commit()
        except (aiosqlite.Error, OSError, AttributeError) as exc:
            self._failed("record feedback", exc)
            await self._rollback()
            return False
        self._succeeded()
        return cursor.rowcount > 0

    async def get(self, query_id: int) -> StoredQuery | None:
        try:
            row = await (
                await self._db.execute("SELECT id, question, user, results, index_key FROM queries WHERE id = ?", (query_id,))
            ).fetchone()
        except (aiosqlite.Error, OSError, AttributeError) as exc:
            log.warning("query log %s: cannot read question %d (%s)", self.path, query_id, exc)
            return None
        if row is None:
            return None
        return StoredQuery(row[0], row[1], row[2], [(int(c), float(s)) for c, s in json.loads(row[3])], row[4])

    async def _rollback(self) -> None:
        try:
            await self._db.rollback()
        except (aiosqlite.Error, OSError, AttributeError):
            pass


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
