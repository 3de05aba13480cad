"""Keeping the knowledge current: a round over the feeds, then the saved index brought up to
date, so the next start (or reload) loads it in seconds instead of analysing the folder.

One service for both callers: `newsbot fetch` runs `update` once; the Telegram app runs
`fetch` on its JobQueue every NEWSBOT_FEED_INTERVAL seconds and, when something new arrived,
`save_index` in its reload (after stopping the background embedder, which writes into the
same folder). Fetching itself is `bot.knowledge.feeds`.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from bot.config import Settings
from bot.errors import NewsbotError
from bot.indexing.storage import build_and_save, is_current
from bot.knowledge.feeds import Round, fetch_round

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


def save_index(settings: Settings) -> Saved:
    """Build and save the index when the folder's files changed since it was saved. A failure
    (an unwritable folder, no readable article) is one warning: the caller builds the index in
    memory as before. Nothing may be writing vectors into the index folder meanwhile."""
    if is_current(settings.knowledge_dir, settings.saved_index_dir):
        return Saved.CURRENT
    try:
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


__all__ = ["Saved", "Update", "fetch", "save_index", "update"]
