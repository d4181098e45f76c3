"""Retrieval speed of townqa beside rank-bm25 (BM25Okapi) and bm25s, in one run, on one machine.

All three engines index the same chunks and the same tokens: townqa's own
``Tokenizer.terms`` of each chunk's text, computed once and shared, so only the
index and the scoring differ. Every figure says in the table what it includes.

    python benchmarks/retrieval.py                 # the seed corpus as it is
    python benchmarks/retrieval.py --scale 20000   # grown to 20000 chunks (synthetic, seeded)
    python benchmarks/retrieval.py --json          # last line: one JSON object
    python benchmarks/retrieval.py --sizes 1000,10000,100000 --plot latency.png   # one run per size, a plot

Each engine runs in a forked child process (where the OS can fork), so its peak
RSS and its heap are its own and not left over from the engine before it.
Deterministic input (seeded RNG), no network; timings are time.perf_counter.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import platform
import random
import re
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import bm25s
import numpy as np
from rank_bm25 import BM25Okapi

# This file is benchmarks/retrieval.py: with its folder first on sys.path, "import retrieval"
# would import this script itself. Import townqa's package from the project folder instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

from retrieval import Engine, Report, Thresholds, load_corpus
from retrieval.chunking import Chunk, chunk_reports, split_sentences
from retrieval.corpus import Corpus
from retrieval.index import Index
from retrieval.pruning import Term, score_best
from retrieval.search import PRUNE_ABOVE
from retrieval.cache import build_index
from retrieval.confidence import Model
from retrieval.rerank import Ranker
from retrieval.vectors import Meanings, load_vectors
from retrieval.tokenize import Lexicon, Tokenizer, normalize

DEFAULT_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_qa.jsonl"
TOP_K = 3
BUILD_RUNS, LOAD_RUNS = 3, 5  # builds and cache loads are timed this many times; the median is reported
KEY = "benchmark"  # the Index key: the benchmark never touches townqa's real cache
ENGINES = ("townqa", "bm25s", "rank_bm25")


# --------------------------------------------------------------------------- input


def read_questions(path: Path, chunks: list[Chunk]) -> tuple[list[str], str]:
    """The fixed query set: the dev questions, or (without them) 60 fixed slices of seed chunks."""
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["question"] for line in lines if line.strip()], str(path)
    step = max(1, len(chunks) // 60)
    return [c.text[:24] for c in chunks[::step][:60]], "first 24 characters of every chunks[::k] (no question file)"


# Synthetic sub-units of the seed towns: 后白镇 + 青山 + 社区, and so on.
SYLLABLES = "青山河湖东西南北新安和平兴华丰泰康宁长乐永福金玉龙凤桥塘港湾林园"
YEAR_OR_NUMBER = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d.])|\d+(?:\.\d+)?")
BOLD_LEAD = re.compile(r"^(\*\*.+?\*\*)(.*)$")
SENTENCE_END = re.compile(r"[。！？]")


def suffix(i: int) -> str:
    """A distinct two-or-more-syllable name for every i (bijective base-len(SYLLABLES))."""
    out, i = "", i + len(SYLLABLES) + 1
    while i:
        i, r = divmod(i - 1, len(SYLLABLES))
        out = SYLLABLES[r] + out
    return out


def vary_numbers(text: str, rng: random.Random, year_shift: int) -> str:
    """Shift years by year_shift; scale other numbers by 0.5-1.5, keeping their decimals."""

    def replace(m: re.Match) -> str:
        if m.group(1):
            return str(int(m.group(1)) + year_shift)
        digits = m.group()
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        value = float(digits) * rng.uniform(0.5, 1.5)
        return f"{value:.{decimals}f}" if decimals else str(max(1, round(value)))

    return YEAR_OR_NUMBER.sub(replace, text)


def body_sentences(reports: tuple[Report, ...]) -> list[str]:
    """Every sentence of the seed reports' body lines, in file order: the recombination pool."""
    pool = []
    for report in reports:
        for line in report.text.splitlines():
            m = BOLD_LEAD.match(line.strip())
            body = m.group(2) if m else line.strip()
            if SENTENCE_END.search(body):
                pool.extend(split_sentences(body))
    return pool


