"""Admin commands through the emulator: reload, review, and refusals for everyone else."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
import pytest_asyncio


from .botharness import admin_bot, copied_seeds
from .conftest import SEEDS
from .emulator import Emulator

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN, STRANGER, GROUP = 42, 77, -100555
NEW_REPORT = "宝华镇2025年工作总结。全镇新建智慧农业大棚120座，带动农户增收。"
MANIFEST_ENTRY = '\n[[report]]\nfile = "005_baohua.txt"\ntown = "宝华镇"\naliases = ["宝华"]\ntitle = "宝华镇2025年工作总结"\n'


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copied_seeds(tmp_path_factory.mktemp("corpus"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(emu: Emulator, seeds: Path):
    async with admin_bot(emu.base_url, seeds, ADMIN, max_upload_bytes=100_000) as app:
        yield app


async def command(emu: Emulator, user: int, text: str, chat_id: int | None = None, count: int = 1) -> list[str]:
    kind = {"chat_id": chat_id, "chat_type": "supergroup", "title": "群"} if chat_id else {}
    await emu.send_command(user, text, **kind)
    return [e["message"]["text"] for e in await emu.wait_for_messages(chat_id or user, count=count, timeout=30)]


async def question(emu: Emulator, user: int, text: str) -> str:
    await emu.send_message(user, text)
    (reply,) = await emu.wait_for_messages(user)
    return reply["message"]["text"]


@pytest.mark.parametrize("text", ["/reload", "/stats", "/recent", "/unanswered 5", "/export", "/export 2026-01-01"])
@pytest.mark.parametrize("where", ["private", "group"])
async def test_admin_commands_refuse_everyone_else(emu: Emulator, bot, text: str, where: str):
    (reply,) = await command(emu, STRANGER, text, chat_id=GROUP if where == "group" else None)
    assert "无权限" in reply
    refusals = [t for _, t in bot.captured.lines if "refused" in t and str(STRANGER) in t]
    assert refusals


async def test_reload_by_an_admin_reports_what_changed(emu: Emulator, bot, seeds: Path):
    replies = await command(emu, ADMIN, "/reload", count=2)
    assert "正在重新加载" in replies[0]
    assert "已重新加载：5 份报告" in replies[1] and "新增：无" in replies[1]
    (seeds / "005_baohua.txt").write_text(NEW_REPORT, encoding="utf-8")
    with (seeds / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write(MANIFEST_ENTRY)
    replies = await command(emu, ADMIN, "/reload", count=2)
    assert "已重新加载：6 份报告" in replies[1] and "新增：005_baohua.txt" in replies[1]
    assert "大棚</b>120" in await question(emu, 5, "宝华镇新建了多少座智慧农业大棚？")


async def test_a_broken_report_is_named_and_the_old_index_keeps_serving(emu: Emulator, bot, seeds: Path):
    if "005_baohua.txt" not in (seeds / "manifest.toml").read_text(encoding="utf-8"):  # run on its own
        (seeds / "005_baohua.txt").write_text(NEW_REPORT, encoding="utf-8")
        with (seeds / "manifest.toml").open("a", encoding="utf-8") as manifest:
            manifest.write(MANIFEST_ENTRY)
        await command(emu, ADMIN, "/reload", count=2)
    (seeds / "005_baohua.txt").write_bytes("宝华镇".encode("gbk") + b"\xff\xfe")
    replies = await command(emu, ADMIN, "/reload", count=2)
    assert "005_baohua.txt: not UTF-8" in replies[1] and "仍在使用原来的索引" in replies[1]
    assert "大棚</b>120" in await question(emu, 5, "宝华镇新建了多少座智慧农业大棚？")
    (seeds / "006_extra.txt").write_text("没有登记的报告。", encoding="utf-8")
    (seeds / "005_baohua.txt").write_text(NEW_REPORT, encoding="utf-8")
    replies = await command(emu, ADMIN, "/reload", count=2)
    assert "006_extra.txt: not in manifest.toml" in replies[1]
    (seeds / "006_extra.txt").unlink()
    manifest = (seeds / "manifest.toml").read_text(encoding="utf-8")
    (seeds / "manifest.toml").write_text(manifest + "\n[[report]\n", encoding="utf-8")
    replies = await command(emu, ADMIN, "/reload", count=2)
    assert "manifest.toml: not valid TOML" in replies[1]
    (seeds / "manifest.toml").write_text(manifest + '\n[[report]]\nfile = "007_gone.txt"\ntown = "宝华镇"\ntitle = "x"\n', encoding="utf-8")
    replies = await command(emu, ADMIN, "/reload", count=2)
    assert "007_gone.txt: listed in manifest.toml but not found" in replies[1] and "仍在使用原来的索引" in replies[1]
    (seeds / "manifest.toml").unlink()
    replies = await command(emu, ADMIN, "/reload", count=2)
    assert "manifest.toml: missing" in replies[1] and "仍在使用原来的索引" in replies[1]
    assert "大棚</b>120" in await question(emu, 5, "宝华镇新建了多少座智慧农业大棚？")
    (seeds / "manifest.toml").write_text(manifest, encoding="utf-8")
    assert "66.11亿元" in await question(emu, 5, "后白镇2025年地区生产总值是多少")


async def test_a_second_reload_while_one_runs_is_told_to_wait(emu: Emulator, bot):
    async with bot.bot_data["state"].reload_lock:
        replies = await command(emu, ADMIN, "/reload", count=2)
    assert "请稍候" in replies[1]


async def test_stats_recent_and_unanswered_show_the_log(emu: Emulator, bot):
    await question(emu, 6, "后白镇现在常住人口有多少？")
    await emu.send_message(6, "下蜀镇全年空气质量优良天数是多少？")
    (answer,) = await emu.wait_for_messages(6)
    keyboard = {b["text"]: b["callback_data"] for row in answer["message"]["reply_markup"]["inline_keyboard"] for b in row}
    await emu.send_callback(6, answer, keyboard["👎"])
    await emu.send_command(ADMIN, "/stats")
    (chart,) = await emu.wait_for_messages(ADMIN, timeout=30)
    with sqlite3.connect(bot.bot_data["state"].querylog.path) as db:
        (today,) = db.execute("SELECT count(*) FROM queries WHERE ts >= ?", (datetime.now(timezone.utc).date().isoformat(),)).fetchone()
    caption, [photo] = chart["message"]["caption"], chart["message"]["photo"]
    assert f"今天提问 {today} 个" in caption and "👎 1" in caption and "6 份报告" in caption
    assert f"近 30 天 {today} 个" in caption and chart["message"]["parse_mode"] == "HTML"
    png = await emu.get_document(photo["file_id"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == photo["file_size"] > 10_000
    assert 600 <= photo["width"] <= 2000 and 400 <= photo["height"] <= 1200
    (recent,) = await command(emu, ADMIN, "/recent 3")
    assert "下蜀镇全年空气质量优良天数是多少？" in recent and recent.count("#") == 3
    (unanswered,) = await command(emu, ADMIN, "/unanswered")
    assert "后白镇现在常住人口有多少？" in unanswered and "下蜀镇全年空气质量优良天数是多少？" in unanswered
    assert "66.11" not in unanswered


async def upload(emu: Emulator, user: int, name: str, content: bytes, caption: str | None, count: int = 1) -> list[str]:
    await emu.send_document(user, name, content, caption=caption)
    return [e["message"]["text"] for e in await emu.wait_for_messages(user, count=count, timeout=30)]


async def upload_preview(emu: Emulator, user: int, name: str, content: bytes, caption: str | None = None) -> dict:
    """Send a document as `user`; the bot's reply (its preview, with buttons)."""
    await emu.send_document(user, name, content, caption=caption)
    (reply,) = await emu.wait_for_messages(user, timeout=60)
    return reply


