"""A chat's follow-ups: a town-only message asks the last question again; a question naming no town prefers
the chat's town, unless only another town's report answers it."""

from __future__ import annotations

import pytest

from retrieval import Engine

LAST = "后白镇2025年地区生产总值是多少"


@pytest.mark.parametrize(
    ("message", "asked"),
    [
        ("那下蜀镇呢？", "下蜀镇2025年地区生产总值是多少"),
        ("下蜀呢", "下蜀镇2025年地区生产总值是多少"),  # an alias
        ("西夏墅镇的呢", "西夏墅镇2025年地区生产总值是多少"),
        ("還有西夏墅鎮和下蜀鎮呢", "西夏墅镇和下蜀镇2025年地区生产总值是多少"),  # traditional script, two towns
        ("2024年呢？", "后白镇2024年地区生产总值是多少"),  # a year alone
        ("那2023的呢", "后白镇2023年地区生产总值是多少"),
        ("下蜀镇2023年呢", "下蜀镇2023年地区生产总值是多少"),  # a town and a year
    ],
)
def test_a_message_that_only_names_a_town_asks_the_last_question_for_it(engine: Engine, message: str, asked: str):
    assert engine.follow_up(message, LAST) == asked


@pytest.mark.parametrize("message", ["下蜀镇的一般公共预算收入呢", "一般公共预算收入呢", "哪个镇呢", "谢谢", "2024年GDP呢"])
def test_a_message_with_words_of_its_own_is_not_a_follow_up(engine: Engine, message: str):
    assert engine.follow_up(message, LAST) is None


def test_a_year_joins_a_question_that_named_none_after_its_towns(engine: Engine):
    assert engine.follow_up("2023年呢", "下蜀镇一般公共预算收入是多少") == "下蜀镇2023年一般公共预算收入是多少"
    assert engine.follow_up("2023年呢", "一般公共预算收入是多少") == "2023年一般公共预算收入是多少"


def test_the_follow_up_is_answered_from_the_new_town(engine: Engine):
    answer = engine.search(engine.follow_up("那下蜀镇呢？", "后白镇一般公共预算收入是多少"))
    assert answer.town_filter == "下蜀镇" and answer.lead
    assert answer.lead[0].report.town == "下蜀镇" and "一般公共预算收入" in answer.lead[0].chunk.text


def test_the_follow_up_keeps_the_year_asked(engine: Engine):
    # 下蜀镇's report is about 2023 and 2024: asked for 2025 it says so rather than quote another year.
    answer = engine.search(engine.follow_up("那下蜀镇呢？", LAST))
    assert not answer.hits and answer.reason == "no report for that year"


def test_a_town_the_reports_do_not_cover_is_asked_again_and_not_found(engine: Engine):
    answer = engine.search(engine.follow_up("那郭庄镇呢", LAST))
    assert not answer.hits and answer.reason == "a town the reports do not cover"


def test_the_last_towns_replace_the_two_it_named(engine: Engine):
    assert engine.follow_up("下蜀镇呢", "后白镇和西夏墅镇的地区生产总值分别是多少") == "下蜀镇的地区生产总值分别是多少"


def test_a_question_naming_no_town_prefers_the_chats_town(engine: Engine):
    unassumed = engine.search("一般公共预算收入是多少")
    for town in ("后白镇", "下蜀镇"):
        answer = engine.search("一般公共预算收入是多少", assume=(town,))
        assert answer.assumed == (town,) and answer.lead[0].report.town == town
        assert "一般公共预算收入" in answer.lead[0].chunk.text
    assert not unassumed.assumed


def test_a_better_passage_elsewhere_still_wins_over_the_chats_town(engine: Engine):
    # Only 下蜀镇's report counts the days of good air; talking about 后白镇 does not hide it.
    answer = engine.search("全年空气质量优良天数是多少", assume=("后白镇",))
    assert answer.lead[0].report.town == "下蜀镇" and not answer.assumed


def test_a_question_naming_a_town_ignores_the_chats_town(engine: Engine):
    answer = engine.search("下蜀镇一般公共预算收入是多少", assume=("后白镇",))
    assert answer.town_filter == "下蜀镇" and not answer.assumed


def test_a_town_no_longer_loaded_is_not_assumed(engine: Engine):
    answer = engine.search("一般公共预算收入是多少", assume=("郭庄镇",))
    assert not answer.assumed and answer.hits