def recombine(text: str, pool: list[str], rng: random.Random) -> str:
    """Keep the report's headings and lines; swap ~30% of sentences for pool ones, shuffle some lines."""
    lines = []
    for line in text.splitlines():
        m = BOLD_LEAD.match(line.strip())
        lead, body = (m.group(1), m.group(2)) if m else ("", line)
        if SENTENCE_END.search(body):
            sentences = [rng.choice(pool) if rng.random() < 0.3 else s for s in split_sentences(body)]
            if rng.random() < 0.5:
                rng.shuffle(sentences)
            body = "".join(sentences)
        lines.append(lead + body)
    return "\n".join(lines)


def synthetic_report(i: int, template: Report, names: re.Pattern, pool: list[str], rng: random.Random) -> Report:
    town = f"{template.town}{suffix(i)}社区"
    year_shift = rng.choice((-2, -1, 0, 0, 1))

    def rewrite(text: str) -> str:
        return vary_numbers(names.sub(town, text), rng, year_shift)

    return Report(
        file=f"{100000 + i}_synthetic.txt",
        town=town,
        aliases=(),
        title=rewrite(template.title),
        county=template.county,
        city=template.city,
        province=template.province,
        period=template.period,
        text=rewrite(recombine(template.text, pool, rng)),
    )


def grow(corpus: Corpus, target: int | None, seed: int = 20240601) -> tuple[Corpus, list[Chunk]]:
    """The seed corpus, plus synthetic reports until it has at least `target` chunks."""
    reports = list(corpus.reports)
    chunks = chunk_reports(reports)
    if target is None:
        return corpus, chunks
    rng = random.Random(seed)
    seed_names = sorted({n for r in corpus.reports for n in r.names}, key=len, reverse=True)
    names = re.compile("|".join(map(re.escape, seed_names)))
    pool = body_sentences(corpus.reports)
    total, i = len(chunks), 0
    while total < target:
        report = synthetic_report(i, corpus.reports[i % len(corpus.reports)], names, pool, rng)
        reports.append(report)
        total += len(chunk_reports([report]))
        i += 1
    # As load_corpus does: the reports of a town together, so a town is one range of chunks.
    reports.sort(key=lambda r: (r.town, r.file))
    grown = Corpus(folder=corpus.folder, reports=tuple(reports), fingerprint=f"grown-{target}-{seed}")
    return grown, chunk_reports(grown.reports)


def tokenize(tokenizer: Tokenizer, chunks: list[Chunk]) -> tuple[list[list[str]], float]:
    """The words of every chunk, the token lists all three engines index; (words, seconds)."""
    t0 = time.perf_counter()
    words = [tokenizer.terms(c.text) for c in chunks]
    return words, time.perf_counter() - t0


def top_k(scores: np.ndarray, k: int = TOP_K) -> np.ndarray:
    best = np.argpartition(scores, -k)[-k:]
    return best[np.argsort(-scores[best], kind="stable")]


def latencies(fn, queries: list, repeat: int) -> tuple[list, np.ndarray]:
    """Warm up with one pass (its results are returned), then time repeat passes; seconds per call."""
    results = [fn(q) for q in queries]
    times = np.empty(repeat * len(queries))
    n = 0
    for _ in range(repeat):
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            times[n] = time.perf_counter() - t0
            n += 1
    return results, times


def percentiles_ms(times: np.ndarray) -> tuple[float, float]:
    p50, p99 = np.percentile(times, [50, 99]) * 1000
    return float(p50), float(p99)


def compiled_percentiles(fn, queries: list, repeat: int) -> tuple[float, float]:
    """p50 and p99 (ms) of a function numba compiles on its first call, compiled before the timing."""
    fn(queries[0])
    return percentiles_ms(latencies(fn, queries, repeat)[1])


def timed(fn, *args):
    t0 = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - t0


def median_time(make, runs: int) -> tuple[object, float]:
    """Call make() runs times; the last object made and the median seconds (loads: from a warm page cache)."""
    times, obj = [], None
    for _ in range(runs):
        obj = None  # free the previous copy first, so memory holds one index at a time
        gc.collect()
        obj, seconds = timed(make)
        times.append(seconds)
    return obj, float(np.median(times))


