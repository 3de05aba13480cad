"""End to end: the real `python -m bot run` process against the local fake Bot API.

One bot process serves most tests (module fixture); each test uses its own user and chat ids,
and finds its replies by chat id and by the message they quote. The dictionary cache is
shared (~/.cache/newsbot when it exists), so only the very first run parses the dictionary.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import KNOWLEDGE, REPO, VECTORS
from fake_botapi import Call, FakeBotAPI
from test_handlers import assert_telegram_html, button_data, plain

from bot import replies

TOKEN = "123456789:AAHe2eFAKEtokenE2Efaketoken0123456789"  # well-formed, fake
SECRET = TOKEN.split(":", 1)[1]
TIKTOK = "Tiktok ist der erste globale App-Erfolg aus China in der Liga von Facebook"
SOURCE = f"{TIKTOK} — REDMOND/WASHINGTON, 2020-08"
TITLES = [
    (TIKTOK, "2020-08"),
    ("Die Lokführergewerkschaft GDL hat erneut zu einem bundesweiten Warnstreik bei der "
     "Deutschen Bahn aufgerufen", "2023-11"),
    ("Werder Bremen hat einen neuen Cheftrainer gefunden", "2024-05"),
    ("Deutschland hat einen neuen Temperaturrekord", "2025-07"),
]
QUESTION = "Wer will Tiktok kaufen?"
STARTUP = 90  # seconds; a first run without a dictionary cache parses it (~25 s)
REPLY = 15  # seconds to wait for one reply

_ids = itertools.count(50_000, 100)


def ids() -> int:
    """A fresh user id (= private chat id) for one test; group ids are its negative."""
    return next(_ids)


def _cache_dir(tmp_path_factory) -> Path:
    shared = Path.home() / ".cache" / "newsbot"
    return shared if shared.is_dir() else tmp_path_factory.mktemp("newsbot-cache")


def bot_env(home: Path, cache: Path, base_url: str, token: str | None = TOKEN,
            **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NEWSBOT_") and not k.startswith("TELEGRAM_")
           and "proxy" not in k.lower()}
    env.update(
        HOME=str(home), PYTHONPATH=str(REPO), TELEGRAM_BASE_URL=base_url,
        NEWSBOT_KNOWLEDGE_DIR=str(KNOWLEDGE), NEWSBOT_INDEX_DIR=str(home / "index"),
        NEWSBOT_CACHE_DIR=str(cache), NEWSBOT_LOG_LEVEL="DEBUG",
        NEWSBOT_MAX_QUESTION_CHARS="500", NEWSBOT_FLOOD_LIMIT="12", NEWSBOT_FLOOD_WINDOW="10",
        NEWSBOT_VECTORS_DIR=str(VECTORS),
        NO_PROXY="127.0.0.1,localhost",
    )
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    env.update(extra)
    return env


class BotProcess:
    """`python -m bot run` in the repository, its combined output in a log file."""

    def __init__(self, api: FakeBotAPI, env: dict[str, str], logs: Path) -> None:
        self.api, self.env, self.logs = api, env, logs
        self.proc: subprocess.Popen | None = None
        self.log: Path | None = None
        self.starts = 0

    def start(self) -> BotProcess:
        self.starts += 1
        ready = len(self.api.calls_of("setMyCommands")) + 2  # German + English menu
        self.log = self.logs / f"bot-{self.starts}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=REPO,
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP
        while len(self.api.calls_of("setMyCommands")) < ready:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"bot did not come up (exit {self.proc.poll()}):\n{self.output()}")
            time.sleep(0.05)
        return self

    def wait_for_output(self, needle: str, timeout: float = 60) -> str:
        """The output once `needle` is in it; fails if the process ends first (the bound only
        ends a hang)."""
        deadline = time.monotonic() + timeout
        while needle not in (output := self.output()):
            assert self.proc is not None and self.proc.poll() is None, output[-2000:]
            assert time.monotonic() < deadline, f"{needle!r} not seen:\n{output[-2000:]}"
            time.sleep(0.1)
        return output

    def ensure_running(self) -> BotProcess:
        return self if self.proc and self.proc.poll() is None else self.start()

    def terminate(self, timeout: float = 10) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the process took to end."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"bot ignored SIGTERM for {timeout} s:\n{self.output()[-3000:]}")
        return code, time.monotonic() - started

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""


@pytest.fixture(scope="module")
def api():
    with FakeBotAPI(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def shared(api, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    process = BotProcess(api, bot_env(home, _cache_dir(tmp_path_factory), api.base_url), home)
    yield process
    if process.proc and process.proc.poll() is None:
        process.proc.terminate()
        process.proc.wait(10)


@pytest.fixture
def bot(shared):
    return shared.ensure_running()


# ----- helpers --------------------------------------------------------------------------------

def sends_to(api: FakeBotAPI, chat_id: int) -> list[Call]:
    return [c for c in api.calls_of("sendMessage") if c.params.get("chat_id") == chat_id]


def wait_sends(api: FakeBotAPI, chat_id: int, count: int = 1) -> list[Call]:
    def to_chat(c: Call) -> bool:
        return c.method == "sendMessage" and c.params.get("chat_id") == chat_id

    return api.wait_for(to_chat, count=count, timeout=REPLY)


def answer_to(api: FakeBotAPI, update: dict) -> dict:
    """Wait for the one reply quoting this message; return its parameters."""
    message = update["message"]

    def quoting(c: Call) -> bool:
        return (c.method == "sendMessage" and c.params.get("chat_id") == message["chat"]["id"]
                and c.params.get("reply_parameters", {}).get("message_id")
                == message["message_id"])

    (call,) = api.wait_for(quoting, timeout=REPLY)
    return call.params


def press(api: FakeBotAPI, data: str, user: int, chat_id: int | None = None) -> tuple[dict, str]:
    """Press a button on the bot's last message in the chat; the new message and the query id."""
    chat = user if chat_id is None else chat_id
    before = len(sends_to(api, chat))
    update = api.callback_query(data, user_id=user, chat_id=chat)
    query_id = update["callback_query"]["id"]
    api.wait_for(lambda c: c.method == "answerCallbackQuery"
                 and c.params["callback_query_id"] == query_id, timeout=REPLY)
    api.wait_for(lambda c: len(sends_to(api, chat)) > before, timeout=REPLY)
    return sends_to(api, chat)[-1].params, query_id


