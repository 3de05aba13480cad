"""bot.telegram.handlers without a bot process: compose() directly, and the real Application fed
updates in-process (`application.process_update`) with the local fake Bot API recording what
the handlers send."""

from __future__ import annotations

import html
import itertools
import re

import pytest
from conftest import KNOWLEDGE
from fake_botapi import BOT_USER, FakeBotAPI
from hypothesis import given
from hypothesis import strategies as st
from telegram import Update

from bot import replies
from bot.config import Settings
from bot.feedback.asked import Outcome
from bot.telegram import handlers
from bot.telegram.app import build_application

TOKEN = "123456789:AAHhandlerTESTtokenhandlerTESTtoken1"
QUESTION = "Wer will Tiktok kaufen?"  # three relevant passages in tests/knowledge
ONE_HIT = "Wer ist Kevin Mayer?"  # exactly one
OFF_TOPIC = "Wie wird das Wetter morgen?"
SOURCE = ("Quelle: Tiktok ist der erste globale App-Erfolg aus China in der Liga von Facebook"
          " — REDMOND/WASHINGTON, 2020-08")
TELEGRAM_TAGS = {"b", "i", "u", "s", "code", "pre", "a", "tg-spoiler", "blockquote", "span"}
TAG_RE = re.compile(r"<(/?)([a-z-]+)(?:\s[^<>]*)?>")
ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def assert_telegram_html(text: str) -> None:
    """Only Telegram's tags, balanced and properly nested; every other < > & escaped."""
    stack: list[str] = []
    pos = 0
    for match in TAG_RE.finditer(text):
        _assert_plain(text[pos : match.start()], text)
        closing, name = match.groups()
        assert name in TELEGRAM_TAGS, f"tag <{name}> in {text!r}"
        if closing:
            assert stack and stack.pop() == name, f"unbalanced </{name}> in {text!r}"
        else:
            stack.append(name)
        pos = match.end()
    _assert_plain(text[pos:], text)
    assert not stack, f"unclosed {stack} in {text!r}"


def _assert_plain(chunk: str, text: str) -> None:
    assert "<" not in chunk and ">" not in chunk, f"raw < or > in {text!r}"
    assert chunk.count("&") == len(ENTITY_RE.findall(chunk)), f"raw & in {text!r}"


def plain(text: str) -> str:
    """What the user sees of a Telegram HTML text."""
    return html.unescape(TAG_RE.sub("", text))


def button_data(params: dict) -> str | None:
    markup = params.get("reply_markup")
    return markup["inline_keyboard"][0][0]["callback_data"] if markup else None


# ----- compose(): pure, over the shared engine -----------------------------------------------

def test_compose_relevant_question_gives_html_and_button(engine):
    text, markup, asked = handlers.compose(engine, QUESTION)
    best = engine.ask(QUESTION, k=2).hits[0].passage
    assert_telegram_html(text)
    assert plain(text) == f"{best.text}\n\n{SOURCE}"
    bold = re.findall(r"<b>(.*?)</b>", text)
    assert "Microsoft" in best.text and bold  # only the question's words are bold:
    assert set(bold) <= {"Käufer", "kaufen", "Tiktok", "Tiktok-Deal", "Übernahme", "holen"}
    assert markup is not None
    button, up, down = markup.inline_keyboard[0]
    assert button.text.startswith("Mehr dazu") and button.callback_data == f"more:1:{QUESTION}"
    assert (up.text, up.callback_data, down.text, down.callback_data) == (
        "👍", "vote:+", "👎", "vote:-")
    assert (asked.outcome, asked.rank, asked.passage) == (Outcome.SURE, 0, best.text)


def test_compose_off_topic_has_no_passage_and_no_keyboard(engine):
    text, markup, asked = handlers.compose(engine, OFF_TOPIC)
    assert markup is None and asked is not None
    assert asked.outcome is Outcome.NONE and not asked.passage
    assert_telegram_html(text)
    assert text.startswith(replies.text("no_answer", "de"))
    assert "Quelle" not in text and all(p.text not in text for p in engine.index.passages)
    for article in engine.articles:
        assert f"• {article.title} ({article.date})" in text
    assert "Fragen Sie zum Beispiel: <i>Was gibt es zu " in text


def test_compose_single_relevant_passage_has_votes_but_no_more_button(engine):
    text, markup, _ = handlers.compose(engine, ONE_HIT)
    assert [b.callback_data for b in markup.inline_keyboard[0]] == ["vote:+", "vote:-"]
    assert "<b>Kevin</b> <b>Mayer</b>" in text


