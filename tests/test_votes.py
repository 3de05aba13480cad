"""Feedback through the real handlers and the Bot API stand-in (bot.telegram.votes), and in the
console: votes pressed, pressed again and after a restart; /privacy; /stats; questions logged
from private chats, groups, inline and the console; answers that go on when the log cannot."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from conftest import KNOWLEDGE
from fake_botapi import FakeBotAPI
from test_handlers import QUESTION, TOKEN, button_data, feed, replies_to

from bot import console, replies
from bot.config import Settings
from bot.feedback.store import DB_NAME, QuestionLog
from bot.telegram.app import COMMANDS, build_application, post_shutdown

ADMIN = 4711


def _settings(api: FakeBotAPI, state: Path, **changes) -> Settings:
    return Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=KNOWLEDGE,
                    state_dir=state, admin_ids=frozenset({ADMIN}), **changes)


def rows(state: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(state / DB_NAME) as db:
        return db.execute(sql).fetchall()


def toasts(api: FakeBotAPI) -> list[str | None]:
    return [c.params.get("text") for c in api.calls_of("answerCallbackQuery")]


async def run(api: FakeBotAPI, engine, state: Path, *updates: dict, **changes) -> None:
    """One bot life: start, process the updates in order, stop (the log written)."""
    application = build_application(_settings(api, state, **changes), engine)
    async with application:
        for update in updates:
            await feed(application, update() if callable(update) else update)
    application.bot_data.questions.close()


async def test_vote_press_again_and_after_a_restart(api, engine, tmp_path):
    state = tmp_path / "state"
    await run(api, engine, state, api.message(QUESTION, user_id=31, push=False),
              lambda: api.callback_query("vote:+", user_id=31, push=False),
              lambda: api.callback_query("vote:-", user_id=31, push=False))
    (answer,) = replies_to(api, 31)
    assert [b["text"] for b in answer["reply_markup"]["inline_keyboard"][0]][1:] == ["👍", "👎"]
    assert toasts(api) == ["Danke! 👍 ist notiert.", "Danke! 👎 ist notiert."]
    ((key, question, kind, result),) = rows(state, "SELECT key, question, chat_type, outcome"
                                                   " FROM answers")
    assert (question, kind, result) == (QUESTION, "private", "sure")
    assert rows(state, "SELECT key, vote FROM votes") == [(key, -1)]
    # a new bot process: the old answer's button still counts, for the same answer
    message_id = max(m for c, m in api._messages if c == 31)
    await run(api, engine, state,
              api.callback_query("vote:+", user_id=31, message_id=message_id, push=False))
    assert rows(state, "SELECT key, vote FROM votes") == [(key, 1)]
    assert len(toasts(api)) == 3 and len(replies_to(api, 31)) == 1  # no message sent ...
    assert not api.calls_of("editMessageText")  # ... none changed
    assert not api.calls_of("editMessageReplyMarkup")


async def test_group_votes_count_per_reader_and_more_keeps_the_votes(api, engine, tmp_path):
    state, group = tmp_path / "state", -100900
    await run(api, engine, state,
              api.message(f"/ask {QUESTION}", user_id=32, chat_id=group, chat_type="supergroup",
                          push=False),
              lambda: api.callback_query("vote:+", user_id=32, chat_id=group, push=False),
              lambda: api.callback_query("vote:-", user_id=33, chat_id=group, push=False),
              lambda: api.callback_query(f"more:1:{QUESTION}", user_id=33, chat_id=group,
                                         push=False))
    first, following = replies_to(api, group)
    assert button_data(following) == f"more:2:{QUESTION}"
    (edit,) = api.calls_of("editMessageReplyMarkup")  # "more" left the first answer ...
    assert [b["callback_data"] for b in edit.params["reply_markup"]["inline_keyboard"][0]] == [
        "vote:+", "vote:-"]  # ... its votes stay
    assert rows(state, "SELECT rank, chat_type FROM answers ORDER BY rank") == [
        (0, "group"), (1, "group")]
    assert sorted(rows(state, "SELECT vote FROM votes")) == [(-1,), (1,)]
    assert rows(state, "SELECT count(DISTINCT voter) FROM votes") == [(2,)]


async def test_no_answer_has_no_vote_buttons_and_is_logged_as_none(api, engine, tmp_path):
    state = tmp_path / "state"
    await run(api, engine, state, api.message("Wie wird das Wetter morgen?", user_id=34,
                                              push=False),
              api.inline_query("Tiktok Microsoft", user_id=34, push=False))
    (reply,) = replies_to(api, 34)
    assert "reply_markup" not in reply
    assert sorted(rows(state, "SELECT chat_type, outcome, question FROM answers")) == [
        ("inline", "sure", "Tiktok Microsoft"), ("private", "none", "Wie wird das Wetter morgen?")]


async def test_an_inline_answer_is_logged_as_a_chat_answer_is(api, engine, tmp_path):
    """One reply model: inline mode logs its best answer as a private chat logs the same one."""
    state = tmp_path / "state"
    await run(api, engine, state, api.inline_query(QUESTION, user_id=37, push=False),
              api.message(QUESTION, user_id=37, push=False))
    inline, private = rows(state, "SELECT chat_type, question, language, outcome, article, "
                                  "passage FROM answers ORDER BY chat_type")
    assert (inline[0], private[0]) == ("inline", "private")
    assert inline[1:] == private[1:] and inline[5] == engine.ask(QUESTION).hits[0].text


@pytest.mark.parametrize(("language", "question_log"), [
    ("de", True), ("en", True), ("de", False), ("en", False)])
async def test_privacy_says_what_is_stored_in_the_readers_language(
        api, engine, tmp_path, language, question_log):
    update = api.message("/privacy", user_id=35, push=False)
    update["message"]["from"]["language_code"] = language
    await run(api, engine, tmp_path / "state", update, question_log=question_log, log_days=14)
    (text,) = api.sent_texts()
    assert text == replies.text("privacy_on" if question_log else "privacy_off", language, days=14)
    assert "14" in text
    assert "privacy" in dict(COMMANDS[language])  # in the command menu


async def test_stats_for_the_operator_only(api, engine, tmp_path):
    state = tmp_path / "state"
    await run(api, engine, state, api.message(QUESTION, user_id=36, push=False),
              lambda: api.callback_query("vote:-", user_id=36, push=False),
              api.message("Wie wird das Wetter morgen?", user_id=37, push=False))
    await run(api, engine, state, api.message("/stats", user_id=36, push=False),
              api.message("/stats", user_id=ADMIN, chat_id=-5, chat_type="group", push=False),
              api.message("/stats", user_id=ADMIN, push=False))
    assert [p["text"] for p in replies_to(api, 36)][1:] == [  # the answer, then one hint
        replies.text("unknown_command", "de")]
    assert not replies_to(api, -5)  # not in a group, not even for the operator
    (stats,) = replies_to(api, ADMIN)
    assert stats["text"].startswith("Last 24 hours: 2 questions, 50% answered, 0% hedged, "
                                    "50% unanswered; 0 👍 1 👎")
    assert "Wie wird das Wetter morgen?  (1× no answer)" in stats["text"]
    assert f"{QUESTION}  (1× 👎)" in stats["text"]


async def test_answers_go_on_when_the_state_folder_is_unusable(api, engine, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    application = build_application(_settings(api, blocker / "state"), engine)
    async with application:
        for _ in range(3):
            await feed(application, api.message(QUESTION, user_id=38, push=False))
            await feed(application, api.callback_query("vote:+", user_id=38, push=False))
            assert application.bot_data.questions.flush()
    assert len(replies_to(api, 38)) == 3 and len(toasts(api)) == 3
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING
                and r.name.startswith("bot.")]
    assert len(warnings) == 1 and "question log: cannot write" in warnings[0].getMessage()


async def test_a_locked_database_does_not_hold_up_an_answer(api, engine, tmp_path):
    state = tmp_path / "state"
    made = QuestionLog(state)
    made.flush()  # the database exists
    made.close()
    blocker = sqlite3.connect(state / DB_NAME, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database
    application = build_application(_settings(api, state), engine)
    async with application:
        await feed(application, api.message(QUESTION, user_id=39, push=False))
        assert len(replies_to(api, 39)) == 1  # answered while the log waits for the lock
        blocker.execute("COMMIT")
        blocker.close()
        assert application.bot_data.questions.flush()
    assert rows(state, "SELECT question FROM answers") == [(QUESTION,)]


def test_console_plus_and_minus_vote_on_the_last_answer(engine, tmp_path):
    state = tmp_path / "state"
    log = QuestionLog(state)
    said: list[str] = []
    lines = ["+", "Wer will Tiktok kaufen?", "+", "mehr", "-", "-", "Who won the cup?", "+"]
    console.converse(engine, lambda prompt: lines.pop(0) if lines else "quit", said.append, log)
    log.close()
    assert said[0] == "(+ oder - bewertet die zuletzt gezeigte Antwort; gerade gibt es keine.)"
    assert said.count("Danke! 👍 ist notiert.") == 1 and said.count("Danke! 👎 ist notiert.") == 2
    assert said[-1].startswith("(+ or - rates")  # no answer to the last question: no vote
    assert rows(state, "SELECT a.rank, a.outcome, a.chat_type, v.vote FROM answers a LEFT JOIN"
                       " votes v ON v.key = a.key ORDER BY a.time") == [
        (0, "sure", "console", 1), (1, "sure", "console", -1), (0, "none", "console", None)]


async def test_shutdown_writes_what_is_waiting(api, engine, tmp_path):
    state = tmp_path / "state"
    application = build_application(_settings(api, state), engine)
    async with application:
        await feed(application, api.message(QUESTION, user_id=40, push=False))
    await post_shutdown(application)  # as run_polling / run_webhook end
    assert rows(state, "SELECT question FROM answers") == [(QUESTION,)]
