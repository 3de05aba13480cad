"""The console commands: `ask` and `chat` — the engine without Telegram (`eval` and `index`
in bot/batch.py)."""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterable

from bot import replies
from bot.batch import _announce, evaluate_command, index_command
from bot.config import Settings
from bot.errors import NewsbotError
from bot.feedback.asked import Asked
from bot.feedback.store import QuestionLog
from bot.indexing import embed
from bot.indexing.loading import Vectors, load_engine
from bot.search.engine import Engine
from bot.text import clean_question


def _questions(args: argparse.Namespace) -> Iterable[str]:
    if args.question:
        yield from args.question
        return
    for line in sys.stdin:
        yield line.rstrip("\n")


def _tolerant_streams() -> None:
    """Invalid UTF-8 on stdin becomes U+FFFD (not an exception that loses the rest), and
    nothing printed can fail on an odd character."""
    for stream, errors in ((sys.stdin, "replace"), (sys.stdout, "replace")):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=errors)


def _question(text: str, settings: Settings) -> str:
    """A question as every channel takes it (`bot.text.clean_question`); a cut is said on
    stderr, as Telegram says it in the reply."""
    question, cut = clean_question(text, settings.max_question_chars)
    if cut:
        print(f"newsbot: the question was cut to its first {settings.max_question_chars} "
              "characters (NEWSBOT_MAX_QUESTION_CHARS)", file=sys.stderr, flush=True)
    return question


def ask(settings: Settings, args: argparse.Namespace) -> int:
    """Answer each question given, or each line of stdin as it comes."""
    _tolerant_streams()
    engine = load_engine(settings, announce=_announce, vectors=Vectors.SAVED)
    for asked in _questions(args):
        question = _question(asked, settings)
        reply = replies.build(engine.ask(question, k=args.top))
        if args.json:
            print(replies.json_line(reply), flush=True)
        else:
            print(f"? {question}\n{replies.ask_text(reply)}\n", flush=True)
    return 0


GREETING = (
    "newsbot — ask about the news (German or English); 'mehr'/'more' for the next answer,\n"
    "+ or - to rate it, /help, /sources; Ctrl-D or 'quit' to leave. To answer in Telegram\n"
    "instead, put TELEGRAM_BOT_TOKEN=... (from @BotFather) into .env and run `make run` again.\n"
)
BYE = "Tschüss — bye!"


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
    _tolerant_streams()
    _ctrl_c_ends()
    print(GREETING, flush=True)  # at once: a first start parses the dictionary for a while
    embedding = _Embedding()
    questions = QuestionLog.from_settings(settings)
    try:
        engine = load_engine(settings, announce=_announce)
        embedding.start(engine)
        _line_editing()
        print(replies.welcome_text(engine.articles, "de", [replies.example_question(engine)]))
        print()
        converse(engine, lambda prompt: _question(input(prompt), settings), print, questions,
                 lambda old: _reload(settings, old, embedding))
    except (KeyboardInterrupt, EOFError):
        print()
    finally:
        embedding.stop()
        if questions is not None:
            questions.close()
    print(BYE)
    return 0


def _ctrl_c_ends() -> None:
    """Ctrl-C ends the chat even when started as a shell's background job, which ignores
    SIGINT and hands that on (a script or CI runner starting `newsbot chat &`)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


class _Embedding:
    """The chat's background embedder (`embed.Filler`) of the engine being asked; stopped
    (after its batch) before a reload reads the index folder it writes into."""

    def __init__(self) -> None:
        self.thread: embed.Filler | None = None

    def start(self, engine: Engine) -> None:
        self.stop()
        self.thread = embed.filler(engine)
        if self.thread is not None:
            self.thread.start()

    def stop(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.stop()


def _reload(settings: Settings, old: Engine, embedding: _Embedding) -> Engine:
    """The knowledge folder read again (new articles, e.g. from `newsbot fetch`), as the bot's
    /reload does; the dictionary is kept. On failure the old engine goes on (and its
    embedder)."""
    embedding.stop()
    engine = old
    try:
        engine = load_engine(settings, with_dictionary=old.dictionary is not None,
                             announce=_announce, dictionary=old.dictionary)
    finally:
        embedding.start(engine)
    return engine


def converse(engine: Engine, read: Callable[[str], str], say: Callable[[str], None],
             questions: QuestionLog | None = None,
             reload: Callable[[Engine], Engine] | None = None) -> None:
    """The chat loop: questions, 'mehr'/'more', + and - (a vote on the last answer), the bot's
    commands and /reload (when given), until EOF or 'quit'. Answers and votes go to the
    question log, if any."""
    reply: replies.Reply | None = None  # the last question's reply
    language, at = "de", 0  # its language, and the rank of its answer shown last
    session, numbers, shown = secrets.token_hex(8), itertools.count(1), 0

    def logged(reply: replies.Reply, rank: int) -> int:  # the answer's number in this session
        number = next(numbers)
        if questions is not None:
            questions.answered(Asked.of(reply, rank), "console", session, number, "console")
        return number

    while True:
        question = read("> ").strip()
        lowered = question.lower()
        if lowered in {"quit", "exit", "tschüss", "bye", "/quit", "/exit"}:
            return
        if lowered == "/reload" and reload is not None:
            try:
                engine, reply = reload(engine), None
            except NewsbotError as exc:
                say(f"Reload failed, still answering from the old index: {exc}")
                continue
            say(f"Reloaded: {len(engine.articles)} articles, {len(engine.index)} passages.")
            continue
        if lowered in {"mehr", "more", "weiter", "next"}:
            if reply is not None and at + 1 < len(reply.answers):
                at += 1
                say(replies.answer_text(reply, reply.answers[at], _bold()))
                shown = logged(reply, at)
            else:
                say(replies.text("no_more", language))
            continue
        if question in ("+", "-"):
            if shown and questions is not None:
                questions.vote(session, shown, "console", 1 if question == "+" else -1)
            say(replies.thanks(language, 1 if question == "+" else -1) if shown
                else replies.text("nothing_to_vote", language))
            continue
        if question.startswith("/"):
            say(_command(engine, lowered.split()[0].split("@")[0], language))
            continue
        if not question:
            continue
        reply, at = replies.build(engine.ask(question, k=5)), 0
        language = reply.language
        number = logged(reply, 0)
        if reply.answers:
            say(replies.answer_text(reply, reply.answers[0], _bold()))
            shown = number
        else:
            shown = 0
            say(replies.no_answer_text(language, replies.example_question(engine, language)))


def _command(engine: Engine, command: str, language: str) -> str:
    """/help, /sources (/quellen) and /start as in Telegram; a hint for any other."""
    if command == "/help":
        return replies.text("console_help", language)
    if command in ("/sources", "/quellen"):
        return replies.sources_text(engine.articles, language)
    if command == "/start":
        examples = [replies.example_question(engine, "de"), replies.example_question(engine, "en")]
        return replies.welcome_text(engine.articles, language, examples)
    return replies.text("unknown_command", language)


def _bold() -> bool:
    """Whether the answering sentence can be bold: on a terminal that shows it."""
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "ask": ask,
    "chat": chat,
    "eval": evaluate_command,
    "index": index_command,
}
__all__ = ["COMMANDS", "Engine"]
