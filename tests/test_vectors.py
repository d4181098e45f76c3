"""Word vectors: converted once from the package's file into plain arrays, loaded without unpickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from retrieval import vectors
from retrieval.question import parse
from retrieval.vectors import Meanings, WordVectors, load_vectors


def test_the_model_is_converted_once_into_plain_files(tmp_path: Path):
    first = load_vectors(tmp_path)
    (folder,) = tmp_path.glob("vectors-*")
    assert sorted(p.name for p in folder.iterdir()) == ["unit.npy", "words.txt"]
    again = WordVectors.load(folder)  # what a later start reads: a text file and an .npy, no pickle
    assert again.words == first.words and again.unit.shape == (len(first.words), 200)
    assert abs(float((again.unit[again.row["面积"]].astype("float32") ** 2).sum()) - 1) < 1e-2


def test_the_vector_file_may_hold_plain_data_only(tmp_path: Path):
    class Evil:
        def __reduce__(self):
            return (print, ("unpickled code ran",))

    path = tmp_path / "evil.model"
    import gzip

    with gzip.open(path, "wb") as f:
        pickle.dump([Evil()], f)
    with pytest.raises(pickle.UnpicklingError, match="only plain data"):
        vectors.convert(path)


def test_stand_ins_are_found_only_for_words_the_reports_never_use():
    words = load_vectors(None)
    meanings = Meanings(words, ["平方米", "薪酬", "工人", "劳动者", "面积"])
    near = meanings.neighbours(["工资", "面积"])
    assert near.get("薪酬", ("", 0))[0] == "工资"  # 工资 is not in these reports: 薪酬 stands in for it
    assert all(word != "面积" for word, _ in near.values())  # 面积 is: it is matched as itself


def test_only_whole_words_get_stand_ins_not_their_parts(engine):
    """机械化 is cut with its part 机械, whose neighbours (金属) mean something else than 机械化 does."""
    q = parse("镇江经开区种粮的机械化程度有多高？", engine.towns, engine.tokenizer, engine.meanings)
    assert "机械" in q.words and "机械化" in q.words
    assert "机械" not in q.stands_for.values()
    assert "金属" not in q.neighbours
