"""The report texts are repaired in code: broken lines, widths, quote lines, repeats."""

from __future__ import annotations

import re

import pytest

from retrieval import load_corpus
from retrieval.chunking import MAX_CHARS, MIN_CHARS, _split_long, chunk_report, split_sentences
from retrieval.cleaning import clean_report, normalize_width

from .conftest import SEEDS


@pytest.fixture(scope="module")
def reports():
    return {r.town: r for r in load_corpus(SEEDS).reports}


@pytest.fixture(scope="module")
def chunks(reports):
    return {town: chunk_report(r) for town, r in reports.items()}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_sentence_broken_across_blank_lines_is_rejoined(chunks):
    texts = [c.text for c in chunks["句容经济开发区"]]
    assert any("高质量考核压力加大。" in t for t in texts)
    assert any("持续壮大国有资产" in t for t in texts)
    assert not any(t.endswith("压力") for t in texts)


def test_half_width_punctuation_beside_chinese_becomes_full_width():
    assert normalize_width("开发区(黄梅街道)完成投资16.2亿元,同比增加14.8%;完成") == "开发区（黄梅街道）完成投资16.2亿元，同比增加14.8%；完成"


def test_full_width_letters_and_digits_become_ascii_but_chinese_punctuation_stays():
    assert normalize_width("２０２５年ＧＤＰ增长６．２％，很好。") == "2025年GDP增长6.2%，很好。"
    assert normalize_width("1,000 and 10:30") == "1,000 and 10:30"


def test_spaces_between_numbers_and_chinese_are_dropped(chunks):
    texts = [c.text for c in chunks["镇江经开区"]]
    assert any("提供老年助餐服务8.9万人次" in t for t in texts)
    assert not any(re.search(r"\d 年", t) for t in texts)


def test_quote_mark_lines_are_dropped_and_quotes_stay_balanced(chunks):
    for town_chunks in chunks.values():
        for chunk in town_chunks:
            assert chunk.text not in {"“", "”"}
            assert not (chunk.text.endswith("”") and "“" not in chunk.text)


def test_repeated_passages_are_kept_once(chunks):
    texts = [c.text for c in chunks["镇江经开区"]]
    assert sum("风险隐患管控有力" in t for t in texts) == 1
    texts = [c.text for c in chunks["后白镇"]]
    assert sum("涵养社会文明新风" in t for t in texts) == 1


def test_every_chunk_is_quoted_word_for_word(reports, chunks):
    for town, report in reports.items():
        source = squash(normalize_width(report.text).replace("**", ""))
        for chunk in chunks[town]:
            assert squash(chunk.text) in source, chunk.text


def test_headings_and_bold_lead_ins_become_the_section(chunks):
    by_text = {c.text: c for c in chunks["后白镇"]}
    chunk = next(c for t, c in by_text.items() if "组建5支招商团队" in t)
    assert chunk.section == "坚定不移稳增长、促转型，产业发展实现新突破 · 项目招引更加有力"
    five_years = next(c for t, c in by_text.items() if "较2020年增长31%" in t)
    assert five_years.section.startswith("五年来 · 锚定产业强镇")


def test_short_unpunctuated_title_lines_are_headings_not_text(chunks):
    chunk = next(c for c in chunks["下蜀镇"] if "全镇实现地区生产总值90亿元" in c.text)
    assert chunk.section == "加快产业强镇步伐，实体经济支撑有力"
    assert "实体经济支撑有力" not in chunk.text


def test_short_lead_in_sentence_is_merged_with_the_next(chunks):
    chunk = next(c for c in chunks["下蜀镇"] if "全镇实现地区生产总值90亿元" in c.text)
    assert chunk.text.startswith("工业经济运行稳健。全镇实现地区生产总值90亿元")
    assert all(len(c.text) >= MIN_CHARS for town in chunks.values() for c in town if len(split_sentences(c.text)) > 1)


def test_run_on_sentences_are_split_at_semicolons_or_commas(chunks):
    sentence = "；".join(f"第{i}项工作完成投资{i}亿元，同比增长{i}%，群众满意度持续提升" for i in range(12)) + "。"
    parts = _split_long(sentence)
    assert len(parts) > 1 and "".join(parts) == sentence
    assert all(len(p) <= MAX_CHARS + 20 for p in parts)
    assert max(len(c.text) for town in chunks.values() for c in town) <= MAX_CHARS + 20


def test_paragraph_ending_in_colon_continues_into_the_next(reports):
    paragraphs = clean_report(reports["下蜀镇"].text)
    assert any("预期目标是：地区生产总值超95亿元" in p.text for p in paragraphs)


def test_a_first_line_that_is_a_sentence_is_text_not_a_title():
    paragraphs = clean_report("宝华镇2025年工作总结。全镇新建智慧农业大棚120座。\n")
    assert [p.text for p in paragraphs] == ["宝华镇2025年工作总结。全镇新建智慧农业大棚120座。"]