def reset_peak_rss() -> bool:
    """Linux: reset this process's RSS high-water mark, so getrusage reports the peak from now on."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_now_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return peak_rss_mb()


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    peak = resource.getrusage(who).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def measured(phase, *args) -> dict:
    """Run an engine's phase in a forked child: its figures plus its peak RSS (getrusage)."""
    def run() -> dict:
        fresh = reset_peak_rss()
        base = rss_now_mb()
        figures = phase(*args)
        peak = peak_rss_mb()
        workers = peak_rss_mb(resource.RUSAGE_CHILDREN)  # the build's tokenizing workers, the largest one
        return {**figures, "peak_rss_mb": peak, "rss_growth_mb": peak - base if fresh else None, "worker_peak_rss_mb": workers}

    if not hasattr(os, "fork"):
        return run()
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            payload, code = pickle.dumps(("ok", run())), 0
        except BaseException:
            payload, code = pickle.dumps(("error", traceback.format_exc())), 1
        with os.fdopen(write, "wb") as out:
            out.write(payload)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    status, value = pickle.loads(data)
    if status != "ok":
        raise RuntimeError(f"benchmark phase {phase.__name__} failed:\n{value}")
    return value


# --------------------------------------------------------------------------- engines


def townqa_phase(chunks, words, tokens, repeat, folder) -> dict:
    """Index.build of the words field alone; score-only queries on it, from token strings."""
    index, build_s = median_time(lambda: Index.build(chunks, {"words": words}, KEY), BUILD_RUNS)
    index.save(folder)
    del index
    index, load_s = median_time(lambda: Index.load(folder, KEY), LOAD_RUNS)
    field, vocab, n = index.fields["words"], index.vocab, len(index.chunks)

    def score(query: list[str]) -> np.ndarray:  # what Engine._score does for one field over all chunks
        scores = np.zeros(n, dtype=np.float32)
        for term, count in Counter(t for t in query if t in vocab).items():
            field.add_scores(scores, vocab[term], float(count), 0, n)
        return top_k(scores)

    def pruned(query: list[str]) -> np.ndarray:  # the same with the pruned top-k (pruning.score_best)
        terms = [Term(field, vocab[t], float(c)) for t, c in Counter(t for t in query if t in vocab).items()]
        scores = score_best(terms, 0, n, None, TOP_K)
        kept = np.flatnonzero(scores)  # the few chunks it scored, as Engine reads them
        return kept[top_k(scores[kept], min(TOP_K, len(kept)))] if len(kept) else kept

    results, times = latencies(score, tokens, repeat)
    p50, p99 = percentiles_ms(times)
    pruned_p50, pruned_p99 = compiled_percentiles(pruned, tokens, repeat)
    return {
        "build_s": build_s, "load_s": load_s, "p50_ms": p50, "p99_ms": p99, "top": [int(r[0]) for r in results],
        "pruned_p50_ms": pruned_p50, "pruned_p99_ms": pruned_p99,
    }


def shipped_phase(corpus, tokenizer, questions, repeat, folder, config) -> dict:
    """townqa as the bot runs it: the whole build from report texts, Index.load, the full Engine.search with the
    shipped ranker and confidence model."""
    index, build_s = timed(build_index, corpus, tokenizer, KEY)
    index.save(folder)
    del index
    index, load_s = median_time(lambda: Index.load(folder, KEY), LOAD_RUNS)
    vectors = load_vectors(folder.parent)
    meanings = Meanings(vectors, index.terms_of("words")) if vectors else None
    engine = Engine(corpus, tokenizer, index, Thresholds(), meanings, Model.load(config), Ranker.load(config))
    _, times = latencies(engine.search, questions, repeat)
    p50, p99 = percentiles_ms(times)
    anywhere = [engine.towns.find(normalize(q))[1] for q in questions]  # the town names taken out: every chunk scored
    no_town = {}
    for label, meanings, prune_above in (
        ("", engine.meanings, PRUNE_ABOVE), ("unpruned_", engine.meanings, 2**62),
        ("plain_", None, PRUNE_ABOVE), ("plain_unpruned_", None, 2**62),
    ):  # with and without pruning, with and without the words like the question's (expansion)
        engine.meanings, engine.prune_above = meanings, prune_above
        _, times = latencies(engine.search, anywhere, repeat)
        no_town[f"no_town_{label}p50_ms"], no_town[f"no_town_{label}p99_ms"] = percentiles_ms(times)
    _, tok = latencies(lambda q: (tokenizer.terms(q), tokenizer.chars(q)), questions, repeat)
    return {
        "build_s": build_s,
        "load_s": load_s,
        "p50_ms": p50,
        "p99_ms": p99,
        **no_town,
        "tokenize_p50_ms": percentiles_ms(tok)[0],
    }


