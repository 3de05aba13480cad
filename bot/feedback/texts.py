"""The feedback's words for readers, in German or English: `/privacy` (what the question log
keeps and for how long) and the thanks for a vote."""

from __future__ import annotations

from bot.config import Settings

PRIVACY = {
    "de": {
        "on": "Datenschutz: Damit die Redaktion die Antworten verbessern kann, speichere ich "
              "Ihre Frage, die Antwort, die ich gezeigt habe, und Ihre 👍/👎-Bewertung. Ihre "
              "Chat- und Nutzerkennung speichere ich nur als gesalzenen Hash: Fragen lassen "
              "sich zählen, aber niemandem zuordnen. Ihren Namen und andere Nachrichten "
              "speichere ich nicht. Nach {days} Tagen wird alles gelöscht.",
        "off": "Datenschutz: Ich speichere keine Fragen und keine Kennungen, nur Zahlen: wie "
               "viele Fragen am Tag eine Antwort fanden und wie viele 👍/👎 es gab. Nach "
               "{days} Tagen werden auch sie gelöscht.",
        "none": "Datenschutz: Ich speichere weder Ihre Fragen noch Bewertungen.",
    },
    "en": {
        "on": "Privacy: so that the newsroom can improve the answers, I store your question, "
              "the answer I showed and your 👍/👎 vote. Your chat and user id are stored only "
              "as a salted hash: questions can be counted but not traced to anyone. I don't "
              "store your name or other messages. Everything is deleted after {days} days.",
        "off": "Privacy: I store no questions and no ids, only numbers: how many questions a "
               "day found an answer and how many 👍/👎 there were. They too are deleted "
               "after {days} days.",
        "none": "Privacy: I store neither your questions nor your votes.",
    },
}

THANKS = {"de": "Danke! {vote} ist notiert.", "en": "Thanks! {vote} noted."}
NOTHING_TO_VOTE = {"de": "(+ oder - bewertet die zuletzt gezeigte Antwort; gerade gibt es keine.)",
                   "en": "(+ or - rates the answer shown last; there is none right now.)"}


def thanks(language: str, value: int) -> str:
    """The toast (Telegram) or line (console) after a 👍 (value > 0) or 👎."""
    return THANKS["en" if language == "en" else "de"].format(vote="👍" if value > 0 else "👎")


def privacy_text(language: str, settings: Settings) -> str:
    """What is stored, as the settings say, in German or English."""
    texts = PRIVACY["en" if language == "en" else "de"]
    mode = "none" if settings.state_dir is None else "on" if settings.question_log else "off"
    return texts[mode].format(days=settings.log_days)
