"""Build and reload at scale, as the bot does them: whole processes, every core, all their memory.

    python benchmarks/reload.py --scale 1000000 [--json]

Grows the seeds to N chunks (the generator of benchmarks/retrieval.py), writes them as a corpus
folder with its manifest, and times, each in a fresh process running ``Engine.load`` (what
``townqa index``, bot start and ``/reload`` call):

1. the cold build: every report tokenized (on every core), the index built and saved;
2. the start from the saved index cache;
3. a reload after one new report was added through ``retrieval.corpus.add_report`` (the path of an
   upload from the chat): only that report is tokenized, the rest is kept from the saved index.

Peak memory is the largest sum of VmRSS over the process and its children (the tokenizing
workers), sampled every 50 ms from /proc, so it is what the machine must have free.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

from retrieval.corpus import MANIFEST, Report, add_report, manifest_entry  # noqa: E402

SAMPLE_EVERY = 0.05


def write_corpus(reports: tuple[Report, ...], folder: Path) -> None:
    """The reports as text files and a manifest.toml naming each one's town."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for r in reports:
        (folder / r.file).write_text(r.text, encoding="utf-8")
        fields = {"town": r.town, "title": r.title, "county": r.county, "city": r.city, "province": r.province, "period": r.period}
        entries.append(manifest_entry(r.file, fields, r.aliases))
    (folder / MANIFEST).write_text("\n".join(entries), encoding="utf-8")


def tree_rss_mb(pid: int) -> float:
    """VmRSS of pid and all its descendants, in MB (Linux /proc; reads only that process tree)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0) / 1024
        except (OSError, ValueError):
            pass  # the process ended while it was being read
    return total


def engine_phase(seeds: Path, cache: Path, config: Path) -> dict:
    """In a fresh process: Engine.load, as `townqa index`, bot start and /reload run it."""
    from retrieval import Engine

    said: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: said.append(record.getMessage())
    logging.getLogger("retrieval.cache").addHandler(handler)
    logging.getLogger("retrieval.cache").setLevel(logging.INFO)
    t0 = time.perf_counter()
    engine = Engine.load(seeds, config, cache)
    seconds = time.perf_counter() - t0
    tokenized = next((m.split()[1] + " of " + m.split()[3] for m in said if m.startswith("tokenizing ")), None)
    t1 = time.perf_counter()
    engine.search("镇江经开区2024年完成固定资产投资多少？")
    return {"seconds": seconds, "first_search_s": time.perf_counter() - t1, "chunks": len(engine),
            "tokenized": tokenized}


def measured_process(seeds: Path, cache: Path, config: Path) -> dict:
    """Run engine_phase in a child process; its figures plus the peak RSS of its process tree."""
    cmd = [sys.executable, __file__, "--phase", str(seeds), str(cache), str(config)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss_mb(proc.pid))
        time.sleep(SAMPLE_EVERY)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"phase failed ({proc.returncode}):\n{err[-3000:]}")
    return {**json.loads(out.strip().splitlines()[-1]), "peak_rss_mb": round(peak, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=int, default=100_000, metavar="N", help="chunks to grow the seeds to (default 100000)")
    p.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    p.add_argument("--config", type=Path, default=ROOT / "config")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--phase", nargs=3, type=Path, help=argparse.SUPPRESS)  # internal: seeds cache config
    args = p.parse_args(argv)
    if args.phase:
        print(json.dumps(engine_phase(*args.phase)))
        return 0
    from retrieval import load_corpus

    grow = _bench_module().grow
    t0 = time.perf_counter()
    corpus, chunks = grow(load_corpus(args.seeds), args.scale)
    # The added report: a copy of a seed report's text under a new town and file name, as an
    # upload from the chat would bring it (new name, so it is tokenized like any new report).
    new = load_corpus(args.seeds).reports[0]
    print(f"corpus: {len(chunks)} chunks in {len(corpus.reports)} reports (grown in {time.perf_counter() - t0:.1f} s)",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="townqa-reload-") as tmp:
        seeds, cache = Path(tmp) / "seeds", Path(tmp) / "cache"
        write_corpus(corpus.reports, seeds)
        del corpus, chunks
        cold = measured_process(seeds, cache, args.config)
        warm = measured_process(seeds, cache, args.config)
        fields = {"town": "新增镇", "title": new.title, "county": new.county, "city": new.city}
        t1 = time.perf_counter()
        add_report(seeds, "999999_added.txt", new.text.encode(), fields, max_bytes=10 * 2**20)
        add_s = time.perf_counter() - t1
        added = measured_process(seeds, cache, args.config)
    rows = [
        ("cold build (tokenize + index + save)", cold),
        ("start from the index cache", warm),
        ("reload after one new report", added),
    ]
    print(f"{'phase':<40}{'seconds':>10}{'peak RSS MB':>14}{'chunks':>10}  reports tokenized")
    for name, r in rows:
        print(f"{name:<40}{r['seconds']:>10.2f}{r['peak_rss_mb']:>14.0f}{r['chunks']:>10}  {r['tokenized'] or 'none'}")
    print(f"(writing the upload and its manifest entry, checked: {add_s:.2f} s; "
          f"first search after start: {warm['first_search_s'] * 1000:.1f} ms)")
    if args.json:
        print(json.dumps({"chunks": cold["chunks"], "cold": cold, "start": warm, "add_report_s": add_s, "reload": added}))
    return 0


def _bench_module():
    """benchmarks/retrieval.py, for its corpus generator (its name is taken by the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_retrieval", Path(__file__).with_name("retrieval.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

if __name__ == "__main__":
    sys.exit(main())