def bm25s_phase(words, tokens, repeat, folder) -> dict:
    def build():
        retriever = bm25s.BM25(method="robertson")  # Okapi's tf part and idf, like rank-bm25's BM25Okapi
        retriever.index(words, show_progress=False)
        return retriever

    retriever, build_s = median_time(build, BUILD_RUNS)
    retriever.save(folder, show_progress=False)
    del retriever
    retriever, load_s = median_time(lambda: bm25s.BM25.load(folder, mmap=True, show_progress=False), LOAD_RUNS)

    def score(query: list[str]) -> np.ndarray:
        return retriever.retrieve([query], k=TOP_K, show_progress=False).documents[0]

    results, times = latencies(score, tokens, repeat)
    p50, p99 = percentiles_ms(times)
    retriever.backend = "numba"  # bm25s's compiled scoring (numba is installed: townqa's pruning uses it too)
    numba_p50, numba_p99 = compiled_percentiles(score, tokens, repeat)
    return {
        "build_s": build_s, "load_s": load_s, "p50_ms": p50, "p99_ms": p99, "top": [int(r[0]) for r in results],
        "numba_p50_ms": numba_p50, "numba_p99_ms": numba_p99,
    }


def rank_bm25_phase(words, tokens, repeat, path) -> dict:
    bm25, build_s = median_time(lambda: BM25Okapi(words), BUILD_RUNS)
    path.write_bytes(pickle.dumps(bm25, protocol=pickle.HIGHEST_PROTOCOL))
    del bm25
    bm25, load_s = median_time(lambda: pickle.loads(path.read_bytes()), LOAD_RUNS)

    def score(query: list[str]) -> np.ndarray:
        return top_k(bm25.get_scores(query))

    results, times = latencies(score, tokens, repeat)
    p50, p99 = percentiles_ms(times)
    return {"build_s": build_s, "load_s": load_s, "p50_ms": p50, "p99_ms": p99, "top": [int(r[0]) for r in results]}


# --------------------------------------------------------------------------- report


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if isinstance(a, float) and isinstance(b, float) and b else "-"


def cell(value, digits: int) -> str:
    """A figure, or a word ("", "skipped") as it is; None is a figure this platform cannot measure."""
    if isinstance(value, str):
        return value
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(rows: list[tuple]) -> str:
    """rows: (label, townqa, bm25s, rank-bm25, bm25s for the ratio, rank-bm25 for the ratio, digits)."""
    head = f"{'':44} {'townqa':>9} {'bm25s':>9} {'rank-bm25':>9} {'townqa/bm25s':>13} {'townqa/rank-bm25':>17}"
    lines = [head, "-" * len(head)]
    for label, t, s, r, s_ref, r_ref, digits in rows:
        lines.append(
            f"{label:44} {cell(t, digits):>9} {cell(s, digits):>9} {cell(r, digits):>9}"
            f" {ratio(t, s_ref):>13} {ratio(t, r_ref):>17}"
        )
    return "\n".join(lines)


def agreement(results: dict, chunks: list[Chunk], words: list[list[str]], tokens: list[list[str]]) -> str:
    """Sanity check that the engines rank alike: is each engine's first chunk a best one under BM25Okapi?

    Reference scores are townqa's words field (BM25Okapi's formula); ties are common in a grown
    corpus, so the check is on the score of the chunk, not on its id.
    """
    index = Index.build(chunks, {"words": words}, KEY)
    field, vocab, n = index.fields["words"], index.vocab, len(chunks)
    best = []
    for query in tokens:
        scores = np.zeros(n, dtype=np.float32)
        for term, count in Counter(t for t in query if t in vocab).items():
            field.add_scores(scores, vocab[term], float(count), 0, n)
        best.append(scores)
    parts = []
    for name in ENGINES:
        if results[name]:
            ok = sum(bool(s[top] >= s.max() - 1e-4 * abs(s.max())) for s, top in zip(best, results[name]["top"]))
            parts.append(f"{name} {ok}/{len(tokens)}")
    return "first chunk is a best one under BM25Okapi (ties allowed): " + ", ".join(parts)


