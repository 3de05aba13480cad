"""Delivery to Telegram under faults: resend what surely did not arrive, say why start-up
waits, and keep a rejected token to one line.

When Telegram is unreachable: at start-up PTB retries getMe / deleteWebhook / setWebhook
forever (`bootstrap_retries=-1`, pauses growing 1 s → 30 s) and `NewsbotApplication` logs each
failed attempt; polling retries getUpdates itself (an update is confirmed only by the next
poll, so none is lost); and `PatientRateLimiter` resends a failed answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, Application

from bot.telegram.state import BotState

log = logging.getLogger(__name__)
SEND_ATTEMPTS = 5  # a request that failed on the network is sent at most this often ...
FIRST_PAUSE = 0.5  # ... after a pause of this many seconds, doubled each time (0.5 … 4 s)
BOOTSTRAP = frozenset({"getMe", "deleteWebhook", "setWebhook"})  # PTB retries these itself


def safe_to_resend(error: NetworkError) -> bool:
    """Whether Telegram surely did not act on a failed request, so sending it again cannot
    answer twice: refused or dropped connections and 5xx/502 answers, yes; a BadRequest would
    only fail again; a read timeout means Telegram got the request and may have delivered it."""
    if isinstance(error, BadRequest):
        return False
    if isinstance(error, TimedOut):  # only when the request never (fully) left
        return isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout
                          | httpx.WriteTimeout)
    return True


class PatientRateLimiter(AIORateLimiter):
    """AIORateLimiter (which waits out 429 Too Many Requests, up to `max_retries` times) that
    also resends a request after a network failure that `safe_to_resend` allows, up to
    SEND_ATTEMPTS times with a doubling pause: an answer survives a short Telegram outage and is
    never sent twice. (At most once beats twice after a read timeout.)"""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        request = (callback, args, kwargs, endpoint, data, rate_limit_args)
        pause = FIRST_PAUSE
        for attempt in range(2, SEND_ATTEMPTS + 1):
            try:
                return await super().process_request(*request)
            except NetworkError as error:
                if endpoint in BOOTSTRAP or not safe_to_resend(error):
                    raise
                log.warning("%s failed (%s); sending it again in %.1f s (attempt %d of %d)",
                            endpoint, error, pause, attempt, SEND_ATTEMPTS)
                await asyncio.sleep(pause)
                pause *= 2
        return await super().process_request(*request)  # the last try: its error stands


class NewsbotApplication(Application):
    """PTB's Application, saying why each start-up attempt to reach Telegram failed (PTB's
    retry loop only logs "Failed run number N" at DEBUG, without the reason)."""

    async def initialize(self) -> None:
        try:
            await super().initialize()
        except (NetworkError, RetryAfter) as error:
            reason = str(error).split(". Parsing the server response", 1)[0]  # no HTML body
            log.warning("cannot reach Telegram (%s); trying again", reason)
            raise

    async def stop(self) -> None:
        """Cut a feed round in progress short first: PTB's stop waits for running jobs, and a
        round against slow feeds would hold the shutdown up to its deadline (240 s)."""
        if isinstance(self.bot_data, BotState):
            self.bot_data.cut_feed_round()
        await super().stop()


class QuietInvalidToken(logging.Filter):
    """PTB logs a rejected token with two tracebacks; `run_bot` says it in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InvalidToken))


class QuietInvalidJson(logging.Filter):
    """A proxy's HTML error page (a 502 while Telegram is unreachable) makes PTB log the page
    and a JSONDecodeError traceback on every retry; NewsbotApplication says it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Can not load invalid JSON data")


class RefusedWebhookRequests(logging.Filter):
    """PTB logs a webhook request it refuses for a missing or wrong secret token (403) only
    at DEBUG, with the token it got; this makes it one INFO line, without token or body.
    Everything else PTB's Updater logs passes at the level the operator chose."""

    REFUSED = {"Request did not include the secret token": "no secret token",
               "Request had the wrong secret token: %s": "wrong secret token"}

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        reason = self.REFUSED.get(str(record.msg))
        if reason is None:
            return record.levelno >= self.level
        record.msg, record.args = "webhook request refused with 403: %s", (reason,)
        record.levelno, record.levelname = logging.INFO, "INFO"
        return self.level <= logging.INFO


def log_refused_webhook_requests() -> None:
    """Hook RefusedWebhookRequests into PTB's Updater logger (which must then let DEBUG
    records reach the filter; the filter applies the operator's level to the rest)."""
    updater = logging.getLogger("telegram.ext.Updater")
    level = updater.getEffectiveLevel()
    if not any(isinstance(f, RefusedWebhookRequests) for f in updater.filters):
        updater.addFilter(RefusedWebhookRequests(level))
    updater.setLevel(min(level, logging.DEBUG))