@pytest.mark.parametrize("rank", [1, 3, 50])
def test_compose_rank_beyond_hits_says_nothing_more(engine, rank):
    hits = engine.ask(ONE_HIT, k=60).hits
    assert len(hits) == 1
    assert handlers.compose(engine, ONE_HIT, rank) == (replies.text("no_more", "de"), None, None)


def test_compose_pages_through_all_relevant_passages(engine):
    hits = engine.ask(QUESTION, k=10).hits
    assert len(hits) == 3
    pages = [handlers.compose(engine, QUESTION, rank) for rank in range(3)]
    assert [plain(t).split("\n\n")[0] for t, _, _ in pages] == [h.passage.text for h in hits]
    assert [button_data({"reply_markup": m.to_dict()}) for _, m, _ in pages] == [
        f"more:1:{QUESTION}", f"more:2:{QUESTION}", "vote:+"]
    assert [a.rank for _, _, a in pages] == [0, 1, 2]


LONG_QUESTION = "Wörter über Übernahme — 🇩🇪🇺🇸 Straßenbahn Grüße " * 10


@pytest.mark.parametrize("rank", [1, 9, 99, 12345])
def test_callback_data_fits_64_bytes_for_long_non_ascii_question(rank):
    markup = handlers._more_button("de", rank, LONG_QUESTION)
    data = markup.inline_keyboard[0][0].callback_data
    assert len(data.encode()) <= 64
    prefix, _, start = data.partition(f":{rank}:")
    assert prefix == "more" and start and LONG_QUESTION.startswith(start)
    assert len(data.encode()) >= 60  # the room is used, not wasted


@given(st.text(max_size=200), st.integers(min_value=0, max_value=10**6))
def test_callback_data_always_fits_and_is_a_question_prefix(question, rank):
    data = handlers._more_button("en", rank, question).inline_keyboard[0][0].callback_data
    assert len(data.encode("utf-8")) <= 64
    assert data.startswith(f"more:{rank}:") and question.startswith(data.split(":", 2)[2])


@pytest.mark.parametrize(("text", "expected"), [
    ("@newsbot_test_bot Wer will Tiktok kaufen?", QUESTION),
    ("Wer will @NewsBot_Test_Bot Tiktok kaufen?", QUESTION),
    ("/ask Wer will Tiktok kaufen?", QUESTION),
    ("/ask@newsbot_test_bot  Wer will\nTiktok kaufen?", QUESTION),
    ("@newsbot_test_bot2 Hallo", "@newsbot_test_bot2 Hallo"),  # another bot
    ("mail@newsbot_test_bot", "mail@newsbot_test_bot"),
])
def test_question_of_strips_command_and_mention(text, expected):
    assert handlers.question_of(text, "newsbot_test_bot") == expected


# ----- the Application, fed updates in-process ------------------------------------------------

_ids = itertools.count(1)


def _settings(api: FakeBotAPI, **changes) -> Settings:
    return Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=KNOWLEDGE, **changes)


@pytest.fixture
async def app(api, engine):
    application = build_application(_settings(api), engine)
    async with application:  # initialize(): getMe, so bot.username is known
        yield application


async def feed(application, update: dict) -> None:
    """Process one update (as built by the fake with push=False) to the end."""
    await application.process_update(
        Update.de_json({**update, "update_id": next(_ids)}, application.bot))


def replies_to(api: FakeBotAPI, chat_id: int) -> list[dict]:
    return [c.params for c in api.calls_of("sendMessage") if c.params["chat_id"] == chat_id]


def apologies(api: FakeBotAPI) -> list[str]:
    return [t for t in api.sent_texts() if t in {replies.text("error", "de"),
                                                 replies.text("error", "en")}]


async def test_private_question_is_answered_as_quoted_html(app, api):
    update = api.message(QUESTION, user_id=11, push=False)
    await feed(app, update)
    (params,) = replies_to(api, 11)
    assert params["parse_mode"] == "HTML" and SOURCE in params["text"]
    assert params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert button_data(params) == f"more:1:{QUESTION}"


