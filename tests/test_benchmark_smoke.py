"""Smoke test of benchmarks/retrieval.py: it runs, compares the three engines, and --scale grows the corpus.

Only that the figures exist and are positive; their values depend on the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("bm25s")  # a dev dependency: pip install -e '.[dev]'

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "retrieval.py"
FIGURES = ("build_s", "load_s", "p50_ms", "p99_ms", "peak_rss_mb")


def run_benchmark(*args: str) -> tuple[str, dict]:
    """The benchmark's whole output and its last line, parsed."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", "--repeat", "1", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(done.stdout.strip().splitlines()[-1])


def test_seed_corpus_compares_the_three_engines() -> None:
    out, result = run_benchmark()
    assert result["chunks"] > 100
    assert set(result["engines"]) == {"townqa", "bm25s", "rank_bm25"}
    for name, figures in result["engines"].items():
        for key in FIGURES:
            assert figures[key] > 0, (name, key, figures[key])
    assert result["engines"]["townqa"]["search_p50_ms"] > 0
    assert "townqa/bm25s" in out and "townqa/rank-bm25" in out


def test_scale_grows_the_corpus_and_rank_bm25_can_be_skipped() -> None:
    out, result = run_benchmark("--scale", "2000", "--skip-rank-bm25-above", "1000")
    assert 1900 <= result["chunks"] <= 2100
    assert result["engines"]["rank_bm25"] is None
    assert "rank-bm25 skipped" in out
    for key in FIGURES:
        assert result["engines"]["townqa"][key] > 0
        assert result["engines"]["bm25s"][key] > 0


def test_reload_benchmark_adds_one_report_to_a_grown_corpus() -> None:
    """benchmarks/reload.py: a cold build, a start from the cache, and a reload with one report more."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "reload.py"), "--scale", "3000", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["chunks"] >= 3000
    assert result["reload"]["chunks"] > result["start"]["chunks"] == result["cold"]["chunks"]
    assert result["reload"]["tokenized"].startswith("1 of ") and result["start"]["tokenized"] is None
    for phase in ("cold", "start", "reload"):
        assert result[phase]["seconds"] > 0 and result[phase]["peak_rss_mb"] > 0