async def press(emu: Emulator, user: int, reply: dict, button: str, count: int = 1) -> list[str]:
    """Press the button labelled `button` under the bot's message `reply`."""
    keyboard = {b["text"]: b["callback_data"] for row in reply["message"]["reply_markup"]["inline_keyboard"] for b in row}
    await emu.send_callback(user, reply, keyboard[button])
    return [e["message"]["text"] for e in await emu.wait_for_messages(user, count=count, timeout=60)]


async def test_an_admin_adds_a_report_from_the_chat(emu: Emulator, bot, seeds: Path):
    text = "后桥镇2025年工作总结。全年新建口袋公园9个，改造农贸市场2处。".encode()
    preview = await upload_preview(emu, ADMIN, "007_houqiao.txt", text, "town=后桥镇 title=后桥镇2025年工作总结 aliases=后桥 county=句容市")
    shown = preview["message"]["text"]
    assert "镇/街道：后桥镇" in shown and "别名：后桥" in shown and "文字很少" in shown
    assert not (seeds / "007_houqiao.txt").exists()  # nothing written before 加入
    replies = await press(emu, ADMIN, preview, "✅ 加入")
    assert "新增：007_houqiao.txt" in replies[0]
    assert (seeds / "007_houqiao.txt").read_bytes() == text
    assert 'town = "后桥镇"' in (seeds / "manifest.toml").read_text(encoding="utf-8")
    reply = await question(emu, 5, "后桥新建了几个口袋公园？")
    assert "口袋公园</b>9个" in reply and "后桥镇" in reply


