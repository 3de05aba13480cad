"""bot.replies: plain text, JSON lines and Telegram HTML."""

from __future__ import annotations

import html
import json
import re

import pytest
from conftest import passage_html

from bot import replies
from bot.knowledge.articles import Article
from bot.knowledge.passages import Passage
from bot.language.german import Analyzer
from bot.search.engine import Answers
from bot.search.lexical.index import Hit

TITLE = "Tiktok ist der erste globale App-Erfolg aus China in der Liga von Facebook"
ENTITY_RE = re.compile(r"&(?:amp|lt|gt|quot|#x?[0-9a-fA-F]+);")
TAG_RE = re.compile(r"</?(?:b|i|u)>")


def _passage(text: str = "Microsoft will Tiktok kaufen.", **fields) -> Passage:
    values = {"article": "a.txt", "title": TITLE, "date": "2020-08",
              "dateline": "REDMOND/WASHINGTON", "position": 3, "text": text}
    values.update(fields)
    return Passage(**values)


def _answers(*passages: Passage, question: str = "Wer will Tiktok kaufen?") -> Answers:
    hits = [Hit(p, 5.0 - i, 1.0, i) for i, p in enumerate(passages)]
    return Answers(question, "de", hits, frozenset({"tiktok", "kauf"}))


def _plain(answers: Answers, **options) -> str:
    return replies.ask_text(replies.build(answers), **options)


def _json(answers: Answers) -> str:
    return replies.json_line(replies.build(answers))


def _highlight(text: str, is_match) -> str:
    return replies.highlight_html(text, replies.matching_words(text, is_match))


def _is_tiktok(word: str) -> bool:
    return word.casefold() == "tiktok"


def _assert_well_formed(message: str) -> None:
    """Every & starts a complete entity; <b>, <i> and <u> tags are balanced; no stray < or >."""
    for match in re.finditer("&", message):
        assert ENTITY_RE.match(message, match.start()), message[match.start() : match.start() + 8]
    stripped = TAG_RE.sub("", message)
    assert "<" not in stripped and ">" not in stripped
    for tag in ("b", "i", "u"):
        assert message.count(f"<{tag}>") == message.count(f"</{tag}>")


# --- source line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "language", "expected"),
    [
        ({}, "de", f"Quelle: {TITLE} — REDMOND/WASHINGTON, 2020-08"),
        ({}, "en", f"Source: {TITLE} — REDMOND/WASHINGTON, 2020-08"),
        ({"dateline": None}, "de", f"Quelle: {TITLE} — 2020-08"),
        ({"date": None}, "de", f"Quelle: {TITLE} — REDMOND/WASHINGTON"),
        ({"date": None, "dateline": None}, "de", f"Quelle: {TITLE}"),
        ({}, "fr", f"Quelle: {TITLE} — REDMOND/WASHINGTON, 2020-08"),  # unknown → German
    ],
)
def test_source_line(fields, language, expected):
    assert replies.source_line(_passage(**fields), language) == expected


def test_source_line_of_an_article():
    article = Article("a.txt", "Titel", "2024-05", "BREMEN", ("Text.",))
    assert replies.source_line(article) == "Quelle: Titel — BREMEN, 2024-05"


# --- plain text --------------------------------------------------------------------------


def test_ask_text_show_passage_and_source():
    text = _plain(_answers(_passage(), _passage("Zweite Stelle.", position=4)))
    assert text.startswith("1. Microsoft will Tiktok kaufen.")
    assert "2. Zweite Stelle." in text
    assert f"Quelle: {TITLE} — REDMOND/WASHINGTON, 2020-08" in text
    assert "a.txt #3" in text


def test_ask_text_without_scores():
    assert "score" not in _plain(_answers(_passage()), show_scores=False)


def test_plain_no_answer():
    answers = Answers("asdf", "de", [])
    assert _plain(answers) == replies.text("no_answer", "de")
    assert _plain(Answers("hm", "en", [])) == replies.text("no_answer", "en")


# --- JSON --------------------------------------------------------------------------------


def test_json_line_round_trip():
    passage = _passage("Er sagte: «Nein» & \"ja\" <b>.")
    line = _json(_answers(passage))
    data = json.loads(line)
    assert data["question"] == "Wer will Tiktok kaufen?"
    assert data["language"] == "de"
    assert data["answers"] == [
        {"text": passage.text, "sentence": passage.text, "score": 5.0, "article": "a.txt",
         "title": TITLE,
         "date": "2020-08", "dateline": "REDMOND/WASHINGTON", "passage": 3, "passages": [3],
         "url": None}
    ]
    assert data["sure"] is True


