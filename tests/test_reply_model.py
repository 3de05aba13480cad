"""bot.replies.model: one Reply, built once from the engine's Answers, says the same in every
rendering — Telegram HTML, the chat's text, the `ask` text and the `ask --json` line — and the
bot's words exist in both languages."""

from __future__ import annotations

import html
import json
import re
import string
from dataclasses import replace

import pytest

from bot import replies
from bot.feedback.asked import Asked
from bot.knowledge.passages import Passage
from bot.replies.console_text import BOLD, RESET
from bot.replies.model import Outcome
from bot.search.engine import Answers
from bot.search.hits import Hit

TAG_RE = re.compile(r"</?(?:b|i|u|a)(?: [^>]*)?>")
UNDERLINED = re.compile(r"<u>(.*?)</u>", re.DOTALL)


def _visible(message: str) -> str:
    return html.unescape(TAG_RE.sub("", message))


def _pair() -> Answers:
    """An answer of two passages of one article (not neighbours), its sentence in the second."""
    url = "https://example.de/a"
    first = Passage("a.txt", "Streik & <Bahn>", "2024-03", "BERLIN", 1, "Die GDL streikt.", url)
    second = Passage("a.txt", "Streik & <Bahn>", "2024-03", "BERLIN", 4,
                     "Der Streik beginnt heute. Die GDL fordert mehr Lohn. Züge fallen aus.", url)
    hit = Hit(second, 3.2, 1.0, 7, 2, "Die GDL fordert mehr Lohn.", companion=first)
    return Answers("Was fordert die GDL?", "de", [hit], frozenset({"gdl", "lohn"}))


def _cases(engine) -> list[Answers]:
    sure = engine.ask("Wer will Tiktok kaufen?", k=3)
    english = engine.ask("Who wants to buy Tiktok?", k=3)
    return [sure, replace(sure, sure=False), english, engine.ask("xyzzy plugh?"), _pair(),
            replace(_pair(), sure=False)]


def test_the_renderings_of_one_reply_agree(engine):
    seen: set[tuple[Outcome, bool]] = set()  # (outcome, sentence singled out)
    for answers in _cases(engine):
        is_match = replies.matcher(engine.analyzer.analyze, answers.terms)
        reply = replies.build(answers, is_match)
        data = json.loads(replies.json_line(reply))
        listing = replies.ask_text(reply)
        hedge = replies.text("hedge", reply.language)
        assert reply.outcome is replies.outcome(answers)
        assert data["sure"] is (reply.outcome is Outcome.SURE)
        assert listing.startswith(hedge) is (reply.outcome is Outcome.HEDGED)
        assert len(data["answers"]) == len(reply.answers) == len(answers.hits)
        if reply.outcome is Outcome.NONE:
            assert listing == replies.text("no_answer", reply.language)
        for answer, item in zip(reply.answers, data["answers"], strict=True):
            message = replies.answer_html(reply, answer)
            chat = replies.answer_text(reply, answer, bold=True)  # marked unlike any text
            source = replies.source_line(answer.source, reply.language)
            under_hedge = reply.outcome is Outcome.HEDGED and answer.rank == 0
            seen.add((reply.outcome, answer.mark is not None))
            # the same passages and source ...
            assert item["text"] == answer.text and item["passages"] == list(answer.source.passages)
            body = message.removeprefix(f"<i>{hedge}</i>\n\n").rsplit("\n\n<i>", 1)[0]
            assert _visible(body) == answer.text
            assert chat.replace(BOLD, "").replace(RESET, "") == (
                f"\n{hedge}" * under_hedge + f"\n{answer.text}\n  — {source}\n")
            assert f"{answer.rank + 1}. {answer.text}\n" in listing
            assert _visible(message).endswith(f"\n\n{source}") and f"   {source}" in listing
            assert (item["title"], item["date"], item["dateline"], item["url"]) == (
                answer.source.title, answer.source.date, answer.source.dateline, answer.source.url)
            # ... the same sentence marked ...
            underlined = [_visible(u) for u in UNDERLINED.findall(message)]
            marked = re.findall(f"{re.escape(BOLD)}(.*?){re.escape(RESET)}", chat, re.DOTALL)
            if answer.mark:
                assert underlined == marked == [item["sentence"]] == [answer.sentence]
                assert f"\n   » {answer.sentence}\n" in listing
            else:
                assert underlined == marked == [] and item["sentence"] == answer.text
            # ... and the same outcome
            assert message.startswith(f"<i>{hedge}</i>") is under_hedge
    assert {(o, m) for o in (Outcome.SURE, Outcome.HEDGED) for m in (True, False)} <= seen


