"""Hostile input on the question path, property-based (hypothesis), without Telegram.

Whatever a user types -- control characters, NUL, bidi marks, emoji, 10,000
characters, HTML, Markdown, SQL -- the question path never raises, only quotes
passages of the corpus, and replies with valid Telegram HTML in which nothing
the user typed can become markup. Callback data and the tokenizer are checked
the same way.

Lone surrogates (U+D800-U+DFFF) are left out of the generated text: they cannot
be encoded in UTF-8, so they never arrive in a Telegram update (the Bot API sends
UTF-8 JSON), and the tokenizer (rjieba, Rust) rejects them with UnicodeEncodeError.
"""

from __future__ import annotations

from dataclasses import replace

import re
from html import unescape

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import buttons, handlers, render
from bot.questions import MAX_CHARS, clean_question, question_problem
from retrieval import Answer, Engine

from .test_render import TagChecker

# Fragments that make generated text hostile, or make it reach the search and the answer path.
HOSTILE = (
    "<b><i>",
    "</i></b>",
    "<b><i>后白镇</b></i>",
    "<script>alert(1)</script>",
    "<a href='javascript:alert(1)'>x</a>",
    '<a href="tg://user?id=1">',
    "<tg-spoiler>",
    "<pre><code class='x'>",
    "<!-- -->",
    "<![CDATA[x]]>",
    "&lt;b&gt;",
    "&amp;",
    "&#60;script&#62;",
    "&",
    "<",
    ">",
    "*_[]()",
    "**粗体** __下划线__ [链接](http://example.com) `代码` ~~删~~ ||剧透||",
    "'; DROP TABLE queries;--",
    '" OR 1=1 --',
    "%s %d {0} {question}",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\u202e",
    "\u200f",
    "\u200b",
    "\ufeff",
    "\u2028",
    "😀",
    "👨‍👩‍👧‍👦",
    "🇨🇳",
    "İ",
    "ﬁ",
    "ß",
    "Ｇ Ｄ Ｐ",
    "２０２５",
    "後白鎮",
    "ـ",
    "مرحبا",
    "שלום",
    " ",
)
# ...and pieces of real questions, so that many generated questions do find passages.
QUESTION_PARTS = (
    "后白镇",
    "下蜀镇",
    "镇江经开区",
    "2025年",
    "2024年",
    "GDP",
    "地区生产总值",
    "是多少",
    "空气质量优良天数",
    "固定资产投资",
    "一般公共预算收入",
    "智慧农业",
    "？",
    "上半年",
)
ANY_CHAR = st.characters(exclude_categories=("Cs",))  # everything a UTF-8 string can hold
FRAGMENT = st.one_of(st.sampled_from(HOSTILE), st.sampled_from(QUESTION_PARTS), st.text(ANY_CHAR, max_size=4))
MIXED = st.lists(FRAGMENT, max_size=12).map("".join)
LONG = st.builds(lambda piece, n: (piece * n)[:10_000], st.text(ANY_CHAR, min_size=1, max_size=8), st.integers(300, 10_000))
HOSTILE_TEXT = st.one_of(st.text(ANY_CHAR, max_size=60), MIXED, MIXED, LONG)

EXAMPLES = (
    "后白镇2025年GDP是多少？",
    "<b><i>后白镇</i></b> 2025年<script>alert(1)</script>地区生产总值是多少？",
    "后白镇'; DROP TABLE queries;-- 地区生产总值",
    "*_[后白镇](http://x)_* **GDP**",
    "\x00\u202e后白镇\u200f GDP",
    "😀" * 10_000,
    "后" * 10_000,
)

BOT_TAGS = {"<b>", "</b>", "<blockquote>", "</blockquote>"}  # all the markup a question's reply may hold
LIMIT = 10


def with_examples(test):
    for text in EXAMPLES:
        test = example(text)(test)
    return test


def check_tags(html_text: str) -> None:
    """Telegram's tags only, closed and nested properly (any length)."""
    checker = TagChecker()
    checker.feed(html_text)
    checker.close()
    assert not checker.stack, html_text


def visible(html_text: str) -> str:
    return unescape(re.sub(r"<[^>]*>", "", html_text))