def print_report(info: dict, res: dict, agrees: str) -> None:
    q, s, r, shipped = res["townqa"], res["bm25s"], res["rank_bm25"] or {}, res["shipped"]
    only = "" if r else "skipped"  # rank-bm25's cell in a townqa-only row

    def rank(key: str, scale: float = 1.0):  # rank-bm25's figure, or "skipped"
        return r[key] * scale if r and r[key] is not None else (None if r else "skipped")
    print(
        f"townqa retrieval benchmark: {info['chunks']} chunks ({info['corpus']}), {info['questions']} questions"
        f" x {info['repeat']} repeats = {info['questions'] * info['repeat']} timed queries per engine after one warm-up pass"
    )
    print(f"  queries: {info['question_source']}")
    print(
        f"  python {platform.python_version()}, numpy {np.__version__}, bm25s {version('bm25s')} "
        f"(numpy backend; numba in [l], method=robertson), rank-bm25 {version('rank-bm25')}, {platform.machine()}"
    )
    print(f"  tokenizer set-up (rjieba + word lists): {info['tokenizer_s']:.2f} s; corpus growth + chunking: {info['grow_s']:.2f} s")
    print(f"  tokenization, shared by all engines (Tokenizer.terms of every chunk text, one core): {info['tokenize_s']:.2f} s")
    if res["rank_bm25"] is None:
        print(f"  rank-bm25 skipped: {info['chunks']} chunks > --skip-rank-bm25-above {info['skip_above']}")
    print()
    sb, rb = s["build_s"], rank("build_s")
    sl, rl = s["load_s"] * 1000, rank("load_s", 1000)
    sp50, rp50, sp99, rp99 = s["p50_ms"], rank("p50_ms"), s["p99_ms"], rank("p99_ms")
    s_rss, r_rss, s_grow, r_grow = s["peak_rss_mb"], rank("peak_rss_mb"), s["rss_growth_mb"], rank("rss_growth_mb")
    print(table([
        ("[a] index build, words field (s)", q["build_s"], sb, rb, sb, rb, 3),
        ("[b] full build from report texts (s)", shipped["build_s"], "", only, sb, rb, 3),
        ("[c] cache load, words field (ms)", q["load_s"] * 1000, sl, rl, sl, rl, 2),
        ("[d] cache load, townqa as shipped (ms)", shipped["load_s"] * 1000, "", only, sl, rl, 2),
        ("[e] query p50, score only, top-3 (ms)", q["p50_ms"], sp50, rp50, sp50, rp50, 3),
        ("[e] query p99, score only, top-3 (ms)", q["p99_ms"], sp99, rp99, sp99, rp99, 3),
        ("[l] query p50, pruned / bm25s numba (ms)", q["pruned_p50_ms"], s["numba_p50_ms"], "", s["numba_p50_ms"], None, 3),
        ("[l] query p99, pruned / bm25s numba (ms)", q["pruned_p99_ms"], s["numba_p99_ms"], "", s["numba_p99_ms"], None, 3),
        ("[f] query p50, full engine.search (ms)", shipped["p50_ms"], "", only, sp50, rp50, 3),
        ("[f] query p99, full engine.search (ms)", shipped["p99_ms"], "", only, sp99, rp99, 3),
        ("[i] query p50, engine.search, no town named (ms)", shipped["no_town_p50_ms"], "", only, sp50, rp50, 3),
        ("[i] query p99, engine.search, no town named (ms)", shipped["no_town_p99_ms"], "", only, sp99, rp99, 3),
        ("[j] ... p50, not pruned (ms)", shipped["no_town_unpruned_p50_ms"], "", only, sp50, rp50, 3),
        ("[j] ... p99, not pruned (ms)", shipped["no_town_unpruned_p99_ms"], "", only, sp99, rp99, 3),
        ("[k] ... p50, no expansion, pruned (ms)", shipped["no_town_plain_p50_ms"], "", only, sp50, rp50, 3),
        ("[k] ... p99, no expansion, pruned (ms)", shipped["no_town_plain_p99_ms"], "", only, sp99, rp99, 3),
        ("[k] ... p50, no expansion, not pruned (ms)", shipped["no_town_plain_unpruned_p50_ms"], "", only, sp50, rp50, 3),
        ("[k] ... p99, no expansion, not pruned (ms)", shipped["no_town_plain_unpruned_p99_ms"], "", only, sp99, rp99, 3),
        ("[g] question tokenization p50 (ms)", shipped["tokenize_p50_ms"], "", only, None, None, 3),
        ("[h] peak RSS (MB)", q["peak_rss_mb"], s_rss, r_rss, s_rss, r_rss, 1),
        ("[h] RSS growth in the phase (MB)", q["rss_growth_mb"], s_grow, r_grow, s_grow, r_grow, 1),
        ("[h] peak RSS, townqa as shipped (MB)", shipped["peak_rss_mb"], "", only, s_rss, r_rss, 1),
        ("[h] ... its largest build worker (MB)", shipped["worker_peak_rss_mb"], "", only, None, None, 1),
    ]))
    print()
    print(agrees)
    print(f"""
What each figure includes (all engines get the same chunks and the same token lists):
[a] median of {BUILD_RUNS} builds from the shared token lists to a queryable index: townqa Index.build(chunks,
    {{"words": tokens}}); bm25s BM25(method="robertson").index(tokens); rank-bm25 BM25Okapi(tokens).
    Each engine maps the strings to ids itself.
[b] townqa's whole build as the bot does it (cache.build_index from scratch, one run): chunking the
    report texts, tokenizing the words, chars and headings fields on every core, and the index. Ratios use
    the others' [a], which start from ready token lists (their tokenization is the line above).
[c] median of {LOAD_RUNS} loads from a warm page cache: townqa Index.load (arrays memory-mapped, vocab and
    chunk texts from JSON); bm25s BM25.load(mmap=True), index only; rank-bm25 pickle.loads of its object.
[d] the same for townqa's real cache (every field; chunk texts and columns memory-mapped).
[e] from the question's token strings (tokenized beforehand, as for the index) to the top-3 chunk ids,
    every chunk scored: townqa Field.add_scores of the words field + argpartition (as Engine._score does);
    bm25s retrieve([tokens], k=3); rank-bm25 get_scores + argpartition. One question per call.
[l] [e] compiled: townqa's pruned top-3 (pruning.score_best, numba, over the words field) beside bm25s
    with its numba backend (retriever.backend = "numba"); both compiled before timing. Ratios here are
    against bm25s numba; everywhere else against its default numpy backend. [i] over bm25s numba is in
    the JSON line (no_town_vs_bm25s_numba_p50).
[f] townqa Engine.search(question) on the loaded real index: normalisation, town and year filters,
    tokenization [g], word-vector stand-ins, every field scored over the named town's chunks only (all
    chunks when no town is named), the number preference, the shipped ranker over the ten best and
    confidence model (config/), and Hit objects with their bold spans. Ratios are against the others' [e],
    which do far less.
[i] the same questions with the town names taken out: every chunk of the corpus is searched. Above
    search.PRUNE_ABOVE chunks the search is pruned (retrieval/pruning.py, MaxScore): only chunks that can be
    among the 50 best are scored in full, with exactly the scores and order of scoring everything.
[j] [i] with pruning off: every posting of every term scored.
[k] [i] and [j] without the words like the question's (no word vectors): fewer, all full-weight terms.
[g] Tokenizer.terms + Tokenizer.chars of the whole question, the tokenization part of [f].
[h] resource.getrusage(RUSAGE_SELF).ru_maxrss of a forked child that runs one engine's build, save, loads
    and queries; the child starts with the chunks and tokens already in memory (counted in peak RSS).
    Growth = peak minus RSS at the child's start, after resetting the high-water mark (/proc/self/clear_refs).""")


