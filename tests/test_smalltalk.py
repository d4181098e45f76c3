"""Small talk is recognised by its phrase alone; a question that starts with a greeting is still a question."""

import pytest

from bot.smalltalk import kind_of


@pytest.mark.parametrize(
    ("text", "kind"),
    [("你好", "greeting"), ("您好！", "greeting"), ("Hello!", "greeting"), ("在吗？", "greeting"), ("谢谢！", "thanks"),
     ("好的，谢谢", "thanks"), ("谢谢谢谢~", "thanks"), ("Thank you", "thanks"), ("你是谁？", "who"), ("怎么用", "how")],
)
def test_everyday_phrases_are_small_talk(text: str, kind: str):
    assert kind_of(text) == kind


@pytest.mark.parametrize("text", ["你好，后白镇的GDP是多少", "谢谢，那下蜀镇呢", "后白镇", "怎么用好土地指标", "下蜀呢", "？？", ""])
def test_questions_and_town_names_are_not_small_talk(text: str):
    assert kind_of(text) is None
