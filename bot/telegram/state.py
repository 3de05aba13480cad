"""What the Telegram handlers share, typed: `context.bot_data` is a `BotState`.

As python-telegram-bot's `contexttypesbot.py` example does, the Application is built with
`ContextTypes(bot_data=BotState)`, so a handler reads `context.bot_data.engine` and a type
checker follows it. PTB creates the object empty; `build_application` fills it before the
Application starts, and nothing else adds to it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, Job, JobQueue

from bot.config import Settings
from bot.feedback.store import QuestionLog
from bot.indexing.embed import Filler
from bot.search.engine import Engine
from bot.telegram.flood import FloodGate


@dataclass
class BotState:
    """The bot's shared state, built once (never per message)."""

    engine: Engine = field(init=False)  # swapped whole by a reload: handlers see old or new
    settings: Settings = field(init=False)
    flood: FloodGate = field(init=False)  # per-user rate of questions
    workers: ThreadPoolExecutor = field(init=False)  # engine work, off the event loop
    reloading: asyncio.Lock = field(default_factory=asyncio.Lock)  # one reload at a time
    embedding: Filler | None = None  # the background embedder of `engine`'s missing vectors
    feeds: Job[Any] | None = None  # the repeating feed round, when feeds are configured
    questions: QuestionLog | None = None  # the question log (None: no state folder)
    feed_round: asyncio.Task[Any] | None = None  # the task running a round, while one runs

    def cut_feed_round(self) -> None:
        """Cancel the feed round in progress, if any: its requests end at once, what it saved
        stays (`bot.knowledge.feeds.run_round`)."""
        if self.feed_round is not None:
            self.feed_round.cancel()


Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotState]
App = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotState,
                  JobQueue[Context]]
# what `context.application` is typed as (PTB leaves the context and job queue types open)
AnyApp = Application[Any, Any, Any, Any, BotState, Any]
CONTEXT_TYPES = ContextTypes(bot_data=BotState)

__all__ = ["CONTEXT_TYPES", "AnyApp", "App", "BotState", "Context"]
