"""PTB persistence for ``chat_data``, kept as JSON in the query log's database, so a restart keeps conversations.

With replicas a chat's next update may reach another process: `refresh_chat_data` (PTB calls it before every
update) reads the chat's state from the database, and the handlers store it with `store_now` before they
reply, so whatever the user saw is what any replica knows next.

Kept: the conversation (bot/conversation.py) and an admin's upload or removal waiting for its button (its
file as base64, for ten minutes), so the press works on any replica; user data, bot data and callback data
are not used. JSON rather than pickle: what is stored can be read, and loading it runs no code.
"""

from __future__ import annotations

import logging

from telegram.ext import BasePersistence, ContextTypes, PersistenceInput

from . import conversation
from .database import ERRORS
from .querylog import QueryLog

log = logging.getLogger(__name__)

PENDING = "ingest"  # the chat_data entry of an upload or removal waiting for 「✅ 加入」 / 「🗑 移除」 (bot/admin.py)
KEPT = (conversation.KEY, PENDING)  # the chat_data entries that survive a restart and reach other replicas
UPDATE_SECONDS = 5.0  # how often PTB writes changed chat_data (and always at a clean stop), besides store_now


class ChatDataPersistence(BasePersistence):
    def __init__(self, querylog: QueryLog) -> None:
        super().__init__(PersistenceInput(bot_data=False, chat_data=True, user_data=False, callback_data=False), UPDATE_SECONDS)
        self.querylog = querylog

    async def get_chat_data(self) -> dict[int, dict]:
        """At start: every chat's kept state; none when the database cannot be read (the bot still starts)."""
        try:
            return await self.querylog.chat_states()
        except (*ERRORS, ValueError) as exc:
            log.warning("conversation state could not be read, chats start afresh: %s", exc)
            return {}

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        kept = {key: data[key] for key in KEPT if key in data}
        try:
            await self.querylog.save_chat_state(chat_id, kept)
        except ERRORS as exc:
            log.warning("conversation state of a chat could not be stored: %s", exc)

    async def drop_chat_data(self, chat_id: int) -> None:
        await self.update_chat_data(chat_id, {})

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        """Before an update: the chat's kept state as stored, which another replica may have changed. When the
        database cannot be read, the state this process has goes on."""
        try:
            stored = (await self.querylog.chat_states(chat_id)).get(chat_id, {})
        except (*ERRORS, ValueError) as exc:
            log.warning("conversation state of a chat could not be read, this process's copy is used: %s", exc)
            return
        for key in KEPT:
            if key in stored:
                chat_data[key] = stored[key]
            else:
                chat_data.pop(key, None)

    async def flush(self) -> None:
        """Every update is committed as it is written."""

    # What this bot does not keep.
    async def get_user_data(self) -> dict:
        return {}

    async def get_bot_data(self) -> dict:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> dict:
        return {}

    async def update_conversation(self, name: str, key: tuple, new_state: object) -> None:
        pass

    async def update_user_data(self, user_id: int, data: dict) -> None:
        pass

    async def update_bot_data(self, data: dict) -> None:
        pass

    async def update_callback_data(self, data: object) -> None:
        pass

    async def drop_user_data(self, user_id: int) -> None:
        pass

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict) -> None:
        pass


async def store_now(context: ContextTypes.DEFAULT_TYPE, chat_id: int | None) -> None:
    """Write the chat's state at once rather than within UPDATE_SECONDS: a follow-up may reach another replica."""
    if chat_id is not None and context.application.persistence:
        context.application.mark_data_for_update_persistence(chat_ids=chat_id)
        await context.application.update_persistence()
