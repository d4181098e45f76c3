"""The `townqa` command: ask, chat, search, eval, index."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from datetime import date
from pathlib import Path

from retrieval import Answer, CorpusError, Engine
from retrieval.calibrate import calibrate
from retrieval.confidence import FEATURES
from retrieval.confidence import FILE as CONFIDENCE_FILE
from retrieval.rerank import FEATURES as RANK_FEATURES
from retrieval.rerank import FILE as RANKING_FILE
from retrieval.evaluate import evaluate, load_questions
from retrieval.corpus import load_corpus, remove_report
from retrieval.ingest import prepare

from pydantic import ValidationError

from .console import chat, reply
from .database import ERRORS, describe, is_url
from .logsetup import setup_logging
from .querylog import QueryLog, Review, to_csv, to_jsonl
from .settings import Settings
from .uploads import preview_lines, report_rows, write

log = logging.getLogger("townqa")


def answer_json(answer: Answer) -> dict:
    return {
        "query": answer.query,
        "town_filter": answer.town_filter,
        "results": [
            {
                "town": h.chunk.town,
                "title": h.report.title,
                "section": h.chunk.section,
                "text": h.chunk.text,
                "score": round(h.score, 4),
                "doc": h.chunk.doc,
                "chunk_id": h.chunk.id,
            }
            for h in answer.hits
        ],
    }


async def with_querylog(settings: Settings, work):
    querylog = await QueryLog(settings.database(), settings.log_user_ids).open()
    try:
        return await work(querylog)
    finally:
        await querylog.close()


def cmd_ask(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    async def ask(querylog: QueryLog) -> None:
        print(await reply(engine, args.question, settings.top_k, querylog))

    asyncio.run(with_querylog(settings, ask))
    return 0


def cmd_chat(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    window = settings.conversation_seconds
    asyncio.run(with_querylog(settings, lambda querylog: chat(engine, settings.top_k, querylog, window=window)))
    return 0


def cmd_search(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    questions = sys.stdin if args.question == "-" else [args.question]
    for question in questions:
        question = question.strip()
        if args.question == "-" and not question:
            continue
        answer = engine.search(question, limit=args.limit)
        print(json.dumps(answer_json(answer), ensure_ascii=False), flush=True)
    return 0


def cmd_eval(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    """One table per file (and a line of JSON per file with --json)."""
    try:
        sets = [(path, load_questions(path)) for path in args.files]
    except (OSError, ValueError) as exc:
        print(f"townqa eval: {exc}", file=sys.stderr)
        return 2
    for number, (path, questions) in enumerate(sets):
        report = evaluate(engine, questions).as_dict()
        if args.json:
            print(json.dumps({"file": str(path), **report}, ensure_ascii=False))
            continue
        if len(sets) > 1:
            print(("\n" if number else "") + f"== {path.name}: {len(questions)} questions")
        print_table(report)
    return 0


def print_table(report: dict) -> None:
    print(f"{'type':<14}{'n':>4}{'hit@1':>8}{'hit@3':>8}{'mrr@5':>8}{'f.abst':>8}{'unans':>7}{'abstain':>9}")
    for name, r in [("all", report), *report["by_type"].items()]:
        cells = [r["hit@1"], r["hit@3"], r["mrr@5"], r["false_abstain"]]
        fmt = "".join(f"{c:>8.3f}" if c is not None else f"{'-':>8}" for c in cells)
        abstain = f"{r['abstain']:>9.3f}" if r["abstain"] is not None else f"{'-':>9}"
        print(f"{name:<14}{r['answerable']:>4}{fmt}{r['unanswerable']:>7}{abstain}")
    median = report["median_passage_chars"]
    print(f"median quoted passage: {'-' if median is None else f'{median:g}'} characters")


def cmd_calibrate(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    """Fit the confidence model on labelled questions; --write keeps it in the config folder."""
    try:
        questions = [q for path in args.files for q in load_questions(path)]
    except (OSError, ValueError) as exc:
        print(f"townqa calibrate: {exc}", file=sys.stderr)
        return 2
    result = calibrate(engine, questions)
    print(result.summary())
    print("ranker: " + ", ".join(f"{name} {w:+.2f}" for name, w in zip(RANK_FEATURES, result.ranker.weights)))
    print("weights: " + ", ".join(f"{name} {w:+.2f}" for name, w in zip(FEATURES, result.model.weights)) + f", bias {result.model.bias:+.2f}")
    if args.write:
        folder = settings.path(settings.config_dir)
        note = f"Fitted by `townqa calibrate --write` on {', '.join(p.name for p in args.files)} ({date.today()}).\n{result.summary()}"
        result.ranker.save(folder / RANKING_FILE, note)
        result.model.save(folder / CONFIDENCE_FILE, note)
        print(f"written to {folder / RANKING_FILE} and {folder / CONFIDENCE_FILE}")
    return 0


def cmd_index(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    print(f"index rebuilt: {len(engine.reports)} reports, {len(engine)} chunks")
    return 0


def cmd_logs(args: argparse.Namespace, settings: Settings) -> int:
    """Review the query log from the shell."""
    if args.plot and args.view != "stats":
        print("townqa logs: --plot goes with `townqa logs stats`", file=sys.stderr)
        return 2
    target = settings.database()
    if not (is_url(target) or target.is_file()):
        print(f"townqa logs: no query log at {target} yet", file=sys.stderr)
        return 1

    async def show(querylog: QueryLog) -> int:
        review = Review(querylog)
        if args.view == "stats":
            if args.plot and not await plot(review, args.plot):
                return 1
            s = await review.stats()
            share = "-" if s.answered_share is None else f"{s.answered_share:.1%}"
            p50 = "-" if s.p50_ms is None else f"{s.p50_ms:.1f} ms"
            p95 = "-" if s.p95_ms is None else f"{s.p95_ms:.1f} ms"
            print(f"questions today: {s.today}\nquestions in 7 days: {s.week}\nanswered (7 days): {share}")
            print(f"latency p50: {p50}\nlatency p95: {p95}\nfeedback (7 days): +{s.up} -{s.down}")
            print("top towns (7 days): " + (", ".join(f"{t} {n}" for t, n in s.top_towns) or "-"))
            return 0
        if args.view == "export":
            rows = await review.export(args.since)
        else:
            rows = await getattr(review, args.view)(args.n)
            if args.since:
                rows = [r for r in rows if r["ts"] >= args.since]
        sys.stdout.write(to_csv(rows) if args.format == "csv" else to_jsonl(rows))
        return 0

    try:
        return asyncio.run(with_querylog(settings, show))
    except ERRORS as exc:
        print(f"townqa logs: cannot read {describe(target)}: {exc}", file=sys.stderr)
        return 1


async def plot(review: Review, file: Path) -> bool:
    """The /stats chart into a PNG file; False, said plainly, when it cannot be written."""
    from .charts import DAYS, daily_png  # matplotlib is imported only for a chart

    png = await asyncio.to_thread(daily_png, await review.daily(DAYS))
    try:
        file.write_bytes(png)
    except OSError as exc:
        print(f"townqa logs: cannot write the chart to {file}: {exc.strerror or exc}", file=sys.stderr)
        return False
    print(f"chart of the last {DAYS} days written to {file}")
    return True


def bounded(low: int, high: int):
    """An argparse type: a whole number from low to high."""

    def parse(value: str) -> int:
        if not value.isdigit() or not low <= int(value) <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {value!r}")
        return int(value)

    return parse


def a_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def png_file(value: str) -> Path:
    if not value.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"the chart is a PNG image: name a file ending in .png, not {value!r}")
    return Path(value)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The Telegram bot when a token is set, else the console chat."""
    if settings.telegram_bot_token is None:
        if args.command == "bot":
            print("townqa bot: set TELEGRAM_BOT_TOKEN first (or use `townqa chat`)", file=sys.stderr)
            return 2
        log.info("no TELEGRAM_BOT_TOKEN: starting the console chat")
        return run_with_engine(cmd_chat, args, settings)
    from .app import run_bot

    try:
        run_bot(settings)
    except CorpusError as exc:
        print(f"townqa: the corpus cannot be loaded: {exc}", file=sys.stderr)
        return 1
    return 0


