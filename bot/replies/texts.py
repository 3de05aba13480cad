"""The bot's own words, one table per language: German ("de", also for any other language
code) and English ("en"). Passages are never translated; only what the bot says itself.

Keys ending in `_html` are Telegram HTML (their tags and entities are part of the text); every
other text is plain and is escaped by the renderer that puts it into HTML. Placeholders in
braces are filled by `text(key, language, name=value)`.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection
from typing import Protocol

from bot.config import Settings
from bot.indexing.loading import example_topic
from bot.knowledge.articles import Article
from bot.search.engine import Engine

DEFAULT = "de"

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        # answers
        "source": "Quelle",
        "more": "Mehr dazu",
        "no_answer": "Dazu steht nichts in den Nachrichten, die ich kenne.",
        "hedge": "Genau das steht nicht in den Nachrichten – am nächsten kommt das:",
        "suggest": "Ich kenne diese Artikel:",
        "example": "Fragen Sie zum Beispiel:",
        "example_question": "Was gibt es zu {topic}?",
        "no_more": "Mehr steht dazu nicht in den Nachrichten.",
        # messages that are no question, and trouble
        "text_only": "Ich beantworte Fragen als Text — schreiben Sie mir einfach Ihre Frage.",
        "error": "Entschuldigung, da ist etwas schiefgegangen. Bitte fragen Sie gleich noch mal.",
        "empty": "Bitte stellen Sie eine Frage zu den Nachrichten, z. B.: {example}",
        "cut": "(Ihre Frage war sehr lang; ich habe die ersten {limit} Zeichen gelesen.)",
        "slow_down": "Sie fragen sehr schnell — ich beantworte Ihre Fragen gleich der Reihe nach.",
        "ask_usage": "So fragen Sie hier: /ask <Ihre Frage>",
        "unknown_command": "Diesen Befehl kenne ich nicht — /help zeigt, wie Sie fragen.",
        # /start, /sources, /help
        "welcome": "Hallo! Ich beantworte Fragen zu den Nachrichten mit der Textstelle, die es "
                   "sagt, und ihrer Quelle. Ich kenne diese Artikel:",
        "sources": "Artikel, die ich kenne:",
        "help_html": "<b>So fragen Sie</b>\nSchreiben Sie Ihre Frage als Nachricht, auf Deutsch "
                     "oder Englisch. Ich antworte mit der passendsten Textstelle und ihrer "
                     "Quelle; „{more}“ zeigt die nächste.\n\n<b>In Gruppen</b>\n/ask "
                     "&lt;Frage&gt;, erwähnen Sie mich (@{name} &lt;Frage&gt;) oder antworten "
                     "Sie auf meine Nachricht.\n\n<b>In jedem Chat</b>\nTippen Sie @{name} "
                     "&lt;Frage&gt; und wählen Sie eine Textstelle.\n\n/sources zeigt die "
                     "Artikel, die ich kenne.",
        "console_help": "Schreiben Sie Ihre Frage, auf Deutsch oder Englisch. Ich antworte mit "
                        "der passendsten Textstelle und ihrer Quelle; „mehr“ zeigt die "
                        "nächste.\n/sources (/quellen) zeigt die Artikel, die ich kenne; "
                        "/reload liest den Wissensordner neu; /start die Begrüßung; Strg-D oder "
                        "„quit“ beendet.",
        # feedback: votes and /privacy (what the question log keeps, as the settings say)
        "thanks": "Danke! {vote} ist notiert.",
        "nothing_to_vote": "(+ oder - bewertet die zuletzt gezeigte Antwort; gerade gibt es "
                           "keine.)",
        "privacy_on": "Datenschutz: Damit die Redaktion die Antworten verbessern kann, "
                      "speichere ich Ihre Frage, die Antwort, die ich gezeigt habe, und Ihre "
                      "👍/👎-Bewertung. Ihre Chat- und Nutzerkennung speichere ich nur als "
                      "gesalzenen Hash: Fragen lassen sich zählen, aber niemandem zuordnen. "
                      "Ihren Namen und andere Nachrichten speichere ich nicht. Nach {days} "
                      "Tagen wird alles gelöscht.",
        "privacy_off": "Datenschutz: Ich speichere keine Fragen und keine Kennungen, nur "
                       "Zahlen: wie viele Fragen am Tag eine Antwort fanden und wie viele 👍/👎 "
                       "es gab. Nach {days} Tagen werden auch sie gelöscht.",
        "privacy_none": "Datenschutz: Ich speichere weder Ihre Fragen noch Bewertungen.",
    },
    "en": {
        "source": "Source",
        "more": "More on this",
        "no_answer": "The news I know doesn't say anything about that.",
        "hedge": "The news doesn't say exactly; the closest is:",
        "suggest": "I know these articles:",
        "example": "Try asking, for example:",
        "example_question": "What about {topic}?",
        "no_more": "The news says nothing more about that.",
        "text_only": "I answer text questions — just type your question.",
        "error": "Sorry, something went wrong. Please ask again in a moment.",
        "empty": "Please ask a question about the news, e.g.: {example}",
        "cut": "(Your question was very long; I read the first {limit} characters.)",
        "slow_down": "You're asking very fast — I'll answer your questions in turn.",
        "ask_usage": "Ask here like this: /ask <your question>",
        "unknown_command": "I don't know that command — /help shows how to ask.",
        "welcome": "Hello! I answer questions about the news with the passage that says so, "
                   "and its source. I know these articles:",
        "sources": "Articles I know:",
        "help_html": "<b>How to ask</b>\nWrite your question as a message, in German or "
                     "English. I answer with the best passage of the news and its source; "
                     "“{more}” shows the next one.\n\n<b>In groups</b>\n/ask &lt;question&gt;, "
                     "mention me (@{name} &lt;question&gt;) or reply to my message.\n\n<b>In any "
                     "chat</b>\nType @{name} &lt;question&gt; and pick a passage.\n\n/sources "
                     "lists the articles I know.",
        "console_help": "Type your question, in German or English. I answer with the best "
                        "passage of the news and its source; “more” shows the next one.\n"
                        "/sources lists the articles I know; /reload reads the knowledge folder "
                        "again; /start the welcome; Ctrl-D or “quit” leaves.",
        "thanks": "Thanks! {vote} noted.",
        "nothing_to_vote": "(+ or - rates the answer shown last; there is none right now.)",
        "privacy_on": "Privacy: so that the newsroom can improve the answers, I store your "
                      "question, the answer I showed and your 👍/👎 vote. Your chat and user id "
                      "are stored only as a salted hash: questions can be counted but not "
                      "traced to anyone. I don't store your name or other messages. Everything "
                      "is deleted after {days} days.",
        "privacy_off": "Privacy: I store no questions and no ids, only numbers: how many "
                       "questions a day found an answer and how many 👍/👎 there were. They too "
                       "are deleted after {days} days.",
        "privacy_none": "Privacy: I store neither your questions nor your votes.",
    },
}


def language_of(code: str | None) -> str:
    """The language the bot speaks to someone whose app is set to `code` (Telegram's
    `language_code`, e.g. "en-GB"): English for English, else German."""
    return "en" if (code or "").startswith("en") else DEFAULT


def text(key: str, language: str, **values: object) -> str:
    """One of the bot's own texts in German ("de", the default) or English ("en")."""
    return TEXTS.get(language, TEXTS[DEFAULT])[key].format(**values)


