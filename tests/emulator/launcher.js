#!/usr/bin/env node
/*
 * townqa test launcher for the Telegram Bot API emulator `telegram-test-api` 4.2.1.
 *
 *   node launcher.js PORT
 *
 * Starts the emulator on 127.0.0.1:PORT (storage RAM), prints one line `READY` on stdout when it
 * listens, and exits when its stdin closes, on SIGTERM or on SIGINT (so a dying test process
 * never leaves it behind). Set EMULATOR_IGNORE_STDIN=1 to run it by hand in the background.
 *
 * The package as shipped does not work with python-telegram-bot 22.8. Before the server is
 * constructed this file rewrites the exported route list (`lib/routes/index.js#routes`, read by
 * the TelegramServer constructor) and `TelegramServer.prototype.addBotMessage`:
 *
 *  bot side (what PTB calls, /bot<TOKEN>/<method>):
 *   - getMe: adds is_bot (PTB's User needs it), bot id = the token's numeric prefix.
 *   - getUpdates: real long polling (the package answers at once, so PTB with poll_interval=0
 *     busy-loops) and real offset semantics (an update stays pending until getUpdates is called
 *     with a higher offset; the package marked it read as soon as it was sent). A second
 *     concurrent getUpdates for the same token ends the first with 409, as Telegram does.
 *   - sendMessage: answers with a proper Message (date in seconds, `from` = the bot, the chat as
 *     the users sent it, with type/title); checks the text is not empty, not over 4096
 *     characters, and that HTML / MarkdownV2 markup would parse (the errors Telegram gives).
 *   - editMessageText / editMessageReplyMarkup: update the stored bot message (an omitted
 *     reply_markup removes the keyboard, as in Telegram), answer with the edited Message, and
 *     answer 400 "message is not modified" / "message to edit not found" like Telegram.
 *   - sendDocument: multipart/form-data upload (parsed with Node's built-in undici FormData,
 *     no extra npm package) or a file_id string (resend); caption checked like a text (parse
 *     mode, at most 1024 characters); empty file -> 400 "file must be non-empty", upload over
 *     50 MB -> 413 "Request Entity Too Large". Stored as a bot message whose `message.document`
 *     is {file_id, file_unique_id, file_name, mime_type, file_size}; answers with a Message
 *     carrying `document` and `caption`.
 *   - sendPhoto: a multipart upload of PNG or JPEG bytes (or a photo's file_id); caption checked
 *     like sendDocument's; not an image -> 400 "IMAGE_PROCESS_FAILED", over 10 MB or width +
 *     height over 10000 or sides more than 20:1 -> 400 "PHOTO_INVALID_DIMENSIONS". Stored as a
 *     bot message whose `message.photo` is [{file_id, file_unique_id, width, height, file_size}]
 *     (one size: the bytes as sent, which /getDocument gives back).
 *   - getFile: {file_id, file_unique_id, file_size, file_path}; over 20 MB -> 400 "file is too
 *     big", unknown / other bot's file_id -> 400 "invalid file_id".
 *   - GET /file/bot<TOKEN>/<file_path>: the stored bytes (file_path as getFile gave it; 404
 *     otherwise), so PTB's File.download_* work with base_file_url = <root>/file/bot.
 *   - answerCallbackQuery: true, and keeps the answer (text, show_alert) for the client side;
 *     unknown or already answered query ids give Telegram's 400.
 *   - answerInlineQuery: checks the results as Telegram does (at most 50; ids 1-64 bytes, unique;
 *     an article has a title and message content; message_text checked like sendMessage's, parse
 *     mode included; the button has text and a valid start_parameter), and keeps the answer for
 *     the client side; an unknown or already answered inline query id gives Telegram's 400.
 *   - getMe says supports_inline_queries (inline mode turned on with @BotFather /setinline).
 *   - deleteMessage, setWebhook, deleteWebhook (drop_pending_updates honoured): result true. With a
 *     webhook set, users' updates are POSTed to it in getUpdates' format, with Telegram's
 *     X-Telegram-Bot-Api-Secret-Token header when setWebhook had a secret_token.
 *   - added: setMyCommands/getMyCommands/deleteMyCommands (validated, stored per scope and
 *     language; a chat scope for a chat no user has written from: 400 "chat not found"), setChatMenuButton/getChatMenuButton, sendChatAction (action validated),
 *     set/getMyDescription, set/getMyShortDescription, set/getMyName, getWebhookInfo, getChat,
 *     logOut, close.
 *   - any other method: 404 with a description naming the method (PTB raises InvalidToken
 *     carrying that text), instead of the package's bare 500.
 *   - errors are Telegram-shaped: HTTP status + {ok:false, error_code, description}.
 *
 *  client side (the test acting as users, POST JSON to /<route>):
 *   - /sendMessage, /sendCommand: fill in date/chat defaults, remember the chat (so the bot's
 *     answers carry its type/title), accept a stored bot message as reply_to_message, and
 *     answer {update_id, message_id}.
 *   - /sendCallback: accepts a stored bot message (as /getUpdates returns it) or a Message;
 *     the update carries the message's current (edited) state and a chat_instance; answers
 *     {update_id, callback_query_id}.
 *   - added: /sendDocument: multipart/form-data with a `message` field (the JSON /sendMessage
 *     takes, without text; `caption` optional) and a `document` file part (filename and
 *     Content-Type used as file_name and mime_type); or JSON with `document: {file_name,
 *     mime_type, content_base64}` (small files only: the JSON body limit is 100 kB). Stores the
 *     bytes under a new file_id and answers {update_id, message_id, file_id, file_unique_id}.
 *   - added: /getDocument {file_id, token?}: the stored bytes (application/octet-stream), for
 *     files users sent and files the bot uploaded alike; 404 JSON if unknown.
 *   - added: /sendInlineQuery {botToken, from, query, offset?, chat_type?}: a user typing
 *     「@bot query」 (at most 256 characters); a polling bot gets an inline_query update; answers
 *     {update_id, inline_query_id}. /getInlineAnswers {token, inline_query_id?}: the bot's
 *     answerInlineQuery calls. /chooseInlineResult {token, inline_query_id, result_id}: the message
 *     Telegram posts for the user when they pick that result ({text, parse_mode, via_bot, ...}).
 *   - /getUpdates, /getUpdatesHistory: unchanged (the package's own).
 *   - added: /getBotCalls {token, method?}, /getCallbackAnswers {token}, /getBotState {token},
 *     /reset {token?}.
 */
'use strict';

const crypto = require('crypto');
const TelegramServer = require('telegram-test-api');
const { routes } = require('telegram-test-api/lib/routes/index');
const { handle } = require('telegram-test-api/lib/routes/bot/utils');

