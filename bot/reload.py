"""Reload the corpus while the bot keeps answering: build aside, then swap in one assignment."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval import Report

from .state import BotState

log = logging.getLogger(__name__)


class ReloadBusy(RuntimeError):
    """A reload is already running."""


@dataclass(frozen=True)
class ReloadSummary:
    added: list[str]
    removed: list[str]
    changed: list[str]
    reports: int
    chunks: int
    seconds: float


def compare(old: Sequence[Report], new: Sequence[Report]) -> tuple[list[str], list[str], list[str]]:
    """(added, removed, changed) report files; a changed manifest entry counts as changed."""
    before = {r.file: r for r in old}
    after = {r.file: r for r in new}
    return (
        sorted(after.keys() - before.keys()),
        sorted(before.keys() - after.keys()),
        sorted(f for f in before.keys() & after.keys() if before[f] != after[f]),
    )


async def reload_engine(state: BotState) -> ReloadSummary:
    """Validate and index the corpus folder in a thread, then serve from it.

    Raises ReloadBusy when a reload is running and CorpusError (naming the file)
    when the corpus is broken: the old index stays in service either way.
    """
    if state.reload_lock.locked():
        raise ReloadBusy
    async with state.reload_lock:
        started = time.perf_counter()
        engine = await asyncio.to_thread(state.settings.load_engine)
        added, removed, changed = compare(state.engine.reports, engine.reports)
        state.engine = engine  # the swap: questions in flight finish on the engine they started with
        summary = ReloadSummary(
            added, removed, changed, len(engine.reports), len(engine), time.perf_counter() - started
        )
    log.info(
        "corpus reloaded: %d reports, %d passages, +%d -%d ~%d in %.2fs",
        summary.reports, summary.chunks, len(added), len(removed), len(changed), summary.seconds,
    )
    return summary