def bold_words(text: str) -> list[str]:
    return re.findall(r"<b>(.*?)</b>", text)


# ----- start-up and commands ------------------------------------------------------------------

def test_startup_registers_the_command_menu(bot, api):
    calls = api.calls_of("setMyCommands")
    assert len(calls) >= 2 and api.calls_of("getMe")
    menus = {c.params.get("language_code", ""): [d["command"] for d in c.params["commands"]]
             for c in calls}
    assert menus == {"": ["ask", "sources", "help", "start", "privacy"],
                     "en": ["ask", "sources", "help", "start", "privacy"]}
    german = api.commands[('{"type": "default"}', "")]
    assert german[0] == {"command": "ask", "description": "Eine Frage stellen (in Gruppen)"}


def test_start_greets_lists_articles_and_two_examples(bot, api):
    user = ids()
    api.message("/start", user_id=user)
    (call,) = wait_sends(api, user)
    text = call.params["text"]
    assert call.params["parse_mode"] == "HTML"
    assert text.startswith("Hallo! Ich beantworte Fragen zu den Nachrichten")
    for title, date in TITLES:
        assert f"• {title} ({date})" in text
    examples = re.findall(r"<i>(.+?)</i>", text)
    assert len(examples) == 2 and examples[0].startswith("Was gibt es zu ")
    assert examples[1].startswith("What about ")
    assert_telegram_html(text)


def test_start_in_english_for_english_clients(bot, api):
    user = ids()
    api.message("/start", user_id=user, language_code="en")
    (call,) = wait_sends(api, user)
    assert call.params["text"].startswith("Hello! I answer questions about the news")
    assert f"• {TIKTOK} (2020-08)" in call.params["text"]


