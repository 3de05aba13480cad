"""Start-up: settings → engine (saved index when it is current, else built) + dictionary."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path

from bot.config import Settings
from bot.errors import NewsbotError
from bot.indexing import embed
from bot.indexing.build import build_engine
from bot.indexing.storage import PassageStore, fingerprint, open_index
from bot.knowledge.articles import load_articles
from bot.knowledge.passages import Passage
from bot.language.cache import cache_path
from bot.language.dictionary import Dictionary, DictionaryError, load_dictionary
from bot.language.stopwords import GERMAN_STOPWORDS
from bot.language.thesaurus import CACHE_NAME as THESAURUS_CACHE
from bot.language.thesaurus import default_thesaurus
from bot.search.engine import Engine

log = logging.getLogger(__name__)
WARM_UP = ("Was gibt es Neues zu {}?", "What is new about {}?")  # asked at start-up, never shown


def load_english(
    settings: Settings, announce: Callable[[str], None] | None = None
) -> Dictionary | None:
    """The English–German dictionary, or None with one clear log line saying what to install.
    `announce` is told (at once) when the dictionary has to be parsed, and how far it got."""
    started = time.perf_counter()
    try:
        dictionary = load_dictionary(settings.dictionary, settings.cache_dir, announce)
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


class Vectors(StrEnum):
    """When a knowledge base's missing vectors are made."""

    NOW = "now"  # before answering, with a progress bar (index, eval)
    BACKGROUND = "background"  # by the caller's `embed.Filler` while answering (run, chat)
    SAVED = "saved"  # not at all: what is saved serves (ask)


def load_engine(
    settings: Settings, with_dictionary: bool = True, skipped: list[str] | None = None,
    announce: Callable[[str], None] | None = None, vectors: Vectors = Vectors.BACKGROUND,
    archives: Sequence[Path] = (), dictionary: Dictionary | None = None,
) -> Engine:
    """The one place an engine is assembled: the knowledge folder (from its saved index when
    that is current), the semantic stage, the thesaurus and the dictionary, constructed whole.
    `skipped`: gets the names of article files that could not be read. `announce`: where slow
    first-start work is said as it starts (the console: stderr). `vectors`: when the missing
    vectors are made (a small knowledge base is embedded at once in any case). `archives`:
    more folders indexed beside (eval). `dictionary`: one already loaded (a reload keeps it).
    No thread is started here; the caller stops any `Filler` still writing vectors for the
    same folder first."""
    vectors = Vectors(vectors)  # the mode, also when given by its name
    if archives:  # in memory: the saved index is the knowledge folder's alone
        target = settings.saved_index_dir
        lexical = build_engine([a for folder in (settings.knowledge_dir, *archives)
                                for a in load_articles(folder, target, skipped)])
    else:
        lexical = open_index(settings, skipped=skipped)
        if not isinstance(lexical.index.passages, PassageStore):  # built now: say why
            report_stale_index(settings)
    stage = _semantic(lexical.index.passages, settings, vectors, announce)
    if announce and settings.thesaurus.is_file() and not cache_path(
            [settings.thesaurus], settings.cache_dir, THESAURUS_CACHE).is_file():
        announce("preparing the German thesaurus (first start only) …")
    thesaurus = default_thesaurus(str(settings.thesaurus), str(settings.cache_dir))
    if dictionary is None and with_dictionary:
        dictionary = load_english(settings, announce)
    engine = Engine(lexical.articles, lexical.index, lexical.analyzer, dictionary,
                    thesaurus=thesaurus, semantic=stage.semantic if stage else None,
                    ranker=stage.ranker if stage else None)
    warm_up(engine)
    return engine


def _semantic(passages: Sequence[Passage], settings: Settings, vectors: Vectors,
              announce: Callable[[str], None] | None = None) -> embed.Stage | None:
    """The semantic stage, its vectors filled now, later or not at all."""
    threads = (os.cpu_count() or 1) if vectors is Vectors.NOW else 1
    stage = embed.semantic_stage(passages, settings, threads)
    if stage is None:
        return None
    missing = stage.semantic.todo()
    if missing and (vectors is Vectors.NOW or missing <= embed.SMALL):
        log.info("embedding %d new texts before answering", missing)
        if announce and vectors is not Vectors.NOW:  # NOW shows a progress bar
            announce(f"embedding {missing} new texts of the knowledge base (a few seconds) …")
        try:
            embed.embed_all(stage.semantic, stage.store, progress=vectors is Vectors.NOW,
                            workers=threads)
        except OSError as exc:  # the passages without vectors are found by BM25 alone
            log.warning("cannot save vectors in %s (%s): set NEWSBOT_INDEX_DIR to a folder "
                        "this user can write", embed.vectors_dir(settings), exc.strerror or exc)
    elif missing and vectors is Vectors.SAVED:  # BACKGROUND: the caller's Filler embeds them
        log.warning("%d texts have no vectors yet, so some passages are found by BM25 alone: "
                    "run `newsbot index` to embed them", missing)
    return stage


def report_stale_index(settings: Settings) -> None:
    """The index was built at start-up although one is saved: say why (files changed since
    `newsbot index`) and what to do, in one line."""
    try:
        manifest = json.loads((settings.saved_index_dir / "manifest.json").read_text("utf-8"))
        saved = manifest["files"]
        current = fingerprint(settings.knowledge_dir, settings.saved_index_dir)
    except (OSError, ValueError, KeyError, TypeError, NewsbotError):
        return  # no saved index (or an unreadable one: open_index says so)
    if not isinstance(saved, dict):
        return
    changed = sum(saved.get(name) != stat for name, stat in current.items())
    changed += sum(name not in current for name in saved)
    if changed:
        log.warning(
            "the saved index in %s is out of date (%d of the article files changed, added or "
            "removed): built the index in memory instead; run `newsbot index` to save it",
            settings.saved_index_dir, changed,
        )


def warm_up(engine: Engine) -> None:
    """Ask one German and one English question, so the lazily built tables (the compound
    splitter's stem frequencies) are ready before the first real question arrives."""
    started = time.perf_counter()
    topic = example_topic(engine)
    for question in WARM_UP:
        engine.ask(question.format(topic))
    log.debug("warmed up in %.2f s", time.perf_counter() - started)


def example_topic(engine: Engine) -> str:
    """What to ask about for a question the bot can answer: the newest article's title word
    it uses most (the question itself is `bot.replies.texts.example_question`)."""
    newest = max(engine.articles, key=lambda a: a.date or "")
    body = " ".join(newest.paragraphs)
    candidates = [
        word for word in re.findall(r"\b[A-ZÄÖÜ][\w-]{2,}", newest.title)
        if word.casefold() not in GERMAN_STOPWORDS
    ]
    fallback = (newest.title.split() or [newest.name.rsplit(".", 1)[0]])[0]
    return max(candidates, key=body.count, default=fallback)
