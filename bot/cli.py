"""The `townqa` command: ask, chat, search, eval, index."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from retrieval import Answer, CorpusError, Engine
from retrieval.evaluate import evaluate, load_questions

from pydantic import ValidationError

from .console import chat, reply
from .logsetup import setup_logging
from .settings import Settings

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


def cmd_ask(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    print(reply(engine, args.question, settings.top_k))
    return 0


def cmd_chat(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    chat(engine, settings.top_k)
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
    try:
        questions = load_questions(args.file)
    except (OSError, ValueError) as exc:
        print(f"townqa eval: {exc}", file=sys.stderr)
        return 2
    report = evaluate(engine, questions).as_dict()
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    header = f"{'type':<14}{'n':>4}{'hit@1':>8}{'hit@3':>8}{'mrr@5':>8}{'f.abst':>8}{'unans':>7}{'abstain':>9}"
    print(header)
    rows = [("all", report), *report["by_type"].items()]
    for name, r in rows:
        cells = [r["hit@1"], r["hit@3"], r["mrr@5"], r["false_abstain"]]
        fmt = "".join(f"{c:>8.3f}" if c is not None else f"{'-':>8}" for c in cells)
        abstain = f"{r['abstain']:>9.3f}" if r["abstain"] is not None else f"{'-':>9}"
        print(f"{name:<14}{r['answerable']:>4}{fmt}{r['unanswerable']:>7}{abstain}")
    print(f"median quoted passage: {report['median_passage_chars']} characters")
    return 0


def cmd_index(engine: Engine, args: argparse.Namespace, settings: Settings) -> int:
    print(f"index rebuilt: {len(engine.corpus.reports)} reports, {len(engine.index.chunks)} chunks")
    return 0


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
    p.add_argument("--limit", type=int, default=3, choices=range(1, 51), metavar="N", help="results per question (1-50)")
    p.add_argument("question", help="the question, or - to read one question per line from standard input")
    p.set_defaults(run=cmd_search)
    p = sub.add_parser("eval", help="score a question set (JSON lines with question, town, answers, type)")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(run=cmd_eval)
    p = sub.add_parser("index", help="rebuild the index cache")
    p.set_defaults(run=cmd_index, rebuild=True)
    p = sub.add_parser("bot", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    p.set_defaults(start=cmd_run)
    p = sub.add_parser("run", help="the Telegram bot if TELEGRAM_BOT_TOKEN is set, else the console chat")
    p.set_defaults(start=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "eval" and not args.file.is_file():
        parser.error(f"eval: no such file: {args.file}")
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
