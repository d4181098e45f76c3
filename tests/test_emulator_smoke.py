"""Smoke test of the end-to-end harness: a real PTB Application polls the telegram-test-api
emulator on 127.0.0.1 while the test acts as Telegram users through the emulator's client API.

Needs Node.js and npm (the first run does `npm ci` in tests/emulator)."""

from __future__ import annotations

import asyncio
import html
import time

import httpx
import pytest
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

try:
    from tests.emulator import BOT_USERNAME, TOKEN, Emulator
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from emulator import BOT_USERNAME, TOKEN, Emulator  # type: ignore[no-redef]

USER = 7
OTHER_USER = 8
GROUP = -1001
SUPERGROUP = -1002003004005


def build_app(emu: Emulator, seen: dict[str, list]) -> Application:
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(emu.bot_api_url)
        .base_file_url(emu.base_file_url)
        .build()
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sent = await update.effective_message.reply_text(
            f"Welcome, <b>{html.escape(update.effective_user.first_name)}</b>!",
            parse_mode=ParseMode.HTML,
        )
        seen["sent"].append(sent)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        seen["chats"].append((chat.id, chat.type, chat.title))
        await context.bot.send_chat_action(chat.id, "typing")
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Got it", callback_data=f"ack:{update.effective_user.id}")]]
        )
        sent = await update.effective_message.reply_text(
            f"You said: <i>{html.escape(update.effective_message.text)}</i>",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )
        seen["sent"].append(sent)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        seen["callbacks"].append(query)
        await query.answer("Thanks!")
        edited = await query.edit_message_text(
            f"Acknowledged by <b>{html.escape(query.from_user.first_name)}</b>",
            parse_mode=ParseMode.HTML,
        )
        seen["edited"].append(edited)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen["errors"].append(context.error)

    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed, pattern=r"^ack:"))
    app.add_error_handler(on_error)
    return app


async def scenario() -> dict[str, float]:
    timings: dict[str, float] = {}
    seen: dict[str, list] = {"sent": [], "chats": [], "callbacks": [], "edited": [], "errors": []}
    emu = Emulator()
    t0 = time.perf_counter()
    await emu.start()
    timings["emulator start"] = time.perf_counter() - t0
    app = build_app(emu, seen)
    polling = False
    try:
        await app.initialize()
        assert app.bot.username == BOT_USERNAME
        assert app.bot.id == int(TOKEN.split(":")[0])
        commands = [BotCommand("start", "Start the bot"), BotCommand("help", "How to use it")]
        assert await app.bot.set_my_commands(commands) is True
        assert await app.bot.get_my_commands() == tuple(commands)
        await app.start()
        await app.updater.start_polling(poll_interval=0.0)
        polling = True

        # /start gets its reply
        t = time.perf_counter()
        await emu.send_command(USER, "/start", first_name="Ann")
        [reply] = await emu.wait_for_messages(USER)
        timings["/start round trip"] = time.perf_counter() - t
        assert reply["message"]["text"] == "Welcome, <b>Ann</b>!"
        assert reply["message"]["parse_mode"] == "HTML"
        assert "reply_markup" not in reply["message"]
        # PTB got a proper Message back from sendMessage
        assert seen["sent"][0].chat.type == "private"
        assert seen["sent"][0].from_user.username == BOT_USERNAME
        assert abs(seen["sent"][0].date.timestamp() - time.time()) < 60

        # a text message is echoed, with its keyboard
        t = time.perf_counter()
        await emu.send_message(USER, "where is <the> library?", first_name="Ann")
        [echoed] = await emu.wait_for_messages(USER)
        timings["echo round trip"] = time.perf_counter() - t
        assert echoed["message"]["text"] == "You said: <i>where is &lt;the&gt; library?</i>"
        assert echoed["message"]["parse_mode"] == "HTML"
        button = echoed["message"]["reply_markup"]["inline_keyboard"][0][0]
        assert button == {"text": "Got it", "callback_data": f"ack:{USER}"}
        assert [c["params"]["action"] for c in await emu.bot_calls("sendChatAction")] == ["typing"]

        # pressing the button answers the query and edits the message in place
        t = time.perf_counter()
        await emu.send_callback(USER, echoed, button["callback_data"], first_name="Ann")
        edited = await emu.wait_for_edit(USER, echoed["messageId"])
        timings["callback round trip"] = time.perf_counter() - t
        assert edited["message"]["text"] == "Acknowledged by <b>Ann</b>"
        assert "reply_markup" not in edited["message"]  # no keyboard sent with the edit
        assert edited["editedBy"] == ["editMessageText"]
        assert edited["history"][0]["text"] == echoed["message"]["text"]
        [answer] = await emu.callback_answers()
        assert answer["text"] == "Thanks!" and answer["show_alert"] is False
        query = seen["callbacks"][0]
        assert query.data == f"ack:{USER}"
        assert query.message.message_id == echoed["messageId"]
        assert seen["edited"][0].text == "Acknowledged by <b>Ann</b>"
        assert seen["edited"][0].edit_date is not None
        await emu.expect_no_messages(USER, within=0.1)  # an edit is not a new message

        # a group message arrives with the right chat, and the answer goes to the group
        await emu.send_message(OTHER_USER, "hi all", chat_id=GROUP, chat_type="group",
                               title="Town Hall")
        [in_group] = await emu.wait_for_messages(GROUP)
        assert in_group["message"]["chat_id"] == GROUP
        assert in_group["message"]["text"] == "You said: <i>hi all</i>"
        assert seen["chats"][-1] == (GROUP, "group", "Town Hall")
        assert seen["sent"][-1].chat.type == "group"
        assert seen["sent"][-1].chat.title == "Town Hall"
        await emu.expect_no_messages(USER, within=0.1)

        # a command addressed to the bot by name in a supergroup
        await emu.send_command(OTHER_USER, f"/start@{BOT_USERNAME}", chat_id=SUPERGROUP,
                               chat_type="supergroup", first_name="Bob")
        [welcome] = await emu.wait_for_messages(SUPERGROUP)
        assert welcome["message"]["text"] == "Welcome, <b>Bob</b>!"

        assert seen["errors"] == []
        assert "unsupported" not in emu.stderr_text()
    finally:
        t = time.perf_counter()
        if polling:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        proc = emu._proc
        await emu.stop()
        timings["shutdown"] = time.perf_counter() - t
    assert proc is not None and proc.poll() is not None  # no node process left behind
    return timings


