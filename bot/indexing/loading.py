"""Start-up: settings → engine (saved index when it is current, else built) + dictionary."""

from __future__ import annotations

import logging
import re
import time

from bot.config import Settings
from bot.indexing.storage import open_index
from bot.language.dictionary import Dictionary, DictionaryError, load_dictionary
from bot.language.stopwords import GERMAN_STOPWORDS
from bot.language.thesaurus import default_thesaurus
from bot.search.engine import Engine

log = logging.getLogger(__name__)


def load_english(settings: Settings) -> Dictionary | None:
    """The English–German dictionary, or None with one clear log line saying what to install."""
    started = time.perf_counter()
    try:
        dictionary = load_dictionary(settings.dictionary, settings.cache_dir)
    except DictionaryError as exc:
        log.warning(
            "English questions will match names only: %s — install the dictionary with "
            "`sudo apt-get install dict-freedict-eng-deu` or set NEWSBOT_DICTIONARY", exc
        )
        return None
    log.info(
        "dictionary: %d English headwords loaded in %.2f s",
        len(dictionary), time.perf_counter() - started,
    )
    return dictionary


def load_engine(settings: Settings, with_dictionary: bool = True, strict: bool = False) -> Engine:
    """Load the knowledge folder (from its saved index when that is current), the thesaurus and
    the dictionary. `strict`: a broken article file is an error, not a skipped warning."""
    engine = open_index(settings, strict=strict)
    engine.thesaurus = default_thesaurus(str(settings.thesaurus), str(settings.cache_dir))
    if with_dictionary:
        engine.dictionary = load_english(settings)
    warm_up(engine)
    return engine


def warm_up(engine: Engine) -> None:
    """Ask one German and one English question, so the lazily built tables (the compound
    splitter's stem frequencies) are ready before the first real question arrives."""
    started = time.perf_counter()
    engine.ask(example_question(engine, "de"))
    engine.ask(example_question(engine, "en"))
    log.debug("warmed up in %.2f s", time.perf_counter() - started)


def example_question(engine: Engine, language: str = "de") -> str:
    """A question the bot can answer: about the newest article's title word it uses most."""
    newest = max(engine.articles, key=lambda a: a.date or "")
    body = " ".join(newest.paragraphs)
    candidates = [
        word for word in re.findall(r"\b[A-ZÄÖÜ][\w-]{2,}", newest.title)
        if word.casefold() not in GERMAN_STOPWORDS
    ]
    fallback = (newest.title.split() or [newest.name.rsplit(".", 1)[0]])[0]
    name = max(candidates, key=body.count, default=fallback)
    return f"What about {name}?" if language == "en" else f"Was gibt es zu {name}?"
