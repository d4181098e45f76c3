"""Find the sentence of a town's work report that answers a Chinese question.

The one API the bot and the command line use: ``Engine.load(...)`` then
``engine.search(question)``, which returns an ``Answer`` of ``Hit`` s (empty when
the reports do not answer it) and ``engine.context(chunk_id)`` for the sentences
around a passage. Nothing here knows about Telegram.
"""

from .chunking import Chunk
from .corpus import Corpus, CorpusError, Report, add_report, load_corpus
from .search import Answer, Engine, Hit, Thresholds

__all__ = ["Answer", "Chunk", "Corpus", "CorpusError", "Engine", "Hit", "Report", "Thresholds", "add_report", "load_corpus"]