def example_question(engine: Engine, language: str = DEFAULT) -> str:
    """A question the bot can answer: about the newest article's most used title word."""
    return text("example_question", language, topic=example_topic(engine))


def thanks(language: str, value: int) -> str:
    """The toast (Telegram) or line (console) after a 👍 (value > 0) or 👎."""
    return text("thanks", language, vote="👍" if value > 0 else "👎")


def privacy_text(language: str, settings: Settings) -> str:
    """/privacy: what is stored, as the settings say, and for how long."""
    mode = "none" if settings.state_dir is None else "on" if settings.question_log else "off"
    return text(f"privacy_{mode}", language, days=settings.log_days)


class Dated(Protocol):
    """What a source line names: an article, a passage, or an answer's `Source`."""

    @property
    def title(self) -> str: ...
    @property
    def date(self) -> str | None: ...
    @property
    def dateline(self) -> str | None: ...


def source_line(source: Dated, language: str = DEFAULT) -> str:
    """'Quelle: <title> — <DATELINE>, <date>' (parts that are missing are left out)."""
    where = ", ".join(part for part in (source.dateline, source.date) if part)
    return f"{text('source', language)}: {source.title}" + (f" — {where}" if where else "")


def article_lines(articles: Collection[Article], limit: int = 20) -> list[str]:
    """The newest `limit` articles, one a line with its date, and how many more there are
    (titles are at most ~120 characters)."""
    newest = heapq.nlargest(limit, articles, key=lambda a: a.date or "")
    lines = [f"• {a.title}" + (f" ({a.date})" if a.date else "") for a in newest]
    if len(articles) > limit:
        lines.append(f"… (+{len(articles) - limit})")
    return lines
