"""What a chat keeps of its conversation: the last question and towns, for a window of time."""

from __future__ import annotations

from bot import conversation
from retrieval import Engine


def test_the_topic_is_kept_for_the_window_and_then_dropped(engine: Engine):
    chat_data: dict = {}
    asked, answer = conversation.ask(engine, "下蜀镇地区生产总值是多少", None, 3)
    conversation.remember(chat_data, asked, answer, None, now=1000.0)
    topic = conversation.current(chat_data, 1800, now=2799.0)
    assert topic and topic.towns == ("下蜀镇",) and topic.question == "下蜀镇地区生产总值是多少"
    assert conversation.current(chat_data, 1800, now=2801.0) is None
    assert conversation.KEY not in chat_data  # dropped, not only ignored


def test_a_question_about_no_town_keeps_the_chats_town(engine: Engine):
    chat_data: dict = {}
    conversation.remember(chat_data, "下蜀镇地区生产总值是多少", engine.search("下蜀镇地区生产总值是多少"), None)
    before = conversation.current(chat_data, 1800)
    asked, answer = conversation.ask(engine, "全年空气质量优良天数是多少", before, 3)
    conversation.remember(chat_data, asked, answer, before)
    assert conversation.current(chat_data, 1800).towns == ("下蜀镇",)


def test_state_written_by_another_version_is_forgotten_not_fatal():
    for stored in ({"question": "x"}, "text", {"question": "x", "towns": 5, "at": "soon"}):
        chat_data = {conversation.KEY: stored}
        assert conversation.current(chat_data, 1800) is None and conversation.KEY not in chat_data


def test_reset_says_whether_there_was_a_topic():
    chat_data = {conversation.KEY: {"question": "x", "towns": [], "at": 0}}
    assert conversation.forget(chat_data) and not conversation.forget(chat_data)