def test_a_pair_of_passages_is_one_answer_with_its_sentence_marked():
    reply = replies.build(_pair(), lambda word: word in {"GDL", "Lohn"})
    (answer,) = reply.answers
    assert answer.text.startswith("Die GDL streikt.\n\n[…]\n\nDer Streik beginnt heute.")
    assert answer.mark and answer.text[slice(*answer.mark)] == "Die GDL fordert mehr Lohn."
    assert [answer.text[a:b] for a, b in answer.words] == ["GDL", "GDL", "Lohn"]
    assert (answer.source.passage, answer.source.passages) == (4, (1, 4))
    message = replies.answer_html(reply, answer)
    assert "<u>Die <b>GDL</b> fordert mehr <b>Lohn</b>.</u>" in message
    assert '<a href="https://example.de/a">Streik &amp; &lt;Bahn&gt;</a>' in message
    assert "»Die GDL fordert mehr Lohn.«" in replies.answer_text(reply, answer)
    bold = replies.answer_text(reply, answer, bold=True)
    assert "\033[1mDie GDL fordert mehr Lohn.\033[0m" in bold and "»" not in bold


def test_a_page_of_a_reply_knows_its_rank_and_whether_more_follow(engine):
    answers = engine.ask("Wer will Tiktok kaufen?", k=3)
    assert len(answers.hits) == 3
    whole = replies.build(answers)
    assert [a.rank for a in whole.answers] == [0, 1, 2] and not whole.more
    page = replies.build(answers, first=1, count=1)
    assert [a.text for a in page.answers] == [answers.hits[1].text] and page.more
    assert page.at(1) == page.answers[0] and page.at(0) is None and page.at(2) is None
    last = replies.build(answers, first=2, count=1)
    assert len(last.answers) == 1 and not last.more
    beyond = replies.build(answers, first=3, count=1)
    assert beyond.answers == () and not beyond.more and beyond.outcome is Outcome.SURE
    asked = Asked.of(page)
    assert (asked.rank, asked.passage, asked.article) == (
        1, answers.hits[1].text, answers.hits[1].passage.title)


def test_no_words_are_bold_without_a_matcher(engine):
    reply = replies.build(engine.ask("Wer will Tiktok kaufen?"))
    assert all(answer.words == () for answer in reply.answers)
    assert "<b>" not in replies.answer_html(reply, reply.answers[0])


# --- the table of the bot's words --------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("key", sorted(replies.TEXTS["de"]))
def test_every_text_exists_in_both_languages_with_the_same_placeholders(key):
    assert set(replies.TEXTS) == {"de", "en"}
    german, english = replies.TEXTS["de"][key], replies.TEXTS["en"][key]
    assert german.strip() and english.strip() and german != english
    assert _placeholders(german) == _placeholders(english)


def test_both_languages_have_the_same_keys():
    assert replies.TEXTS["de"].keys() == replies.TEXTS["en"].keys()


def test_any_other_language_gets_german():
    assert replies.text("no_answer", "fr") == replies.text("no_answer", "de")
    assert replies.thanks("fr", 1) == "Danke! 👍 ist notiert."


def test_the_example_question_is_phrased_from_the_table(engine):
    de, en = replies.example_question(engine, "de"), replies.example_question(engine, "en")
    assert de.startswith("Was gibt es zu ") and en.startswith("What about ")
    assert de.removeprefix("Was gibt es zu ") == en.removeprefix("What about ")
