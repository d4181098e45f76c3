"""The Telegram Application: handlers wired up in one place, polling or webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import (
    AIORateLimiter, Application, CallbackQueryHandler, CommandHandler, ContextTypes, InlineQueryHandler, MessageHandler,
    TypeHandler,
    filters,
)

from retrieval import CorpusError

from . import admin, buttons, commands, handlers, inline, replicas
from .database import ERRORS
from .persistence import ChatDataPersistence
from .querylog import QueryLog
from .reload import ReloadBusy, reload_engine, reload_for_replica
from .settings import Settings
from .state import BotState

log = logging.getLogger(__name__)

# The admin commands' handlers; their menu entries and /help lines are commands.ADMIN.
ADMIN_COMMANDS = {
    "reload": admin.reload,
    "stats": admin.stats,
    "recent": admin.recent,
    "unanswered": admin.unanswered,
    "export": admin.export,
    "reports": admin.reports,
    "remove": admin.remove,
}
UPLOAD_TYPES = filters.Document.FileExtension("txt") | filters.Document.FileExtension("pdf") | filters.Document.FileExtension("docx") | filters.Document.FileExtension("html") | filters.Document.FileExtension("htm")
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
        .persistence(ChatDataPersistence(state.querylog))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    app.bot_data["state"] = state
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    if state.querylog.shared:  # replicas: an update delivered twice (to either) is handled once
        app.add_handler(TypeHandler(Update, replicas.first_delivery), group=-1)
    app.add_handler(CommandHandler(["start", "help"], handlers.start))
    app.add_handler(CommandHandler("towns", handlers.towns))
    app.add_handler(CommandHandler("ask", handlers.ask))
    app.add_handler(CommandHandler("reset", handlers.reset))
    for name, handler in ADMIN_COMMANDS.items():
        app.add_handler(CommandHandler(name, handler))
    # An admin's document of any other type is refused by name; anyone else's gets the usual note.
    admins = filters.User(user_id=settings.admin_ids, allow_empty=False)
    app.add_handler(MessageHandler(private & (UPLOAD_TYPES | (filters.Document.ALL & admins)), admin.upload))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.private_text))
    app.add_handler(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, handlers.group_text))
    app.add_handler(MessageHandler(private & NOT_TEXT, handlers.not_text))
    app.add_handler(CallbackQueryHandler(admin.confirm, pattern=buttons.PATTERNS[buttons.CONFIRM]))
    app.add_handler(CallbackQueryHandler(handlers.more_button, pattern=buttons.PATTERNS[buttons.MORE]))
    app.add_handler(CallbackQueryHandler(handlers.context_button, pattern=buttons.PATTERNS[buttons.CONTEXT]))
    app.add_handler(CallbackQueryHandler(handlers.feedback_button, pattern=buttons.PATTERNS[buttons.FEEDBACK]))
    app.add_handler(CallbackQueryHandler(handlers.year_button, pattern=buttons.PATTERNS[buttons.YEAR]))
    app.add_handler(CallbackQueryHandler(handlers.expired_button))  # last: whatever no pattern above took
    app.add_handler(InlineQueryHandler(inline.inline_query))
    app.add_error_handler(handlers.on_error)
    return app


async def on_startup(app: Application) -> None:
    state: BotState = app.bot_data["state"]
    await state.querylog.open()
    await commands.set_menus(app.bot, state.settings.admin_ids)
    if not app.bot.supports_inline_queries:
        log.warning("inline mode is off for @%s: the bot's owner turns it on with @BotFather /setinline", app.bot.username)
    schedule_pruning(app)
    if state.querylog.shared:
        app.bot_data["follow_reloads"] = asyncio.create_task(
            replicas.follow_reloads(str(state.querylog.target), lambda: reload_for_replica(state))
        )
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lambda: asyncio.create_task(reload_on_signal(state)))
    except (NotImplementedError, RuntimeError, AttributeError):  # not the main thread, or no SIGHUP here
        log.debug("SIGHUP reload not available")
    log.info("bot @%s ready: %d reports, %d passages", app.bot.username, len(state.engine.reports), len(state.engine))


async def on_shutdown(app: Application) -> None:
    following = app.bot_data.pop("follow_reloads", None)
    if following:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    await app.bot_data["state"].querylog.close()


async def reload_on_signal(state: BotState) -> None:
    """SIGHUP: the same reload as /reload, reported in the log."""
    try:
        await reload_engine(state)
    except ReloadBusy:
        log.warning("SIGHUP: a reload is already running")
    except CorpusError as exc:
        log.warning("SIGHUP reload refused, the old index stays in service: %s", exc)


PRUNE_EVERY = 24 * 3600  # seconds


def schedule_pruning(app: Application) -> None:
    """With a retention period, prune the query log at start and then once a day, on PTB's job queue."""
    if app.bot_data["state"].settings.log_retention_days:
        app.job_queue.run_repeating(prune_log, interval=PRUNE_EVERY, first=0, name="prune query log")


async def prune_log(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete questions older than the retention period; a failure waits for tomorrow's run."""
    state: BotState = context.bot_data["state"]
    days = state.settings.log_retention_days
    try:
        removed = await state.querylog.prune(days)
        log.info("query log: %d questions older than %d days removed", removed, days)
    except ERRORS as exc:
        log.warning("query log: pruning failed (%s); will try again tomorrow", exc)


def run_bot(settings: Settings) -> None:
    """Load the index, then serve until SIGINT/SIGTERM (PTB stops cleanly on both)."""
    engine = settings.load_engine()
    state = BotState(engine, settings, QueryLog(settings.database(), settings.log_user_ids))
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
