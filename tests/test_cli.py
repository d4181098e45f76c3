"""The `townqa` command as a person or a script uses it."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DEV_QA, ROOT


def townqa(*args: str, stdin: str = "", cache: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOWNQA_CACHE_DIR": str(cache), "TOWNQA_DB": str(cache / "log.sqlite3")}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-cache")


def test_ask_quotes_the_passage_and_names_town_and_report(cache: Path):
    out = townqa("ask", "后白镇2025年地区生产总值是多少", cache=cache).stdout
    first = out.splitlines()[:2]
    assert "66.11亿元" in first[0] and first[0].startswith("1. 「")
    assert "后白镇" in first[1] and "《后白镇：以奋进之姿谱写高质量发展华章》" in first[1]


def test_search_json_follows_the_contract(cache: Path):
    out = townqa("search", "--json", "镇江开发区2024年完成固定资产投资多少？", cache=cache).stdout
    data = json.loads(out)
    assert data["query"] == "镇江开发区2024年完成固定资产投资多少？"
    assert data["town_filter"] == "镇江经开区"
    assert 1 <= len(data["results"]) <= 3
    for r in data["results"]:
        assert set(r) == {"town", "title", "section", "text", "score", "doc", "chunk_id"}
        assert isinstance(r["score"], float) and isinstance(r["chunk_id"], int)
    assert "227亿元" in data["results"][0]["text"]
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_json_says_not_found_with_an_empty_list(cache: Path):
    data = json.loads(townqa("search", "--json", "后白镇现在常住人口有多少？", cache=cache).stdout)
    assert data == {"query": "后白镇现在常住人口有多少？", "town_filter": "后白镇", "results": []}


def test_search_json_reads_one_question_per_line_from_stdin(cache: Path):
    out = townqa("search", "--json", "-", stdin="下蜀镇 新能源汽车充电桩\n\n沈春雷入选了什么名单？\n", cache=cache).stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["query"] for d in lines] == ["下蜀镇 新能源汽车充电桩", "沈春雷入选了什么名单？"]
    assert "6台套" in lines[0]["results"][0]["text"]
    assert lines[1]["town_filter"] is None and lines[1]["results"][0]["town"] == "后白镇"


def test_chat_answers_each_line_of_a_pipe(cache: Path):
    out = townqa("chat", stdin="后白镇2025年地区生产总值是多少\n\n后白镇现在常住人口有多少？\n？？？\n", cache=cache).stdout
    assert "66.11亿元" in out
    assert "没有找到相关内容" in out
    assert "没看懂这个问题" in out


def test_chat_understands_follow_ups_and_says_why_nothing_was_found(cache: Path):
    out = townqa("chat", stdin="后白镇一般公共预算收入是多少\n那西夏墅镇呢\n固定资产投资呢\n", cache=cache).stdout
    assert "（接着上一个问题：西夏墅镇一般公共预算收入是多少）" in out and "3.1亿元" in out
    assert "（按西夏墅镇查找；问其他地方请写明镇名）" in out and "9.01亿元" in out
    out = townqa("chat", stdin="后白镇2025年地区生产总值是多少\n那下蜀镇呢\n", cache=cache).stdout
    assert "下蜀镇的报告讲的是2023年，及2024年目标，没有提到问的年份。" in out
    out = townqa("chat", stdin="下蜀镇2024年地区生产总值是多少\n下蜀镇2024年地区生产总值的目标是多少\n", cache=cache).stdout
    assert "下蜀镇的报告讲的是2023年，及2024年目标：问的那一年报告里只有目标和计划" in out and "超95亿元" in out


def test_eval_prints_the_figures(cache: Path, tmp_path: Path):
    questions = tmp_path / "qa.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "question": "后白镇2025年完成地区生产总值多少？", "town": "后白镇", "answers": ["66.11亿元"], "type": "direct"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "b", "question": "后白镇现在常住人口有多少？", "town": "后白镇", "answers": [], "type": "unanswerable"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    report = json.loads(townqa("eval", str(questions), "--json", cache=cache).stdout)
    assert report["hit@1"] == 1.0 and report["abstain"] == 1.0
    table = townqa("eval", str(questions), cache=cache).stdout
    assert table.splitlines()[0].split() == ["type", "n", "hit@1", "hit@3", "mrr@5", "f.abst", "unans", "abstain"]


@pytest.mark.skipif(not DEV_QA.is_file(), reason="../shared/eval is not beside the repo")
def test_dev_questions_meet_the_quality_bar(cache: Path):
    report = json.loads(townqa("eval", str(DEV_QA), "--json", cache=cache).stdout)
    assert report["hit@1"] >= 0.94 and report["hit@3"] >= 0.98
    assert report["median_passage_chars"] <= 120
    # 「没有找到」 over every question file (the confidence model is fitted on all of them together).
    files = [*sorted(DEV_QA.parent.glob("*.jsonl")), *sorted((ROOT / "eval").glob("*.jsonl"))]
    output = townqa("eval", *map(str, files), "--json", cache=cache).stdout
    reports = [json.loads(line) for line in output.splitlines() if line.strip()]
    unanswerable = sum(r["unanswerable"] for r in reports)
    answerable = sum(r["answerable"] for r in reports)
    assert sum(r["abstain"] * r["unanswerable"] for r in reports) / unanswerable >= 0.55
    assert sum(r["false_abstain"] * r["answerable"] for r in reports) / answerable <= 0.03


@pytest.mark.parametrize("command", ["ask", "chat", "search", "eval", "index"])
def test_every_subcommand_has_help(command: str, cache: Path):
    assert "usage: townqa " + command in townqa(command, "--help", cache=cache).stdout


@pytest.mark.parametrize(
    "args",
    [[], ["bogus"], ["ask"], ["search", "问题"], ["search", "--json", "--limit", "0", "问题"], ["eval", "/no/such/file.jsonl"]],
)
def test_bad_arguments_give_usage_and_exit_2(args: list[str], cache: Path):
    result = townqa(*args, cache=cache, check=False)
    assert result.returncode == 2
    assert "usage: townqa" in result.stderr


def test_a_broken_corpus_is_reported_by_file_name(cache: Path, tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "manifest.toml").write_text('[[report]]\nfile = "a.txt"\ntown = "甲镇"\ntitle = "甲"\n', encoding="utf-8")
    (seeds / "a.txt").write_bytes(b"\xff\xfe\x00bad")
    env_cache = cache
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "问题"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "TOWNQA_SEEDS": str(seeds), "TOWNQA_CACHE_DIR": str(env_cache), "TOWNQA_DB": str(env_cache / "x.sqlite3")},
    )
    assert result.returncode == 1
    assert "a.txt: not UTF-8" in result.stderr


def test_a_broken_fitted_model_is_reported_by_file_name(cache: Path, tmp_path: Path):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "ranking.toml").write_text("[weights\nratio = 4.3\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "后白镇2025年地区生产总值是多少？"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "TOWNQA_CONFIG_DIR": str(config), "TOWNQA_CACHE_DIR": str(cache),
             "TOWNQA_DB": str(cache / "x.sqlite3")},
    )
    assert result.returncode == 1
    assert "ranking.toml: not valid TOML" in result.stderr and "Traceback" not in result.stderr


def test_index_rebuilds_the_cache(cache: Path):
    out = townqa("index", cache=cache).stdout
    assert "index rebuilt: 5 reports" in out
    assert any(p.is_dir() and (p / "meta.json").is_file() for p in cache.iterdir())


def test_logs_review_the_questions_asked_in_the_console(tmp_path: Path):
    cache = tmp_path
    assert townqa("logs", "stats", cache=cache, check=False).returncode == 1  # no log yet: said plainly
    townqa("chat", stdin="后白镇2025年地区生产总值是多少\n后白镇现在常住人口有多少？\n", cache=cache)
    stats = townqa("logs", "stats", cache=cache).stdout
    assert "questions today: 2" in stats and "answered (7 days): 50.0%" in stats
    rows = [json.loads(line) for line in townqa("logs", "recent", "--format", "jsonl", cache=cache).stdout.splitlines()]
    assert [r["question"] for r in rows] == ["后白镇现在常住人口有多少？", "后白镇2025年地区生产总值是多少"]
    assert rows[0]["source"] == "console" and rows[0]["answered"] == 0
    unanswered = townqa("logs", "unanswered", cache=cache).stdout
    assert "常住人口" in unanswered and "66.11" not in unanswered
    assert townqa("logs", "export", "--since", "2999-01-01", cache=cache).stdout.strip().count("\n") == 0
    bad = townqa("logs", "export", "--since", "yesterday", cache=cache, check=False)
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_an_unsure_answer_says_so_in_the_console(cache: Path):
    out = townqa("ask", "郭庄镇2025年地区生产总值是多少？", cache=cache).stdout
    assert out.startswith("不确定是否回答了您的问题") or "没有找到相关内容" in out
    assert "不确定" not in townqa("ask", "后白镇2025年地区生产总值是多少", cache=cache).stdout


def test_logs_stats_plot_draws_the_chart_into_a_png_file(tmp_path: Path):
    cache = tmp_path
    townqa("chat", stdin="后白镇2025年地区生产总值是多少\n", cache=cache)
    chart = tmp_path / "charts" / "stats.png"
    missing = townqa("logs", "stats", "--plot", str(chart), cache=cache, check=False)
    assert missing.returncode == 1 and missing.stdout == ""
    assert f"cannot write the chart to {chart}: No such file or directory" in missing.stderr
    chart.parent.mkdir()
    out = townqa("logs", "stats", "--plot", str(chart), cache=cache).stdout
    assert "questions today: 1" in out and f"chart of the last 30 days written to {chart}" in out
    png = chart.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert 600 <= width <= 2000 and 400 <= height <= 1200
    for args in (["stats", "--plot", str(tmp_path / "stats.jpg")], ["recent", "--plot", str(chart)]):
        wrong = townqa("logs", *args, cache=cache, check=False)
        assert wrong.returncode == 2 and (".png" in wrong.stderr or "goes with" in wrong.stderr)
