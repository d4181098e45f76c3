"""Tables as published (a .docx table, a web page's <table>, cells one per line): each row a sentence of its own,
its figures named by their column and in their unit, where the table stands in the report."""

from __future__ import annotations

import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.cleaning import clean_report
from retrieval.extract import extract
from retrieval.tables import sentences

from .documents import table_pdf

HEADINGS = ["指标", "2023年", "2024年", "增长%"]
ROWS = [["全口径税收收入（亿元）", "17.37", "18.64", "7.3"], ["新增城镇就业（人）", "3710", "3862", "4.1"]]
READ = ["全口径税收收入：2023年17.37亿元，2024年18.64亿元，增长7.3%。", "新增城镇就业：2023年3710人，2024年3862人，增长4.1%。"]
BEFORE = "全年完成全口径税收收入18.64亿元，同比增长7.3%。"
AFTER = "（一）聚焦产业升级，经济发展稳中向好"


def paragraphs(name: str, data: bytes) -> list[tuple[tuple[str, ...], str]]:
    return [(p.section, p.text) for p in clean_report(extract(name, data))]


def test_a_docx_table_is_read_row_by_row_where_it_stands():
    import docx

    document = docx.Document()
    document.add_paragraph("一、2024年工作回顾")
    document.add_paragraph(BEFORE)
    document.add_paragraph("表1 2024年主要经济指标完成情况")
    table = document.add_table(rows=0, cols=4)
    for row in [HEADINGS, *ROWS]:
        for cell, text in zip(table.add_row().cells, row):
            cell.text = text
    document.add_paragraph(AFTER)
    document.add_paragraph("全年新增市场主体2137户。")
    buffer = io.BytesIO()
    document.save(buffer)
    got = paragraphs("report.docx", buffer.getvalue())
    texts = [text for _, text in got]
    assert texts == [BEFORE, *READ, "全年新增市场主体2137户。"]  # in document order, not at the end
    assert got[1][0] == ("一、2024年工作回顾", "表1 2024年主要经济指标完成情况")
    assert got[-1][0] == ("一、2024年工作回顾", AFTER)  # the caption heads the table only


def test_a_web_pages_table_of_figures_is_read_row_by_row_and_a_layout_table_is_not():
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in ROWS)
    text = "".join(f"<p>第{i}项工作完成情况良好，全年完成投资{i}亿元，新增就业{i}百人，群众满意度持续提升。</p>" for i in range(1, 6))
    page = (f"<html><body><table><tr><td><div><h2>一、2024年工作回顾</h2><p>{BEFORE}</p>{text}"
            f"<table><caption>2024年主要经济指标完成情况</caption><tr>{''.join(f'<th>{h}</th>' for h in HEADINGS)}</tr>"
            f"{rows}</table><p>{AFTER}</p></div></td></tr></table></body></html>")
    got = paragraphs("report.html", page.encode())
    texts = [text for _, text in got]
    assert texts[texts.index(READ[0]) : texts.index(READ[0]) + 2] == READ
    assert ("2024年主要经济指标完成情况" in got[texts.index(READ[0])][0])
    assert "第5项工作完成情况良好，全年完成投资5亿元，新增就业5百人，群众满意度持续提升。" in texts  # the layout kept


def test_a_row_reads_with_its_headings_and_units_and_a_table_without_headings_as_it_is():
    assert sentences([["项目", "数量（个）", "投资（万元）"], ["道路提升", "12", "3500"], ["污水管网", "", "800"]]) == [
        "道路提升：数量 12个，投资 3500万元。", "污水管网：投资 800万元。"]  # an empty cell is left out
    assert sentences([["规上工业企业（家）", "118", "137", "净增19家"], ["工业投资", "1", "2", "3"]]) == [
        "规上工业企业（家），118，137，净增19家。", "工业投资，1，2，3。"]  # no row of headings: nothing is named
    assert sentences([["指标", "2024年", "2024年"], ["产值（亿元）", "12.5", "12.5"]]) == ["产值：2024年 12.5亿元。"]  # a merged cell once


