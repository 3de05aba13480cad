"""The console commands: `ask`, `chat`, `eval` and `index` — the engine without Telegram."""

from __future__ import annotations

import argparse
import html
import itertools
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace

from bot import replies
from bot.config import Settings
from bot.errors import NewsbotError
from bot.evaluate import evaluate, read_questions, report
from bot.feedback.asked import Asked
from bot.feedback.store import QuestionLog
from bot.feedback.texts import NOTHING_TO_VOTE, thanks
from bot.indexing import embed
from bot.indexing.loading import example_question, load_engine
from bot.indexing.storage import build_and_save
from bot.search.engine import Answers, Engine
from bot.search.hits import Hit


def _questions(args: argparse.Namespace) -> Iterable[str]:
    if args.question:
        yield from args.question
        return
    for line in sys.stdin:
        yield line.rstrip("\n")


def ask(settings: Settings, args: argparse.Namespace) -> int:
    """Answer each question given, or each line of stdin as it comes."""
    engine = load_engine(settings, announce=_announce, vectors="saved")
    for question in _questions(args):
        answers = engine.ask(question, k=args.top)
        if args.json:
            print(replies.json_answers(answers), flush=True)
        else:
            print(f"? {question}\n{replies.plain_answers(answers)}\n", flush=True)
    return 0


GREETING = (
    "newsbot — ask about the news (German or English); 'mehr'/'more' for the next answer,\n"
    "+ or - to rate it, /help, /sources; Ctrl-D or 'quit' to leave. To answer in Telegram\n"
    "instead, put TELEGRAM_BOT_TOKEN=... (from @BotFather) into .env and run `make run` again.\n"
)
HELP = {
    "de": "Schreiben Sie Ihre Frage, auf Deutsch oder Englisch. Ich antworte mit der "
          "passendsten Textstelle und ihrer Quelle; „mehr“ zeigt die nächste.\n"
          "/sources (/quellen) zeigt die Artikel, die ich kenne; /start die Begrüßung; "
          "Strg-D oder „quit“ beendet.",
    "en": "Type your question, in German or English. I answer with the best passage of the "
          "news and its source; “more” shows the next one.\n/sources lists the articles I "
          "know; /start the welcome; Ctrl-D or “quit” leaves.",
}
BYE = "Tschüss — bye!"


def _plain(html_text: str) -> str:
    """The bot's Telegram HTML as terminal text (the same words, without the tags)."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", html_text))


def _line_editing() -> None:
    """Arrow keys and history for `input()` when a person is typing (not for pipes)."""
    if sys.stdin.isatty():
        try:
            import readline  # noqa: F401 — importing it is what turns line editing on
        except ImportError:  # not on every platform
            pass


def chat(settings: Settings, args: argparse.Namespace) -> int:
    """An interactive conversation in the terminal over the same answers as the bot.
    Ctrl-C, Ctrl-D and 'quit' all end it with a goodbye and exit code 0."""
    print(GREETING, flush=True)  # at once: a first start parses the dictionary for a while
    questions = QuestionLog.from_settings(settings)
    try:
        engine = load_engine(settings, announce=_announce)
        with embed.embedding_in_background(engine):
            _line_editing()
            print(_plain(replies.welcome_html(engine.articles, "de", [example_question(engine)])))
            print()
            converse(engine, input, print, questions)
    except (KeyboardInterrupt, EOFError):
        print()
    finally:
        if questions is not None:
            questions.close()
    print(BYE)
    return 0


def converse(engine: Engine, read: Callable[[str], str], say: Callable[[str], None],
             questions: QuestionLog | None = None) -> None:
    """The chat loop: questions, 'mehr'/'more', + and - (a vote on the last answer), and the
    bot's commands, until EOF or 'quit'. Answers and votes go to the question log, if any."""
    pending: list[Hit] = []
    language = "de"
    answers: Answers | None = None
    session, numbers, shown = secrets.token_hex(8), itertools.count(1), 0

    def logged(answers: Answers, rank: int) -> int:  # the answer's number in this session
        number = next(numbers)
        if questions is not None:
            questions.answered(Asked.of(answers, rank), "console", session, number, "console")
        return number

    while True:
        question = read("> ").strip()
        lowered = question.lower()
        if lowered in {"quit", "exit", "tschüss", "bye", "/quit", "/exit"}:
            return
        if lowered in {"mehr", "more", "weiter", "next"}:
            if pending and answers is not None:
                say(_one(pending.pop(0), language))
                shown = logged(answers, len(answers.hits) - len(pending) - 1)
            else:
                say(replies.text("no_more", language))
            continue
        if question in ("+", "-"):
            if shown and questions is not None:
                questions.vote(session, shown, "console", 1 if question == "+" else -1)
            say(thanks(language, 1 if question == "+" else -1) if shown
                else NOTHING_TO_VOTE[language])
            continue
        if question.startswith("/"):
            say(_command(engine, lowered.split()[0].split("@")[0], language))
            continue
        if not question:
            continue
        answers = engine.ask(question, k=5)
        language, pending = answers.language, list(answers.hits[1:])
        number = logged(answers, 0)
        if answers.found:
            hedge = f"\n{replies.text('hedge', language)}" if answers.hedged else ""
            say(hedge + _one(answers.hits[0], language))
            shown = number
        else:
            shown = 0
            say(replies.text("no_answer", language))
            say(f"{replies.text('example', language)} {example_question(engine, language)}\n")


