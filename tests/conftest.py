from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio

from retrieval import Engine

from .emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CONFIG = ROOT / "config"
DEV_QA = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The real engine over the real seeds, with a cache of its own."""
    return Engine.load(SEEDS, CONFIG, tmp_path_factory.mktemp("cache"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def emu():
    """A telegram-test-api emulator on 127.0.0.1 for one test module."""
    async with Emulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session (skipped with how to install it where there is none)."""
    from .postgres import Postgres

    server = Postgres().start()
    yield server
    server.stop()
