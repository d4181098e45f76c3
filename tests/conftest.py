from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import Engine

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CONFIG = ROOT / "config"
DEV_QA = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The real engine over the real seeds, with a cache of its own."""
    return Engine.load(SEEDS, CONFIG, tmp_path_factory.mktemp("cache"))