const pkgRoutes = {
  client: {
    sendMessage: require('telegram-test-api/lib/routes/client/sendMessage').sendMessage,
    sendCommand: require('telegram-test-api/lib/routes/client/sendCommand').sendCommand,
    sendCallback: require('telegram-test-api/lib/routes/client/sendCallback').sendCallback,
    getUpdates: require('telegram-test-api/lib/routes/client/getUpdates').getUpdates,
    getUpdatesHistory: require('telegram-test-api/lib/routes/client/getUpdatesHistory').getUpdatesHistory,
  },
  bot: {
    getMe: require('telegram-test-api/lib/routes/bot/getMe').getMe,
    getUpdates: require('telegram-test-api/lib/routes/bot/getUpdates').getUpdates,
    sendMessage: require('telegram-test-api/lib/routes/bot/sendMessage').sendMessage,
    answerCallbackQuery: require('telegram-test-api/lib/routes/bot/answerCallbackQuery').answerCallbackQuery,
    editMessageText: require('telegram-test-api/lib/routes/bot/editMessageText').editMessageText,
    editMessageReplyMarkup: require('telegram-test-api/lib/routes/bot/editMessageReplyMarkup').editMessageReplyMarkup,
    deleteMessage: require('telegram-test-api/lib/routes/bot/deleteMessage').deleteMessage,
    setWebhook: require('telegram-test-api/lib/routes/bot/setWebhook').setWebhook,
    deleteWebhook: require('telegram-test-api/lib/routes/bot/deleteWebhook').deleteWebhook,
    unknownMethod: require('telegram-test-api/lib/routes/bot/unknownMethod').unknownMethod,
  },
};

const HOST = '127.0.0.1';
const BOT_USERNAME = process.env.EMULATOR_BOT_USERNAME || 'townqa_test_bot';
const BOT_FIRST_NAME = process.env.EMULATOR_BOT_FIRST_NAME || 'TownQA Test Bot';
const MAX_LONG_POLL_SECONDS = 50;
const MAX_CALL_LOG = 20000;
const MAX_MESSAGE_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;
const MB = 1024 * 1024;
const MAX_BOT_UPLOAD = 50 * MB; // sendDocument & co. (multipart upload)
const MAX_GET_FILE = 20 * MB; // getFile refuses bigger files
const MAX_PHOTO = 10 * MB; // sendPhoto
const MAX_CLIENT_UPLOAD = 100 * MB; // what a test may send as a user (the emulator keeps it in RAM)
const CHAT_ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);
// Parameters PTB sends JSON-encoded inside form fields.
const JSON_FIELDS = [
  'reply_markup', 'entities', 'caption_entities', 'link_preview_options', 'reply_parameters',
  'commands', 'scope', 'menu_button', 'allowed_updates', 'results', 'button',
];

// ---------------------------------------------------------------- helpers

class ApiError extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
  }
}

const badRequest = (what) => new ApiError(400, `Bad Request: ${what}`);

function sendOk(res, result) {
  res.status(200).json({ ok: true, result });
}

function sendFail(res, error) {
  const code = error instanceof ApiError ? error.code : 500;
  const description = error instanceof ApiError ? error.message : `Internal Server Error: ${error && error.stack ? error.stack : error}`;
  if (!(error instanceof ApiError)) console.error(`[emulator] ${description}`);
  if (!res.headersSent) res.status(code).json({ ok: false, error_code: code, description });
}

/** Registers a bot method; `fn(params, token, req, res)` returns the result or throws ApiError. */
function botMethod(app, name, fn) {
  handle(app, `/bot:token/${name}`, async (req, res) => {
    try {
      const result = await fn(params(req), req.params.token, req, res);
      sendOk(res, result === undefined ? true : result);
    } catch (error) {
      sendFail(res, error);
    }
  });
}

function clientRoute(app, path, fn) {
  app.post(path, async (req, res) => {
    try {
      sendOk(res, await fn(req.body || {}, req));
    } catch (error) {
      sendFail(res, error);
    }
  });
}

function parseJsonFields(obj) {
  for (const key of JSON_FIELDS) {
    if (typeof obj[key] === 'string') {
      try {
        obj[key] = JSON.parse(obj[key]);
      } catch (_e) {
        throw badRequest(`can't parse ${key} JSON object`);
      }
    }
  }
  if (typeof obj.chat_id === 'string' && /^-?\d+$/.test(obj.chat_id)) obj.chat_id = Number(obj.chat_id);
  return obj;
}

/** Query string and body merged (PTB posts application/x-www-form-urlencoded). */
function params(req) {
  return parseJsonFields({ ...(req.query || {}), ...(req.body || {}) });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const toSeconds = (t) => (t > 1e11 ? Math.floor(t / 1000) : Math.floor(t));
const same = (a, b) => JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);

function botIdOf(token) {
  const id = Number(String(token).split(':')[0]);
  return Number.isSafeInteger(id) && id > 0 ? id : 666;
}

function botUser(token) {
  return {
    id: botIdOf(token),
    is_bot: true,
    first_name: BOT_FIRST_NAME,
    username: BOT_USERNAME,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: true,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

function flag(value) {
  return value === true || value === 'true' || value === 'True' || value === '1' || value === 1;
}

// ----------------------------------------------------- text / markup checks (Telegram's 400s)

const HTML_TAGS = new Set([
  'b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'code',
  'pre', 'blockquote', 'tg-emoji',
]);
const HTML_ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"' };

function byteOffset(text, index) {
  return Buffer.byteLength(text.slice(0, index), 'utf8');
}

/** Returns the visible text of HTML-formatted `text`, or throws the error Telegram would. */
function checkHtml(text) {
  const stack = [];
  let plain = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '<') {
      const m = /^<(\/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^>]*)?)\s*\/?>/.exec(text.slice(i));
      if (!m) {
        throw badRequest(`can't parse entities: Unsupported start tag "" at byte offset ${byteOffset(text, i)}`);
      }
      const closing = m[1] === '/';
      const tag = m[2].toLowerCase();
      if (!closing) {
        if (!HTML_TAGS.has(tag)) {
          throw badRequest(`can't parse entities: Unsupported start tag "${tag}" at byte offset ${byteOffset(text, i)}`);
        }
        stack.push(tag);
      } else {
        if (stack.length === 0) {
          throw badRequest(`can't parse entities: Unexpected end tag at byte offset ${byteOffset(text, i)}`);
        }
        const open = stack.pop();
        if (open !== tag) {
          throw badRequest(`can't parse entities: Unmatched end tag at byte offset ${byteOffset(text, i)}, expected "</${open}>", found "</${tag}>"`);
        }
      }
      i += m[0].length;
    } else if (c === '&') {
      const m = /^&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/.exec(text.slice(i));
      if (m && m[1][0] === '#') {
        const code = m[1][1] === 'x' ? parseInt(m[1].slice(2), 16) : parseInt(m[1].slice(1), 10);
        plain += String.fromCodePoint(code);
        i += m[0].length;
      } else if (m && HTML_ENTITIES[m[1]] !== undefined) {
        plain += HTML_ENTITIES[m[1]];
        i += m[0].length;
      } else {
        plain += c;
        i += 1;
      }
    } else {
      plain += c;
      i += 1;
    }
  }
  if (stack.length) {
    throw badRequest(`can't parse entities: Can't find end tag corresponding to start tag "${stack[stack.length - 1]}"`);
  }
  return plain;
}

