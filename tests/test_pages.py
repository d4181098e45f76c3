"""Page layout undone: page numbers, running headers, lines wrapped at the page width; a PDF round trip."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from retrieval.chunking import chunk_report
from retrieval.corpus import Report
from retrieval.cleaning import clean_report, normalize_width, squeeze_spaces
from retrieval.extract import extract
from retrieval.pages import PAGE_NUMBER, repair

from .conftest import SEEDS
from .documents import report_pdf

# Share of the seeds' sentences that come back the same from a PDF (page numbers, running header, fixed-width
# wrap). Measured: 283 of 289 (0.979) over the five seeds, the lowest 0.930 (003: short heading lines that
# fill a wrapped line are joined to the next one). A drop below these means extraction or cleaning got worse.
ROUND_TRIP_AGREEMENT, ROUND_TRIP_LOWEST = 0.975, 0.92


@pytest.mark.parametrize("line", ["- 3 -", "— 12 —", "第3页", "第 3 页 共 12 页", "3/12", "Page 3"])
def test_page_numbers_are_dropped(line: str):
    assert repair(f"全镇新建公园9个。\n{line}\n改造市场2处。") == "全镇新建公园9个。\n改造市场2处。"


def test_a_sentence_with_a_number_stays():
    assert repair("全年完成3/4的任务。") == "全年完成3/4的任务。"


def test_running_header_is_dropped_and_page_end_breaks_joined():
    pages = [f"某镇工作报告\n第{i}段文字写满了一整行所以被折到下一行继续写\n完{i}。\n- {i} -" for i in range(1, 5)]
    assert repair("\f".join(pages)).splitlines()[:2] == ["第1段文字写满了一整行所以被折到下一行继续写完1。", "第2段文字写满了一整行所以被折到下一行继续写完2。"]


def sentences(text: str) -> list[str]:
    return [re.sub(r"\W", "", c.text) for c in chunk_report(Report("r.txt", "镇", (), "t", "", "", "", "", text))]


def test_the_seeds_survive_text_to_pdf_to_text():
    found = total = 0
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        extracted = extract("r.pdf", report_pdf(text, header="人民政府工作报告"))
        assert not any("人民政府工作报告" in p.text or "- 1 -" in p.text for p in clean_report(extracted))
        want, got = sentences(text), set(sentences(extracted))
        same = sum(s in got for s in want)
        assert same / len(want) >= ROUND_TRIP_LOWEST, (seed.name, same / len(want))
        found, total = found + same, total + len(want)
    assert found / total >= ROUND_TRIP_AGREEMENT, found / total


# A report from another place as a PDF converted to text elsewhere (fictional, written for these tests): lines
# wrapped mid-sentence at about 35 characters, page footers, a table one cell per line, no form feeds.
WRAPPED = Path(__file__).parent.parent / "eval" / "other" / "reports" / "qingshi.txt"


def wrapped_chunks():
    return chunk_report(Report("qingshi.txt", "青石镇", ("青石",), "青石镇人民政府工作报告", "", "", "", "2024年，及2025年目标",
                               WRAPPED.read_text(encoding="utf-8")))


def test_text_wrapped_at_a_printed_width_is_joined_and_text_a_paragraph_a_line_is_not():
    seed = (SEEDS / "000_625f6384119427ea.txt").read_text(encoding="utf-8")
    assert repair(seed) == seed
    lines = repair(WRAPPED.read_text(encoding="utf-8")).splitlines()
    assert "一年来，青石镇先后荣获“河北省卫生乡镇”“安平市乡村振兴示范镇”“临河县项目建设先进乡镇”等称号，柳园村被评为“全国民主法治示范村”。" in lines


def test_no_line_of_a_wrapped_report_is_lost_or_taken_for_a_heading():
    chunks = wrapped_chunks()
    text = "".join(c.text for c in chunks).replace(" ", "")
    headings = {h.replace(" ", "") for c in chunks for h in c.section.split(" · ")} | {"青石镇人民政府工作报告"}  # and the title
    original = [squeeze_spaces(normalize_width(line)).replace(" ", "") for line in WRAPPED.read_text(encoding="utf-8").splitlines()]
    lost = [line for line in original if line and not PAGE_NUMBER.match(line) and line not in text
            and line.rstrip("，,、：:。") not in headings
            and re.sub(r"（[^）]+）$", "", line) not in text]  # a table's row label, its unit moved to its figures
    assert lost == [], lost[:5]
    assert "（二）坚持农业稳基，乡村振兴扎实推进" in headings  # （一） headings, under 一、
    assert not headings & {"指标", "增长", "2023年"}  # a table's cells are no headings


def test_a_table_one_cell_per_line_is_read_row_by_row_under_its_caption():
    rows = [c for c in wrapped_chunks() if c.section.endswith("表1 2024年青石镇主要经济指标完成情况")]
    assert [c.text for c in rows] == [
        "地区生产总值：2023年36.3亿元，2024年38.6亿元，增长6.2%。",
        "一般公共预算收入：2023年1.82亿元，2024年1.92亿元，增长5.4%。",
        "固定资产投资：2023年11.3亿元，2024年12.4亿元，增长9.7%。",
        "社会消费品零售总额：2023年9.2亿元，2024年9.8亿元，增长6.5%。",  # its label is longer than a cell: still a row
        "农村居民人均可支配收入：2023年20410元，2024年21860元，增长7.1%。",
    ]


def test_a_report_spread_over_several_blocks_of_a_page_is_kept_whole():
    """readability finds one article; when much of the report stands elsewhere on the page (here two fifths, in a
    list that readability leaves out), the whole visible text is kept rather than lose it."""
    main = "".join(f"<p>第{i}项工作完成情况良好，全年完成投资{i}亿元，新增就业{i}百人，群众满意度持续提升。</p>" for i in range(1, 9))
    rest = "".join(f"<p>第{i}项任务推进顺利有序，全年完成投资{i}亿元，新增就业{i}百人。</p>" for i in range(1, 9))
    page = f"<html><body><table><tr><td><div>{main}</div></td></tr></table><ul><li><span>{rest}</span></li></ul></body></html>"
    text = extract("report.html", page.encode())
    assert "第8项工作完成情况良好" in text and "第8项任务推进顺利有序" in text


def test_lines_of_a_proportional_font_are_joined_though_a_line_of_digits_is_longer():
    """The widest line of a PDF's page (digits and punctuation are narrow) is no guide to where lines wrap: a line
    a few characters short of it was left alone and its continuation 「道、星空露营基地…」 taken for a heading."""
    lines = [
        "乡村旅游加快发展。白鹭湾景区成功创建国家3A级旅游景区，云上茶谷观光步",
        "道、星空露营基地建成开放，“采茶—制茶—品茶”体验线路入选全省乡村旅游精",
        "品线路。全乡新增民宿21家、床位430张，民宿总数达到68家；茶园研学基地全年接",
        "待中小学生1.2万人次，成功举办第三届南岭茶文化旅游节，活动期间吸引游客4.3",
        "万人次。",
        "2024年实现地区生产总值9.86亿元，增长6.2%；一般公共预算收入3160万元，增长5.1%，",
        "完成固定资产投资2.35亿元。",
    ]
    text = "\n".join(lines[:4]) + "\n— 1 —\f" + "\n".join(lines[4:]) + "\n— 2 —"
    assert repair(text).splitlines() == [
        "".join(lines[:5]),
        "".join(lines[5:]),
    ]
