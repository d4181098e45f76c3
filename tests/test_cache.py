"""The index cache: loaded when valid, rebuilt (never fatal) when stale or damaged."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from retrieval import Engine

from .conftest import CONFIG, SEEDS

QUESTION = "后白镇2025年地区生产总值是多少"


def cache_folder(cache: Path) -> Path:
    (folder,) = [p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "tokens"]
    return folder


def test_a_saved_index_loads_and_answers_the_same(tmp_path: Path):
    built = Engine.load(SEEDS, CONFIG, tmp_path)
    loaded = Engine.load(SEEDS, CONFIG, tmp_path)
    assert not loaded.index.fields["words"].data.flags.writeable  # mapped read-only from the file
    assert [h.chunk.id for h in loaded.search(QUESTION).hits] == [h.chunk.id for h in built.search(QUESTION).hits]


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: (f / "words.data.npy").write_bytes(b"garbage"),
        lambda f: (f / "words.indptr.npy").write_bytes((f / "words.indptr.npy").read_bytes()[:200]),
        lambda f: (f / "chunks.json").write_text("[{", encoding="utf-8"),
        lambda f: (f / "meta.json").unlink(),
        lambda f: (f / "vocab.json").write_text('{"a": 0}', encoding="utf-8"),
    ],
    ids=["garbage-array", "truncated-array", "broken-json", "no-meta", "wrong-vocab"],
)
def test_a_corrupt_cache_is_rebuilt_with_a_warning(tmp_path: Path, damage, caplog: pytest.LogCaptureFixture):
    Engine.load(SEEDS, CONFIG, tmp_path)
    damage(cache_folder(tmp_path))
    with caplog.at_level(logging.WARNING, logger="retrieval.search"):
        engine = Engine.load(SEEDS, CONFIG, tmp_path)
    assert "66.11亿元" in engine.search(QUESTION).hits[0].chunk.text
    if (cache_folder(tmp_path) / "meta.json").exists() and "unusable" in caplog.text:
        assert "rebuilding" in caplog.text
    # The rebuilt cache is whole again.
    assert not Engine.load(SEEDS, CONFIG, tmp_path).index.fields["words"].data.flags.writeable


def test_a_changed_report_invalidates_the_cache(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for f in SEEDS.iterdir():
        (seeds / f.name).write_bytes(f.read_bytes())
    cache = tmp_path / "cache"
    Engine.load(seeds, CONFIG, cache)
    report = seeds / "000_625f6384119427ea.txt"
    report.write_text(report.read_text(encoding="utf-8").replace("66.11亿元", "77.22亿元"), encoding="utf-8")
    engine = Engine.load(seeds, CONFIG, cache)
    assert "77.22亿元" in engine.search(QUESTION).hits[0].chunk.text


def test_an_unwritable_cache_folder_still_serves(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    engine = Engine.load(SEEDS, CONFIG, blocker / "cache")
    assert engine.search(QUESTION).hits


def test_a_rebuild_tokenizes_only_new_or_changed_reports(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for f in SEEDS.iterdir():
        (seeds / f.name).write_bytes(f.read_bytes())
    cache = tmp_path / "cache"
    with caplog.at_level(logging.INFO, logger="retrieval.analysis"):
        Engine.load(seeds, CONFIG, cache)
        (seeds / "005_new.txt").write_text("宝华镇全镇新建智慧农业大棚120座。", encoding="utf-8")
        with (seeds / "manifest.toml").open("a", encoding="utf-8") as manifest:
            manifest.write('\n[[report]]\nfile = "005_new.txt"\ntown = "宝华镇"\ntitle = "宝华镇2025年工作总结"\n')
        engine = Engine.load(seeds, CONFIG, cache)
    assert "tokenizing 5 of 5 reports" in caplog.text and "tokenizing 1 of 6 reports" in caplog.text
    assert "120座" in engine.search("宝华镇新建了多少座智慧农业大棚").hits[0].chunk.text
    assert "66.11亿元" in engine.search(QUESTION).hits[0].chunk.text


def test_tokenizing_on_every_core_gives_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from retrieval import analysis

    alone = Engine.load(SEEDS, CONFIG, None)
    monkeypatch.setattr(analysis, "PARALLEL_ABOVE", 0)
    monkeypatch.setattr(analysis, "BATCH_CHARS", 10_000)
    pooled = Engine.load(SEEDS, CONFIG, None)
    assert pooled.index.vocab == alone.index.vocab
    for name, field in alone.index.fields.items():
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(pooled.index.fields[name], part), getattr(field, part))
    assert list(pooled.index.chunks) == list(alone.index.chunks)