/** Checks the one MarkdownV2 rule most often broken: reserved characters must be escaped. */
function checkMarkdownV2(text) {
  const reserved = new Set(['>', '#', '+', '-', '=', '{', '}', '.', '!']);
  let plain = '';
  let inCode = false;
  let inPre = false;
  let inUrl = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\') {
      if (i + 1 < text.length) plain += text[i + 1];
      i += 1;
    } else if (text.startsWith('```', i)) {
      inPre = !inPre;
      i += 2;
    } else if (inPre) {
      plain += c;
    } else if (c === '`') {
      inCode = !inCode;
    } else if (inCode) {
      plain += c;
    } else if (inUrl) {
      if (c === ')') inUrl = false;
    } else if (c === ']' && text[i + 1] === '(') {
      inUrl = true;
      i += 1;
    } else if (c === '>' && (i === 0 || text[i - 1] === '\n')) {
      // blockquote marker
    } else if (reserved.has(c)) {
      throw badRequest(`can't parse entities: Character '${c}' is reserved and must be escaped with the preceding '\\'`);
    } else if (!'*_~|[]()'.includes(c)) {
      plain += c;
    }
  }
  return plain;
}

function checkText(text, parseMode, what = 'message text') {
  if (text === undefined || text === null || String(text).length === 0) {
    throw badRequest(`${what} is empty`);
  }
  let plain = String(text);
  const mode = String(parseMode || '').toLowerCase();
  if (mode === 'html') plain = checkHtml(plain);
  else if (mode === 'markdownv2') plain = checkMarkdownV2(plain);
  if (plain.trim().length === 0) throw badRequest(`${what} is empty`);
  if (plain.length > MAX_MESSAGE_LENGTH) throw badRequest('message is too long');
}

/** A caption is optional (empty = none), but otherwise checked like a text. */
function checkCaption(caption, parseMode) {
  if (caption === undefined || caption === null || String(caption) === '') return;
  let plain = String(caption);
  const mode = String(parseMode || '').toLowerCase();
  if (mode === 'html') plain = checkHtml(plain);
  else if (mode === 'markdownv2') plain = checkMarkdownV2(plain);
  if (plain.length > MAX_CAPTION_LENGTH) throw badRequest('message caption is too long');
}

function inlineMarkup(markup) {
  return markup && typeof markup === 'object' && 'inline_keyboard' in markup ? markup : undefined;
}

// ---------------------------------------------------------------- server state & patches

class State {
  constructor() {
    this.reset();
  }

  reset() {
    this.chats = new Map(); // String(chat id) -> chat object as users sent it
    this.calls = []; // every bot API call but getUpdates: {method, token, params, time}
    this.callbackAnswers = []; // {callback_query_id, text, show_alert, url, cache_time, token, time}
    this.answeredCallbacks = new Set();
    this.inlineAnswers = []; // {inline_query_id, results, button, cache_time, is_personal, next_offset, token, time}
    this.commands = {}; // token -> {scopeKey|lang: [BotCommand]}
    this.menuButtons = {}; // token -> {chat_id|'default': MenuButton}
    this.texts = {}; // token -> {description, short_description, name}
    this.files = new Map(); // file_id -> {file_id, file_unique_id, file_name, mime_type, file_size, data, token, file_path?}
    this.filePaths = new Map(); // file_path -> file_id (only for files getFile was asked about)
  }
}

const state = new State();

// ---------------------------------------------------------------- files

let fileCounter = 0; // never reset: file ids and paths stay unique across /reset

const MIME_BY_EXTENSION = {
  txt: 'text/plain', csv: 'text/csv', tsv: 'text/tab-separated-values', json: 'application/json',
  html: 'text/html', htm: 'text/html', md: 'text/markdown', xml: 'application/xml',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  mp3: 'audio/mpeg', ogg: 'audio/ogg', mp4: 'video/mp4',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

function extensionOf(fileName) {
  const m = /\.([A-Za-z0-9]{1,10})$/.exec(String(fileName || ''));
  return m ? m[1].toLowerCase() : '';
}

function mimeTypeFor(fileName, given) {
  const type = String(given || '').split(';')[0].trim().toLowerCase();
  if (type && type !== 'application/octet-stream') return type;
  return MIME_BY_EXTENSION[extensionOf(fileName)] || 'application/octet-stream';
}

/** Stores bytes as a new file owned by `token`'s bot; returns the stored record. */
function storeFile(token, fileName, mimeType, data) {
  fileCounter += 1;
  const random = crypto.randomBytes(24).toString('base64url');
  const record = {
    // Shaped like Telegram's document ids (opaque to bots: never parse them).
    file_id: `BQACAgIAAxkBAA${fileCounter.toString(36)}${random}`,
    file_unique_id: `AgAD${fileCounter.toString(36)}${random.slice(0, 8)}`,
    file_name: String(fileName),
    mime_type: mimeTypeFor(fileName, mimeType),
    file_size: data.length,
    data,
    token,
    number: fileCounter,
  };
  state.files.set(record.file_id, record);
  return record;
}

/** Width and height of PNG or JPEG bytes (what Telegram can make a photo of), else undefined. */
function imageSize(data) {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47 && data.toString('latin1', 12, 16) === 'IHDR') {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) {
    let at = 2;
    while (at + 9 < data.length && data[at] === 0xff) {
      const marker = data[at + 1];
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { width: data.readUInt16BE(at + 7), height: data.readUInt16BE(at + 5) };
      }
      at += 2 + data.readUInt16BE(at + 2);
    }
  }
  return undefined;
}

/** The Document object (Bot API) of a stored file. */
function documentOf(record) {
  return {
    file_id: record.file_id,
    file_unique_id: record.file_unique_id,
    file_name: record.file_name,
    mime_type: record.mime_type,
    file_size: record.file_size,
  };
}

function fileForBot(fileId, token) {
  const record = state.files.get(String(fileId || ''));
  return record && record.token === token ? record : undefined;
}

/**
 * Reads a multipart/form-data body with Node's own FormData parser (undici, Node >= 18):
 * string fields go to req.body, file parts to req.files[name] = {file_name, mime_type, data}
 * and, described ({file_name, mime_type, file_size}), to req.body[name] (so the call log shows
 * them). A body over `limit` bytes is drained and answered with 413, as Telegram does.
 */
function multipartBodies(app) {
  app.use((req, res, next) => {
    if (!/^multipart\/form-data/i.test(String(req.headers['content-type'] || ''))) {
      next();
      return;
    }
    const limit = req.path.startsWith('/bot') ? MAX_BOT_UPLOAD + MB : MAX_CLIENT_UPLOAD + MB;
    const chunks = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) failed = true;
      if (!failed) chunks.push(chunk);
    });
    req.on('error', () => { failed = true; });
    req.on('end', async () => {
      if (failed) {
        chunks.length = 0;
        sendFail(res, new ApiError(413, 'Request Entity Too Large'));
        return;
      }
      try {
        const form = await new Response(Buffer.concat(chunks), {
          headers: { 'content-type': req.headers['content-type'] },
        }).formData();
        const body = {};
        const files = {};
        for (const [name, value] of form) {
          if (typeof value === 'string') {
            body[name] = value;
          } else {
            const data = Buffer.from(await value.arrayBuffer());
            files[name] = { file_name: value.name, mime_type: value.type, data };
            body[name] = { file_name: value.name, mime_type: mimeTypeFor(value.name, value.type), file_size: data.length };
          }
        }
        req.body = body;
        req.files = files;
      } catch (error) {
        sendFail(res, badRequest(`can't parse multipart/form-data body: ${error && error.message}`));
        return;
      }
      next();
    });
  });
}

/** The uploaded file part a parameter refers to (directly or as attach://<name>), if any. */
function uploadedPart(req, value, name) {
  const files = req.files || {};
  if (typeof value === 'string' && value.startsWith('attach://')) return files[value.slice('attach://'.length)];
  if (value && typeof value === 'object' && files[name]) return files[name];
  return undefined;
}

