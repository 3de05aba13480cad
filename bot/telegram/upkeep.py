"""The running bot's knowledge: reloads, the feed round on the JobQueue, and the background
embedder — the threads and jobs the Application owns.

`post_init` starts the embedder and schedules the feed round; `post_shutdown` stops both.
A reload (SIGHUP, /reload, a feed round that brought something new) stops the embedder (after
its batch), loads the new engine in a thread, swaps it in whole and starts an embedder for it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from bot.errors import NewsbotError
from bot.indexing import embed, updates
from bot.indexing.loading import load_engine
from bot.language.dictionary import Dictionary
from bot.search.engine import Engine
from bot.telegram.state import AnyApp, App, BotState, Context

log = logging.getLogger(__name__)
SKIPPED_NAMED = 3  # files a reload reply names; the rest are counted


def start_embedding(state: BotState) -> None:
    """Embed the engine's missing vectors in a background thread (when any are missing)."""
    state.embedding = embed.filler(state.engine)
    if state.embedding is not None:
        state.embedding.start()


async def stop_embedding(state: BotState) -> None:
    """Stop the background embedder after the batch it is on (waited for in a thread)."""
    thread, state.embedding = state.embedding, None
    if thread is not None:
        await asyncio.to_thread(thread.stop)


def schedule_feeds(application: App) -> None:
    """Run the feed round at start and every NEWSBOT_FEED_INTERVAL seconds (when feeds are
    configured); a round still running when the next is due makes that one skip.
    Called from post_init, before the JobQueue starts (which may be minutes later, while
    Telegram is unreachable): APScheduler would move a first run that is past by then to the
    next interval, so the first run is pinned to now and runs however late it starts."""
    state = application.bot_data
    if state.settings.feeds and application.job_queue is not None:
        state.feeds = application.job_queue.run_repeating(
            feed_round, interval=state.settings.feed_interval, name="feeds",
            job_kwargs={"next_run_time": datetime.now(UTC), "misfire_grace_time": None})


async def feed_round(context: Context) -> None:
    """Fetch the feeds in a thread (answers never wait); when something new arrived, save the
    index and reload. One log line per round. The bot stopping cancels a round in progress
    (`BotState.cut_feed_round`): PTB's stop waits for running jobs, a round for its deadline."""
    state = context.bot_data
    settings = state.settings
    state.feed_round = asyncio.current_task()
    try:
        result = await updates.follow(settings)
    except asyncio.CancelledError:  # only the bot stopping cancels it: end the job quietly
        log.info("feeds: round cut short, newsbot is stopping; the rest waits for the next start")
        return
    except Exception:  # noqa: BLE001 — a failed round changes nothing
        log.exception("feed round failed; trying again in %.0f s", settings.feed_interval)
        return
    finally:
        state.feed_round = None
    for warning in result.warnings:
        log.warning("feeds: %s", warning)
    log.info("feeds: %s", result.summary())
    if result.changed and context.application.running:  # stopping: the next start reads them
        await reload_knowledge(context.application, save=True)


async def reload_knowledge(application: AnyApp, save: bool = False) -> str:
    """Re-read the knowledge folder (first saving its index, with `save`) and swap the new
    engine in; keep the old one on failure. Returns the reply for /reload."""
    state = application.bot_data
    async with state.reloading:  # one at a time
        await stop_embedding(state)  # it writes into the index folder the reload reads
        old = state.engine
        skipped: list[str] = []
        try:
            engine = await asyncio.to_thread(_load, state, save, skipped, old.dictionary)
        except NewsbotError as exc:
            log.error("reload failed, still serving the old index: %s", exc)
            start_embedding(state)
            return f"Reload failed, still serving the old index: {exc}"
        except Exception:  # a bug: logged with its traceback; the old index keeps serving
            log.exception("reload failed, still serving the old index")
            start_embedding(state)
            return "Reload failed, still serving the old index (see the log)."
        state.engine = engine  # one assignment: handlers see old or new
        start_embedding(state)
    log.info("reloaded: %d articles, %d passages", len(engine.articles), len(engine.index))
    reply = f"Reloaded: {len(engine.articles)} articles, {len(engine.index)} passages."
    if skipped:
        more = len(skipped) - SKIPPED_NAMED
        reply += (f" Skipped {len(skipped)} file{'s' if len(skipped) > 1 else ''}: "
                  + "; ".join(skipped[:SKIPPED_NAMED]) + (f"; and {more} more" if more > 0 else ""))
    return reply


def _load(state: BotState, save: bool, skipped: list[str],
          dictionary: Dictionary | None) -> Engine:
    if save:
        updates.save_index(state.settings)
    return load_engine(state.settings, with_dictionary=dictionary is not None, skipped=skipped,
                       dictionary=dictionary)  # never a dictionary the first start lacked


__all__ = ["feed_round", "reload_knowledge", "schedule_feeds", "start_embedding",
           "stop_embedding"]