def json_line(info: dict, res: dict) -> str:
    shipped = res["shipped"]
    engines = {name: ({k: v for k, v in res[name].items() if k != "top"} if res[name] else None) for name in ENGINES}
    engines["townqa"] |= {
        "shipped_build_s": shipped["build_s"],
        "shipped_load_s": shipped["load_s"],
        "search_p50_ms": shipped["p50_ms"],
        "search_p99_ms": shipped["p99_ms"],
        **{k: v for k, v in shipped.items() if k.startswith("no_town_")},
        "no_town_vs_bm25s_numba_p50": shipped["no_town_p50_ms"] / res["bm25s"]["numba_p50_ms"],
        "question_tokenize_p50_ms": shipped["tokenize_p50_ms"],
        "shipped_peak_rss_mb": shipped["peak_rss_mb"],
        "shipped_worker_peak_rss_mb": shipped["worker_peak_rss_mb"],
    }
    out = {
        "chunks": info["chunks"],
        "questions": info["questions"],
        "repeat": info["repeat"],
        "tokenize_s": info["tokenize_s"],
        "engines": engines,
    }
    return json.dumps(out, ensure_ascii=False)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=int, metavar="N", help="grow (or cut) the corpus to N chunks (default: the seeds as they are)")
    p.add_argument("--repeat", type=int, default=20, metavar="R", help="timed passes over the questions (default 20)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--skip-rank-bm25-above", type=int, default=50000, metavar="N", help="skip rank-bm25 beyond N chunks")
    p.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")], metavar="N,N,...",
                   help="run each corpus size in turn (for --plot), e.g. 1000,10000,100000")
    p.add_argument("--plot", type=Path, metavar="PNG", help="write query latency against corpus size to this PNG")
    p.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    p.add_argument("--config", type=Path, default=ROOT / "config")
    p.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    args = p.parse_args(argv)
    if args.repeat < 1 or (args.scale is not None and args.scale < TOP_K + 1):
        p.error("--repeat must be at least 1 and --scale more than the top-k")
    return args


