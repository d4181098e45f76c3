"""A corpus folder is validated before it is used; every error names the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from retrieval import CorpusError, load_corpus

from .conftest import SEEDS


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


def test_the_seed_corpus_loads_with_its_towns():
    corpus = load_corpus(SEEDS)
    assert corpus.towns == sorted(["后白镇", "下蜀镇", "镇江经开区", "西夏墅镇", "句容经济开发区"])
    assert {r.town: r.aliases for r in corpus.reports}["句容经济开发区"] == ("黄梅街道", "句容开发区", "句容经开区")


def test_a_file_that_is_not_utf8_is_named(seeds: Path):
    (seeds / "001_bfb7d995d3433832.txt").write_bytes("下蜀镇工作报告".encode("gbk"))
    with pytest.raises(CorpusError, match="001_bfb7d995d3433832.txt: not UTF-8"):
        load_corpus(seeds)


def test_an_empty_file_is_named(seeds: Path):
    (seeds / "003_0d18275503898dd5.txt").write_text("  \n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="003_0d18275503898dd5.txt: the file is empty"):
        load_corpus(seeds)


def test_a_report_missing_from_the_manifest_is_named(seeds: Path):
    (seeds / "宝华镇.txt").write_text("宝华镇2025年工作总结。", encoding="utf-8")
    with pytest.raises(CorpusError, match="宝华镇.txt: not in manifest.toml"):
        load_corpus(seeds)


def test_a_manifest_entry_without_its_file_is_named(seeds: Path):
    (seeds / "002_2ef88bb613e219cf.txt").unlink()
    with pytest.raises(CorpusError, match="002_2ef88bb613e219cf.txt: listed in manifest.toml but not found"):
        load_corpus(seeds)


def test_a_broken_or_missing_manifest_is_reported(seeds: Path):
    (seeds / "manifest.toml").write_text("[[report]\nfile = ", encoding="utf-8")
    with pytest.raises(CorpusError, match="manifest.toml: not valid TOML"):
        load_corpus(seeds)
    (seeds / "manifest.toml").unlink()
    with pytest.raises(CorpusError, match="manifest.toml: missing"):
        load_corpus(seeds)


def test_unsafe_file_names_and_missing_fields_are_refused(seeds: Path):
    manifest = seeds / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('file = "000_625f6384119427ea.txt"', 'file = "../000_625f6384119427ea.txt"'), encoding="utf-8")
    with pytest.raises(CorpusError, match="not a safe report file name"):
        load_corpus(seeds)
    manifest.write_text(text.replace('town = "后白镇"', 'town = ""'), encoding="utf-8")
    with pytest.raises(CorpusError, match="000_625f6384119427ea.txt: 'town' must be a non-empty string"):
        load_corpus(seeds)


def test_one_name_for_two_towns_is_refused(seeds: Path):
    manifest = seeds / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('aliases = ["下蜀"]', 'aliases = ["后白"]'), encoding="utf-8")
    with pytest.raises(CorpusError, match="'后白' is used for both"):
        load_corpus(seeds)
