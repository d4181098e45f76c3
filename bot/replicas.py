"""What replicas share through PostgreSQL besides the log: which updates were taken, and reloads.

(The shared rate limit is in bot/state.py beside the in-process one.) Only when TOWNQA_DB is a PostgreSQL URL:
a single process on SQLite has no one else to tell. Reloads travel by LISTEN/NOTIFY rather than by watching the corpus folder: a notice is sent
only after a replica has validated and loaded the new corpus (a watcher would see half-written uploads and
broken manifests), it costs no polling, and it reuses the database every replica already has. A notice sent
while a replica is down is not missed: a replica loads the corpus when it starts, and again when its
listening connection comes back.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

import psycopg
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from .database import ERRORS
from .querylog import QueryLog
from .state import state

log = logging.getLogger(__name__)

CHANNEL = "townqa_reload"
REPLICA = secrets.token_hex(6)  # this process: the payload of its notices, so it skips its own
UPDATE_MEMORY = 24 * 3600.0  # how long a taken update id is kept (Telegram retries a delivery within a day)
RETRY_SECONDS = 2.0  # wait before listening again after the connection broke


async def first_delivery(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before every handler: an update that another replica (or this one) already took is dropped.

    Telegram delivers again when a webhook call fails, and the proxy passes a call cut off by a stopping
    replica to the other one: without this a question could be answered and logged twice.
    """
    querylog = state(context).querylog
    try:
        db = await querylog.connect()
        taken = await db.run(
            "INSERT INTO updates (update_id, at) VALUES (?, extract(epoch FROM now())) ON CONFLICT (update_id) DO NOTHING",
            (update.update_id,),
        )
        if update.update_id % 100 == 0:
            await db.run("DELETE FROM updates WHERE at < extract(epoch FROM now()) - ?", (UPDATE_MEMORY,))
    except ERRORS as exc:  # answering twice is better than not answering
        log.warning("could not check update %d against the other replicas: %s", update.update_id, exc)
        return
    if taken.rowcount == 0:
        log.info("update %d was already taken by a replica: dropped", update.update_id)
        raise ApplicationHandlerStop


async def announce_reload(querylog: QueryLog) -> None:
    """Tell the other replicas that this one serves a new corpus (nothing to tell on SQLite)."""
    if not querylog.shared:
        return
    try:
        await (await querylog.connect()).run("SELECT pg_notify(?, ?)", (CHANNEL, REPLICA))
    except ERRORS as exc:
        log.warning("could not tell the other replicas about the reload: %s", exc)


async def follow_reloads(url: str, reload: Callable[[], Awaitable[None]], me: str = REPLICA) -> None:
    """Until cancelled: reload whenever another replica (a notice not from `me`) announces a new corpus."""
    missed = False  # a notice may have been sent while the connection was down
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                log.info("listening for reloads of the other replicas")
                if missed:
                    await reload()
                async for notice in conn.notifies():
                    if notice.payload != me:
                        log.info("another replica reloaded the corpus: reloading")
                        await reload()
        except ERRORS as exc:
            log.warning("lost the connection that hears the other replicas' reloads (%s); retrying", exc)
            missed = True
            await asyncio.sleep(RETRY_SECONDS)