/** What sendDocument and sendPhoto check alike: a chat, a caption that parses, a non-empty upload (if one). */
function mediaUpload(p, req, field) {
  if (p.chat_id === undefined || p.chat_id === '') throw badRequest('chat not found');
  checkCaption(p.caption, p.parse_mode);
  const part = uploadedPart(req, p[field], field);
  if (part && part.data.length === 0) throw badRequest('file must be non-empty');
  return part;
}

function rememberChat(chat) {
  if (chat && chat.id !== undefined) state.chats.set(String(chat.id), { ...chat, id: Number(chat.id) });
}

function chatFor(chatId) {
  const known = state.chats.get(String(chatId));
  if (known) return known;
  const id = Number(chatId);
  if (!Number.isFinite(id)) return { id: 0, type: 'channel', title: String(chatId), username: String(chatId).replace(/^@/, '') };
  return id < 0 ? { id, type: 'group', title: `Chat ${id}` } : { id, type: 'private', first_name: `User ${id}` };
}

function userMessageToTelegram(update) {
  const { botToken, ...message } = update.message;
  return { ...message, message_id: update.messageId, date: toSeconds(message.date || update.time) };
}

/** A stored bot message ({time, botToken, message, updateId, messageId, ...}) as a Bot API Message. */
function botEntryToTelegram(server, entry) {
  const m = entry.message;
  const msg = {
    message_id: entry.messageId,
    from: botUser(entry.botToken),
    chat: chatFor(m.chat_id),
    date: toSeconds(entry.time),
  };
  if (m.message_thread_id !== undefined) msg.message_thread_id = Number(m.message_thread_id);
  if (entry.editDate) msg.edit_date = entry.editDate;
  if (m.text !== undefined) msg.text = String(m.text);
  if (Array.isArray(m.entities)) msg.entities = m.entities;
  if (m.document && typeof m.document === 'object') {
    const { file_id, file_unique_id, file_name, mime_type, file_size } = m.document;
    msg.document = { file_id, file_unique_id, file_name, mime_type, file_size };
  }
  if (Array.isArray(m.photo)) msg.photo = m.photo;
  if (m.caption !== undefined && String(m.caption) !== '') msg.caption = String(m.caption);
  if (Array.isArray(m.caption_entities) && msg.caption !== undefined) msg.caption_entities = m.caption_entities;
  if (flag(m.show_caption_above_media) && msg.caption !== undefined) msg.show_caption_above_media = true;
  if (flag(m.protect_content)) msg.has_protected_content = true;
  if (m.link_preview_options) msg.link_preview_options = m.link_preview_options;
  const markup = inlineMarkup(m.reply_markup);
  if (markup) msg.reply_markup = markup;
  const replyTo = (m.reply_parameters && m.reply_parameters.message_id) || m.reply_to_message_id;
  if (replyTo !== undefined) {
    const target = findAnyMessage(server, m.chat_id, replyTo, entry.botToken);
    if (target) msg.reply_to_message = target;
  }
  return msg;
}

function findBotEntry(server, chatId, messageId, token) {
  return server.storage.botMessages.find((u) => (
    (token === undefined || u.botToken === token)
    && String(u.messageId) === String(messageId)
    && String(u.message.chat_id) === String(chatId)));
}

/** The Message with that id in that chat, bot's or user's, in Bot API form (no nesting). */
function findAnyMessage(server, chatId, messageId, token) {
  const bot = findBotEntry(server, chatId, messageId, token);
  if (bot) {
    const { reply_to_message: _r, ...msg } = botEntryToTelegram(server, { ...bot, message: { ...bot.message, reply_parameters: undefined, reply_to_message_id: undefined } });
    return msg;
  }
  const user = server.storage.userMessages.find((u) => (
    u.botToken === token && u.message && !('callbackQuery' in u)
    && String(u.messageId) === String(messageId)
    && u.message.chat && String(u.message.chat.id) === String(chatId)));
  if (user) {
    const { reply_to_message: _r, ...msg } = userMessageToTelegram(user);
    return msg;
  }
  return undefined;
}

/** Accepts a stored bot message entry or a Bot API Message and returns a Bot API Message. */
function toTelegramMessage(server, value, token) {
  if (!value || typeof value !== 'object') return value;
  if ('messageId' in value && 'message' in value) {
    const current = findBotEntry(server, value.message.chat_id, value.messageId) || value;
    return botEntryToTelegram(server, current);
  }
  if ('message_id' in value && value.chat) {
    const current = findBotEntry(server, value.chat.id, value.message_id, token);
    if (current) return botEntryToTelegram(server, current);
  }
  return value;
}

// The Message that the package's sendMessage route answers with comes from here.
const originalAddBotMessage = TelegramServer.prototype.addBotMessage;

/** Stores a bot message sent with `method` (an AddedBotMessage event) and returns its Message. */
function storeBotMessage(server, rawMessage, botToken, method) {
  parseJsonFields(rawMessage);
  originalAddBotMessage.call(server, rawMessage, botToken);
  const entry = server.storage.botMessages[server.storage.botMessages.length - 1];
  entry.method = method;
  entry.editCount = 0;
  return botEntryToTelegram(server, entry);
}

TelegramServer.prototype.addBotMessage = function addBotMessage(rawMessage, botToken) {
  return storeBotMessage(this, rawMessage, botToken, 'sendMessage');
};

/** The update as getUpdates gives it to the bot. */
function formatUpdate(update) {
  if ('callbackQuery' in update) {
    const cq = update.callbackQuery;
    const query = {
      id: String(update.callbackId),
      from: cq.from,
      chat_instance: String(cq.chat_instance || (cq.message && cq.message.chat ? cq.message.chat.id : 0)),
    };
    if (cq.message) query.message = cq.message;
    if (cq.inline_message_id) query.inline_message_id = cq.inline_message_id;
    if (cq.data !== undefined) query.data = cq.data;
    if (cq.game_short_name !== undefined) query.game_short_name = cq.game_short_name;
    return { update_id: update.updateId, callback_query: query };
  }
  if ('inlineQuery' in update) return { update_id: update.updateId, inline_query: update.inlineQuery };
  return { update_id: update.updateId, message: userMessageToTelegram(update) };
}

/*
 * With a webhook set, a user's update is POSTed to it as Telegram does: the same JSON getUpdates gives,
 * the X-Telegram-Bot-Api-Secret-Token header when setWebhook had a secret_token, and a failed delivery
 * (no answer, or a status other than 2xx, after the tries below) fails the client's request (the package's axios call posted its
 * own format, without the header). A delivered update is stored as read, as a polled one is once
 * confirmed, so the history shows it and a callback query's answer finds it. The update id is taken before the delivery is awaited: the package
 * counted it up afterwards, so users writing at the same time got the same update id.
 */
const axios = require('axios');
// Telegram delivers an update again when the webhook fails; here a server error or no answer is tried again
// after a second, up to three times in all, and a 4xx (a wrong secret token) is final at once.
const WEBHOOK_ATTEMPTS = 3;
const WEBHOOK_RETRY_MS = 1000;