def test_help_and_sources(bot, api):
    user = ids()
    api.message("/help", user_id=user)
    (help_call,) = wait_sends(api, user)
    api.message("/sources", user_id=user)
    _, sources_call = wait_sends(api, user, count=2)
    help_text = help_call.params["text"]
    assert help_text.startswith("<b>So fragen Sie</b>")
    assert "@newsbot_test_bot &lt;Frage&gt;" in help_text and "/ask" in help_text
    assert_telegram_html(help_text)
    sources_text = sources_call.params["text"]
    assert sources_text.startswith("Artikel, die ich kenne:")
    assert all(f"• {title} ({date})" in sources_text for title, date in TITLES)


# ----- questions --------------------------------------------------------------------------------

def test_german_question_gets_microsoft_passage_with_source(bot, api):
    user = ids()
    params = answer_to(api, api.message(QUESTION, user_id=user))
    text = params["text"]
    assert params["parse_mode"] == "HTML"
    body, source = text.rsplit("\n\n", 1)
    assert "Microsoft" in body and source == f"<i>Quelle: {SOURCE}</i>"
    assert bold_words(body) and {w.casefold() for w in bold_words(body)} <= {
        "käufer", "kaufen", "tiktok", "tiktok-deal", "übernahme", "übernehmen", "holen"}
    assert_telegram_html(text)
    data = button_data(params)
    assert data == f"more:1:{QUESTION}" and len(data.encode()) <= 64
    assert params["reply_markup"]["inline_keyboard"][0][0]["text"].startswith("Mehr dazu")


def test_english_question_gets_english_bot_words(bot, api):
    user = ids()
    params = answer_to(api, api.message("Who is buying TikTok?", user_id=user,
                                        language_code="en"))
    assert params["text"].endswith(f"<i>Source: {SOURCE}</i>")
    assert "Quelle" not in params["text"] and "Microsoft" in params["text"]
    assert params["reply_markup"]["inline_keyboard"][0][0]["text"].startswith("More on this")


def test_more_button_sends_next_passage_and_disappears_when_nothing_more(bot, api,
                                                                        served_engine):
    user = ids()
    first = answer_to(api, api.message(QUESTION, user_id=user))
    hits = [h.text for h in served_engine.ask(QUESTION, k=5).hits]
    assert len(hits) == 3 and plain(first["text"]).startswith(hits[0])
    following, query_id = press(api, button_data(first), user)
    assert plain(following["text"]) == f"{hits[1]}\n\nQuelle: {SOURCE}"
    assert_telegram_html(following["text"])
    assert button_data(following) == f"more:2:{QUESTION}"
    following, _ = press(api, button_data(following), user)
    assert plain(following["text"]).startswith(hits[2])
    assert button_data(following) == "vote:+"  # the last relevant passage: no "more" button
    assert len(sends_to(api, user)) == 3  # each passage a new message ...
    unbuttoned = [c.params for c in api.calls_of("editMessageReplyMarkup")
                  if c.params["chat_id"] == user]
    assert len(unbuttoned) == 2 and all(  # ... the earlier ones stay, with their votes only
        [b["callback_data"] for b in p["reply_markup"]["inline_keyboard"][0]] == [
            "vote:+", "vote:-"] for p in unbuttoned)
    assert not api.calls_of("editMessageText")


def test_group_ask_mention_and_reply_are_answered_plain_messages_are_not(bot, api, shared):
    user = ids()
    group = -user
    kw = {"user_id": user, "chat_id": group, "chat_type": "supergroup"}
    someone = {"message_id": 1, "date": 1, "chat": {"id": group, "type": "supergroup"},
               "from": {"id": 99, "is_bot": False, "first_name": "Bo"}, "text": "Hallo"}
    # questions the default engine answers ("Wer ist Kevin Mayer?" alone it judges off topic:
    # see docs/quality.md, the off-topic decision)
    ignored = [api.message("Was macht Kevin Mayer bei Tiktok?", **kw),
               api.message("Was macht Kevin Mayer bei Tiktok?", reply_to_message=someone, **kw),
               api.message("@someone_else Was macht Kevin Mayer bei Tiktok?", **kw)]
    asked = api.message("/ask Was macht Kevin Mayer bei Tiktok?", **kw)
    mentioned = api.mention("Wer ist Satya Nadella?", user_id=user, chat_id=group)
    by_ask, by_mention = answer_to(api, asked), answer_to(api, mentioned)
    assert "<b>Kevin</b> <b>Mayer</b>" in by_ask["text"] and SOURCE in by_ask["text"]
    assert "<b>Satya</b> <b>Nadella</b>" in by_mention["text"]
    bots_answer = api._messages[(group, max(m for c, m in api._messages if c == group))]
    replied = api.message("Was sagt Satya Nadella zu Tiktok?", reply_to_message=bots_answer,
                          **kw)
    assert "<b>Nadella</b>" in answer_to(api, replied)["text"]
    # SIGTERM: the bot handles every update it fetched before it exits, so an answer to an
    # ignored message could not arrive later (the next test starts it again)
    assert shared.terminate()[0] == 0
    quoted = [c.params.get("reply_parameters", {}).get("message_id")
              for c in sends_to(api, group)]
    assert sorted(quoted) == sorted(u["message"]["message_id"] for u in (asked, mentioned,
                                                                          replied))
    assert all(u["message"]["message_id"] not in quoted for u in ignored)