def test_emulator_smoke() -> None:
    t = time.perf_counter()
    timings = asyncio.run(asyncio.wait_for(scenario(), timeout=120))
    timings["total"] = time.perf_counter() - t
    print(" ".join(f"{k}={v:.3f}s" for k, v in timings.items()))
    for step in ("/start round trip", "echo round trip", "callback round trip"):
        assert timings[step] < 1.0, timings
    assert timings["shutdown"] < 5.0, timings


# ---------------------------------------------------------------- documents (files both ways)

NOTES = "Library opens at 9\nPool closed on Mondays\nCafé: \"Le Pont\", 2nd floor\n".encode()


def export_csv(data: bytes) -> bytes:
    rows = ["line,text"] + [
        f'{i},"{line.replace(chr(34), chr(34) * 2)}"'
        for i, line in enumerate(data.decode("utf-8").splitlines(), 1)
    ]
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def build_document_app(emu: Emulator, seen: dict[str, list]) -> Application:
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(emu.bot_api_url)
        .base_file_url(emu.base_file_url)
        .build()
    )

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        seen["received"].append(message)
        try:
            tg_file = await context.bot.get_file(message.document.file_id)
        except BadRequest as exc:
            seen["refused"].append(exc)
            await message.reply_text(f"Sorry: {exc.message}")
            return
        data = bytes(await tg_file.download_as_bytearray())
        seen["downloads"].append((tg_file, data))
        sent = await message.reply_document(
            document=export_csv(data),
            filename="export.csv",
            caption=f"Export of <b>{html.escape(message.document.file_name)}</b>",
            parse_mode=ParseMode.HTML,
            do_quote=True,  # PTB quotes in private chats only when asked
        )
        seen["sent"].append(sent)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen["errors"].append(context.error)

    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_error_handler(on_error)
    return app


