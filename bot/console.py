"""The console commands: `ask`, `chat`, `eval` and `index` — the engine without Telegram."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable

from bot import replies
from bot.config import Settings
from bot.evaluate import evaluate, read_questions, report
from bot.indexing.loading import example_question, load_engine
from bot.indexing.storage import build_and_save
from bot.search.engine import Engine


def _questions(args: argparse.Namespace) -> Iterable[str]:
    if args.question:
        yield from args.question
        return
    for line in sys.stdin:
        yield line.rstrip("\n")


def ask(settings: Settings, args: argparse.Namespace) -> int:
    """Answer each question given, or each line of stdin as it comes."""
    engine = load_engine(settings)
    top = max(1, args.top)
    for question in _questions(args):
        answers = engine.ask(question, k=top)
        if args.json:
            print(replies.json_answers(answers), flush=True)
        else:
            print(f"? {question}\n{replies.plain_answers(answers)}\n", flush=True)
    return 0


def chat(settings: Settings, args: argparse.Namespace) -> int:
    """An interactive conversation in the terminal over the same answers as the bot."""
    engine = load_engine(settings)
    example = example_question(engine)
    print(
        "newsbot — ask about the news (German or English); 'mehr'/'more' for the next answer,\n"
        "Ctrl-D or 'quit' to leave. To answer in Telegram instead, put TELEGRAM_BOT_TOKEN=...\n"
        "(from @BotFather) into .env and run `make run` again.\n"
    )
    print(replies.text("suggest", "de"))
    for article in engine.articles:
        print(f"  • {article.title} ({article.date or '?'})")
    print(f"\n{replies.text('example', 'de')} {example}\n")
    pending: list = []
    language = "de"
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            print()
            return 0
        if question.lower() in {"quit", "exit", "tschüss", "bye"}:
            return 0
        if question.lower() in {"mehr", "more", "weiter", "next"}:
            print(_one(pending.pop(0), language) if pending else replies.text("no_more", language))
            continue
        if not question:
            continue
        answers = engine.ask(question, k=5)
        language, pending = answers.language, list(answers.hits[1:])
        if answers.found:
            print(_one(answers.hits[0], language))
        else:
            print(replies.text("no_answer", language))
            print(f"{replies.text('example', language)} {example}\n")


def _one(hit: object, language: str) -> str:
    passage = hit.passage  # type: ignore[attr-defined]
    return f"\n{passage.text}\n  — {replies.source_line(passage, language)}\n"


def evaluate_command(settings: Settings, args: argparse.Namespace) -> int:
    """Score a question set; with --sweep, also for a range of abstention thresholds."""
    questions = read_questions(args.questions)
    engine = load_engine(settings)
    print(report(evaluate(engine, questions)))
    if args.sweep:
        print("\nmin_coverage  R@1(de)  R@1(en)  abstain(all)")
        for threshold in [i / 20 for i in range(4, 17)]:
            engine.min_coverage = threshold
            t = evaluate(engine, questions)
            r = {k: v.summary() for k, v in t.items()}
            print(
                f"{threshold:>12.2f}  {r.get('de', {}).get('recall@1', 0):7.3f}  "
                f"{r.get('en', {}).get('recall@1', 0):7.3f}  {r['all']['abstention']:12.3f}"
            )
    return 0


def index_command(settings: Settings, args: argparse.Namespace) -> int:
    """Analyse the knowledge folder once and save the index next to it."""
    build_and_save(settings, progress=True)
    return 0


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "ask": ask,
    "chat": chat,
    "eval": evaluate_command,
    "index": index_command,
}
__all__ = ["COMMANDS", "Engine"]