def test_json_line_carry_the_url():
    passage = _passage(url="https://example.de/a?b=1")
    assert json.loads(_json(_answers(passage)))["answers"][0]["url"] == \
        "https://example.de/a?b=1"


def test_answer_html_links_the_title_to_the_article():
    passage = _passage(title="A <b> & \"T\"", url='https://example.de/a?x=1&y="2"')
    message = passage_html(passage, "de", _is_tiktok)
    assert message.endswith(
        '<i>Quelle: <a href="https://example.de/a?x=1&amp;y=&quot;2&quot;">A &lt;b&gt; &amp; '
        '"T"</a> — REDMOND/WASHINGTON, 2020-08</i>')
    unsafe = passage_html(_passage(url="javascript:alert(1)"), "de", _is_tiktok)
    assert "<a " not in unsafe


def test_json_line_is_one_line():
    line = _json(_answers(_passage("Zeile\neins"), question="a\nb\r\nc"))
    assert "\n" not in line and "\r" not in line
    assert json.loads(line)["question"] == "a\nb\r\nc"


def test_json_line_empty():
    assert json.loads(_json(Answers("asdf", "de", []))) == {
        "question": "asdf", "language": "de", "sure": False, "answers": []
    }


def test_json_keeps_umlauts_readable():
    assert "Übernahme" in _json(_answers(_passage("Übernahme")))


def test_json_score_is_rounded():
    answers = Answers("q", "de", [Hit(_passage(), 1.234567891, 1.0, 0)])
    assert json.loads(_json(answers))["answers"][0]["score"] == 1.2346


# --- HTML --------------------------------------------------------------------------------


def test_highlight_bolds_matched_words():
    assert _highlight("Microsoft will Tiktok kaufen.", _is_tiktok) == (
        "Microsoft will <b>Tiktok</b> kaufen."
    )


def test_highlight_escapes_markup_in_passages():
    result = _highlight("a < b > c & <b>Tiktok</b>", _is_tiktok)
    assert result == "a &lt; b &gt; c &amp; &lt;b&gt;<b>Tiktok</b>&lt;/b&gt;"


def test_highlight_whole_hyphenated_word():
    assert _highlight("Der Tiktok-Deal", lambda w: w == "Tiktok-Deal") == (
        "Der <b>Tiktok-Deal</b>"
    )


def test_answer_html_escapes_and_bolds():
    message = passage_html(_passage("Tiktok <kauft> & mehr"), "de", _is_tiktok)
    assert message.startswith("<b>Tiktok</b> &lt;kauft&gt; &amp; mehr\n\n<i>Quelle: ")
    _assert_well_formed(message)


def test_answer_html_escapes_the_source_line():
    message = passage_html(_passage(title="A <b> & C"), "de", _is_tiktok)
    assert "<i>Quelle: A &lt;b&gt; &amp; C — REDMOND/WASHINGTON, 2020-08</i>" in message


def test_answer_html_round_trips_to_the_passage():
    text = "Tiktok & <Microsoft> «Zitat»"
    message = passage_html(_passage(text), "de", _is_tiktok)
    body = message.split("\n\n<i>")[0]
    assert html.unescape(TAG_RE.sub("", body)) == text


HUGE = {
    "words": "Tiktok & <Microsoft> kauft. " * 800,
    "ampersands": "&" * 6000,
    "one long word": "x" * 6000,
    "lt in a word": "a<" * 3000,
    "umlauts": "Übernahmepläne für Tiktok äußerst groß. " * 300,
}


@pytest.mark.parametrize("case", list(HUGE))
def test_huge_passage_fits_telegram(case):
    message = passage_html(_passage(HUGE[case]), "de", _is_tiktok)
    assert len(message) <= replies.TELEGRAM_LIMIT
    _assert_well_formed(message)
    assert message.endswith("</i>")
    assert "…" in message


@pytest.mark.parametrize("limit", [200, 201, 202, 203, 204, 205, 206])
def test_cut_never_splits_an_entity(limit):
    message = passage_html(_passage("a & b < c > d " * 100), "de", _is_tiktok, limit=limit)
    assert len(message) <= limit
    _assert_well_formed(message)


