"""Keeping the knowledge current: a round over the feeds, then the saved index brought up to
date, so the next start (or reload) loads it in seconds instead of analysing the folder.

One service for both callers: `newsbot fetch` runs `update` once; the Telegram app awaits
`follow` on its JobQueue every NEWSBOT_FEED_INTERVAL seconds (cancelled when the bot stops: the
round's requests end at once) and, when something new arrived, `save_index` in its reload
(after stopping the background embedder, which writes into the same folder). Fetching itself
is `bot.knowledge.feeds`.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from bot.config import Settings
from bot.errors import NewsbotError
from bot.indexing.lock import writer_lock
from bot.indexing.storage import build_and_save, is_current, remove_leftovers
from bot.knowledge.feeds import Round, fetch_round, run_round

log = logging.getLogger(__name__)


class Saved(enum.Enum):
    """What `save_index` did."""

    CURRENT = "the saved index was already up to date"
    SAVED = "saved the index"
    FAILED = "could not save the index"


@dataclass(frozen=True)
class Update:
    """One `newsbot fetch`: what the feed round did, and what became of the saved index."""

    round: Round
    index: Saved


def fetch(settings: Settings) -> Round:
    """One round over the configured feeds: new and changed articles into the folder."""
    return fetch_round(settings.knowledge_dir, settings.feeds)


async def follow(settings: Settings) -> Round:
    """`fetch` for the running bot, in a thread (`feeds.run_round`): cancelling the task that
    awaits it cuts the round short at once (what is saved stays saved)."""
    return await run_round(settings.knowledge_dir, settings.feeds)


def save_index(settings: Settings) -> Saved:
    """Build and save the index when the folder's files changed since it was saved, holding
    the index's writer lock (`bot.indexing.lock`: one `newsbot index`, `fetch` or feed round
    writes at a time). A failure (an unwritable folder, no readable article) is one warning:
    the caller builds the index in memory as before. Nothing may be writing vectors into the
    index folder meanwhile."""
    target = settings.saved_index_dir
    if is_current(settings.knowledge_dir, target):
        return Saved.CURRENT
    try:
        with writer_lock(target, lambda message: log.info("%s", message)):
            remove_leftovers(target)  # of killed runs: every writer holds the lock
            if is_current(settings.knowledge_dir, target):  # the writer we waited for did it
                return Saved.CURRENT
            build_and_save(settings)
    except OSError as exc:
        log.warning("cannot save the index in %s (%s): set NEWSBOT_INDEX_DIR to a folder this "
                    "user can write", settings.saved_index_dir, exc.strerror or exc)
        return Saved.FAILED
    except NewsbotError as exc:
        log.warning("the index was not saved: %s", exc)
        return Saved.FAILED
    return Saved.SAVED


def update(settings: Settings) -> Update:
    """`newsbot fetch`: one feed round, then the saved index brought up to date."""
    result = fetch(settings)
    return Update(result, save_index(settings))


__all__ = ["Saved", "Update", "fetch", "follow", "save_index", "update"]
