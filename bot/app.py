"""The Telegram Application: handlers wired up in one place, polling or webhook."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from . import handlers
from .handlers import BotState
from .querylog import QueryLog
from .settings import Settings

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "这个机器人能做什么"),
    BotCommand("help", "怎么提问"),
    BotCommand("ask", "提问：/ask 问题"),
    BotCommand("towns", "收录了哪些镇的报告"),
]
NOT_TEXT = (
    filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
    | filters.Document.ALL | filters.LOCATION | filters.CONTACT | filters.ANIMATION | filters.POLL
)


def api_root(settings: Settings) -> str:
    return settings.telegram_base_url.rstrip("/")


def build_application(settings: Settings, state: BotState) -> Application:
    token = settings.telegram_bot_token.get_secret_value()
    app = (
        Application.builder()
        .token(token)
        .base_url(f"{api_root(settings)}/bot")
        .base_file_url(f"{api_root(settings)}/file/bot")
        .concurrent_updates(settings.concurrent_updates)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    app.bot_data["state"] = state
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    app.add_handler(CommandHandler(["start", "help"], handlers.start))
    app.add_handler(CommandHandler("towns", handlers.towns))
    app.add_handler(CommandHandler("ask", handlers.ask))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.private_text))
    app.add_handler(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, handlers.group_text))
    app.add_handler(MessageHandler(private & NOT_TEXT, handlers.not_text))
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_error_handler(handlers.on_error)
    return app


async def on_startup(app: Application) -> None:
    state: BotState = app.bot_data["state"]
    await state.querylog.open()
    await app.bot.set_my_commands(COMMANDS)
    log.info("bot @%s ready: %d reports, %d passages", app.bot.username, len(state.engine.corpus.reports), len(state.engine.index.chunks))


async def on_shutdown(app: Application) -> None:
    await app.bot_data["state"].querylog.close()


def run_bot(settings: Settings) -> None:
    """Load the index, then serve until SIGINT/SIGTERM (PTB stops cleanly on both)."""
    engine = settings.load_engine()
    state = BotState(engine, settings, QueryLog(settings.path(settings.db), settings.log_user_ids))
    app = build_application(settings, state)
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
