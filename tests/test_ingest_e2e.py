"""Reports as published, uploaded through the emulator as an admin would: PDF and .docx made here from text."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import pytest_asyncio


from .botharness import admin_bot, copied_seeds
from .conftest import SEEDS
from .documents import report_docx, report_pdf
from .emulator import Emulator
from .test_admin_e2e import press, question, upload_preview

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN, STRANGER = 42, 77
# A town not among the five seeds: the text of one seed with its names replaced, with a title line naming it.
NEW_TOWN = "茅山镇2024年政府工作报告\n" + (SEEDS / "000_625f6384119427ea.txt").read_text(encoding="utf-8").replace("后白", "茅山")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copied_seeds(tmp_path_factory.mktemp("ingest"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emu: Emulator, seeds: Path):
    async with admin_bot(emu.base_url, seeds, ADMIN, max_upload_bytes=2_000_000) as app:
        yield app


def snapshot(seeds: Path) -> tuple[bytes, list[str]]:
    return (seeds / "manifest.toml").read_bytes(), sorted(p.name for p in seeds.iterdir())


async def test_a_new_town_as_pdf_is_answered_by_name_and_alias_after_adding(emu: Emulator, bot, seeds: Path):
    before = snapshot(seeds)
    pdf = report_pdf(NEW_TOWN, header="茅山镇人民政府")
    preview = await upload_preview(emu, ADMIN, "maoshan.pdf", pdf)
    shown = preview["message"]["text"]
    assert "镇/街道：茅山镇" in shown and "标题：茅山镇2024年政府工作报告" in shown and "时期：2024年" in shown
    assert "别名：茅山" in shown and shown.count("例句：") == 3
    assert snapshot(seeds) == before  # the preview changes nothing
    assert "📍 <b>茅山镇" not in await question(emu, 5, "茅山镇2025年地区生产总值是多少")
    replies = await press(emu, ADMIN, preview, "✅ 加入")
    assert "新增：maoshan.txt" in replies[0]
    assert (seeds / "maoshan.pdf").read_bytes() == pdf  # the original kept beside its text
    for asked in ("茅山镇2025年地区生产总值是多少", "茅山2025年地区生产总值是多少"):
        reply = await question(emu, 5, asked)
        assert "66.11亿元" in reply and "📍 <b>茅山镇" in reply, reply
    await emu.send_command(5, "/towns")
    (towns,) = await emu.wait_for_messages(5, timeout=30)
    assert "茅山镇" in towns["message"]["text"]


async def test_cancel_writes_nothing(emu: Emulator, bot, seeds: Path):
    before = snapshot(seeds)
    text = NEW_TOWN.replace("茅山", "白兔")
    preview = await upload_preview(emu, ADMIN, "baitu.docx", report_docx(text))
    assert "镇/街道：白兔镇" in preview["message"]["text"]
    (reply,) = await press(emu, ADMIN, preview, "❌ 取消")
    assert "已取消" in reply and snapshot(seeds) == before
    (again,) = await press(emu, ADMIN, preview, "✅ 加入")  # the pending upload is gone
    assert "已过期" in again and snapshot(seeds) == before


async def test_a_docx_answers_the_same_question_as_its_txt(emu: Emulator, bot, seeds: Path):
    text = NEW_TOWN.replace("茅山", "天王")
    preview = await upload_preview(emu, ADMIN, "tianwang.docx", report_docx(text))
    replies = await press(emu, ADMIN, preview, "✅ 加入")
    assert "新增：tianwang.txt" in replies[0]
    reply = await question(emu, 5, "天王镇2025年地区生产总值是多少")
    assert "66.11亿元" in reply and "📍 <b>天王镇" in reply


async def test_a_text_saved_in_gbk_is_read_and_stored_as_utf8(emu: Emulator, bot, seeds: Path):
    """A report saved on a Chinese Windows machine: GB18030 (GBK), no byte order mark."""
    text = NEW_TOWN.replace("茅山", "宝堰")
    preview = await upload_preview(emu, ADMIN, "baoyan.txt", text.encode("gbk"))
    assert "镇/街道：宝堰镇" in preview["message"]["text"]
    replies = await press(emu, ADMIN, preview, "✅ 加入")
    assert "新增：baoyan.txt" in replies[0]
    assert (seeds / "baoyan.txt").read_text(encoding="utf-8") == text
    reply = await question(emu, 5, "宝堰镇2025年地区生产总值是多少")
    assert "66.11亿元" in reply and "📍 <b>宝堰镇" in reply


async def test_a_figure_only_a_docx_table_gives_is_quoted_from_its_row(emu: Emulator, bot, seeds: Path):
    table = ("表1 主要经济指标", [["指标", "2024年", "2025年"], ["一般公共预算收入（亿元）", "1.02", "1.09"]])
    preview = await upload_preview(emu, ADMIN, "biancheng.docx", report_docx(NEW_TOWN.replace("茅山", "边城"), table))
    replies = await press(emu, ADMIN, preview, "✅ 加入")
    assert "新增：biancheng.txt" in replies[0]
    reply = await question(emu, 5, "边城镇2024年一般公共预算收入是多少？")
    assert "<b>一般公共预算收入</b>：<b>2024</b>年1.02亿元，2025年1.09亿元。" in reply
    assert "📍 <b>边城镇</b>" in reply and "表1主要经济指标" in reply  # the row under the table's caption


def web_page(text: str) -> bytes:
    """A report as a government site publishes it: a script, navigation in a <nav> and in plain <div>s (as most
    such sites write it), a breadcrumb, print and share links and a footer around the article."""
    body = "".join(f"<p>{line}</p>" for line in text.splitlines() if line.strip())
    return (
        "<html><head><title>政府工作报告</title><script>var 统计代码 = 1;</script></head><body>"
        "<nav>首页 | 政务公开 | 网站导航</nav>"
        "<div class='top'><a href='/'>首页</a> <a href='/gk'>信息公开</a> <a href='/hd'>互动交流</a></div>"
        "<div class='crumb'>当前位置：首页 &gt; 政务公开 &gt; 工作报告</div>"
        f"<div class='article'><h1>华阳镇政府工作报告</h1>{body}</div>"
        "<div class='tools'>【打印本页】【关闭窗口】 分享到：微信 微博</div>"
        "<div class='bottom'>主办单位：某某镇人民政府 电话：0511-12345678</div>"
        "<footer>版权所有 某某镇人民政府 苏ICP备00000000号</footer></body></html>"
    ).encode("utf-8")


async def test_a_web_page_answers_the_same_question_as_its_txt(emu: Emulator, bot, seeds: Path):
    text = NEW_TOWN.replace("茅山", "华阳")
    preview = await upload_preview(emu, ADMIN, "huayang.html", web_page(text))
    replies = await press(emu, ADMIN, preview, "✅ 加入")
    assert "新增：huayang.txt" in replies[0]
    written = (seeds / "huayang.txt").read_text(encoding="utf-8")
    assert not [junk for junk in ("网站导航", "统计代码", "版权所有", "当前位置", "互动交流", "打印本页", "主办单位") if junk in written]
    assert written.startswith("华阳镇政府工作报告")
    reply = await question(emu, 5, "华阳镇2025年地区生产总值是多少")
    assert "66.11亿元" in reply and "📍 <b>华阳镇" in reply


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * 60_000_000)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf("某镇工作报告。"))))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.rect(50, 50, 400, 600, fill=1)  # an image-like page with no text
    pdf.showPage()
    pdf.save()
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "problem"),
    [
        ("bomb.docx", zip_bomb, "zip bomb"),
        ("locked.pdf", encrypted_pdf, "encrypted"),
        ("scan.pdf", scanned_pdf, "no text layer"),
        ("english.pdf", lambda: report_pdf("Annual report of the town."), "no Chinese text"),
        ("again.pdf", lambda: report_pdf("x"), "same text"),
    ],
)
async def test_a_bad_document_is_refused_with_its_reason_and_nothing_changes(emu: Emulator, bot, seeds: Path, name, make, problem):
    data = make()
    if name == "again.pdf":  # a PDF of a report already there (same extracted text as its .txt)
        data = (seeds / "maoshan.pdf").read_bytes()
    before = snapshot(seeds)
    reply = await upload_preview(emu, ADMIN, name, data)
    assert "没有添加" in reply["message"]["text"] and problem in reply["message"]["text"], reply["message"]["text"]
    assert "reply_markup" not in reply["message"]
    assert snapshot(seeds) == before


async def test_reports_and_remove_are_admin_only_and_remove_asks_first(emu: Emulator, bot, seeds: Path):
    await emu.send_command(STRANGER, "/reports")
    (refused,) = await emu.wait_for_messages(STRANGER, timeout=30)
    assert "无权限" in refused["message"]["text"]
    await emu.send_command(ADMIN, "/reports")
    (listing,) = await emu.wait_for_messages(ADMIN, timeout=30)
    assert "maoshan.txt · 茅山镇 · 2024年" in listing["message"]["text"]
    await emu.send_command(ADMIN, "/remove maoshan.txt")
    (ask,) = await emu.wait_for_messages(ADMIN, timeout=30)
    assert (seeds / "maoshan.txt").exists()
    replies = await press(emu, ADMIN, ask, "🗑 移除")
    assert "移除：maoshan.txt" in replies[0] or "maoshan.txt" in replies[0], replies
    assert not (seeds / "maoshan.txt").exists() and not (seeds / "maoshan.pdf").exists()
    assert "📍 <b>茅山镇" not in await question(emu, 5, "茅山镇2025年地区生产总值是多少")