def test_inline_query_offers_passages_and_a_hint_when_empty(bot, api):
    user = ids()
    found_id = api.inline_query("Kevin Mayer Tiktok", user_id=user)["inline_query"]["id"]
    empty_id = api.inline_query("", user_id=user)["inline_query"]["id"]
    (found,) = api.wait_for(lambda c: c.method == "answerInlineQuery"
                            and c.params["inline_query_id"] == found_id, timeout=REPLY)
    (empty,) = api.wait_for(lambda c: c.method == "answerInlineQuery"
                            and c.params["inline_query_id"] == empty_id, timeout=REPLY)
    results = found.params["results"]
    assert 1 <= len(results) <= 50 and len({r["id"] for r in results}) == len(results)
    for r in results:
        assert r["type"] == "article" and r["title"] == TIKTOK
        message = r["input_message_content"]
        assert message["parse_mode"] == "HTML" and f"Quelle: {SOURCE}" in message["message_text"]
        assert plain(message["message_text"]).startswith(r["description"])
        assert len(r["description"]) >= 40
        assert_telegram_html(message["message_text"])
    assert "<b>Kevin</b> <b>Mayer</b>" in results[0]["input_message_content"]["message_text"]
    (hint,) = empty.params["results"]
    assert hint["input_message_content"]["message_text"].startswith(
        "Bitte stellen Sie eine Frage zu den Nachrichten")


def test_off_topic_question_gets_no_answer_never_a_passage(bot, api, engine):
    user = ids()
    params = answer_to(api, api.message("Wie wird das Wetter morgen?", user_id=user))
    text = params["text"]
    assert text.startswith("Dazu steht nichts in den Nachrichten, die ich kenne.")
    assert all(f"• {title} ({date})" in text for title, date in TITLES)
    assert "Fragen Sie zum Beispiel: <i>Was gibt es zu " in text
    assert "Quelle" not in text and "reply_markup" not in params
    assert not any(p.text[-60:] in text for p in engine.index.passages)


def test_sticker_and_photo_get_the_text_only_hint(bot, api):
    user = ids()
    api.sticker(user_id=user)
    wait_sends(api, user)
    api.photo(user_id=user, caption="Was ist das?")
    texts = [c.params["text"] for c in wait_sends(api, user, count=2)]
    assert texts == [replies.text("text_only", "de")] * 2


@pytest.mark.parametrize("question", [
    "<b>Tiktok</b> & Microsoft <script>",
    "<b>Tiktok</b> & Microsoft <i>",
    'Wer will <b>Tiktok</b> kaufen? & "Microsoft" </i>',
])
def test_html_specials_in_the_question_give_valid_html(bot, api, question):
    user = ids()
    params = answer_to(api, api.message(question, user_id=user))
    text = params["text"]
    assert params["parse_mode"] == "HTML"
    assert_telegram_html(text)
    assert "<script>" not in text and "&lt;" not in text  # the question is never echoed
    if not text.endswith(f"Quelle: {SOURCE}</i>"):  # tags as words: may well be off topic
        assert text.startswith("Dazu steht nichts in den Nachrichten")
        return
    assert text.endswith(f"<i>Quelle: {SOURCE}</i>") and bold_words(text)
    assert len(button_data(params).encode()) <= 64


