"""A report from another place, in the form it is published (eval/other/reports/qingshi.txt: wrapped at a printed width,
a review of 2024 and the tasks for 2025 under their own headings), searched beside the bundled reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from retrieval import Engine

from .conftest import CONFIG, SEEDS

DATA = Path(__file__).parent.parent / "eval" / "other" / "reports"
ENTRY = """
[[report]]
file = "qingshi.txt"
town = "青石镇"
aliases = ["青石"]
county = "临河县"
city = "安平市"
province = "河北省"
title = "青石镇人民政府工作报告"
period = "2024年，及2025年目标"
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SEEDS, corpus, dirs_exist_ok=True)
    shutil.copy(DATA / "qingshi.txt", corpus)
    with (corpus / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write(ENTRY)
    return Engine.load(corpus, CONFIG, tmp_path_factory.mktemp("cache"))


def test_what_a_year_achieved_comes_from_its_review_and_its_plan_from_the_plans(engine: Engine):
    """Both parts say 新建高标准农田: 1.2万亩 were built in 2024, 1万亩 are planned for 2025."""
    done = engine.search("2024年青石镇新建高标准农田多少亩？").lead[0]
    planned = engine.search("青石镇2025年计划新建多少亩高标准农田？").lead[0]
    assert "新建高标准农田1.2万亩" in done.chunk.text and done.chunk.section.startswith("一、2024年工作回顾")
    assert "新建高标准农田1万亩" in planned.chunk.text and planned.chunk.section.startswith("二、2025年工作目标")
    named = engine.search("2025年青石镇新建高标准农田多少亩？").lead[0]  # the year the report only plans, no 计划
    assert "新建高标准农田1万亩" in named.chunk.text


def test_a_wrapped_sentence_is_quoted_whole(engine: Engine):
    hit = engine.search("青石镇获得了哪些荣誉称号？").lead[0]
    assert hit.chunk.text == "一年来，青石镇先后荣获“河北省卫生乡镇”“安平市乡村振兴示范镇”“临河县项目建设先进乡镇”等称号，柳园村被评为“全国民主法治示范村”。"


def test_a_figure_of_a_table_is_quoted_from_its_row(engine: Engine):
    """The report's 表1 gives 2023's figures, which no sentence does; flattened, the table was one passage of
    every indicator, second to the sentence about 2024."""
    hit = engine.search("2023年青石镇一般公共预算收入是多少亿元？").lead[0]
    assert hit.chunk.text == "一般公共预算收入：2023年1.82亿元，2024年1.92亿元，增长5.4%。"
    assert hit.chunk.section.endswith("表1 2024年青石镇主要经济指标完成情况")


@pytest.mark.parametrize("question", ["青石镇有多少户农民家的厕所改造了？", "青石镇去年改造了多少户厕所？"])
def test_a_word_no_report_uses_finds_the_passage_by_its_characters(engine: Engine, question: str):
    """No report says 厕所; this one says 户厕. Without the characters of 厕所 counting as the word would, the
    passages about 危房改造 and 清洁取暖改造 (改造, 户) came first."""
    assert "户厕改造1260户" in engine.search(question).lead[0].chunk.text