@pytest.fixture(scope="module")
def passages(engine: Engine) -> set[str]:
    return {chunk.text for chunk in engine.index.chunks[:]}


def reply_for(engine: Engine, text: str) -> tuple[str, str | None, Answer | None]:
    """The HTML handlers.answer_question would send for text (rate limit and query log aside)."""
    question = clean_question(text)
    problem = question_problem(question, MAX_CHARS)
    if problem:
        return render.escape(problem), problem, None
    answer = engine.search(question, handlers.LOGGED_RESULTS)
    if not answer.hits:
        return render.not_found_html(list(engine.reports)), None, answer
    return render.answer_html(answer.lead, sure=answer.sure), None, answer


# 1. checking and searching ---------------------------------------------------------------------------


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@with_examples
@given(text=HOSTILE_TEXT)
def test_any_text_is_checked_and_searched_without_error(engine: Engine, passages: set[str], text: str):
    question = clean_question(text)
    assert not any(c in question for c in "\x00\u202e\u200f\ufeff")
    assert question == question.strip()
    problem = question_problem(question)
    if problem is not None:
        assert isinstance(problem, str) and problem
        return
    assert 0 < len(question) <= MAX_CHARS
    answer = engine.search(question, limit=10)
    assert len(answer.hits) <= 10 and answer.total >= len(answer.hits)
    for hit in answer.hits:
        assert hit.chunk.text in passages
        assert engine.index.chunks[hit.chunk.id] == hit.chunk
        assert hit.report in engine.reports and hit.report.file == hit.chunk.doc


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@with_examples
@given(text=HOSTILE_TEXT)
def test_search_survives_uncleaned_and_overlong_text(engine: Engine, passages: set[str], text: str):
    """The console and scripts can call the engine without the question checks."""
    answer = engine.search(text, limit=10)
    assert all(hit.chunk.text in passages for hit in answer.hits)


# 2. the reply ----------------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@with_examples
@given(text=HOSTILE_TEXT)
def test_the_reply_is_valid_telegram_html_holding_no_user_markup(engine: Engine, text: str):
    html_text, problem, answer = reply_for(engine, text)
    check_tags(html_text)
    assert len(html_text) <= render.MAX_MESSAGE
    if problem is not None:
        assert "<" not in html_text and visible(html_text) == problem
        return
    if answer is None or not answer.hits:
        assert html_text == render.not_found_html(list(engine.reports))
    # Every piece of markup is one of the bot's own bare tags: no attribute, nothing from the question.
    assert set(re.findall(r"<[^>]*>", html_text)) <= BOT_TAGS, html_text
    outside = re.sub(r"<[^>]*>", "", html_text)
    assert ">" not in outside  # everything else is escaped text
    assert not re.search(r"&(?!(?:amp|lt|gt|quot|#x27);)", outside)
    if answer is not None and answer.hits:
        hit = answer.lead[0]
        # Highlighting only adds bold: the text shown is the passage and its source, whatever was asked.
        plain = [replace(h, spans=()) for h in answer.lead]
        assert visible(html_text) == visible(render.answer_html(plain, sure=answer.sure))
        assert hit.chunk.text in visible(html_text)
        for start, end in hit.spans:
            assert 0 <= start < end <= len(hit.chunk.text)


# 3. highlighting -------------------------------------------------------------------------------------

TEXT = st.one_of(st.text(ANY_CHAR, max_size=40), MIXED)


def spans_for(text_strategy, low: int):
    """Text with spans that may overlap, repeat, be empty, reversed or out of range (from low up)."""

    def spans(text: str):
        bound = st.integers(low, len(text) + 3)
        return st.tuples(st.just(text), st.lists(st.tuples(bound, bound), max_size=8))

    return text_strategy.flatmap(spans)


@settings(max_examples=600, deadline=None)
@example(("一二三四五", [(0, 3), (2, 4), (4, 2), (3, 99)]))
@example(("<b>&amp;</b>", [(0, 3), (3, 3), (4, 20)]))
@given(case=spans_for(TEXT, low=0))
def test_highlighting_any_spans_keeps_the_text_and_the_markup_valid(case):
    text, spans = case
    html_text = render.highlighted(text, spans)
    check_tags(html_text)
    assert visible(html_text) == text
    assert set(re.findall(r"<[^>]*>", html_text)) <= {"<b>", "</b>"}
    bold = "".join(re.findall(r"<b>(.*?)</b>", html_text, re.S))
    assert "<b></b>" not in html_text
    assert len(unescape(bold)) <= len(text)


