"""End-to-end test helper: a Telegram Bot API emulator on 127.0.0.1 for a real PTB Application.

The emulator is the npm package ``telegram-test-api`` 4.2.1, started through
``tests/emulator/launcher.js`` (which patches the package's gaps with python-telegram-bot 22.8).
A test acts as Telegram users through the emulator's client API::

    emu = Emulator()
    await emu.start()                      # npm ci on first use, then node launcher.js PORT
    app = (Application.builder().token(TOKEN).base_url(emu.bot_api_url)
           .base_file_url(emu.base_file_url).build())
    ...                                    # add handlers, initialize, start, start_polling
    await emu.send_command(7, "/start")    # user 7 writes /start in a private chat
    [reply] = await emu.wait_for_messages(7)
    assert reply["message"]["text"] == "Hello!"
    await emu.stop()

Bot messages as the client side sees them are the emulator's stored entries::

    {"messageId": 12, "updateId": 13, "time": <ms>, "botToken": TOKEN, "isRead": True,
     "editCount": 0, "message": {"chat_id": 7, "text": "<b>hi</b>", "parse_mode": "HTML",
                                 "reply_markup": {"inline_keyboard": [[...]]}, ...}}

``message`` holds the parameters the bot sent (``text`` as sent, HTML tags included; absent
keys were not sent). Edits change such an entry in place: see :meth:`Emulator.get_bot_message`
and :meth:`Emulator.wait_for_edit`.

Files: a bot's ``sendDocument`` is stored the same way, with ``"method": "sendDocument"`` and
``message["document"] == {"file_id", "file_unique_id", "file_name", "mime_type", "file_size"}``
(plus ``caption`` if one was sent, and no ``text``); :meth:`Emulator.get_document` gives its
bytes. A ``sendPhoto`` likewise has ``message["photo"] == [{"file_id", "file_unique_id", "width",
"height", "file_size"}]`` (PNG or JPEG only; width and height read from the bytes), bytes the same
way. A user sends a file with :meth:`Emulator.send_document`; the bot fetches it with
``await (await bot.get_file(file_id)).download_as_bytearray()`` (getFile refuses files over
20 MB with ``BadRequest("File is too big")``, as Telegram does).

``start``/``stop`` do not depend on the event loop (the node process is a plain subprocess and
the HTTP client is made per loop), so one emulator may serve several tests, each with its own
loop; :meth:`reset` clears the stored messages between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

TOKEN = "123456:TEST-TOKEN"
BOT_ID = 123456
BOT_USERNAME = "townqa_test_bot"
BOT_FIRST_NAME = "TownQA Test Bot"

EMULATOR_DIR = Path(__file__).resolve().parent / "emulator"
LAUNCHER = EMULATOR_DIR / "launcher.js"
HOST = "127.0.0.1"


class EmulatorError(RuntimeError):
    """The emulator could not be installed, started or talked to."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), for entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def _describe(entry: dict[str, Any]) -> str | None:
    """A stored bot message in a word, for assertion messages."""
    message = entry.get("message", {})
    if isinstance(message.get("photo"), list):
        return "[photo]" + (f" {message['caption']}" if message.get("caption") else "")
    document = message.get("document")
    if isinstance(document, dict):
        caption = message.get("caption")
        return f"[document {document.get('file_name')}]" + (f" {caption}" if caption else "")
    return message.get("text")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Emulator:
    """A telegram-test-api emulator process on 127.0.0.1 and the user-side actions on it."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        startup_timeout: float = 30.0,
        install_timeout: float = 600.0,
    ) -> None:
        self.token = token
        self.startup_timeout = startup_timeout
        self.install_timeout = install_timeout
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._buffers: dict[int, list[dict[str, Any]]] = {}

    # ------------------------------------------------------------------ addresses

    @property
    def base_url(self) -> str:
        """The emulator's root, where the client API lives."""
        if self.port is None:
            raise EmulatorError("the emulator is not started")
        return f"http://{HOST}:{self.port}"

    @property
    def bot_api_url(self) -> str:
        """For ``Application.builder().base_url(...)`` (PTB appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``Application.builder().base_file_url(...)``: the bot downloads files (the
        ``file_path`` getFile gives) from ``<base_file_url><token>/<file_path>``."""
        return f"{self.base_url}/file/bot"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> Emulator:
        """Install the npm package if needed, launch the emulator and wait for READY."""
        await asyncio.to_thread(self.start_blocking)
        return self

    async def stop(self) -> None:
        """Stop the emulator process (SIGTERM, then SIGKILL) and close the HTTP client."""
        if self._http is not None:
            with contextlib.suppress(Exception):
                if self._http_loop is asyncio.get_running_loop():
                    await self._http.aclose()
            self._http = None
            self._http_loop = None
        await asyncio.to_thread(self.stop_blocking)

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_blocking(self) -> None:
        """Same as :meth:`start`, for synchronous code (e.g. a session-scoped fixture)."""
        if self.running:
            return
        node = shutil.which("node")
        if node is None:
            raise EmulatorError(
                "Node.js is not installed (no `node` on PATH): the end-to-end tests need Node.js "
                ">= 14 and npm to run the telegram-test-api emulator (apt-get install nodejs npm)"
            )
        self.ensure_installed()
        last_error = ""
        for _attempt in range(3):
            port = _free_port()
            try:
                self._launch(node, port)
                return
            except EmulatorError as exc:
                last_error = str(exc)
                if "EADDRINUSE" not in last_error:
                    raise
        raise EmulatorError(last_error)

    def stop_blocking(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            for stream in (proc.stdin, proc.stdout):
                with contextlib.suppress(Exception):
                    if stream is not None:
                        stream.close()
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        if self._stderr is not None:
            with contextlib.suppress(Exception):
                self._stderr.close()
            self._stderr = None
        self._ready.clear()
        self._buffers.clear()
        self.port = None

    def ensure_installed(self) -> None:
        """Run ``npm ci`` in tests/emulator unless telegram-test-api is already installed."""
        marker = EMULATOR_DIR / "node_modules" / "telegram-test-api" / "package.json"
        if marker.exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise EmulatorError(
                "npm is not installed (no `npm` on PATH): it is needed once to install the "
                f"telegram-test-api emulator into {EMULATOR_DIR} (apt-get install npm)"
            )
        # One installer at a time (e.g. under pytest-xdist); the others wait for it.
        lock_name = hashlib.sha1(str(EMULATOR_DIR).encode()).hexdigest()[:12]
        lock_path = Path(tempfile.gettempdir()) / f"townqa-emulator-npm-{lock_name}.lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if marker.exists():
                return
            try:
                result = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
                    cwd=EMULATOR_DIR,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=self.install_timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise EmulatorError(
                    f"`npm ci` in {EMULATOR_DIR} took more than {self.install_timeout:.0f}s"
                ) from exc
            if result.returncode != 0 or not marker.exists():
                raise EmulatorError(
                    f"`npm ci` in {EMULATOR_DIR} failed (exit {result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}"
                )

    def stderr_text(self) -> str:
        """What the node process wrote on stderr so far (unsupported methods, errors)."""
        if self._stderr is None:
            return ""
        with contextlib.suppress(Exception):
            self._stderr.flush()
            with open(self._stderr.name, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        return ""

    def _launch(self, node: str, port: int) -> None:
        self._ready.clear()
        self._stderr = tempfile.NamedTemporaryFile(prefix="townqa-emulator-", suffix=".log")
        env = dict(os.environ)
        env.pop("EMULATOR_IGNORE_STDIN", None)
        proc = subprocess.Popen(
            [node, str(LAUNCHER), str(port)],
            cwd=EMULATOR_DIR,
            stdin=subprocess.PIPE,  # the emulator exits when this pipe closes (we die)
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self._proc = proc
        self.port = port
        self._reader = threading.Thread(
            target=self._read_stdout, args=(proc,), name="emulator-stdout", daemon=True
        )
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._ready.wait(0.02):
            if proc.poll() is not None or time.monotonic() > deadline:
                timed_out = proc.poll() is None
                stderr = self.stderr_text()
                self.stop_blocking()
                if timed_out:
                    raise EmulatorError(
                        f"the emulator did not print READY within {self.startup_timeout:.0f}s; "
                        f"stderr:\n{stderr}"
                    )
                raise EmulatorError(
                    f"the emulator exited with code {proc.returncode} before it was ready; "
                    f"stderr:\n{stderr}"
                )

    def _read_stdout(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # drained until the process ends
            if line.strip() == b"READY":
                self._ready.set()

    # ------------------------------------------------------------------ HTTP

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            # trust_env=False: never send loopback traffic through a proxy from the environment
            self._http = httpx.AsyncClient(base_url=self.base_url, trust_env=False, timeout=10.0)
            self._http_loop = loop
        return self._http

    async def _post(self, route: str, payload: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if not self.running:
            raise EmulatorError(f"the emulator is not running; stderr:\n{self.stderr_text()}")
        if payload is not None:
            kwargs["json"] = payload
        response = await self._client().post(route, **kwargs)
        try:
            data = response.json()
        except ValueError as exc:
            raise EmulatorError(f"{route}: HTTP {response.status_code}: {response.text}") from exc
        if response.status_code != 200 or not data.get("ok"):
            raise EmulatorError(f"{route}: HTTP {response.status_code}: {data}")
        return data.get("result")

    # ------------------------------------------------------------------ users and chats

    @staticmethod
    def user(user_id: int, first_name: str | None = None, username: str | None = None,
             language_code: str = "en") -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
            "username": username or f"user{user_id}",
            "language_code": language_code,
        }

    @staticmethod
    def chat(user: dict[str, Any], chat_id: int | None = None, chat_type: str = "private",
             title: str | None = None) -> dict[str, Any]:
        if chat_type == "private":
            chat_id = user["id"] if chat_id is None else chat_id
            return {"id": chat_id, "type": "private", "first_name": user["first_name"],
                    "username": user.get("username")}
        if chat_type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        if chat_id is None or chat_id >= 0:
            raise ValueError(f"a {chat_type} needs a negative chat_id (got {chat_id!r})")
        return {"id": chat_id, "type": chat_type, "title": title or f"Test {chat_type} {chat_id}"}

    def _message(self, user_id: int, text: str, chat_id: int | None, chat_type: str,
                 title: str | None, first_name: str | None, username: str | None,
                 reply_to: dict[str, Any] | None, entities: list[dict[str, Any]] | None
                 ) -> dict[str, Any]:
        sender = self.user(user_id, first_name, username)
        message: dict[str, Any] = {
            "botToken": self.token,
            "date": int(time.time()),
            "text": text,
            "from": sender,
            "chat": self.chat(sender, chat_id, chat_type, title),
        }
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to  # a stored bot message or a Message dict
        return message

    # ------------------------------------------------------------------ user actions

    async def send_message(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        *,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """User ``user_id`` writes ``text`` (private chat by default; groups need a negative
        ``chat_id``). ``reply_to`` is a bot message as returned by :meth:`get_updates`.
        Returns ``{"update_id", "message_id"}`` of the new message."""
        message = self._message(user_id, text, chat_id, chat_type, title, first_name, username,
                                reply_to, entities)
        return await self._post("/sendMessage", message)

    async def send_command(
        self,
        user_id: int,
        command_text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        *,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """User writes a command such as ``"/start"``, ``"/ask where is the library"`` or
        ``"/start@townqa_test_bot"``; the bot_command entity covers the first word."""
        if not command_text.startswith("/"):
            raise ValueError(f"a command starts with '/': {command_text!r}")
        command = command_text.split(maxsplit=1)[0]
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        message = self._message(user_id, command_text, chat_id, chat_type, title, first_name,
                                username, None, entities)
        return await self._post("/sendCommand", message)

    async def send_callback(
        self,
        user_id: int,
        message: dict[str, Any],
        data: str,
        *,
        first_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """User presses the inline button carrying ``data`` under the bot message ``message``
        (as returned by :meth:`get_updates`; the bot gets its current, edited state).
        Returns ``{"update_id", "callback_query_id"}``."""
        query = {
            "botToken": self.token,
            "from": self.user(user_id, first_name, username),
            "message": message,
            "data": data,
        }
        return await self._post("/sendCallback", query)

    async def send_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        mime_type: str = "text/plain",
        *,
        reply_to: dict[str, Any] | None = None,
        caption_entities: list[dict[str, Any]] | None = None,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """User ``user_id`` sends the file ``content`` as a document named ``file_name``, with
        an optional ``caption``. The bot gets a message with ``document`` (file_id,
        file_unique_id, file_name, mime_type, file_size) and ``caption``, and can download the
        bytes with getFile. Returns ``{"update_id", "message_id", "file_id", "file_unique_id"}``.
        ``mime_type`` is taken as given unless it is ``application/octet-stream`` or empty (then
        it is guessed from the extension)."""
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise TypeError(f"content must be bytes, not {type(content).__name__}")
        message = self._message(user_id, "", chat_id, chat_type, title, first_name, username,
                                reply_to, None)
        del message["text"]
        if caption is not None:
            message["caption"] = caption
        if caption_entities:
            message["caption_entities"] = caption_entities
        return await self._post(
            "/sendDocument",
            data={"message": json.dumps(message)},
            files={"document": (file_name, bytes(content), mime_type)},
            timeout=60.0,
        )

    async def get_document(self, file_id: str) -> bytes:
        """The bytes stored under ``file_id``: a file the bot sent (``message["document"]
        ["file_id"]`` or ``message["photo"][0]["file_id"]`` of its stored message) or one a user
        sent with :meth:`send_document`."""
        if not self.running:
            raise EmulatorError(f"the emulator is not running; stderr:\n{self.stderr_text()}")
        response = await self._client().post(
            "/getDocument", json={"token": self.token, "file_id": file_id}, timeout=60.0
        )
        if response.status_code != 200:
            raise EmulatorError(f"/getDocument: HTTP {response.status_code}: {response.text}")
        return response.content

    async def send_inline_query(self, user_id: int, query: str, chat_type: str = "sender", *,
                                first_name: str | None = None, username: str | None = None) -> str:
        """User ``user_id`` types 「@bot ``query``」 in a chat of ``chat_type`` ("sender": their chat
        with the bot; "private", "group", "supergroup", "channel"). Returns the inline query's id."""
        ids = await self._post("/sendInlineQuery", {
            "botToken": self.token, "from": self.user(user_id, first_name, username),
            "query": query, "chat_type": chat_type,
        })
        return ids["inline_query_id"]

    async def wait_for_inline_answer(self, inline_query_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The bot's answerInlineQuery for that query: ``{"results", "button", "cache_time",
        "is_personal", "next_offset"}``, results and button as sent; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            answers = await self._post("/getInlineAnswers", {"token": self.token, "inline_query_id": inline_query_id})
            if answers:
                return answers[0]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no answer to inline query {inline_query_id} within {timeout}s; emulator stderr:\n{self.stderr_text()}"
                )
            await asyncio.sleep(0.01)

    async def choose_inline_result(self, inline_query_id: str, result_id: str) -> dict[str, Any]:
        """The user picks that result: the message Telegram posts in their chat (``text``,
        ``parse_mode``, ``via_bot``, ...), from the result's input_message_content."""
        return await self._post("/chooseInlineResult", {
            "token": self.token, "inline_query_id": inline_query_id, "result_id": result_id,
        })

    # ------------------------------------------------------------------ what the bot did

    async def get_updates(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages to ``chat_id`` not read yet (each is returned once)."""
        buffered = self._buffers.pop(chat_id, [])
        fresh = await self._post("/getUpdates", {"token": self.token, "chatId": chat_id})
        return buffered + sorted(fresh or [], key=lambda e: e["updateId"])

    async def wait_for_messages(self, chat_id: int, count: int = 1,
                                timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` unread bot messages arrived in ``chat_id`` and return exactly
        those (later ones stay unread for the next call); fail after ``timeout`` seconds."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            got += await self.get_updates(chat_id)
            if len(got) >= count:
                if len(got) > count:
                    self._buffers[chat_id] = got[count:]
                return got[:count]
            if time.monotonic() > deadline:
                if got:
                    self._buffers[chat_id] = got
                texts = [_describe(e) for e in got]
                raise AssertionError(
                    f"expected {count} bot message(s) in chat {chat_id} within {timeout}s, "
                    f"got {len(got)}: {texts}; emulator stderr:\n{self.stderr_text()}"
                )
            await asyncio.sleep(0.01)

    async def expect_no_messages(self, chat_id: int, within: float = 0.3) -> None:
        """Assert the bot sends nothing to ``chat_id`` during ``within`` seconds."""
        await asyncio.sleep(within)
        got = await self.get_updates(chat_id)
        if got:
            self._buffers[chat_id] = got
            raise AssertionError(
                f"expected no bot message in chat {chat_id}, got "
                f"{[_describe(e) for e in got]}"
            )

    async def history(self) -> list[dict[str, Any]]:
        """Everything stored so far, users' updates and the bot's messages, oldest first
        (by update id, which both share). A user's entry has ``message`` (with ``chat``,
        ``from``) or ``callbackQuery``; a bot's entry has ``message`` with ``chat_id``."""
        items = await self._post("/getUpdatesHistory", {"token": self.token})
        return sorted(items or [], key=lambda e: e["updateId"])

    async def bot_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """All of the bot's messages (read or not, in their current edited state)."""
        return [
            e for e in await self.history()
            if "chat_id" in e.get("message", {})
            and (chat_id is None or str(e["message"]["chat_id"]) == str(chat_id))
        ]

    async def get_bot_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The bot's message ``message_id`` in ``chat_id`` as it is now (after edits), or
        None if it does not exist (or was deleted)."""
        for entry in await self.bot_messages(chat_id):
            if entry["messageId"] == message_id:
                return entry
        return None

    async def wait_for_edit(self, chat_id: int, message_id: int, edits: int = 1,
                            timeout: float = 5.0) -> dict[str, Any]:
        """Wait until the bot message was edited ``edits`` times in all; return it.
        An edited entry has ``editCount``, ``editedBy`` (method names) and ``history`` (the
        previous text/parse_mode/reply_markup values)."""
        deadline = time.monotonic() + timeout
        while True:
            entry = await self.get_bot_message(chat_id, message_id)
            if entry is not None and entry.get("editCount", 0) >= edits:
                return entry
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"bot message {message_id} in chat {chat_id} was not edited {edits} time(s) "
                    f"within {timeout}s: {entry}; emulator stderr:\n{self.stderr_text()}"
                )
            await asyncio.sleep(0.01)

    async def bot_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Every Bot API call the bot made (but getUpdates): ``{"method", "params", "time"}``,
        params as sent (JSON fields decoded)."""
        payload: dict[str, Any] = {"token": self.token}
        if method:
            payload["method"] = method
        return await self._post("/getBotCalls", payload)

    async def callback_answers(self) -> list[dict[str, Any]]:
        """The bot's answerCallbackQuery calls: ``{"callback_query_id", "text", "show_alert",
        "url", "cache_time"}``."""
        return await self._post("/getCallbackAnswers", {"token": self.token})

    async def bot_state(self) -> dict[str, Any]:
        """Commands (per scope|language), menu buttons, description texts, known chats."""
        return await self._post("/getBotState", {"token": self.token})

    async def reset(self) -> None:
        """Forget all messages, calls, callback answers, commands and chats (ids keep
        growing, so a running bot is not confused)."""
        self._buffers.clear()
        await self._post("/reset", {"token": self.token})