async def test_group_answers_mentions_and_replies_to_the_bot_only(app, api):
    group = -100777
    bot_message = {"message_id": 5, "date": 1, "chat": {"id": group, "type": "supergroup"},
                   "from": BOT_USER, "text": "Eine frühere Antwort"}
    someone = {**bot_message, "from": {"id": 55, "is_bot": False, "first_name": "Bo"}}
    ignored = [
        api.message(QUESTION, user_id=12, chat_id=group, chat_type="supergroup", push=False),
        api.message(f"@someone_else {QUESTION}", user_id=12, chat_id=group,
                    chat_type="supergroup", push=False),
        api.message(QUESTION, user_id=12, chat_id=group, chat_type="supergroup",
                    reply_to_message=someone, push=False),
    ]
    answered = [
        api.mention(f"{QUESTION} @newsbot_test_bot", user_id=12, chat_id=group, push=False),
        api.message(QUESTION, user_id=12, chat_id=group, chat_type="supergroup",
                    reply_to_message=bot_message, push=False),
        api.message(f"/ask {QUESTION}", user_id=12, chat_id=group, chat_type="supergroup",
                    push=False),
    ]
    for update in ignored + answered:
        await feed(app, update)
    sent = replies_to(api, group)
    assert [p["reply_parameters"]["message_id"] for p in sent] == [
        u["message"]["message_id"] for u in answered]
    # the mention is not part of the question (nor of the callback data)
    assert {button_data(p) for p in sent} == {f"more:1:{QUESTION}"}
    assert len({p["text"] for p in sent}) == 1 and SOURCE in sent[0]["text"]


@pytest.mark.parametrize(("text", "chat_type"), [
    ("😀🎉", "private"), ("?!", "private"), ("@newsbot_test_bot", "supergroup"),
    ("@newsbot_test_bot 🤔", "supergroup"), ("/ask ...", "private"),
])
async def test_empty_or_emoji_only_question_gets_please_ask_hint(app, api, text, chat_type):
    await feed(app, api.message(text, user_id=13, chat_id=-13 if chat_type != "private" else 13,
                                chat_type=chat_type, push=False))
    (params,) = [c.params for c in api.calls_of("sendMessage")]
    assert params["text"].startswith("Bitte stellen Sie eine Frage zu den Nachrichten, z. B.: ")
    assert "reply_markup" not in params


async def test_ask_without_question_explains_usage(app, api):
    await feed(app, api.message("/ask", user_id=14, chat_id=-14, chat_type="group", push=False))
    assert api.sent_texts() == [replies.text("ask_usage", "de")]


async def test_long_question_is_cut_with_the_note(api, engine):
    application = build_application(_settings(api, max_question_chars=48), engine)
    question = (QUESTION + " ") * 30  # cut after the second "kaufen? "
    async with application:
        await feed(application, api.message(question, user_id=15, push=False))
        await feed(application, api.message(question[:47], user_id=16, push=False))
    (long_reply,) = replies_to(api, 15)
    (exact_reply,) = replies_to(api, 16)
    note = "(Ihre Frage war sehr lang; ich habe die ersten 48 Zeichen gelesen.)"
    assert long_reply["text"].endswith("\n\n" + note) and SOURCE in long_reply["text"]
    assert note not in exact_reply["text"]  # at the limit: nothing was cut
    assert len(long_reply["text"]) <= replies.TELEGRAM_LIMIT
    assert_telegram_html(long_reply["text"])
    assert len(button_data(long_reply).encode()) <= 64


async def test_more_sends_next_passage_as_new_message_and_moves_the_button(app, api, engine):
    await feed(app, api.message(QUESTION, user_id=17, push=False))
    hits = engine.ask(QUESTION, k=3).hits
    data = button_data(replies_to(api, 17)[0])
    for rank in (1, 2):  # press the button the last message shows
        await feed(app, api.callback_query(data, user_id=17, push=False))
        sent = replies_to(api, 17)[-1]
        assert plain(sent["text"]) == f"{hits[rank].passage.text}\n\n{SOURCE}"
        assert_telegram_html(sent["text"])
        data = button_data(sent)
    assert data == "vote:+"  # the third passage is the last relevant one: no "more" button
    assert len(replies_to(api, 17)) == 3 and not api.calls_of("editMessageText")
    first = api._messages[(17, min(m for c, m in api._messages if c == 17))]
    assert plain(first["text"]).startswith(hits[0].passage.text)  # still readable ...
    assert button_data(first) == "vote:+"  # ... without its "more" button, with the votes
    # a (forged) tap on the last answer, which has no button: answered, nothing sent
    await feed(app, api.callback_query(f"more:3:{QUESTION}", user_id=17, push=False))
    assert len(replies_to(api, 17)) == 3
    assert len(api.calls_of("answerCallbackQuery")) == 3 and not apologies(api)


