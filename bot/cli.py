"""The command line: `newsbot [ask|chat|eval|run|index|fetch|report|bench]`.

Without a command, newsbot runs its main job: the Telegram bot when TELEGRAM_BOT_TOKEN is
configured, otherwise a console chat over the same answers. Errors are one line, exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from threadpoolctl import threadpool_limits

from bot import __version__, console
from bot.config import Settings, load_settings
from bot.errors import ConfigError, NewsbotError
from bot.feedback.page import report_html
from bot.feedback.report import build_report, export_questions, report_text
from bot.feedback.store import DB_NAME
from bot.indexing import updates
from bot.logs import setup_logging
from bot.telegram.app import run_bot

log = logging.getLogger("newsbot")
BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"  # source checkout


EVAL_FORMAT = """A question set is JSON lines, one question a line:
  {"q": "Wer will Tiktok kaufen?", "gold": ["Microsoft"], "lang": "de"}
"gold": phrases one of which a correct top passage contains; [] marks a question the news
does not answer (the right reply is none). "lang" ("de" or "en") is optional: without it the
language is detected. Prints Recall@1, MRR@3 and abstention per language; n/a where a language
has no such questions."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help with each option's default (where it has one), and the texts' own line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = argparse.ArgumentParser(
        prog="newsbot", formatter_class=_Formatter,
        description="Answer questions about the news (the articles in the knowledge folder)\n"
                    "with the passage that says so.",
        epilog="Without a command, `newsbot` runs its main job: the Telegram bot (`newsbot run`)"
               "\nwhen TELEGRAM_BOT_TOKEN is set (environment or .env), otherwise the console "
               "chat\n(`newsbot chat`). Settings: see .env.example and the README.",
    )
    parser.add_argument("--version", action="version", version=f"newsbot {__version__}")
    sub = parser.add_subparsers(dest="command")

    def with_knowledge(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--knowledge", type=Path, metavar="DIR",
                       help="the articles' folder (default: NEWSBOT_KNOWLEDGE_DIR or knowledge)")
        return p

    def command(name: str, help: str, epilog: str | None = None) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=_Formatter,
                              epilog=epilog)

    ask = with_knowledge(command("ask", "answer questions (arguments or stdin)"))
    ask.add_argument("--top", type=_positive, default=3, metavar="K",
                     help="answers per question")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("question", nargs="*", help="questions; none: read stdin, one a line")
    with_knowledge(command("chat", "chat in the console ('mehr'/'more', /help, /sources)"))
    ev = with_knowledge(command(
        "eval", "score a question set (JSON lines)", epilog=EVAL_FORMAT
    ))
    ev.add_argument("questions", type=Path, metavar="FILE.jsonl", help="the question set")
    ev.add_argument("--sweep", action="store_true", help="try abstention thresholds")
    ev.add_argument("--archive", type=Path, metavar="DIR", action="append", default=[],
                    help="more articles to load beside the knowledge folder (repeatable)")
    run = with_knowledge(command("run", "run the Telegram bot (needs TELEGRAM_BOT_TOKEN)"))
    run.add_argument("--webhook", action="store_true",
                     help="serve a webhook (NEWSBOT_WEBHOOK_*), not long polling")
    index = with_knowledge(command("index", "analyse the knowledge folder and save the index, "
                                   "then embed its passages (resumable)"))
    index.add_argument("--no-vectors", action="store_true",
                       help="save the lexical index only; the passages are embedded later")
    with_knowledge(command("fetch", "one round over the news feeds (NEWSBOT_FEEDS): save new "
                           "articles, one warning line per failure, then one summary line"))
    report = command("report", "what readers asked and where answers failed (the question log "
                     "in NEWSBOT_STATE_DIR)")
    report.add_argument("--days", type=_positive, default=7, metavar="N",
                        help="the period: the last N days")
    report.add_argument("--json", action="store_true",
                        help="one JSON object (the counts, per day, the failed questions)")
    report.add_argument("--html", type=Path, metavar="FILE",
                        help="also write the report as one self-contained HTML page")
    report.add_argument("--export", type=Path, metavar="FILE",
                        help="also write the unanswered and 👎 questions as a question set "
                             "(JSON lines, gold to fill in) for `newsbot eval`")
    bench = command("bench", "the scale benchmark (benchmarks/bench.py, `make bench`)")
    bench.add_argument("--sizes", type=_sizes, default="1000,10000,100000,1000000",
                       help="passage counts, a,b,c (as `make bench`)")
    bench.add_argument("--semantic", type=_sizes, default="200000,1000000",
                       help="passage counts for the semantic stage (synthetic vectors)")
    bench.add_argument("--no-semantic", action="store_true", help="skip the semantic stage")
    bench.add_argument("--questions", type=_positive, default=200, metavar="N",
                       help="questions timed per size")
    bench.add_argument("--no-reference", action="store_true", help="skip plain rank-bm25")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return value


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected passage counts like 1000,10000, not {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `newsbot` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except BrokenPipeError:  # `newsbot ask ... | head -1`: the reader is gone; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the final flush at exit cannot fail again
        return 141  # what a shell reports for a tool ended by SIGPIPE (128 + 13)


def _main(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        if getattr(args, "knowledge", None):
            settings = replace(settings, knowledge_dir=args.knowledge)
        command = args.command or ("run" if settings.token else "chat")
        quiet = command in ("ask", "chat", "eval", "bench", "report")
        setup_logging(settings.log_level or ("WARNING" if quiet else "INFO"), console=quiet)
        openmp_threads(1)  # `index` and `eval` embed with a worker thread per core instead
        if command == "bench":
            return _bench(args)
        if command == "fetch":
            return _fetch(settings)
        if command == "report":
            return _report(settings, args)
        if command == "run":
            return run_bot(settings, webhook=getattr(args, "webhook", False))
        return console.COMMANDS[command](settings, args)
    except NewsbotError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def openmp_threads(threads: int) -> None:
    """The embedding model's thread count, set once here before anything loads it (OpenMP
    reads the environment once): one, so a question never waits behind a spike of threads; a
    whole folder is embedded by a worker thread per core calling the model (as fast, and on a
    busy machine a stalled thread holds up only its own batch: docs/speed.md). An
    OMP_NUM_THREADS already set wins; BLAS runs on one thread always (faiss's own is raised
    again while `newsbot index` builds the vector index: `nearest.set_threads`)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # no spinning threads between calls
    # numpy's BLAS (OpenBLAS) starts a thread per core when numpy loads, and those spin between
    # a question's small matrix products: a second core burnt on every question, and two
    # questions at once no faster than 1.3× one (docs/speed.md). One BLAS thread, as the model.
    threadpool_limits(limits=1, user_api="blas")


def _fetch(settings: Settings) -> int:
    """`newsbot fetch`: save the feeds' new articles and bring the saved index up to date; one
    warning line per failure, then one summary line. Feeds that fail are warnings (exit 0); no
    feed configured is an error."""
    if not settings.feeds:
        raise ConfigError(
            "no feed configured: set NEWSBOT_FEEDS to feed URLs (separated by spaces or "
            "commas) in .env or the environment"
        )
    done = updates.update(settings)
    for warning in done.round.warnings:
        print(f"newsbot: warning: {warning}", file=sys.stderr)
    print(done.round.summary())  # how the index fared is logged (one line when it was saved)
    return 0


def _report(settings: Settings, args: argparse.Namespace) -> int:
    """`newsbot report`: the question log as text or JSON on stdout, and as files."""
    folder = (settings.state_dir or Path(".")).expanduser()
    try:
        report = build_report(folder, args.days)
    except sqlite3.Error as exc:
        raise NewsbotError(f"cannot read the question log {folder / DB_NAME}: {exc}") from None
    if not (folder / DB_NAME).is_file():
        print(f"newsbot: nothing logged yet in {folder} (NEWSBOT_STATE_DIR)", file=sys.stderr)
    print(report.as_json() if args.json else report_text(report))
    try:
        if args.html:
            args.html.write_text(report_html(report), encoding="utf-8")
            print(f"newsbot: wrote {args.html}", file=sys.stderr)
        if args.export:
            count = export_questions(report, args.export)
            print(f"newsbot: wrote {count} questions to {args.export}; fill in their gold, "
                  f"then: newsbot eval {args.export}", file=sys.stderr)
    except OSError as exc:
        raise NewsbotError(f"cannot write {exc.filename}: {exc.strerror or exc}") from None
    return 0


def _bench(args: argparse.Namespace) -> int:
    """Run the benchmark of the source checkout (it is not part of the installed package)."""
    if not BENCHMARK.is_file():
        raise NewsbotError("the benchmark lives in a source checkout: run `make bench` there")
    sizes = ",".join(map(str, args.sizes))
    command = [sys.executable, str(BENCHMARK), "--sizes", sizes, "--questions",
               str(args.questions), "--semantic", ",".join(map(str, args.semantic)),
               *(["--no-reference"] if args.no_reference else []),
               *(["--no-semantic"] if args.no_semantic else [])]
    return subprocess.call(command)