def test_very_long_question_is_cut_with_the_note(bot, api):
    user = ids()
    question = (QUESTION + " ") * 210  # 5,040 characters
    assert len(question) > 5000
    params = answer_to(api, api.message(question, user_id=user))
    text = params["text"]
    assert text.endswith("\n\n(Ihre Frage war sehr lang; ich habe die ersten 500 Zeichen "
                         "gelesen.)")
    assert len(text) <= 4096
    assert_telegram_html(text)
    if f"Quelle: {SOURCE}" in text:  # answered (the repeated question may be judged off topic)
        assert len(button_data(params).encode()) <= 64
    else:
        assert text.startswith("Dazu steht nichts in den Nachrichten")


def test_twenty_users_at_once_each_answered_exactly_once(bot, api, shared):
    users = [ids() for _ in range(20)]
    for user in users:
        api.message(QUESTION, user_id=user)
    chats = set(users)
    api.wait_for(lambda c: c.method == "sendMessage" and c.params["chat_id"] in chats,
                 count=20, timeout=30)
    assert shared.terminate()[0] == 0  # every update in hand handled: no duplicate to come
    counts = {user: len(sends_to(api, user)) for user in users}
    assert counts == dict.fromkeys(users, 1)
    assert {f"Quelle: {SOURCE}" in sends_to(api, u)[0].params["text"] for u in users} == {True}


def test_sigterm_ends_cleanly_no_token_in_output_and_more_survives_restart(shared, api,
                                                                         served_engine):
    """Runs last: stops the shared process, then presses a button in a fresh one."""
    shared.ensure_running()
    user = ids()
    first = answer_to(api, api.message(QUESTION, user_id=user))
    code, _ = shared.terminate(timeout=60)  # the bound only ends a hang (fails the test)
    output = shared.output()
    assert code == 0, output[-3000:]
    assert TOKEN not in output and SECRET not in output
    assert "DEBUG" in output and "bye" in output  # it logged at DEBUG and ended normally

    shared.start()  # a new process: nothing of the first one's memory survives
    following, _ = press(api, button_data(first), user)
    second = served_engine.ask(QUESTION, k=3).hits[1].text
    assert plain(following["text"]) == f"{second}\n\nQuelle: {SOURCE}"
    assert button_data(following) == f"more:2:{QUESTION}"
    code, _ = shared.terminate()
    output = shared.output()
    assert code == 0 and TOKEN not in output and SECRET not in output


# ----- start-up failures: one line on stderr, exit code 2 ---------------------------------------

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


def run_failing(tmp_path, api_url: str, token: str | None, timeout: float = 60
                ) -> subprocess.CompletedProcess:
    env = bot_env(tmp_path, tmp_path / "cache", api_url, token=token,
                  NEWSBOT_LOG_LEVEL="INFO", NEWSBOT_DICTIONARY=str(tmp_path / "missing.index"))
    # cwd: an empty folder, so no developer's .env can supply a token
    return subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)


def problem_lines(stderr: str) -> list[str]:
    """stderr without the ordinary INFO/WARNING log lines."""
    return [line for line in stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]


@pytest.mark.parametrize(("token", "says"), [
    (None, "TELEGRAM_BOT_TOKEN is not set"),
    ("12345:short", "TELEGRAM_BOT_TOKEN is malformed"),
    ("not a token at all", "TELEGRAM_BOT_TOKEN is malformed"),
])
def test_missing_or_malformed_token_exits_2_with_one_line(tmp_path, token, says):
    result = run_failing(tmp_path, "http://127.0.0.1:9/bot", token)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"newsbot: {says}") and "@BotFather" in line
    assert result.stdout == ""


def test_token_rejected_by_telegram_exits_2_with_one_clear_line(tmp_path, api):
    other = "987654321:AAHrejectedTOKENrejectedTOKEN012345"
    result = run_failing(tmp_path, api.base_url, other)
    assert result.returncode == 2, result.stderr[-2000:]
    assert other in api.tokens_seen  # it did ask the (fake) Telegram
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert problem_lines(result.stderr) == [
        "newsbot: Telegram rejected TELEGRAM_BOT_TOKEN (InvalidToken): copy the token again "
        "from @BotFather into .env"]
    assert other not in result.stderr and other.split(":")[1] not in result.stderr