async def documents_scenario() -> None:
    seen: dict[str, list] = {"received": [], "downloads": [], "sent": [], "refused": [],
                             "errors": []}
    emu = Emulator()
    await emu.start()
    app = build_document_app(emu, seen)
    polling = False
    try:
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0.0)
        polling = True

        # a user sends a .txt with a caption; the bot downloads it and answers with a CSV
        sent = await emu.send_document(USER, "notes.txt", NOTES, caption="Please export",
                                       first_name="Ann")
        assert await emu.get_document(sent["file_id"]) == NOTES
        [reply] = await emu.wait_for_messages(USER)
        expected_csv = export_csv(NOTES)
        assert reply["method"] == "sendDocument"
        assert "text" not in reply["message"]
        assert reply["message"]["caption"] == "Export of <b>notes.txt</b>"
        assert reply["message"]["parse_mode"] == "HTML"
        document = reply["message"]["document"]
        assert document["file_name"] == "export.csv"
        assert document["mime_type"] == "text/csv"
        assert document["file_size"] == len(expected_csv)
        assert await emu.get_document(document["file_id"]) == expected_csv

        # what PTB saw: the user's document, the downloaded bytes, the Message sendDocument gave
        received = seen["received"][0]
        assert received.message_id == sent["message_id"]
        assert received.caption == "Please export"
        assert received.document.file_name == "notes.txt"
        assert received.document.mime_type == "text/plain"
        assert received.document.file_size == len(NOTES)
        assert received.document.file_id == sent["file_id"]
        assert received.document.file_unique_id == sent["file_unique_id"]
        tg_file, data = seen["downloads"][0]
        assert data == NOTES
        assert tg_file.file_size == len(NOTES) and tg_file.file_path.endswith(".txt")
        bot_message = seen["sent"][0]
        assert bot_message.message_id == reply["messageId"]
        assert bot_message.caption == "Export of <b>notes.txt</b>"
        assert bot_message.document.file_id == document["file_id"]
        assert bot_message.document.file_unique_id
        assert bot_message.document.file_name == "export.csv"
        assert bot_message.document.file_size == len(expected_csv)
        assert bot_message.reply_to_message.message_id == sent["message_id"]
        [call] = await emu.bot_calls("sendDocument")
        assert call["params"]["document"] == {
            "file_name": "export.csv", "mime_type": "text/csv", "file_size": len(expected_csv),
        }

        # the bot downloads its own upload too; a file_path works only with its bot's token
        own = await app.bot.get_file(document["file_id"])
        assert bytes(await own.download_as_bytearray()) == expected_csv
        path = own.file_path.split(f"{TOKEN}/", 1)[1]
        async with httpx.AsyncClient(trust_env=False) as client:
            wrong = await client.get(f"{emu.base_file_url}999:OTHER/{path}")
        assert wrong.status_code == 404

        # resending by file_id: same file, no new upload
        again = await app.bot.send_document(GROUP, document["file_id"], caption="again")
        assert again.document.file_unique_id == document["file_unique_id"]
        assert again.chat.id == GROUP
        [resent] = await emu.wait_for_messages(GROUP)
        assert resent["message"]["document"]["file_id"] == document["file_id"]
        assert resent["message"]["caption"] == "again"

        # Telegram's errors
        with pytest.raises(BadRequest, match="Wrong file identifier"):
            await app.bot.send_document(USER, "no-such-file-id")
        with pytest.raises(BadRequest, match="Invalid file_id"):
            await app.bot.get_file("no-such-file-id")
        with pytest.raises(BadRequest, match="caption is too long"):
            await app.bot.send_document(USER, b"x", filename="x.txt", caption="x" * 1025)
        with pytest.raises(BadRequest, match="no text in the message"):
            await app.bot.edit_message_text("new", chat_id=USER, message_id=reply["messageId"])

        # over 20 MB: the user can send it, but getFile refuses it (non-ASCII name kept)
        big = b"0123456789abcdef" * (20 * 1024 * 1024 // 16) + b"!"
        await emu.send_document(USER, "большой файл.txt", big)
        [sorry] = await emu.wait_for_messages(USER)
        assert sorry["message"]["text"] == "Sorry: File is too big"
        assert seen["received"][-1].document.file_name == "большой файл.txt"
        assert seen["received"][-1].document.file_size == len(big)
        assert len(seen["refused"]) == 1

        await emu.expect_no_messages(USER, within=0.1)
        assert seen["errors"] == []
        assert len(seen["downloads"]) == 1 and len(seen["sent"]) == 1
    finally:
        if polling:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await emu.stop()


def test_emulator_documents() -> None:
    asyncio.run(asyncio.wait_for(documents_scenario(), timeout=120))
