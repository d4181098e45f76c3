"""`townqa add / reports / remove` from the shell, on a copy of the seeds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, SEEDS
from .documents import report_pdf

TEXT = "句容市茅山镇2024年工作总结\n" + (SEEDS / "002_2ef88bb613e219cf.txt").read_text(encoding="utf-8").replace("镇江经开区", "茅山镇")


def townqa(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "TOWNQA_SEEDS": str(folder), "TOWNQA_CACHE_DIR": str(folder.parent / "cache")}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_add_previews_asks_and_writes_only_on_yes_then_lists_and_removes(tmp_path: Path):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    pdf = tmp_path / "maoshan.pdf"
    pdf.write_bytes(report_pdf(TEXT, header="茅山镇人民政府", page_number="第{}页"))
    manifest = (folder / "manifest.toml").read_bytes()
    said_no = townqa(folder, "add", str(pdf), "--county", "句容市", stdin="n\n")
    assert said_no.returncode == 1 and "镇/街道：茅山镇" in said_no.stdout and "县/市：句容市" in said_no.stdout
    assert "时期：2024年" in said_no.stdout and said_no.stdout.count("例句：") == 3
    assert (folder / "manifest.toml").read_bytes() == manifest and not (folder / "maoshan.txt").exists()
    added = townqa(folder, "add", str(pdf), "--title", "茅山镇工作总结", "--yes")
    assert added.returncode == 0, added.stderr
    assert "标题：茅山镇工作总结" in added.stdout and (folder / "maoshan.pdf").read_bytes() == pdf.read_bytes()
    assert "第1页" not in (folder / "maoshan.txt").read_text(encoding="utf-8").split("\f")[0].splitlines()[:1]
    again = townqa(folder, "add", str(pdf), "--yes")
    assert again.returncode == 1 and "exists already" in again.stderr
    listing = townqa(folder, "reports").stdout
    assert "maoshan.txt\t茅山镇\t2024年" in listing and len(listing.splitlines()) == 6
    assert townqa(folder, "remove", "maoshan.txt", stdin="n\n").returncode == 1 and (folder / "maoshan.txt").exists()
    assert townqa(folder, "remove", "maoshan.txt", "--yes").returncode == 0
    assert not (folder / "maoshan.txt").exists() and not (folder / "maoshan.pdf").exists()
    assert len(townqa(folder, "reports").stdout.splitlines()) == 5
    assert townqa(folder, "remove", "nothing.txt", "--yes").returncode == 1


def test_add_refuses_an_unsupported_type(tmp_path: Path):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    sheet = tmp_path / "report.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    result = townqa(folder, "add", str(sheet), "--yes")
    assert result.returncode == 1 and "not supported" in result.stderr
