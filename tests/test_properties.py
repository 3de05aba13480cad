"""Property tests: hostile questions never break the engine or the Telegram replies.

Over arbitrary Unicode — HTML/Markdown specials, `<` and `&`, control characters, zero-width
and bidi marks, emoji and flags, combining characters, up to 10,000 characters — the engine
never raises, and every reply is valid Telegram HTML (only the tags Telegram knows, properly
nested, every `&` an entity, no stray `<`/`>`) whose visible text fits Telegram's 4096 UTF-16
units; "more" buttons carry at most 64 bytes; inline answers hold at most 50 results within
Telegram's limits. The last property sends hostile messages through the real Application
to the fake Bot API and checks what actually went out. Examples run: see the summary line.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import threading
from collections import Counter
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from conftest import passage_html, report_line
from fake_botapi import FakeBotAPI, utf16_len
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot import replies
from bot.config import Settings
from bot.knowledge.passages import Passage
from bot.telegram import handlers
from bot.telegram.app import build_application

TOKEN = "123456789:AAH" + "PropertyTestsNotARealToken_abcde"
LIMIT = 4096  # characters of a message, counted in UTF-16 code units after entity parsing
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "tg-spoiler", "span", "blockquote"}
ENTITY_RE = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});)")
EXAMPLES: Counter = Counter()  # examples run per property, for the summary line
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

NASTY = [
    "<", ">", "&", "&amp;", "&lt;b&gt;", "&#0;", "&#x110000;", "&bogus;", "<b>", "</b>", "<i>x</i>",
    "<a href=\"javascript:alert(1)\">x</a>", "<script>alert(1)</script>", "<!--", "-->",
    "<![CDATA[", "<tg-spoiler>", "<span class=\"tg-spoiler\">", "<pre><code>", "</pre>",
    "*bold*", "_it_", "__u__", "`code`", "```\npre\n```", "[link](http://x.y)", "~~s~~",
    "||spoiler||", "\\", "\"", "'", "\x00", "\x07", "\x1b[31m", "\r\n", "\t", "\x85", "\u2028",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u202e", "\u2066",
    "\u00ad", "😀", "👨‍👩‍👧‍👦", "🇩🇪", "🏳️‍🌈", "e\u0301", "a" + "\u0300" * 30, "ß", "İ", "ﬃ",
    "Ǆ", "ǅ", "ＡＢＣ", "مرحبا", "שלום", "中文字", "नमस्ते", "ภาษาไทย", "%s", "{0}", "{example}",
    "' OR 1=1 --", "../../etc/passwd", "@newsbot_test_bot", "/start", "/ask", "more:1:", ":",
    "Tiktok", "Microsoft", "kaufen", "Bahn", "Streik", "GDL", "Werder", "Trainer", "Hitze",
    "Rekord", "Temperatur", "Wer", "Was", "Wann", "Who", "What", "?", " ", "-", "—", "„", "“",
]
PIECES = st.one_of(st.sampled_from(NASTY), st.text(max_size=20), st.characters().map(str))
QUESTIONS = st.one_of(
    st.lists(PIECES, max_size=30).map("".join),
    st.builds(lambda piece, n: (piece * n)[:10_000],  # long ones, up to 10,000 characters
              st.lists(PIECES, min_size=1, max_size=4).map("".join), st.integers(1, 10_000)),
)


class TelegramHTML(HTMLParser):
    """Parses a message the way Telegram's HTML mode reads it; collects what it would reject."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        names = [name for name, _ in attrs]
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}>")
        elif tag == "span" and attrs != [("class", "tg-spoiler")]:
            self.errors.append(f"span {attrs}")
        elif tag == "a" and names != ["href"] or tag not in ("a", "span", "code") and names:
            self.errors.append(f"attributes of <{tag}>: {attrs}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.errors.append(f"stray < or > in {data[:40]!r}")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        self.visible.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.visible.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    handle_decl = handle_pi = unknown_decl = handle_comment


def check_telegram_html(message: str) -> str:
    """Assert `message` is valid Telegram HTML within the length limit; return its text."""
    parser = TelegramHTML()
    parser.feed(message)
    parser.close()
    assert not parser.errors, (parser.errors, message[:300])
    assert not parser.stack, (f"unclosed {parser.stack}", message[:300])
    bad = ENTITY_RE.search(message)
    assert bad is None, f"& that is no entity: {message[bad.start():bad.start() + 12]!r}"
    visible = "".join(parser.visible)
    assert visible.strip(), "Telegram rejects an empty message"
    assert utf16_len(visible) <= LIMIT, utf16_len(visible)
    return visible


def check_plain(message: str) -> None:
    assert message.strip() and utf16_len(message) <= LIMIT


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    if EXAMPLES:
        report_line(request, f"hypothesis: {sum(EXAMPLES.values())} hostile examples ("
                    + ", ".join(f"{k} {v}" for k, v in EXAMPLES.items()) + ")")


# ----- the engine and the reply functions ---------------------------------------------------
@SETTINGS
@given(question=QUESTIONS, k=st.integers(1, 10))
def test_engine_never_raises(engine, question, k):
    EXAMPLES["engine.ask"] += 1
    answers = engine.ask(question, k=k)
    assert answers.language in ("de", "en")
    assert len(answers.hits) <= k
    assert all(isinstance(hit.passage.text, str) for hit in answers.hits)


@SETTINGS
@given(question=QUESTIONS, rank=st.integers(0, 4))
def test_compose_gives_valid_telegram_html(engine, question, rank):
    """handlers.compose, the reply to a question (and to its "more" buttons)."""
    EXAMPLES["compose"] += 1
    text, markup, _ = handlers.compose(engine, question, rank)
    check_telegram_html(text)
    if markup is not None:
        (row,) = markup.inline_keyboard
        *more, up, down = row
        assert (up.callback_data, down.callback_data) == ("vote:+", "vote:-")
        for button in more:
            data = button.callback_data
            assert len(data.encode("utf-8")) <= 64
            kind, number, _ = data.split(":", 2)
            assert kind == handlers.MORE and int(number) == rank + 1
            assert 1 <= utf16_len(button.text) <= 64


@SETTINGS
@given(question=QUESTIONS, language=st.sampled_from(["de", "en"]))
def test_inline_results_within_limits(engine, question, language):
    EXAMPLES["inline_results"] += 1
    results = replies.inline_results(engine, question.strip(), language)
    assert 1 <= len(results) <= 50
    assert len({r["id"] for r in results}) == len(results)
    for result in results:
        assert 1 <= len(result["id"].encode("utf-8")) <= 64
        assert result["title"].strip()
        check_telegram_html(result["html"])


# All of Unicode (emoji count two UTF-16 units in Telegram's limit).
BMP = st.characters(exclude_categories=["Cs"])
PASSAGE_TEXT = st.one_of(
    st.text(BMP, max_size=300),
    st.builds(lambda piece, n: (piece * n)[:10_000], st.text(BMP, min_size=1, max_size=8),
              st.integers(1, 10_000)),
)


@settings(SETTINGS, max_examples=200)
@given(text=PASSAGE_TEXT, title=st.text(BMP, min_size=1, max_size=200),
       dateline=st.none() | st.text(BMP, max_size=40), bold=st.booleans())
def test_answer_html_for_hostile_passages(text, title, dateline, bold):
    """An article file is outside input too: whatever its text, the answer is valid HTML."""
    EXAMPLES["answer_html"] += 1
    passage = Passage("a.txt", title, "2025-01", dateline, 0, text if text.strip() else "x")
    check_telegram_html(passage_html(passage, "de", lambda word: bold))


@pytest.mark.parametrize("text", ["👨\u200d👩\u200d👧\u200d👦" * 371, "😀" * 2100 + " Ende."])
def test_answer_html_counts_utf16_units_like_telegram(text):
    """Found by the property above: emoji take two UTF-16 units each, so a passage of 2,100
    emoji (shorter than 4096 characters, so not cut) is 4,200 units — Telegram refuses it."""
    passage = Passage("a.txt", "Titel", "2025-01", None, 0, text)
    check_telegram_html(passage_html(passage, "de", lambda word: False))


# ----- through the real Application, to the fake Bot API ----------------------------------
@pytest.fixture(scope="module")
def running(engine):
    """An initialized Application on its own event loop thread, talking to a fake Bot API."""
    api = FakeBotAPI(TOKEN).start()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: object, timeout: float = 30) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    app = build_application(Settings(token=TOKEN, base_url=api.base_url,
                                     flood_limit=10**6, max_question_chars=500), engine)
    run(app.initialize())
    yield SimpleNamespace(api=api, app=app, run=run, ids=itertools.count(1))
    run(app.shutdown())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    api.stop()


@settings(SETTINGS, max_examples=100)
@given(text=QUESTIONS.filter(lambda t: t.strip()), language=st.sampled_from(["de", "en"]))
def test_hostile_messages_get_one_valid_reply(running, text, language):
    """A private message, any text: one reply (none for an unknown /command), valid HTML when
    sent as HTML, plain text within limits otherwise, never the token."""
    EXAMPLES["messages via Application"] += 1
    api, number = running.api, next(running.ids)
    user = 10_000 + number
    data = api.message(text, user_id=user, language_code=language, push=False)
    running.run(running.app.process_update(
        Update.de_json({**data, "update_id": number}, running.app.bot)))
    sent = [c for c in api.calls_of("sendMessage") if c.params.get("chat_id") == user]
    assert len(sent) <= 1 if text.startswith("/") else len(sent) == 1, sent
    for call in sent:
        message = str(call.params["text"])
        if call.params.get("parse_mode") == "HTML":
            check_telegram_html(message)
        else:
            check_plain(message)
        assert TOKEN.partition(":")[2] not in message