def test_cut_passage_starts_like_the_passage():
    text = HUGE["words"]
    message = passage_html(_passage(text), "de", _is_tiktok)
    body = message.split("…\n\n<i>")[0]
    assert html.unescape(TAG_RE.sub("", body)) == text[: len(html.unescape(TAG_RE.sub("", body)))]


def test_cut_passage_keeps_its_highlights():
    message = passage_html(_passage(HUGE["words"]), "de", _is_tiktok)
    assert "<b>Tiktok</b>" in message


def test_short_passage_is_not_cut():
    message = passage_html(_passage("Kurz."), "de", _is_tiktok)
    assert "…" not in message


def test_matcher_uses_the_analyzer():
    is_match = replies.matcher(Analyzer().analyze, {"kauf", "tiktok"})
    assert is_match("kaufen")
    assert is_match("TIKTOK")
    assert not is_match("Microsoft")
    assert not is_match("der")


def test_no_answer_html_lists_articles_escaped():
    articles = [Article("a.txt", "A & <B>", "2020-08", None, ("x",)),
                Article("b.txt", "Ohne Datum", None, None, ("y",))]
    message = replies.no_answer_html(articles, "de", "Was gibt es zu <Tiktok>?")
    assert replies.text("no_answer", "de") in message
    assert "• A &amp; &lt;B&gt; (2020-08)" in message
    assert "• Ohne Datum\n" in message
    assert "<i>Was gibt es zu &lt;Tiktok&gt;?</i>" in message
    _assert_well_formed(message)


def test_sources_html_lists_all_articles(engine):
    message = replies.sources_html(engine.articles, "de")
    assert all(html.escape(a.title, quote=False) in message for a in engine.articles)
    _assert_well_formed(message)


def test_welcome_html_in_both_languages(engine):
    for language, greeting in (("de", "Hallo!"), ("en", "Hello!")):
        message = replies.welcome_html(engine.articles, language, ["Frage <1>?"])
        assert message.startswith(greeting)
        assert "<i>Frage &lt;1&gt;?</i>" in message
        _assert_well_formed(message)


def test_article_list_is_capped_newest_first_and_fits_telegram():
    articles = [
        Article(f"{i}.txt", f"Titel {i} " + "x" * 110, f"2020-{i % 12 + 1:02d}", None, ("x",))
        for i in range(300)
    ]
    message = replies.sources_html(articles, "de")
    assert message.count("•") == 25 and "… (+275)" in message
    assert "(2020-12)" in message.split("\n")[1]  # the newest first
    assert replies.utf16_len(message) <= replies.TELEGRAM_LIMIT
    assert "… (+280)" in replies.welcome_html(articles, "de", [])


@pytest.mark.parametrize("language", ["de", "en"])
def test_help_html_escapes_the_username(language):
    message = replies.help_html(language, "news<bot>")
    assert "@news&lt;bot&gt;" in message
    _assert_well_formed(message)


def test_texts_exist_in_both_languages():
    assert replies.TEXTS["de"].keys() == replies.TEXTS["en"].keys()


def test_text_fills_placeholders():
    assert "500" in replies.text("cut", "en", limit=500)


# --- inline mode -------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "???"])
def test_inline_empty_query_gives_a_hint(engine, query):
    results = replies.inline_results(engine, query, "de")
    assert [r["id"] for r in results] == ["hint"]


def test_inline_off_topic_says_so(engine):
    results = replies.inline_results(engine, "asdf", "de")
    assert [r["id"] for r in results] == ["none"]


def test_inline_answers(engine):
    results = replies.inline_results(engine, "Wer will Tiktok kaufen?", "de")
    assert 1 <= len(results) <= 5
    assert results[0]["id"].startswith("p")
    assert "Microsoft" in results[0]["description"]
    bold = re.findall(r"<b>(.*?)</b>", results[0]["html"])
    terms = engine.ask("Wer will Tiktok kaufen?").terms
    assert bold
    assert all(set(engine.analyzer.analyze(html.unescape(word))) & terms for word in bold)
    for result in results:
        assert len(result["title"]) <= 100
        assert len(result["html"]) <= replies.TELEGRAM_LIMIT
        _assert_well_formed(result["html"])
    assert len({r["id"] for r in results}) == len(results)