async def test_more_reads_the_full_question_without_the_mention(app, api, engine):
    """In a group the button's message quotes "@bot question": the mention is no question."""
    group = -100818
    question = api.mention(QUESTION, user_id=18, chat_id=group, push=False)
    await feed(app, question)
    (answer,) = replies_to(api, group)
    shown = dict(api._messages[(group, max(m for c, m in api._messages if c == group))])
    shown["reply_to_message"] = question["message"]  # what Telegram includes for a reply
    update = api.callback_query("more:1:", user_id=18, chat_id=group, push=False)
    update["callback_query"]["message"] = shown
    await feed(app, update)
    sent = replies_to(api, group)[-1]
    second = engine.ask(QUESTION, k=3).hits[1].passage.text
    assert plain(sent["text"]).startswith(second), sent["text"]
    assert button_data(sent) == f"more:2:{QUESTION}"
    assert sent["reply_parameters"]["message_id"] == question["message"]["message_id"]


async def test_more_double_tap_sends_one_message(app, api):
    await feed(app, api.message(QUESTION, user_id=19, push=False))
    (answer,) = replies_to(api, 19)
    first_id = max(m for c, m in api._messages if c == 19)
    for _ in range(2):  # both taps on the first answer: the second finds the button gone
        await feed(app, api.callback_query(f"more:1:{QUESTION}", user_id=19,
                                           message_id=first_id, push=False))
    assert len(api.calls_of("answerCallbackQuery")) == 2
    assert not apologies(api) and len(replies_to(api, 19)) == 2


@pytest.mark.parametrize("data", ["more:", "more:²:Tiktok", "more:-1:Tiktok",
                                  "more:99999999999999:Tiktok", "more:1:"])
async def test_more_with_odd_callback_data_still_answers(app, api, data):
    await feed(app, api.message(QUESTION, user_id=20, push=False))
    await feed(app, api.callback_query(data, user_id=20, push=False))
    assert len(api.calls_of("answerCallbackQuery")) == 1
    sent = replies_to(api, 20)[-1]
    assert len(replies_to(api, 20)) == 2
    assert_telegram_html(sent["text"])
    assert not apologies(api)


async def test_unknown_command_in_private_chat_points_to_help(app, api):
    await feed(app, api.message("/frobnicate", user_id=21, push=False))
    await feed(app, api.message("/help", user_id=21, push=False))
    texts = [p["text"] for p in replies_to(api, 21)]
    assert texts[0] == replies.text("unknown_command", "de")
    assert len(texts) == 2 and "unknown" not in texts[1].lower()  # /help: its own answer
    await feed(app, api.message("/reload", user_id=21, push=False))  # not an admin: silence
    assert len(replies_to(api, 21)) == 2


async def test_one_info_line_per_question_without_text_or_user(app, api, caplog):
    caplog.set_level("INFO", logger="bot.telegram.handlers")
    await feed(app, api.message(QUESTION, user_id=22, push=False))
    await feed(app, api.message("Wie wird das Wetter morgen in Oslo?", user_id=22, push=False))
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.handlers"]
    assert len(lines) == 2
    assert lines[0].startswith("question in a private chat (de): answered in ")
    assert lines[1].startswith("question in a private chat (de): no answer in ")
    assert all(line.endswith(" ms") for line in lines)
    assert not any("Tiktok" in line or "Oslo" in line or "22" in line.split(":")[0]
                   for line in lines)


async def test_inline_query_results_and_empty_hint(app, api):
    await feed(app, api.inline_query("Tiktok Microsoft", user_id=21, push=False))
    await feed(app, api.inline_query("   ", user_id=21, push=False))
    found, empty = [c.params for c in api.calls_of("answerInlineQuery")]
    results = found["results"]
    assert 1 <= len(results) <= 50 and len({r["id"] for r in results}) == len(results)
    for r in results:
        message = r["input_message_content"]["message_text"]
        assert r["title"].startswith("Tiktok ist der erste globale App-Erfolg")
        assert plain(message).startswith(r["description"]) and SOURCE in message
        assert_telegram_html(message)
    (hint,) = empty["results"]
    assert hint["input_message_content"]["message_text"].startswith("Bitte stellen Sie")


async def test_sticker_gets_text_only_hint_in_the_users_language(app, api):
    await feed(app, api.sticker(user_id=22, push=False))
    update = api.photo(user_id=23, push=False)
    update["message"]["from"]["language_code"] = "en"
    await feed(app, update)
    assert api.sent_texts() == [replies.text("text_only", "de"), replies.text("text_only", "en")]