def run(args: argparse.Namespace, scale: int | None) -> tuple[dict, dict]:
    """Every engine on one corpus size: (info, results); prints the table."""
    (corpus, chunks), grow_s = timed(grow, load_corpus(args.seeds), scale)
    lexicon = Lexicon.from_folder(args.config, [n for r in corpus.reports for n in r.names])
    tokenizer, tokenizer_s = timed(Tokenizer, lexicon)
    words, tokenize_s = tokenize(tokenizer, chunks)
    questions, source = read_questions(args.questions, chunks)
    tokens = [tokenizer.terms(q) for q in questions]
    info = {
        "chunks": len(chunks),
        "corpus": f"seeds grown to --scale {scale}" if scale else "the seeds as they are",
        "questions": len(questions),
        "question_source": source,
        "repeat": args.repeat,
        "tokenizer_s": tokenizer_s,
        "grow_s": grow_s,
        "tokenize_s": tokenize_s,
        "skip_above": args.skip_rank_bm25_above,
    }
    with tempfile.TemporaryDirectory(prefix="townqa-bench-") as tmp:
        tmp = Path(tmp)
        res = {
            "townqa": measured(townqa_phase, chunks, words, tokens, args.repeat, tmp / "townqa"),
            "shipped": measured(shipped_phase, corpus, tokenizer, questions, args.repeat, tmp / "shipped", args.config),
            "bm25s": measured(bm25s_phase, words, tokens, args.repeat, tmp / "bm25s"),
            "rank_bm25": None
            if len(chunks) > args.skip_rank_bm25_above
            else measured(rank_bm25_phase, words, tokens, args.repeat, tmp / "rank_bm25.pkl"),
        }
    print_report(info, res, agreement(res, chunks, words, tokens))
    return info, res


def plot(runs: list[tuple[dict, dict]], path: Path) -> None:
    """Query latency (p50, with p99 dashed) against corpus size for the three engines, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [
        ("townqa engine.search", "shipped", "p50_ms", "p99_ms", "tab:blue"),
        ("townqa engine.search, no town named", "shipped", "no_town_p50_ms", "no_town_p99_ms", "tab:purple"),
        ("townqa scoring only", "townqa", "p50_ms", "p99_ms", "tab:cyan"),
        ("bm25s", "bm25s", "p50_ms", "p99_ms", "tab:orange"),
        ("bm25s, numba backend", "bm25s", "numba_p50_ms", "numba_p99_ms", "tab:red"),
        ("rank-bm25", "rank_bm25", "p50_ms", "p99_ms", "tab:green"),
    ]
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, engine, p50, p99, color in lines:
        points = [(info["chunks"], res[engine][p50], res[engine][p99]) for info, res in runs if res[engine]]
        if points:
            n, a, b = zip(*points)
            ax.plot(n, a, "o-", color=color, label=f"{label} p50")
            ax.plot(n, b, "--", color=color, alpha=0.6, label=f"{label} p99")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks")
    ax.set_ylabel("query latency (ms)")
    ax.set_title("townqa beside bm25s and rank-bm25, same chunks and tokens (2 cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot written to {path}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    scales = args.sizes or [args.scale]
    runs = [run(args, scale) for scale in scales]
    if args.plot:
        plot(runs, args.plot)
    if args.json:
        for info, res in runs:
            print(json_line(info, res))


if __name__ == "__main__":
    main()
