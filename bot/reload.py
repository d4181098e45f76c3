"""Reload the corpus while the bot keeps answering: build aside, then swap in one assignment."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval import CorpusError, Report

from .replicas import announce_reload
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


async def reload_engine(state: BotState, announce: bool = True) -> ReloadSummary:
    """Validate and index the corpus folder in a thread, then serve from it; then tell the other replicas
    (unless this reload is the answer to their notice).

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
    if announce:
        await announce_reload(state.querylog)
    return summary


async def reload_for_replica(state: BotState) -> None:
    """Another replica serves a new corpus: load it too, after any reload running here, never failing."""
    while True:
        try:
            await reload_engine(state, announce=False)
            return
        except ReloadBusy:
            await asyncio.sleep(0.2)
        except CorpusError as exc:
            log.warning("another replica's corpus could not be loaded here, the old index stays in service: %s", exc)
            return