@pytest.mark.parametrize(
    ("name", "content", "caption", "problem"),
    [
        ("008_a.txt", "后白镇".encode("gbk") + b"\xff", "town=甲镇 title=甲", "not UTF-8"),
        ("008_b.txt", b"   \n", "town=甲镇 title=甲", "the file is empty"),
        ("..%2Fevil.txt", b"text", "town=甲镇 title=甲", "not a safe file name"),
        ("../evil.txt", b"text", "town=甲镇 title=甲", "not a safe file name"),
        ("/etc/evil.txt", b"text", "town=甲镇 title=甲", "not a safe file name"),
        ("x" * 300 + ".txt", b"text", "town=甲镇 title=甲", "not a safe file name"),
        ("008_c.txt", "内容。".encode(), "title=只有标题", "say its town"),
        ("008_d.txt", "内容。".encode(), None, "say its town"),
        ("008_f.exe", b"MZ\x90\x00", None, "not supported"),
        ("008_g.pdf", b"%PDF-1.4 broken", None, "not a readable PDF"),
        ("008_h.docx", b"PK not really", None, "not a readable .docx"),
        ("008_i.txt", b"only latin text here.", "town=甲镇 title=甲", "no Chinese text"),
        ("008_j.txt", (SEEDS / "000_625f6384119427ea.txt").read_bytes(), None, "the same text as 000_625f6384119427ea.txt"),
        ("000_625f6384119427ea.txt", "内容。".encode(), "town=甲镇 title=甲", "exists already"),
        ("008_e.txt", "长".encode() * 40_000, "town=甲镇 title=甲", "more than the limit"),
    ],
)
async def test_a_bad_upload_is_refused_and_nothing_changes(emu: Emulator, bot, seeds: Path, name, content, caption, problem):
    manifest = (seeds / "manifest.toml").read_bytes()
    files = sorted(p.name for p in seeds.iterdir())
    (reply,) = await upload(emu, ADMIN, name, content, caption)
    assert "没有添加" in reply and problem in reply
    assert (seeds / "manifest.toml").read_bytes() == manifest
    assert sorted(p.name for p in seeds.iterdir()) == files


async def test_a_non_admin_upload_is_refused(emu: Emulator, bot, seeds: Path):
    (reply,) = await upload(emu, STRANGER, "009_x.txt", "内容。".encode(), "town=乙镇 title=乙")
    assert "无权限" in reply and not (seeds / "009_x.txt").exists()


async def test_export_sends_the_log_as_csv(emu: Emulator, bot):
    await emu.send_command(ADMIN, "/export")
    (reply,) = await emu.wait_for_messages(ADMIN, timeout=30)
    document = reply["message"]["document"]
    assert document["file_name"] == "townqa-queries.csv"
    content = (await emu.get_document(document["file_id"])).decode("utf-8-sig")
    assert content.splitlines()[0].startswith("id,ts,source,chat_type,user,question")
    assert "宝华镇新建了多少座智慧农业大棚？" in content
    (usage,) = await command(emu, ADMIN, "/export yesterday")
    assert "用法" in usage


async def test_a_50_mb_upload_is_refused_before_it_is_downloaded(emu: Emulator, bot, seeds: Path):
    files = sorted(p.name for p in seeds.iterdir())
    fetched = len(await emu.bot_calls("getFile"))
    (reply,) = await upload(emu, ADMIN, "010_big.txt", "大".encode() * (50 * 2**20 // 3), "town=大镇 title=大")
    assert "没有添加" in reply and "more than the limit" in reply
    assert sorted(p.name for p in seeds.iterdir()) == files
    assert len(await emu.bot_calls("getFile")) == fetched  # refused on its announced size, never fetched