def confirmed(question: str, yes: bool) -> bool:
    if yes:
        return True
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """Preview a report file, then (confirmed) write it into the corpus folder."""
    folder = settings.path(settings.seeds)
    caption = {k: v for k in ("town", "title", "county", "period", "aliases") if (v := getattr(args, k))}
    data = args.file.read_bytes()
    try:
        preview = prepare(folder, args.file.name, data, caption, settings.max_upload_bytes)
        print("\n".join(preview_lines(preview)))
        if not confirmed("加入?", args.yes):
            print("not added")
            return 1
        write(folder, preview, data, settings.max_upload_bytes)
    except CorpusError as exc:
        print(f"townqa add: not added: {exc}", file=sys.stderr)
        return 1
    print(f"added {preview.file} ({preview.fields['town']}); a running bot takes it with /reload")
    return 0


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    try:
        corpus = load_corpus(settings.path(settings.seeds))
    except CorpusError as exc:
        print(f"townqa: the corpus cannot be loaded: {exc}", file=sys.stderr)
        return 1
    for file, town, period, passages in report_rows(corpus):
        print(f"{file}\t{town}\t{period or '—'}\t{passages} passages")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if not confirmed(f"remove {args.report}?", args.yes):
            print("not removed")
            return 1
        remove_report(settings.path(settings.seeds), args.report)
    except CorpusError as exc:
        print(f"townqa remove: {exc}", file=sys.stderr)
        return 1
    print(f"removed {args.report}; a running bot takes it with /reload")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="townqa", description="Questions about town work reports, answered from the reports.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", help="the question, e.g. 后白镇2025年地区生产总值是多少")
    p.set_defaults(run=cmd_ask)
    p = sub.add_parser("chat", help="console chat: one question per line on standard input")
    p.set_defaults(run=cmd_chat)
    p = sub.add_parser("search", help="ranked passages as JSON")
    p.add_argument("--json", action="store_true", required=True, help="print JSON (the only format)")
    p.add_argument("--limit", type=bounded(1, 50), default=3, metavar="N", help="results per question (1-50)")
    p.add_argument("question", help="the question, or - to read one question per line from standard input")
    p.set_defaults(run=cmd_search)
    p = sub.add_parser("eval", help="score question sets (JSON lines with question, town, answers, type)")
    p.add_argument("files", type=Path, nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the figures as JSON, a line per file")
    p.set_defaults(run=cmd_eval)
    p = sub.add_parser("calibrate", help="fit when to say 「没有找到」 on labelled question sets (cross-validated)")
    p.add_argument("files", type=Path, nargs="+", metavar="FILE")
    p.add_argument("--write", action="store_true", help="keep the fitted model in the config folder")
    p.set_defaults(run=cmd_calibrate)
    p = sub.add_parser("index", help="rebuild the index cache")
    p.set_defaults(run=cmd_index, rebuild=True)
    p = sub.add_parser("logs", help="review the query log: stats, recent, unanswered, export")
    p.add_argument("view", choices=["stats", "recent", "unanswered", "export"])
    p.add_argument("--since", type=a_date, metavar="DATE", help="only questions from this day on (YYYY-MM-DD)")
    p.add_argument("--format", choices=["csv", "jsonl"], default="csv", help="output format (default csv)")
    p.add_argument("-n", type=bounded(1, 100000), default=20, metavar="N", help="how many for recent/unanswered")
    p.add_argument("--plot", type=png_file, metavar="FILE.png", help="with stats: also draw the /stats chart (30 days) into FILE.png")
    p.set_defaults(start=cmd_logs)
    p = sub.add_parser("add", help="add a report (.pdf, .docx, .html, .txt): preview, confirm, write")
    p.add_argument("file", type=Path, metavar="FILE")
    for name in ("town", "title", "county", "period", "aliases"):
        p.add_argument(f"--{name}", help=f"the report's {name} (else proposed from its first lines)")
    p.add_argument("--yes", action="store_true", help="add without asking")
    p.set_defaults(start=cmd_add)
    p = sub.add_parser("reports", help="list the reports: file, town, period, passages")
    p.set_defaults(start=cmd_reports)
    p = sub.add_parser("remove", help="take a report out of the corpus folder")
    p.add_argument("report", help="its file name, as `townqa reports` lists it")
    p.add_argument("--yes", action="store_true", help="remove without asking")
    p.set_defaults(start=cmd_remove)
    p = sub.add_parser("bot", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    p.set_defaults(start=cmd_run)
    p = sub.add_parser("run", help="the Telegram bot if TELEGRAM_BOT_TOKEN is set, else the console chat")
    p.set_defaults(start=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for path in getattr(args, "files", []) + ([args.file] if getattr(args, "file", None) else []):
        if not path.is_file():
            parser.error(f"{args.command}: no such file: {path}")
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"townqa: bad setting: {exc}", file=sys.stderr)
        return 2
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    bot_mode = args.command in ("bot", "run") and token
    level = "DEBUG" if args.verbose else (settings.log_level if bot_mode else "WARNING")
    setup_logging(level, [token])
    if hasattr(args, "start"):
        return args.start(args, settings)
    return run_with_engine(args.run, args, settings)


def run_with_engine(command, args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    try:
        engine = settings.load_engine(rebuild=getattr(args, "rebuild", False))
    except CorpusError as exc:
        print(f"townqa: the corpus cannot be loaded: {exc}", file=sys.stderr)
        return 1
    log.info("engine ready in %.2fs", time.perf_counter() - started)
    try:
        return command(engine, args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
