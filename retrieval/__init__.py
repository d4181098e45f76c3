"""Find the sentence of a town's work report that answers a Chinese question.

The one API the bot and the command line use: ``Engine.load(...)`` then
``engine.search(question)``, which returns a finished ``Answer``: its ``Hit`` s with
the spans to bold, the best passage of each town named, how sure it is, and when
the reports do not answer, why; ``engine.context(chunk_id)`` gives the sentences
around a passage. Nothing here knows about Telegram.
"""

from .chunking import Chunk
from .corpus import Corpus, CorpusError, Report, add_report, load_corpus, remove_report

_SEARCH = ("Answer", "Context", "Engine", "Hit", "Thresholds")


def __getattr__(name: str):
    """The search's names, imported on first use: a build's worker processes import this package too, and
    need neither the search nor numba, which it compiles with (60 MB a process)."""
    if name in _SEARCH:
        from . import search

        return getattr(search, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Answer", "Chunk", "Context", "Corpus", "CorpusError", "Engine", "Hit", "Report", "Thresholds", "add_report", "load_corpus", "remove_report"]