@settings(max_examples=200, deadline=None)
@example(("abcde", [(-1, 3)]))
@given(case=spans_for(TEXT, low=-5))
def test_highlighting_ignores_negative_spans(case):
    text, spans = case
    html_text = render.highlighted(text, spans)
    check_tags(html_text)
    assert visible(html_text) == text


# 4. callback data ------------------------------------------------------------------------------------


@settings(max_examples=600, deadline=None)
@example("m:999999999999:-999")
@example("m:１２:0")
@example("c:0:٣")
@example("f:1:1\n")
@example("f:1:7")
@example("ingest:add:0123456789abcdef\n")
@example("ingest:remove:../../etc")
@given(
    data=st.one_of(
        st.text(ANY_CHAR, max_size=30),
        *(st.from_regex(p, fullmatch=True) for p in buttons.PATTERNS.values()),
        st.builds("{}:{}:{}".format, st.sampled_from("mcfxM"), st.integers(-10, 10**13), st.integers(-(10**7), 10**7)),
    )
)
def test_forged_callback_data_is_rejected_or_parsed_into_small_integers(data: str):
    confirmed = buttons.parse_confirm(data)
    assert (confirmed is not None) == bool(buttons.PATTERNS[buttons.CONFIRM].match(data))
    assert confirmed is None or confirmed[0] in ("add", "remove", "cancel")
    for kind in (buttons.MORE, buttons.CONTEXT, buttons.FEEDBACK):
        pattern = buttons.PATTERNS[kind]
        pressed = buttons.parse(kind, data)
        assert (pressed is not None) == bool(pattern.match(data))  # what PTB routes is what the handler can read
        if pressed is None:
            continue
        assert 0 <= pressed.query_id < 10**12 and 0 <= pressed.arg < 1_000_000 or pressed.arg == -1
        assert kind != buttons.FEEDBACK or pressed.arg in (1, -1)


@settings(max_examples=300, deadline=None)
@example(10**12, 999, 1, True)
@example(10**12 - 1, 99_998, 1, True)
@given(
    query_id=st.integers(1, 10**12),
    first=st.integers(0, 99_999),
    count=st.integers(1, 10),
    more=st.booleans(),
)
def test_answer_keyboard_data_fits_64_bytes(query_id: int, first: int, count: int, more: bool):
    count = min(count, 100_000 - first)  # ranks (and the next rank) stay within what button data reads
    more = more and first + count <= 99_999
    keyboard = render.answer_keyboard(query_id, first, count, more)
    datas = [button.callback_data for row in keyboard.inline_keyboard for button in row]
    assert len(datas) == count + 2 + more
    for data in datas:
        assert len(data.encode()) <= 64
        kind = data.split(":")[0]
        pressed = buttons.parse(kind, data)
        if query_id < 10**12:  # button data reads at most 12 digits
            assert pressed and pressed.query_id == query_id, data
            if kind == buttons.CONTEXT:
                assert first <= pressed.arg < first + count
            elif kind == buttons.MORE:
                assert pressed.arg == first + count
            else:
                assert kind == buttons.FEEDBACK and pressed.arg in (1, -1)


# 5. the tokenizer ------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@with_examples
@example("İstanbul 后白镇 GDP")
@given(text=HOSTILE_TEXT)
def test_the_tokenizer_takes_any_text(engine: Engine, text: str):
    tokenizer = engine.tokenizer
    terms = tokenizer.terms(text)
    assert all(isinstance(t, str) and t and t == t.strip() for t in terms)
    chars = tokenizer.chars(text)
    assert all(len(c) == 1 and "\u4e00" <= c <= "\u9fff" for c in chars)
    previous_end = 0
    for term, start, end in tokenizer.spans(text):
        assert 0 <= start < end <= len(text), (term, start, end)
        assert start >= previous_end  # in order, never overlapping
        previous_end = end
        assert term and text[start:end].strip()
