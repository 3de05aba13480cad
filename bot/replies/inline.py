"""Telegram's inline mode (`@bot question` in any chat): the best answers as results to pick
from, each a ready Telegram HTML message; a hint when the query is empty."""

from __future__ import annotations

import html

from bot.replies.model import Reply, build, matcher
from bot.replies.telegram_html import answer_html
from bot.replies.texts import example_question, text
from bot.search.engine import Engine

RESULTS = 5  # answers offered per query


def inline_answers(engine: Engine, query: str,
                   language: str) -> tuple[list[dict[str, str]], Reply | None]:
    """Up to RESULTS answers (id, title, description, html) and the reply they show; for an
    empty query a hint (and no reply), one "no answer" result when the news says nothing
    like it."""
    if not query or not any(ch.isalnum() for ch in query):
        example = example_question(engine, language)
        hint = text("empty", language, example=example)
        return [{"id": "hint", "title": text("example", language), "description": example,
                 "html": html.escape(hint, quote=False)}], None
    answers = engine.ask(query, k=RESULTS)
    reply = build(answers, matcher(engine.analyzer.analyze, answers.terms))
    if not reply.answers:
        message = text("no_answer", reply.language)
        return [{"id": "none", "title": message, "description": query[:100],
                 "html": html.escape(message, quote=False)}], reply
    return [
        {
            "id": f"p{answer.id}",
            "title": answer.source.title[:100],
            "description": answer.text[:120],
            "html": answer_html(reply, answer),
        }
        for answer in reply.answers
    ], reply


def inline_results(engine: Engine, query: str, language: str) -> list[dict[str, str]]:
    """The results of `inline_answers` alone."""
    return inline_answers(engine, query, language)[0]