def _command(engine: Engine, command: str, language: str) -> str:
    """/help, /sources (/quellen) and /start as in Telegram; a hint for any other."""
    if command == "/help":
        return HELP[language]
    if command in ("/sources", "/quellen"):
        return _plain(replies.sources_html(engine.articles, language))
    if command == "/start":
        examples = [example_question(engine, "de"), example_question(engine, "en")]
        return _plain(replies.welcome_html(engine.articles, language, examples))
    return replies.text("unknown_command", language)


def _one(hit: Hit, language: str) -> str:
    """An answer in the terminal: its text with the answering sentence marked (bold on a
    terminal, between » « in a pipe), then its source."""
    text = hit.text
    if hit.sentence and hit.sentence != text and hit.sentence in text:
        bold = sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
        marked = f"\033[1m{hit.sentence}\033[0m" if bold else f"»{hit.sentence}«"
        text = text.replace(hit.sentence, marked, 1)
    return f"\n{text}\n  — {replies.source_line(hit.passage, language)}\n"


def _announce(message: str) -> None:
    """Slow start-up work (the first parse of the dictionary) is said on stderr at once."""
    print(f"newsbot: {message}", file=sys.stderr, flush=True)


def evaluate_command(settings: Settings, args: argparse.Namespace) -> int:
    """Score a question set; with --sweep, also for a range of abstention thresholds."""
    questions = read_questions(args.questions)
    engine = load_engine(settings, announce=_announce, vectors="now", archives=args.archive)
    print(report(evaluate(engine, questions)))
    if args.sweep:  # the threshold of whichever off-topic rule answers
        hybrid, ranker = engine.hybrid, engine.ranker
        print(f"\n{'on_topic' if hybrid else 'min_coverage'}  R@1(de)  R@1(en)  silent(all)")
        for threshold in [i / 20 for i in range(4, 17)]:
            if hybrid and ranker is not None:
                engine.ranker = replace(ranker, on_topic_threshold=threshold)
            else:
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
    target = settings.saved_index_dir
    try:  # before the analysis, which can take a minute: fail at once on a bad folder
        target.parent.mkdir(parents=True, exist_ok=True)
        probe = target.with_name(target.name + ".probe")
        probe.mkdir(exist_ok=True)
        probe.rmdir()
        engine = build_and_save(settings, progress=True)
    except OSError as exc:
        raise NewsbotError(
            f"cannot save the index in {target} ({exc.strerror or exc}): set NEWSBOT_INDEX_DIR "
            "to a folder this user can write"
        ) from None
    # then the vectors: the lexical index is saved and serves already; Ctrl-C keeps what is done
    store = None if args.no_vectors else embed.attach(engine, settings)
    if store is not None:
        try:
            embed.embed_all(engine, store)
        except OSError as exc:
            raise NewsbotError(f"cannot save the vectors in {embed.vectors_dir(settings)} "
                               f"({exc.strerror or exc}); the lexical index is saved") from None
    return 0


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "ask": ask,
    "chat": chat,
    "eval": evaluate_command,
    "index": index_command,
}
__all__ = ["COMMANDS", "Engine"]
