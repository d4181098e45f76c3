"""Find the sentence of a town's work report that answers a Chinese question.

The one API the bot and the command line use: ``Engine.load(...)`` then
``engine.search(question)``, which returns a finished ``Answer``: its ``Hit`` s with
the spans to bold, the best passage of each town named, how sure it is, and when
the reports do not answer, why; ``engine.context(chunk_id)`` gives the sentences
around a passage. Nothing here knows about Telegram.
"""

from .chunking import Chunk
from .corpus import Corpus, CorpusError, Report, add_report, load_corpus, remove_report
from .search import Answer, Context, Engine, Hit, Thresholds

__all__ = ["Answer", "Chunk", "Context", "Corpus", "CorpusError", "Engine", "Hit", "Report", "Thresholds", "add_report", "load_corpus", "remove_report"]