TelegramServer.prototype.addUserUpdate = async function addUserUpdate(update) {
  if (!update.botToken) throw new Error('The message must be of type object and must contain `botToken` field.');
  const webhook = this.webhooks[update.botToken];
  this.updateId = Math.max(this.updateId, update.updateId + 1);
  if (webhook) {
    const headers = { 'Content-Type': 'application/json' };
    if (webhook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = String(webhook.secret_token);
    let status = 0;
    for (let attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt += 1) {
      try {
        const resp = await axios({
          url: String(webhook.url), method: 'POST', data: formatUpdate(update), headers,
          timeout: 10000, validateStatus: () => true, proxy: false,
        });
        status = resp.status;
      } catch (err) {
        status = 0; // no answer: refused, reset or timed out
      }
      if ((status >= 200 && status <= 299) || (status >= 400 && status <= 499)) break;
      if (attempt < WEBHOOK_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, WEBHOOK_RETRY_MS));
    }
    if (status < 200 || status > 299) {
      throw new Error(`Webhook invocation failed: ${status ? `HTTP ${status}` : 'no answer'}`);
    }
    update.isRead = true; // delivered: kept for the history and for answerCallbackQuery, never polled
    this.storage.userMessages.push(update);
  } else {
    this.storage.userMessages.push(update);
  }
};

// ---------------------------------------------------------------- bot routes

const pollers = new Map(); // token -> {finish(result)}

function pendingUpdates(server, token, offset) {
  const mine = server.storage.userMessages.filter((u) => u.botToken === token && !u.isRead);
  if (offset > 0) {
    for (const u of mine) if (u.updateId < offset) u.isRead = true; // confirmed
  }
  return mine.filter((u) => !u.isRead);
}

