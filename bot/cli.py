"""The command line: `newsbot [ask|chat|eval|run|index|bench]`.

Without a command, newsbot runs its main job: the Telegram bot when TELEGRAM_BOT_TOKEN is
configured, otherwise a console chat over the same answers. Errors are one line, exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from bot import __version__, console
from bot.config import load_settings
from bot.errors import NewsbotError
from bot.logs import setup_logging
from bot.telegram.app import run_bot

log = logging.getLogger("newsbot")
BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"  # source checkout


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = argparse.ArgumentParser(prog="newsbot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"newsbot {__version__}")
    sub = parser.add_subparsers(dest="command")

    def with_knowledge(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--knowledge", type=Path, metavar="DIR", help="the articles' folder")
        return p

    ask = with_knowledge(sub.add_parser("ask", help="answer questions (arguments or stdin)"))
    ask.add_argument("--top", type=int, default=3, metavar="K", help="answers per question")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("question", nargs="*", help="questions; none: read stdin, one a line")
    with_knowledge(sub.add_parser("chat", help="chat in the console"))
    ev = with_knowledge(sub.add_parser("eval", help="score a question set (JSON lines)"))
    ev.add_argument("questions", type=Path, metavar="FILE.jsonl")
    ev.add_argument("--sweep", action="store_true", help="try abstention thresholds")
    run = with_knowledge(sub.add_parser("run", help="run the Telegram bot"))
    run.add_argument("--webhook", action="store_true", help="serve a webhook, not polling")
    with_knowledge(sub.add_parser("index", help="analyse the knowledge folder and save it"))
    bench = sub.add_parser("bench", help="the scale benchmark (benchmarks/bench.py, `make bench`)")
    bench.add_argument("--sizes", type=_sizes, default="1000,10000,100000",
                       help="passage counts, a,b,c")
    bench.add_argument("--questions", type=int, default=200)
    bench.add_argument("--no-reference", action="store_true", help="skip plain rank-bm25")
    return parser


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
        settings = load_settings()
        if getattr(args, "knowledge", None):
            settings = replace(settings, knowledge_dir=args.knowledge)
        command = args.command or ("run" if settings.token else "chat")
        quiet = command in ("ask", "chat", "eval", "bench")
        setup_logging(settings.log_level or ("WARNING" if quiet else "INFO"))
        if command == "bench":
            return _bench(args)
        if command == "run":
            return run_bot(settings, webhook=getattr(args, "webhook", False))
        return console.COMMANDS[command](settings, args)
    except NewsbotError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _bench(args: argparse.Namespace) -> int:
    """Run the benchmark of the source checkout (it is not part of the installed package)."""
    if not BENCHMARK.is_file():
        raise NewsbotError("the benchmark lives in a source checkout: run `make bench` there")
    sizes = ",".join(map(str, args.sizes))
    command = [sys.executable, str(BENCHMARK), "--sizes", sizes, "--questions",
               str(args.questions), *(["--no-reference"] if args.no_reference else [])]
    return subprocess.call(command)
