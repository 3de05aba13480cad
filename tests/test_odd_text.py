"""Odd text at every edge (issue 21): invalid UTF-8, lone surrogates, control characters and
overlong questions reach no stage raw — not `ask`, `chat`, `eval`, nor Telegram."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import KNOWLEDGE
from fake_botapi import FakeBotAPI, _ApiError
from test_cli import TIMEOUT, json_lines
from test_handlers import QUESTION, TOKEN, apologies, feed, replies_to

from bot import replies
from bot.config import Settings
from bot.telegram.app import build_application
from bot.text import clean, clean_question, printable


@pytest.mark.parametrize(("raw", "expected"), [
    ("Tiktok \udcff kaufen", "Tiktok \ufffd kaufen"),  # invalid UTF-8 read with surrogateescape
    ("Tiktok \ud800 kaufen", "Tiktok \ufffd kaufen"),  # a lone surrogate from a JSON escape
    ("Tiktok\x00\x1b[31m kaufen\tjetzt\n", "Tiktok  [31m kaufen\tjetzt\n"),
    ("Wer will Tiktok kaufen? 😀", "Wer will Tiktok kaufen? 😀"),  # a real emoji stays
])
def test_clean_replaces_what_no_stage_can_take(raw, expected):
    assert clean(raw) == expected
    clean(raw).encode("utf-8")  # strict: what the model's tokenizer and Telegram's JSON need


def test_clean_question_cuts_at_the_limit():
    assert clean_question("x" * 10, 10) == ("x" * 10, False)
    assert clean_question("\udcff" * 11, 10) == ("\ufffd" * 10, True)


def test_printable_leaves_no_escape_sequence_or_line_break():
    assert printable("http://a/\x1b]0;pwned\x07\n\u202eevil") == "http://a/ ]0;pwned   evil"


def _run(env, *args, stdin: bytes):
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin,
                          capture_output=True, env=env, cwd=env["HOME"], timeout=TIMEOUT)


@pytest.mark.parametrize("semantic", ["off", "on"])
def test_ask_invalid_utf8_and_lone_surrogate_answer_every_line(env, tmp_path, semantic):
    env = {**env, "NEWSBOT_SEMANTIC": semantic, "NEWSBOT_INDEX_DIR": str(tmp_path / "index")}
    stdin = b"Tiktok \xff kaufen\nWer will \xed\xa0\x80 Tiktok kaufen?\nWer will Tiktok kaufen?\n"
    done = _run(env, "ask", "--json", stdin=stdin)
    assert done.returncode == 0, done.stderr.decode()
    lines = json_lines(done.stdout.decode("utf-8"))  # strict: the output is valid UTF-8
    assert len(lines) == 3 and all(line["answers"] for line in lines[1:])
    assert b"Traceback" not in done.stderr


def test_ask_argument_with_invalid_utf8_is_answered(env):
    done = subprocess.run([sys.executable, "-m", "bot", "ask", "--json",
                           b"Wer will Tiktok \xff kaufen?"], capture_output=True, env=env,
                          cwd=env["HOME"], timeout=TIMEOUT)
    assert done.returncode == 0 and json_lines(done.stdout.decode())[0]["answers"]


def test_ask_caps_an_overlong_question_and_says_so(env):
    long = ("Wer will Tiktok kaufen? " * 5000).encode()  # 120,000 characters
    done = _run({**env, "NEWSBOT_MAX_QUESTION_CHARS": "48"}, "ask", "--json", stdin=long + b"\n")
    assert done.returncode == 0
    assert json_lines(done.stdout.decode())[0]["answers"]
    assert "cut to its first 48 characters" in done.stderr.decode()


def test_chat_survives_invalid_utf8(env):
    done = _run(env, "chat", stdin=b"Wer will \xff Tiktok kaufen?\nquit\n")
    out = done.stdout.decode("utf-8")
    assert done.returncode == 0 and "Microsoft" in out and out.rstrip().endswith("bye!")
    assert b"Traceback" not in done.stderr


def test_eval_question_with_a_lone_surrogate_is_scored(env, tmp_path):
    questions = tmp_path / "odd.jsonl"
    questions.write_text(json.dumps({"q": "Wer will Tiktok \udcff kaufen?", "gold": ["Microsoft"],
                                     "lang": "de"}) + "\n", encoding="utf-8")
    done = _run(env, "eval", str(questions), stdin=b"")
    assert done.returncode == 0, done.stderr.decode()
    assert "R@1" in done.stdout.decode() or "Recall" in done.stdout.decode()


class StrictEngine:
    """The engine, but failing as the semantic stage's tokenizer does on unencodable text."""

    def __init__(self, engine) -> None:
        self._engine = engine

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def ask(self, question: str, k: int = 3):
        question.encode("utf-8")  # UnicodeEncodeError: surrogates not allowed
        return self._engine.ask(question, k=k)


@pytest.mark.parametrize("odd", ["Wer will Tiktok \ud800 kaufen?", "Wer will\x00 Tiktok kaufen?"])
async def test_telegram_odd_question_is_answered_not_apologised(engine, odd):
    with FakeBotAPI(TOKEN) as api:
        settings = Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=KNOWLEDGE)
        application = build_application(settings, StrictEngine(engine))
        async with application:
            await feed(application, api.message(odd, user_id=31, push=False))
            await feed(application, api.callback_query("more:1:Tiktok \udcff", user_id=31,
                                                       push=False))
        assert not apologies(api)
        first = replies_to(api, 31)[0]
        assert "Microsoft" in first["text"] and first["text"] != replies.text("error", "de")


async def test_more_button_edit_returning_true_is_no_failure(engine, caplog):
    with FakeBotAPI(TOKEN) as api:
        api.results["editMessageReplyMarkup"] = True  # what Telegram says for inline messages
        settings = Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=KNOWLEDGE)
        application = build_application(settings, engine)
        async with application:
            await feed(application, api.message(QUESTION, user_id=32, push=False))
            await feed(application, api.callback_query(f"more:1:{QUESTION}", user_id=32,
                                                       push=False))
        assert len(replies_to(api, 32)) == 2 and not apologies(api)
    assert "handler failed" not in caplog.text


async def test_more_button_whose_edit_is_refused_still_sends_the_next_answer(engine):
    def refuse(params):
        raise _ApiError(400, "Bad Request: message can't be edited")

    with FakeBotAPI(TOKEN) as api:
        api.results["editMessageReplyMarkup"] = refuse
        settings = Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=KNOWLEDGE)
        application = build_application(settings, engine)
        async with application:
            await feed(application, api.message(QUESTION, user_id=33, push=False))
            await feed(application, api.callback_query(f"more:1:{QUESTION}", user_id=33,
                                                       push=False))
        assert len(replies_to(api, 33)) == 2 and not apologies(api)