function getUpdatesRoute(app, server) {
  handle(app, '/bot:token/getUpdates', (req, res) => {
    let p;
    try {
      p = params(req);
    } catch (error) {
      sendFail(res, error);
      return;
    }
    const token = req.params.token;
    const offset = Number(p.offset || 0);
    const limit = Math.min(Math.max(Number(p.limit || 100), 1), 100);
    const timeout = Math.min(Math.max(Number(p.timeout || 0), 0), MAX_LONG_POLL_SECONDS);
    const allowed = Array.isArray(p.allowed_updates) && p.allowed_updates.length ? new Set(p.allowed_updates) : null;
    const collect = () => pendingUpdates(server, token, offset)
      .slice(0, limit)
      .map(formatUpdate)
      .filter((u) => !allowed || Object.keys(u).some((k) => allowed.has(k)));

    const previous = pollers.get(token);
    if (previous) {
      previous.finish(null, new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'));
    }

    const first = collect();
    if (first.length || timeout === 0) {
      sendOk(res, first);
      return;
    }
    let timer = null;
    const events = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery', 'AddedUserInlineQuery'];
    const poller = {
      finish(result, error) {
        clearTimeout(timer);
        events.forEach((e) => server.off(e, onUpdate));
        res.off('close', onClose);
        if (pollers.get(token) === poller) pollers.delete(token);
        if (res.writableEnded || res.destroyed) return;
        if (error) sendFail(res, error);
        else sendOk(res, result);
      },
    };
    function onUpdate() {
      const got = collect();
      if (got.length) poller.finish(got);
    }
    function onClose() {
      // the bot gave up on this request (cancelled / timed out): nothing was delivered, and
      // nothing is lost either, as updates stay pending until an offset confirms them.
      poller.finish(null, null);
    }
    timer = setTimeout(() => poller.finish([]), timeout * 1000);
    events.forEach((e) => server.on(e, onUpdate));
    res.on('close', onClose);
    pollers.set(token, poller);
  });
}

function validateCommands(commands) {
  if (!Array.isArray(commands)) throw badRequest('parameter "commands" must be an array');
  if (commands.length > 100) throw badRequest('too many commands');
  for (const c of commands) {
    const command = c && String(c.command || '').replace(/^\//, '');
    if (!command || command.length > 32 || !/^[a-z0-9_]+$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
    const description = c && String(c.description || '');
    if (!description.trim() || description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
  }
}

/** A chat scope names a chat the bot knows (a user who never wrote to it: "chat not found", as Telegram says). */
function checkScopeChat(scope) {
  if (scope && typeof scope === 'object' && scope.chat_id !== undefined && !state.chats.has(String(scope.chat_id))) {
    throw badRequest('chat not found');
  }
}

function commandsKey(p) {
  const scope = p.scope && typeof p.scope === 'object' ? p.scope : { type: 'default' };
  return `${JSON.stringify({ type: scope.type, chat_id: scope.chat_id, user_id: scope.user_id })}|${p.language_code || ''}`;
}

function editTarget(server, p, token) {
  if (p.inline_message_id !== undefined) return null;
  if (p.chat_id === undefined || p.message_id === undefined) {
    throw badRequest('message identifier is not specified');
  }
  const entry = findBotEntry(server, p.chat_id, p.message_id, token);
  if (!entry) {
    const userMessage = findAnyMessage(server, p.chat_id, p.message_id, token);
    if (userMessage) throw badRequest("message can't be edited");
    throw badRequest('message to edit not found');
  }
  return entry;
}

function markEdited(server, entry, p, eventName) {
  entry.editDate = nowSeconds();
  entry.editCount = (entry.editCount || 0) + 1;
  entry.editedBy = entry.editedBy || [];
  entry.editedBy.push(eventName === 'EditedMessageText' ? 'editMessageText' : 'editMessageReplyMarkup');
  server.emit(eventName);
}

function setReplyMarkup(message, markup) {
  const inline = inlineMarkup(markup);
  if (inline && inline.inline_keyboard.length) message.reply_markup = inline;
  else delete message.reply_markup;
}

const RESULT_TYPES = new Set([
  'article', 'photo', 'gif', 'mpeg4_gif', 'video', 'audio', 'voice', 'document', 'location', 'venue',
  'contact', 'game', 'sticker',
]);

/** Inline results as Telegram checks them: at most 50, ids of 1-64 bytes and unique, an article with a title
 * and message content whose text would parse; returns them as given. */
function checkInlineResults(results) {
  if (!Array.isArray(results)) throw badRequest("can't parse inline query results JSON object");
  if (results.length > 50) throw badRequest('RESULTS_TOO_MUCH');
  const ids = new Set();
  for (const r of results) {
    if (!r || !RESULT_TYPES.has(String(r.type))) throw badRequest('RESULT_TYPE_INVALID');
    const id = String(r.id === undefined ? '' : r.id);
    if (!id || Buffer.byteLength(id) > 64) throw badRequest('RESULT_ID_INVALID');
    if (ids.has(id)) throw badRequest('RESULT_ID_DUPLICATE');
    ids.add(id);
    const content = r.input_message_content;
    if (r.type === 'article') {
      if (!String(r.title || '').trim()) throw badRequest('RESULT_TITLE_EMPTY');
      if (!content) throw badRequest('SEND_MESSAGE_MEDIA_INVALID');
    }
    if (content && content.message_text !== undefined) checkText(content.message_text, content.parse_mode);
  }
  return results;
}

function checkResultsButton(button) {
  if (button === undefined || button === null) return;
  if (!String(button.text || '').trim()) throw badRequest('BUTTON_TEXT_INVALID');
  if ((button.start_parameter === undefined) === (button.web_app === undefined)) throw badRequest('BUTTON_TYPE_INVALID');
  if (button.start_parameter !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(String(button.start_parameter))) {
    throw badRequest('START_PARAM_INVALID');
  }
}

let inlineQueryCounter = 0; // never reset: inline query ids stay unique across /reset

function botRoutes(server) {
  return [
    // File downloads, as https://api.telegram.org/file/bot<token>/<file_path>.
    (app) => {
      app.get('/file/bot:token/*', (req, res) => {
        const fileId = state.filePaths.get(req.params[0]);
        const record = fileId && state.files.get(fileId);
        if (!record || record.token !== req.params.token) {
          res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
          return;
        }
        res.status(200).set('Content-Type', 'application/octet-stream').send(record.data);
      });
    },
    // Logs every bot call but getUpdates, for /getBotCalls.
    (app) => {
      app.all('/bot:token/:method', (req, res, next) => {
        if (req.params.method !== 'getUpdates') {
          let logged;
          try {
            logged = params(req);
          } catch (_e) {
            logged = { ...(req.query || {}), ...(req.body || {}) };
          }
          state.calls.push({ method: req.params.method, token: req.params.token, params: logged, time: Date.now() });
          if (state.calls.length > MAX_CALL_LOG) state.calls.splice(0, state.calls.length - MAX_CALL_LOG);
        }
        next();
      });
    },
    (app) => botMethod(app, 'getMe', (_p, token) => botUser(token)),
    (app) => getUpdatesRoute(app, server),
    (app) => botMethod(app, 'sendMessage', (p, token) => {
      if (p.chat_id === undefined || p.chat_id === '') throw badRequest('chat not found');
      checkText(p.text, p.parse_mode);
      return server.addBotMessage(p, token);
    }),
    (app) => botMethod(app, 'sendDocument', (p, token, req) => {
      let record;
      const part = mediaUpload(p, req, 'document');
      if (part) {
        if (part.data.length > MAX_BOT_UPLOAD) throw new ApiError(413, 'Request Entity Too Large');
        record = storeFile(token, part.file_name, part.mime_type, part.data);
      } else if (typeof p.document === 'string' && p.document !== '') {
        if (/^https?:\/\//i.test(p.document)) {
          console.error('[emulator] sendDocument by HTTP URL is not emulated (upload the bytes or resend a file_id)');
          throw badRequest('failed to get HTTP URL content');
        }
        record = fileForBot(p.document, token);
        if (!record) throw badRequest('wrong file identifier/HTTP URL specified');
      } else {
        throw badRequest('there is no document in the request');
      }
      const message = { ...p, document: documentOf(record) };
      return storeBotMessage(server, message, token, 'sendDocument');
    }),
    (app) => botMethod(app, 'sendPhoto', (p, token, req) => {
      let record;
      const part = mediaUpload(p, req, 'photo');
      if (part) {
        if (part.data.length > MAX_PHOTO) throw badRequest('PHOTO_INVALID_DIMENSIONS');
        const size = imageSize(part.data);
        if (!size) throw badRequest('IMAGE_PROCESS_FAILED');
        if (size.width + size.height > 10000 || Math.max(size.width / size.height, size.height / size.width) > 20) {
          throw badRequest('PHOTO_INVALID_DIMENSIONS');
        }
        record = storeFile(token, part.file_name || 'photo', part.mime_type, part.data);
        Object.assign(record, size);
      } else if (typeof p.photo === 'string' && p.photo !== '') {
        record = fileForBot(p.photo, token);
        if (!record || record.width === undefined) throw badRequest('wrong file identifier/HTTP URL specified');
      } else {
        throw badRequest('there is no photo in the request');
      }
      const photo = [{
        file_id: record.file_id, file_unique_id: record.file_unique_id, width: record.width, height: record.height, file_size: record.file_size,
      }];
      return storeBotMessage(server, { ...p, photo }, token, 'sendPhoto');
    }),
    (app) => botMethod(app, 'getFile', (p, token) => {
      const record = fileForBot(p.file_id, token);
      if (!record) throw badRequest('invalid file_id');
      if (record.file_size > MAX_GET_FILE) throw badRequest('file is too big');
      if (!record.file_path) {
        const ext = extensionOf(record.file_name);
        record.file_path = `documents/file_${record.number}${ext ? `.${ext}` : ''}`;
        state.filePaths.set(record.file_path, record.file_id);
      }
      return {
        file_id: record.file_id,
        file_unique_id: record.file_unique_id,
        file_size: record.file_size,
        file_path: record.file_path,
      };
    }),
    (app) => botMethod(app, 'editMessageText', (p, token) => {
      checkText(p.text, p.parse_mode);
      const entry = editTarget(server, p, token);
      if (entry === null) return true; // inline message: nothing stored to edit
      if (entry.message.text === undefined) throw badRequest('there is no text in the message to edit');
      const old = entry.message;
      const newMarkup = inlineMarkup(p.reply_markup);
      if (String(old.text) === String(p.text) && same(old.parse_mode, p.parse_mode)
        && same(old.entities, p.entities) && same(inlineMarkup(old.reply_markup), newMarkup)) {
        throw badRequest('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
      }
      const message = { ...old, text: String(p.text) };
      for (const key of ['parse_mode', 'entities', 'link_preview_options']) {
        if (p[key] !== undefined) message[key] = p[key];
        else delete message[key];
      }
      setReplyMarkup(message, p.reply_markup);
      entry.history = entry.history || [];
      entry.history.push({ text: old.text, parse_mode: old.parse_mode, reply_markup: old.reply_markup });
      entry.message = message;
      markEdited(server, entry, p, 'EditedMessageText');
      return botEntryToTelegram(server, entry);
    }),
    (app) => botMethod(app, 'editMessageReplyMarkup', (p, token) => {
      const entry = editTarget(server, p, token);
      if (entry === null) return true;
      const old = entry.message;
      if (same(inlineMarkup(old.reply_markup), inlineMarkup(p.reply_markup))) {
        throw badRequest('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
      }
      const message = { ...old };
      setReplyMarkup(message, p.reply_markup);
      entry.history = entry.history || [];
      entry.history.push({ text: old.text, parse_mode: old.parse_mode, reply_markup: old.reply_markup });
      entry.message = message;
      markEdited(server, entry, p, 'EditedMessageReplyMarkup');
      return botEntryToTelegram(server, entry);
    }),
    (app) => botMethod(app, 'answerCallbackQuery', (p, token) => {
      const id = String(p.callback_query_id || '');
      const known = server.storage.userMessages.some((u) => (
        u.botToken === token && 'callbackQuery' in u && String(u.callbackId) === id));
      if (!known || state.answeredCallbacks.has(`${token}|${id}`)) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      if (p.text !== undefined && String(p.text).length > 200) throw badRequest('MESSAGE_TOO_LONG');
      state.answeredCallbacks.add(`${token}|${id}`);
      state.callbackAnswers.push({
        callback_query_id: id,
        text: p.text,
        show_alert: flag(p.show_alert),
        url: p.url,
        cache_time: p.cache_time === undefined ? undefined : Number(p.cache_time),
        token,
        time: Date.now(),
      });
      return true;
    }),
    (app) => botMethod(app, 'answerInlineQuery', (p, token) => {
      const id = String(p.inline_query_id || '');
      const known = server.storage.userMessages.some((u) => u.botToken === token && u.inlineQuery && u.inlineQuery.id === id);
      if (!known || state.inlineAnswers.some((a) => a.token === token && a.inline_query_id === id)) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      const results = checkInlineResults(p.results);
      checkResultsButton(p.button);
      if (p.next_offset !== undefined && Buffer.byteLength(String(p.next_offset)) > 64) throw badRequest('NEXT_OFFSET_INVALID');
      state.inlineAnswers.push({
        inline_query_id: id,
        results,
        button: p.button,
        cache_time: p.cache_time === undefined ? 300 : Number(p.cache_time),
        is_personal: flag(p.is_personal),
        next_offset: p.next_offset === undefined ? '' : String(p.next_offset),
        token,
        time: Date.now(),
      });
      return true;
    }),
    (app) => botMethod(app, 'deleteMessage', (p) => {
      const chatId = Number(p.chat_id);
      const messageId = Number(p.message_id);
      if (!Number.isFinite(chatId) || !Number.isFinite(messageId)) throw badRequest('message identifier is not specified');
      if (!server.deleteMessage(chatId, messageId)) throw badRequest('message to delete not found');
      return true;
    }),
    (app) => botMethod(app, 'setWebhook', (p, token) => {
      if (!p.url) {
        server.deleteWebhook(token);
        return true;
      }
      server.setWebhook(p, token);
      return true;
    }),
    (app) => botMethod(app, 'deleteWebhook', (p, token) => {
      server.deleteWebhook(token);
      if (flag(p.drop_pending_updates)) pendingUpdates(server, token, Infinity);
      return true;
    }),
    (app) => botMethod(app, 'getWebhookInfo', (_p, token) => {
      const hook = server.webhooks[token];
      return {
        url: hook ? String(hook.url) : '',
        has_custom_certificate: false,
        pending_update_count: pendingUpdates(server, token, 0).length,
      };
    }),
    (app) => botMethod(app, 'setMyCommands', (p, token) => {
      validateCommands(p.commands);
      checkScopeChat(p.scope);
      state.commands[token] = state.commands[token] || {};
      state.commands[token][commandsKey(p)] = p.commands.map((c) => ({
        command: String(c.command).replace(/^\//, ''), description: String(c.description),
      }));
      return true;
    }),
    (app) => botMethod(app, 'getMyCommands', (p, token) => (state.commands[token] || {})[commandsKey(p)] || []),
    (app) => botMethod(app, 'deleteMyCommands', (p, token) => {
      if (state.commands[token]) delete state.commands[token][commandsKey(p)];
      return true;
    }),
    (app) => botMethod(app, 'setChatMenuButton', (p, token) => {
      state.menuButtons[token] = state.menuButtons[token] || {};
      state.menuButtons[token][p.chat_id === undefined ? 'default' : String(p.chat_id)] = p.menu_button || { type: 'default' };
      return true;
    }),
    (app) => botMethod(app, 'getChatMenuButton', (p, token) => {
      const buttons = state.menuButtons[token] || {};
      const key = p.chat_id === undefined ? 'default' : String(p.chat_id);
      const button = buttons[key] || buttons.default;
      return button && button.type !== 'default' ? button : { type: 'commands' };
    }),
    (app) => botMethod(app, 'sendChatAction', (p) => {
      if (p.chat_id === undefined) throw badRequest('chat not found');
      if (!CHAT_ACTIONS.has(String(p.action))) throw badRequest('wrong parameter action in request');
      return true;
    }),
    ...[['description', 'Description', 512], ['short_description', 'ShortDescription', 120], ['name', 'Name', 64]]
      .flatMap(([field, suffix, maxLength]) => [
        (app) => botMethod(app, `setMy${suffix}`, (p, token) => {
          const value = p[field] === undefined ? '' : String(p[field]);
          if (value.length > maxLength) throw badRequest(`bot ${field.replace('_', ' ')} is too long`);
          state.texts[token] = state.texts[token] || {};
          state.texts[token][`${field}|${p.language_code || ''}`] = value;
          return true;
        }),
        (app) => botMethod(app, `getMy${suffix}`, (p, token) => {
          const stored = (state.texts[token] || {})[`${field}|${p.language_code || ''}`];
          return { [field]: stored !== undefined ? stored : (field === 'name' ? BOT_FIRST_NAME : '') };
        }),
      ]),
    (app) => botMethod(app, 'getChat', (p) => {
      const chat = state.chats.get(String(p.chat_id));
      if (!chat) throw badRequest('chat not found');
      return { ...chat, accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false, gifts_from_channels: false } };
    }),
    (app) => botMethod(app, 'logOut', () => true),
    (app) => botMethod(app, 'close', () => true),
    (app) => botMethod(app, ':method', (p, _token, req) => {
      console.error(`[emulator] bot called unsupported method ${req.params.method}`);
      throw new ApiError(404, `Not Found: method ${req.params.method} is not supported by the test emulator (telegram-test-api 4.2.1 + tests/emulator/launcher.js)`);
    }),
  ];
}

// ---------------------------------------------------------------- client routes

function requireToken(body) {
  if (!body.botToken) throw badRequest('the message must contain a `botToken` field');
  return body.botToken;
}

function prepareUserMessage(server, body) {
  const token = requireToken(body);
  if (!body.from || body.from.id === undefined) throw badRequest('the message must contain `from` (a User)');
  const message = { ...body };
  message.date = message.date ? toSeconds(Number(message.date)) : nowSeconds();
  message.chat = message.chat || { id: body.from.id, type: 'private', first_name: body.from.first_name };
  message.chat = { ...message.chat, id: Number(message.chat.id) };
  if (message.reply_to_message) message.reply_to_message = toTelegramMessage(server, message.reply_to_message, token);
  rememberChat(message.chat);
  return message;
}

function clientRoutes(server) {
  return [
    (app) => clientRoute(app, '/sendMessage', async (body) => {
      const message = prepareUserMessage(server, body);
      const ids = { update_id: server.updateId, message_id: server.messageId };
      await server.addUserMessage(message);
      return ids;
    }),
    (app) => clientRoute(app, '/sendCommand', async (body) => {
      const message = prepareUserMessage(server, body);
      if (!Array.isArray(message.entities) || !message.entities.some((e) => e.type === 'bot_command')) {
        throw badRequest('a command must have a bot_command entity');
      }
      const ids = { update_id: server.updateId, message_id: server.messageId };
      await server.addUserCommand(message);
      return ids;
    }),
    (app) => clientRoute(app, '/sendCallback', async (body) => {
      const token = requireToken(body);
      if (!body.from || body.from.id === undefined) throw badRequest('the callback must contain `from` (a User)');
      const query = { ...body };
      if (query.message) query.message = toTelegramMessage(server, query.message, token);
      if (query.message && query.message.chat) {
        query.chat_instance = query.chat_instance || String(query.message.chat.id);
      }
      const ids = { update_id: server.updateId, callback_query_id: String(server.callbackId) };
      await server.addUserCallback(query);
      return ids;
    }),
    (app) => clientRoute(app, '/sendDocument', async (body, req) => {
      let fields = body;
      if (typeof body.message === 'string') {
        try {
          fields = { ...JSON.parse(body.message), ...(body.caption !== undefined ? { caption: body.caption } : {}) };
        } catch (_e) {
          throw badRequest("can't parse the `message` field as JSON");
        }
      }
      let upload = (req.files || {}).document;
      if (!upload && fields.document && typeof fields.document === 'object' && typeof fields.document.content_base64 === 'string') {
        upload = {
          file_name: fields.document.file_name,
          mime_type: fields.document.mime_type,
          data: Buffer.from(fields.document.content_base64, 'base64'),
        };
      }
      if (!upload) throw badRequest('there is no document in the request (a `document` file part, or document.content_base64)');
      if (!upload.file_name) throw badRequest('the document needs a file name');
      if (upload.data.length === 0) throw badRequest('file must be non-empty');
      if (fields.text !== undefined) throw badRequest('a document message has a caption, not a text');
      const { document: _d, ...rest } = fields;
      const message = prepareUserMessage(server, rest);
      const record = storeFile(message.botToken, upload.file_name, upload.mime_type, upload.data);
      message.document = documentOf(record);
      if (message.caption === undefined || message.caption === null || String(message.caption) === '') {
        delete message.caption;
        delete message.caption_entities;
      } else {
        message.caption = String(message.caption);
        if (message.caption.length > MAX_CAPTION_LENGTH) throw badRequest('message caption is too long');
      }
      const ids = { update_id: server.updateId, message_id: server.messageId };
      await server.addUserMessage(message);
      return { ...ids, file_id: record.file_id, file_unique_id: record.file_unique_id };
    }),
    (app) => clientRoute(app, '/sendInlineQuery', async (body) => {
      const token = requireToken(body);
      if (!body.from || body.from.id === undefined) throw badRequest('the inline query must contain `from` (a User)');
      const text = String(body.query === undefined ? '' : body.query);
      if (text.length > 256) throw badRequest('an inline query is at most 256 characters (Telegram clients stop there)');
      inlineQueryCounter += 1;
      const inlineQuery = {
        id: `${botIdOf(token)}${String(inlineQueryCounter).padStart(8, '0')}`,
        from: body.from,
        query: text,
        offset: String(body.offset || ''),
      };
      if (body.chat_type !== undefined) inlineQuery.chat_type = String(body.chat_type);
      const update = { ...server.getCommonFields(token), inlineQuery };
      await server.addUserUpdate(update);
      server.emit('AddedUserInlineQuery');
      return { update_id: update.updateId, inline_query_id: inlineQuery.id };
    }),
    (app) => clientRoute(app, '/getInlineAnswers', (body) => state.inlineAnswers
      .filter((a) => (!body.token || a.token === body.token)
        && (body.inline_query_id === undefined || a.inline_query_id === String(body.inline_query_id)))),
    (app) => clientRoute(app, '/chooseInlineResult', (body) => {
      const answer = state.inlineAnswers.find((a) => (!body.token || a.token === body.token)
        && a.inline_query_id === String(body.inline_query_id));
      const result = answer && answer.results.find((r) => String(r.id) === String(body.result_id));
      if (!result) throw badRequest('no such result among the answers to that inline query');
      const content = result.input_message_content || {};
      if (content.message_text === undefined) throw badRequest('only results with a text message content are emulated');
      const posted = { text: String(content.message_text), via_bot: botUser(answer.token) };
      for (const key of ['parse_mode', 'entities', 'link_preview_options']) if (content[key] !== undefined) posted[key] = content[key];
      if (result.reply_markup) posted.reply_markup = result.reply_markup;
      return posted;
    }),
    (app) => {
      app.post('/getDocument', (req, res) => {
        const body = { ...(req.query || {}), ...(req.body || {}) };
        const record = state.files.get(String(body.file_id || ''));
        if (!record || (body.token && record.token !== body.token)) {
          sendFail(res, new ApiError(404, `Not Found: no stored file with file_id ${JSON.stringify(body.file_id)}`));
          return;
        }
        res.status(200)
          .set('Content-Type', 'application/octet-stream')
          .set('X-File-Name', encodeURIComponent(record.file_name))
          .set('X-Mime-Type', record.mime_type)
          .send(record.data);
      });
    },
    pkgRoutes.client.getUpdates,
    pkgRoutes.client.getUpdatesHistory,
    (app) => clientRoute(app, '/getBotCalls', (body) => state.calls
      .filter((c) => (!body.token || c.token === body.token) && (!body.method || c.method === body.method))),
    (app) => clientRoute(app, '/getCallbackAnswers', (body) => state.callbackAnswers
      .filter((a) => !body.token || a.token === body.token)),
    (app) => clientRoute(app, '/getBotState', (body) => {
      const token = requireToken({ botToken: body.token });
      return {
        me: botUser(token),
        commands: state.commands[token] || {},
        menu_buttons: state.menuButtons[token] || {},
        texts: state.texts[token] || {},
        webhook: server.webhooks[token] || null,
        chats: [...state.chats.values()],
        pending_updates: pendingUpdates(server, token, 0).length,
      };
    }),
    (app) => clientRoute(app, '/reset', () => {
      // Counters (update_id, message_id) keep growing, so a running bot's offset stays valid.
      server.storage.userMessages.forEach((u) => { u.isRead = true; });
      server.storage.userMessages = [];
      server.storage.botMessages = [];
      state.reset();
      return true;
    }),
  ];
}

// ---------------------------------------------------------------- main

function main() {
  const port = Number(process.argv[2] || process.env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error('usage: node launcher.js PORT');
    process.exit(2);
  }

  // The constructor calls every function of the exported route list, in order, with
  // (expressApp, telegramServer): replace the package's routes by this file's.
  const known = new Set([...Object.values(pkgRoutes.client), ...Object.values(pkgRoutes.bot)]);
  const unexpected = routes.filter((r) => !known.has(r));
  if (unexpected.length) {
    console.error(`[emulator] telegram-test-api has routes this launcher does not know (${unexpected.map((r) => r.name)}); check the package version (4.2.1 expected)`);
  }
  const registerAll = (app, telegramServer) => {
    multipartBodies(app);
    for (const route of [...clientRoutes(telegramServer), ...botRoutes(telegramServer)]) {
      route(app, telegramServer);
    }
  };
  routes.splice(0, routes.length, registerAll, ...unexpected);

  const server = new TelegramServer({ port, host: HOST, storage: 'RAM', storeTimeout: 24 * 3600 });
  server.setMaxListeners(0);

  let stopping = false;
  async function shutdown(code) {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(code), 2000).unref();
    for (const poller of [...pollers.values()]) poller.finish([]);
    try {
      if (server.server) await server.stop();
    } catch (_e) {
      // exiting anyway
    }
    process.exit(code);
  }
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGHUP', () => shutdown(0));
  if (!process.env.EMULATOR_IGNORE_STDIN) {
    process.stdin.on('end', () => shutdown(0));
    process.stdin.on('close', () => shutdown(0));
    process.stdin.on('error', () => shutdown(0));
    process.stdin.resume();
  }
  process.stdout.on('error', () => shutdown(0)); // the reader went away

  server.start().then(() => {
    // Keep idle keep-alive connections open longer than the bot's HTTP pool does, so a request
    // never races the server closing the connection it was sent on.
    server.server.keepAliveTimeout = 120 * 1000;
    server.server.headersTimeout = 125 * 1000;
    server.server.requestTimeout = 0;
    process.stdout.write('READY\n');
  }).catch((error) => {
    console.error(`[emulator] cannot listen on ${HOST}:${port}: ${error && error.code ? error.code : ''} ${error}`);
    process.exit(error && error.code === 'EADDRINUSE' ? 98 : 1);
  });
}

main();
