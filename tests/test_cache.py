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
    (folder,) = [p for p in cache.iterdir() if (p / "meta.json").is_file()]
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
    with caplog.at_level(logging.WARNING, logger="retrieval.cache"):
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
    with caplog.at_level(logging.INFO, logger="retrieval.cache"):
        Engine.load(seeds, CONFIG, cache)
        (seeds / "005_new.txt").write_text("宝华镇全镇新建智慧农业大棚120座。", encoding="utf-8")
        with (seeds / "manifest.toml").open("a", encoding="utf-8") as manifest:
            manifest.write('\n[[report]]\nfile = "005_new.txt"\ntown = "宝华镇"\ntitle = "宝华镇2025年工作总结"\n')
        engine = Engine.load(seeds, CONFIG, cache)
    assert "tokenizing 5 of 5 reports" in caplog.text and "tokenizing 1 of 6 reports" in caplog.text
    assert "120座" in engine.search("宝华镇新建了多少座智慧农业大棚").hits[0].chunk.text
    assert "66.11亿元" in engine.search(QUESTION).hits[0].chunk.text


NEW_REPORT = "宝华镇全镇新建智慧农业大棚120座，地区生产总值增长6%。"
NEW_ENTRY = '\n[[report]]\nfile = "005_new.txt"\ntown = "宝华镇"\ntitle = "宝华镇2025年工作总结"\n'
QUESTIONS = [QUESTION, "宝华镇新建了多少座智慧农业大棚", "地区生产总值增长", "下蜀镇空气质量优良天数", "GDP", "项目招引"]


def seed_copy(folder: Path, new: bool = False, changed: bool = False) -> Path:
    """The seeds in folder, with a sixth report (new) and 后白镇's GDP changed (changed) if asked."""
    folder.mkdir(exist_ok=True)
    for f in SEEDS.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    if changed:
        report = folder / "000_625f6384119427ea.txt"
        report.write_text(report.read_text(encoding="utf-8").replace("66.11亿元", "77.22亿元"), encoding="utf-8")
    (folder / "005_new.txt").unlink(missing_ok=True)
    if new:
        (folder / "005_new.txt").write_text(NEW_REPORT, encoding="utf-8")
        with (folder / "manifest.toml").open("a", encoding="utf-8") as manifest:
            manifest.write(NEW_ENTRY)
    return folder


def scores_by_passage(engine: Engine) -> list[dict[tuple[str, str], float]]:
    """Each question's top passages (report, text) with their scores, whatever their chunk ids."""
    return [
        {(h.chunk.doc, h.chunk.text): round(h.score, 4) for h in engine.search(q, limit=10).hits} for q in QUESTIONS
    ]


def test_an_updated_index_ranks_exactly_as_a_full_build(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    seeds, cache = tmp_path / "seeds", tmp_path / "cache"
    Engine.load(seed_copy(seeds), CONFIG, cache)
    with caplog.at_level(logging.INFO, logger="retrieval.cache"):
        grown = Engine.load(seed_copy(seeds, new=True, changed=True), CONFIG, cache)
        assert "tokenizing 2 of 6 reports" in caplog.text  # the new one and the changed one
        assert "77.22亿元" in grown.search(QUESTION).hits[0].chunk.text
        assert "120座" in grown.search(QUESTIONS[1]).hits[0].chunk.text
        assert scores_by_passage(grown) == scores_by_passage(Engine.load(seeds, CONFIG, None))

        shrunk = Engine.load(seed_copy(seeds, changed=True), CONFIG, cache)
        assert "tokenizing 0 of 5 reports" in caplog.text  # the sixth report's chunks were only taken out
        assert not any("120座" in h.chunk.text for q in QUESTIONS for h in shrunk.search(q, limit=10).hits)
        assert scores_by_passage(shrunk) == scores_by_passage(Engine.load(seeds, CONFIG, None))
    assert len([p for p in cache.iterdir() if (p / "meta.json").is_file()]) == 1  # the older indexes are gone


def test_tokenizing_on_every_core_gives_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from retrieval import analysis

    alone = Engine.load(SEEDS, CONFIG, None)
    monkeypatch.setattr(analysis, "PARALLEL_ABOVE", 0)
    monkeypatch.setattr(analysis, "BATCH_CHARS", 10_000)
    pooled = Engine.load(SEEDS, CONFIG, None)
    assert pooled.index.vocab == alone.index.vocab
    for name, field in alone.index.fields.items():
        for part in ("indptr", "indices", "tf", "lengths", "data"):
            assert np.array_equal(getattr(pooled.index.fields[name], part), getattr(field, part))
    assert list(pooled.index.chunks) == list(alone.index.chunks)


def test_building_in_small_blocks_gives_the_same_index(monkeypatch: pytest.MonkeyPatch):
    """A million chunks are sorted and weighed a block at a time; the blocks must not change the result."""
    from retrieval import index

    whole = Engine.load(SEEDS, CONFIG, None)
    monkeypatch.setattr(index, "SORT_BLOCK", 1000)
    monkeypatch.setattr(index, "WEIGH_BLOCK", 777)
    blocked = Engine.load(SEEDS, CONFIG, None)
    for name, field in whole.index.fields.items():
        for part in ("indptr", "indices", "tf", "lengths", "data"):
            assert np.array_equal(getattr(blocked.index.fields[name], part), getattr(field, part)), (name, part)
