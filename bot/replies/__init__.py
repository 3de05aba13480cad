"""Replies: the engine's `Answers` become one `Reply` (model.py), rendered for each channel —
Telegram HTML (telegram_html.py, inline.py), terminal text (console_text.py), a JSON line
(json_line.py) — in the bot's own words from one table per language (texts.py)."""

from bot.replies.console_text import (
    answer_text,
    ask_text,
    no_answer_text,
    sources_text,
    welcome_text,
)
from bot.replies.inline import inline_answers, inline_results
from bot.replies.json_line import json_line
from bot.replies.model import (
    Answer,
    Outcome,
    Reply,
    Source,
    build,
    matcher,
    matching_words,
    outcome,
)
from bot.replies.telegram_html import (
    TELEGRAM_LIMIT,
    answer_html,
    help_html,
    highlight_html,
    no_answer_html,
    source_html,
    sources_html,
    utf16_len,
    welcome_html,
)
from bot.replies.texts import (
    TEXTS,
    example_question,
    language_of,
    privacy_text,
    source_line,
    text,
    thanks,
)

__all__ = [
    "TELEGRAM_LIMIT", "TEXTS", "Answer", "Outcome", "Reply", "Source", "answer_html",
    "answer_text", "ask_text", "build", "example_question", "help_html", "highlight_html",
    "inline_answers", "inline_results", "json_line", "language_of", "matcher", "matching_words",
    "no_answer_html", "no_answer_text", "outcome", "privacy_text", "source_html", "source_line",
    "sources_html", "sources_text", "text", "thanks", "utf16_len", "welcome_html", "welcome_text",
]
