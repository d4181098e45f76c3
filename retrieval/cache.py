"""The index cache: load the index built for this corpus and these word lists, or build it on the newest saved one.

A cache folder is named by a key of everything indexing depends on (the reports,
the word lists and the indexing code), so an upgrade never serves a stale index,
and a rebuild after one new report tokenizes that report alone.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

from .analysis import analyze_all, report_key
from .corpus import Corpus
from .index import Index
from .tokenize import Lexicon, Tokenizer

log = logging.getLogger(__name__)

# The code that decides what is indexed is part of the key.
_INDEXING_CODE = (
    "pages.py", "cleaning.py", "tables.py", "chunking.py", "tokenize.py", "units.py", "quantities.py", "plans.py",
    "analysis.py", "fields.py", "index.py", "cache.py",
)
_UNUSABLE = (OSError, ValueError, KeyError, TypeError)


def key_of_analysis(lexicon: Lexicon) -> str:
    """What a report's tokens depend on besides its text: the word lists and the code."""
    digest = hashlib.sha256(lexicon.fingerprint.encode())
    for name in _INDEXING_CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def cache_key(corpus: Corpus, lexicon: Lexicon) -> str:
    return hashlib.sha256(f"{corpus.fingerprint}:{lexicon.names}:{key_of_analysis(lexicon)}".encode()).hexdigest()


def load_index(corpus: Corpus, tokenizer: Tokenizer, cache_dir: Path | str | None, rebuild: bool = False) -> Index:
    """The cached index of this corpus, or a new build (kept in the cache); a damaged cache is only rebuilt."""
    key = cache_key(corpus, tokenizer.lexicon)
    cache = Path(cache_dir) if cache_dir else None
    folder = cache / key[:16] if cache else None
    if folder and folder.exists() and not rebuild:
        try:
            return Index.load(folder, key)
        except _UNUSABLE as exc:
            log.warning("index cache %s is unusable (%s); rebuilding it", folder, exc)
    base = None if rebuild or not cache else latest_index(cache, skip=folder)
    index = build_index(corpus, tokenizer, key, base)
    if folder:
        try:
            index.save(folder)
            forget_others(cache, folder)
        except OSError as exc:
            log.warning("could not save the index cache in %s: %s", folder, exc)
        else:
            # Served from the saved files, as after a restart: the build's arrays (a GB at a million chunks)
            # are let go before the word vectors are converted, instead of adding to them.
            del index
            return Index.load(folder, key)
    return index


def build_index(corpus: Corpus, tokenizer: Tokenizer, key: str, base: Index | None = None) -> Index:
    """Index the corpus, starting from base (an index of an earlier corpus) when there is one.

    Only the reports that base lacks, or holds in another version, are analysed:
    adding one report to a million chunks tokenizes that report alone.
    """
    salt = key_of_analysis(tokenizer.lexicon)
    wanted = [(r.file, report_key(r, salt)) for r in corpus.reports]
    base = base or Index.empty()
    docs, keys = base.chunks.docs, base.chunks.keys
    held = list(zip(docs, keys + [""] * (len(docs) - len(keys))))  # a report without a key is not reused
    removed = {doc for doc, _ in set(held) - set(wanted)}
    ranges = base.chunks.doc_ranges()
    if 2 * sum(hi - lo for doc, (lo, hi) in ranges.items() if doc in removed) > len(base.chunks):
        base, held, removed = Index.empty(), [], set()  # mostly another corpus: start afresh, without its leftovers
    kept = {pair for pair in held if pair[0] not in removed}
    todo = [i for i, pair in enumerate(wanted) if pair not in kept]
    log.info("tokenizing %d of %d reports (the rest from the index cache)", len(todo), len(corpus.reports))
    reports = [corpus.reports[i] for i in todo]
    return base.updated(removed, reports, analyze_all(reports, tokenizer), [wanted[i][1] for i in todo], key)


def latest_index(cache: Path, skip: Path | None) -> Index | None:
    """The most recently saved index in the cache folder (other than skip), to build on; None if none loads."""
    saved = sorted((p.parent for p in cache.glob("*/meta.json") if p.parent != skip), key=lambda p: p.stat().st_mtime)
    for folder in reversed(saved):
        try:
            return Index.load(folder, None)
        except _UNUSABLE as exc:
            log.info("not building on %s (%s)", folder, exc)
    return None


def forget_others(cache: Path, keep: Path) -> None:
    """Remove the cache's other indexes (and token files of older versions): the newest is all a build needs.

    A process still serving from a removed index keeps its mapped files until it lets them go.
    """
    for path in cache.iterdir():
        if path != keep and path.is_dir() and ((path / "meta.json").exists() or path.name == "tokens"):
            shutil.rmtree(path, ignore_errors=True)
