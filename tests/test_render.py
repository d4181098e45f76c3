"""Telegram HTML: escaping, highlighting, the 4096-character limit, buttons."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot import commands, render
from bot.questions import clean_question, question_problem
from retrieval import Chunk, Context, Engine, Hit, Report

REPORT = Report("a.txt", "<甲>镇", (), "标题 & <i>副标题</i>", "", "某市", "", "2025年", "text")


def hit(text: str, chunk_id: int = 0, section: str = "") -> Hit:
    return Hit(Chunk(chunk_id, "a.txt", REPORT.town, section, 0, text), 1.0, REPORT)


class TagChecker(HTMLParser):
    """Telegram's HTML: only its tags, all closed, properly nested."""

    ALLOWED = {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler", "strong", "em"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        assert tag in self.ALLOWED, tag
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag


def valid_telegram_html(text: str) -> bool:
    checker = TagChecker()
    checker.feed(text)
    checker.close()
    return not checker.stack and len(text) <= render.MAX_MESSAGE


def test_passage_source_and_section_are_escaped():
    html = render.passage(hit("营收<5亿元> & 增长", section="一、<产业>"))
    assert "营收&lt;5亿元&gt; &amp; 增长" in html
    assert "<b>&lt;甲&gt;镇</b>" in html and "《标题 &amp; &lt;i&gt;副标题&lt;/i&gt;》" in html
    assert "一、&lt;产业&gt;" in html
    assert valid_telegram_html(html)


def test_highlighting_bolds_the_spans_and_escapes_around_them():
    assert render.highlighted("A<B>地区生产总值66亿元", [(4, 10)]) == "A&lt;B&gt;<b>地区生产总值</b>66亿元"
    # overlapping, reversed or out-of-range spans never break the markup
    html = render.highlighted("一二三四五", [(0, 3), (2, 4), (4, 2), (3, 99)])
    assert html == "<b>一二三</b>四五" and valid_telegram_html(html)
    assert render.highlighted("智慧农业大棚", [(0, 2), (2, 4)]) == "<b>智慧农业</b>大棚"


def test_the_engine_highlights_the_question_words_and_their_synonyms(engine: Engine):
    hit = engine.search("后白镇2025年GDP是多少").lead[0]
    words = {hit.chunk.text[s:e] for s, e in hit.spans}
    assert "2025" in words and ({"GDP", "地区生产总值"} & words)


def test_a_part_of_a_long_word_bolds_the_whole_word(engine: Engine):
    """「拖欠的工资」 matches the report's 拖欠工资 through its parts; the reply bolds the word as written."""
    hit = engine.search("后白镇督促发放了多少拖欠的工资？").lead[0]
    assert "243万元" in hit.chunk.text
    assert "拖欠工资" in {hit.chunk.text[s:e] for s, e in hit.spans}


def test_an_unsure_answer_says_so_before_the_passage():
    html = render.answer_html([hit("全镇新增就业2500人。")], sure=False)
    assert html.startswith(render.UNSURE) and "全镇新增就业2500人。" in html
    assert render.UNSURE not in render.answer_html([hit("全镇新增就业2500人。")])


def test_messages_stay_under_telegrams_limit():
    long_hits = tuple(hit("很长的句子。" * 100, i) for i in range(20))
    html = render.answer_html(long_hits)
    assert valid_telegram_html(html)
    assert html.startswith("1. <blockquote>")
    html = render.answer_html([hit("字" * 5000)])
    assert len(html) <= render.MAX_MESSAGE and "<" not in html.replace("&lt;", "")


def test_context_puts_the_passage_in_bold_among_its_neighbours():
    chunks = tuple(hit(f"第{i}句<x>。", i).chunk for i in range(3))
    html = render.context_html(Context(Hit(chunks[1], 0.0, REPORT), chunks))
    assert "<b>第1句&lt;x&gt;。</b>" in html and "第0句&lt;x&gt;。" in html
    assert valid_telegram_html(html)


def test_a_long_context_is_folded_in_an_expandable_quote():
    short = tuple(hit(f"第{i}句。" * 20, i).chunk for i in range(3))  # 3 x 80 characters
    long = tuple(hit(f"第{i}句。" * 40, i).chunk for i in range(3))  # 3 x 160
    assert "<blockquote>" in render.context_html(Context(Hit(short[1], 0.0, REPORT), short))
    folded = render.context_html(Context(Hit(long[1], 0.0, REPORT), long))
    assert "<blockquote expandable>" in folded and folded.endswith("</blockquote>")
    assert valid_telegram_html(folded)


def test_help_lists_every_command_an_admin_also_theirs(engine: Engine):
    reports = list(engine.reports)
    for admin, menu in ((False, commands.USER), (True, commands.USER + commands.ADMIN)):
        html = render.help_html(reports, "townqa_bot", admin)
        assert re.findall(r"^/(\w+) — ", html, re.M) == [c.command for c in menu]
        assert valid_telegram_html(html)


def test_help_towns_and_not_found_are_valid_html(engine: Engine):
    reports = list(engine.reports)
    for html in (render.help_html(reports, "townqa_bot"), render.towns_html(reports), render.not_found_html(reports)):
        assert valid_telegram_html(html)
        assert "后白镇" in html


def test_callback_data_fits_telegrams_64_bytes():
    keyboard = render.answer_keyboard(10**12 - 1, 7, 3, True)
    for row in keyboard.inline_keyboard:
        for button in row:
            assert len(button.callback_data.encode()) <= 64
            assert re.fullmatch(r"[mcf]:\d+:-?\d+", button.callback_data)


def test_question_checks():
    assert question_problem(clean_question("\x00\u202e后白镇\u200f GDP  ")) is None
    assert clean_question("\x00\u202e后白镇\u200f") == "后白镇"
    assert "请输入" in question_problem(clean_question("\x00 \t"))
    assert "没看懂" in question_problem("😀？！")
    assert "太长" in question_problem("问" * 301)