def test_a_pdf_table_is_read_row_by_row_whether_its_cells_come_a_line_each_or_a_row_a_line():
    got = paragraphs("report.pdf", table_pdf(BEFORE, "表1 2024年主要经济指标完成情况", [HEADINGS, *ROWS], "全年新增市场主体2137户。"))
    assert [text for _, text in got] == [BEFORE, *READ, "全年新增市场主体2137户。"]  # pypdf: a cell a line
    assert got[1][0] == ("表1 2024年主要经济指标完成情况",)
    # (paragraphs a line each, of any length: lines of one width would be taken for a wrapped text and joined)
    around = ["全年新增市场主体2137户。", "街道先后获评“湖北省文明街道”“全省社区治理创新示范单位”，连续三年在全区街道综合考评中位列第一等次。"]
    spaced = "\n".join([BEFORE, "表1 主要指标", *(" ".join(row) for row in [HEADINGS, *ROWS]), *around])
    assert [p.text for p in clean_report(spaced)] == [BEFORE, *READ, *around]


def test_short_lines_that_do_not_make_a_table_stay_text():
    text = "一、2024年工作回顾\n重点工作\n招商引资\n项目建设\n民生保障\n全年签约项目14个。"
    assert [p.text for p in clean_report(text)][-1].endswith("全年签约项目14个。")
    spaced = "全年 完成 投资 12 亿元\n新建 道路 3 条\n改造 小区 4 个\n惠及 900 户。"  # words apart, no headings
    assert [p.text for p in clean_report(spaced)] == ["全年完成投资12亿元新建道路3条改造小区4个惠及900户。"]


CELLS = st.text(alphabet=st.sampled_from("地区生产总值亿元人（）%0123456789. \t年"), max_size=10)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=1, max_size=6), min_size=1, max_size=8))
def test_any_table_is_read_without_error_and_keeps_every_figure(rows):
    rows = [[cell.replace("\t", " ") for cell in row] for row in rows]
    text = "".join(sentences(rows)).replace(" ", "")
    figures = [cell.strip() for row in rows[1:] for cell in row[1:] if re.fullmatch(r"\d+(?:\.\d+)?", cell.strip())]
    assert all(figure in text for figure in figures)
    page = "\n".join(["全年完成地区生产总值38.6亿元。", *("\t".join(row) for row in rows), "全年新增就业120人。"])
    assert clean_report(page)[-1].text.endswith("全年新增就业120人。")


def test_a_table_whose_corner_cell_is_empty_keeps_its_columns():
    rows = ["\t2023年\t2024年", "地区生产总值（亿元）\t36.3\t38.6", "一般公共预算收入（亿元）\t1.82\t1.92"]
    text = "\n".join([BEFORE, *rows, "全年新增市场主体2137户。"])
    assert [p.text for p in clean_report(text)][1:3] == [
        "地区生产总值：2023年36.3亿元，2024年38.6亿元。", "一般公共预算收入：2023年1.82亿元，2024年1.92亿元。"]


def test_a_docx_heading_is_known_by_its_style_without_its_number():
    """Word numbers 「一、」「二、」 itself, outside the text: 「2024年工作回顾」 alone reads as a line with a year, not a
    heading, and the review and the plans would run together."""
    import docx

    document = docx.Document()
    document.add_heading("青山镇政府工作报告", level=0)
    for heading, text in (("2024年工作回顾", "全年新建口袋公园9个。"), ("2025年工作安排", "新建口袋公园12个。")):
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    assert paragraphs("report.docx", buffer.getvalue()) == [
        (("2024年工作回顾",), "全年新建口袋公园9个。"), (("2025年工作安排",), "新建口袋公园12个。")]


def test_a_web_pages_headings_are_known_by_their_tags():
    body = "".join(f"<h2>{h}</h2><p>{t}</p>" for h, t in (("2024年工作回顾", "全年新建口袋公园9个。"), ("2025年工作安排", "新建口袋公园12个。")))
    page = f"<html><body><h1>青山镇政府工作报告</h1>{body}</body></html>"
    assert paragraphs("report.html", page.encode()) == [
        (("2024年工作回顾",), "全年新建口袋公园9个。"), (("2025年工作安排",), "新建口袋公园12个。")]


def test_short_rows_apart_by_spaces_are_not_read_again_as_cells_one_per_line():
    rows = ["项目 甲村 乙村", "道路 12 15", "桥梁 3 4", "公园 9 8", "广场 2 3", "学校 4 5"]
    text = "\n".join([BEFORE, *rows, "全年新增市场主体2137户。"])
    assert [p.text for p in clean_report(text)][1:3] == ["道路：甲村12，乙村15。", "桥梁：甲村3，乙村4。"]
