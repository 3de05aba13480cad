"""The Telegram side: build the PTB Application, register handlers, run polling or a webhook.

Start-up work (set_my_commands, SIGHUP) happens in `post_init`; the engine is built once and
shared through `bot_data`. The token never reaches a log line (see `bot.logs`).
What happens when Telegram is unreachable is in `bot.telegram.delivery`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from telegram import BotCommand, Update
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import replies
from bot.config import Settings
from bot.errors import ConfigError, NewsbotError
from bot.indexing.loading import load_engine
from bot.knowledge.feeds import run_round
from bot.logs import add_secret
from bot.telegram import handlers
from bot.telegram.delivery import (
    NewsbotApplication,
    PatientRateLimiter,
    QuietInvalidJson,
    QuietInvalidToken,
    log_refused_webhook_requests,
)
from bot.telegram.flood import FloodGate

log = logging.getLogger(__name__)
ENGINE_WORKERS = 2  # questions answered at once (one per core); more wait their turn
HTTP_TIMEOUT = 5.0  # seconds to connect, send, and wait for Telegram's answer (PTB's default)
SKIPPED_NAMED = 3  # files a reload reply names; the rest are counted

COMMANDS = {
    "de": [("ask", "Eine Frage stellen (in Gruppen)"), ("sources", "Die Artikel, die ich kenne"),
           ("help", "So fragen Sie"), ("start", "Begrüßung und Beispiele")],
    "en": [("ask", "Ask a question (in groups)"), ("sources", "The articles I know"),
           ("help", "How to ask"), ("start", "Welcome and examples")],
}


async def post_init(application: Application) -> None:
    """Register the command menu (German default, English for English clients); hook SIGHUP."""
    bot = application.bot
    try:
        await bot.set_my_commands([BotCommand(*c) for c in COMMANDS["de"]])
        await bot.set_my_commands([BotCommand(*c) for c in COMMANDS["en"]], language_code="en")
    except TelegramError as error:  # the menu is a nicety: serve without it
        log.warning("could not set the command menu: %s", error)
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(
            signal.SIGHUP, lambda: application.create_task(reload_knowledge(application))
        )
    except (NotImplementedError, AttributeError, RuntimeError):  # not on this platform
        pass
    if application.bot_data["settings"].feeds:
        application.bot_data["feeds"] = asyncio.create_task(follow_feeds(application))
    log.info("bot @%s is up", bot.username)


async def post_shutdown(application: Application) -> None:
    """Stop following the feeds (a round in progress is cut short: its requests end now)."""
    task = application.bot_data.pop("feeds", None)
    if task is not None:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 — shutting down anyway
            pass
    application.bot_data["workers"].shutdown(wait=False, cancel_futures=True)


async def follow_feeds(application: Application) -> None:
    """Fetch the feeds at start and every NEWSBOT_FEED_INTERVAL seconds, in a thread (answers
    never wait), and reload the index when something new arrived. One log line per round."""
    settings: Settings = application.bot_data["settings"]
    while True:
        started = time.monotonic()
        try:
            result = await run_round(settings.knowledge_dir, settings.feeds)  # cancellable
        except Exception:  # noqa: BLE001 — a failed round changes nothing
            log.exception("feed round failed; trying again in %.0f s", settings.feed_interval)
        else:
            for warning in result.warnings:
                log.warning("feeds: %s", warning)
            log.info("feeds: %s", result.summary())
            if result.changed:
                await reload_knowledge(application)
        elapsed = time.monotonic() - started
        await asyncio.sleep(max(1.0, settings.feed_interval - elapsed))


async def reload_knowledge(application: Application) -> str:
    """Re-read the knowledge folder and swap the new engine in; keep the old one on failure."""
    async with application.bot_data.setdefault("reloading", asyncio.Lock()):  # one at a time
        settings: Settings = application.bot_data["settings"]
        old = application.bot_data["engine"]
        skipped: list[str] = []
        try:
            engine = await asyncio.to_thread(load_engine, settings, False, skipped)
        except NewsbotError as exc:
            log.error("reload failed, still serving the old index: %s", exc)
            return f"Reload failed, still serving the old index: {exc}"
        except Exception:  # a bug: logged with its traceback; the old index keeps serving
            log.exception("reload failed, still serving the old index")
            return "Reload failed, still serving the old index (see the log)."
        engine.dictionary = old.dictionary
        application.bot_data["engine"] = engine  # one assignment: handlers see old or new
    log.info("reloaded: %d articles, %d passages", len(engine.articles), len(engine.index))
    reply = f"Reloaded: {len(engine.articles)} articles, {len(engine.index)} passages."
    if skipped:
        more = len(skipped) - SKIPPED_NAMED
        reply += (f" Skipped {len(skipped)} file{'s' if len(skipped) > 1 else ''}: "
                  + "; ".join(skipped[:SKIPPED_NAMED]) + (f"; and {more} more" if more > 0 else ""))
    return reply


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload for admins only; everyone else gets no hint that it exists."""
    user = update.effective_user
    if not user or user.id not in context.bot_data["settings"].admin_ids:
        return
    await update.effective_message.reply_text(await reload_knowledge(context.application))


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A bug, or Telegram refusing our reply: the traceback in the log and a short apology to
    the user. Network trouble that outlasted the retries: one warning line."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("not allowed to answer (the user blocked the bot?): %s", error)
        return
    if isinstance(error, RetryAfter | NetworkError) and not isinstance(error, BadRequest):
        if update is None:  # getUpdates failed; PTB's polling loop tries again by itself
            log.warning("polling Telegram failed, trying again: %s", error)
        else:  # PatientRateLimiter gave up, or a read timeout (the reply may have arrived)
            log.warning("a request to Telegram failed, carrying on: %s", error)
        return
    log.error("handler failed on an update", exc_info=error)
    if isinstance(update, Update) and update.effective_message:
        language = handlers.detect_language(update.effective_message.text or "")
        try:
            await update.effective_message.reply_text(replies.text("error", language))
        except Exception:  # noqa: BLE001 — the apology is best effort
            log.warning("could not send the apology either")


def freeze_heap() -> None:
    """Move everything loaded so far (the index, vocabulary, dictionary: millions of objects
    that live as long as the process) out of the garbage collector's sight, so its full
    collections don't pause answers for hundreds of milliseconds."""
    gc.collect()
    gc.freeze()


def build_application(
    settings: Settings, engine: object, http_timeout: float = HTTP_TIMEOUT
) -> Application:
    """The Application with all handlers, the rate limiter and shared state."""
    token = settings.require_token()
    application = (
        Application.builder()
        .application_class(NewsbotApplication)
        .token(token)
        .base_url(settings.base_url)
        .connect_timeout(http_timeout).read_timeout(http_timeout).write_timeout(http_timeout)
        .get_updates_connect_timeout(http_timeout).get_updates_read_timeout(http_timeout)
        .rate_limiter(PatientRateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.update(
        engine=engine, settings=settings,
        flood=FloodGate(settings.flood_limit, settings.flood_window),
        # engine work runs here, never on the event loop: a slow question delays no one else
        workers=ThreadPoolExecutor(ENGINE_WORKERS, thread_name_prefix="newsbot-engine"),
    )
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    # Commands, in every chat (new messages only: an edited one is not answered again).
    new = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", handlers.start, filters=new))
    application.add_handler(CommandHandler("help", handlers.help_command, filters=new))
    application.add_handler(CommandHandler("sources", handlers.sources, filters=new))
    application.add_handler(CommandHandler("ask", handlers.ask_command, filters=new))
    application.add_handler(CommandHandler("reload", reload_command, filters=new))
    # Any other /command in a private chat: a hint to /help (group 1: after the known ones).
    application.add_handler(MessageHandler(
        private & new & filters.COMMAND, handlers.unknown_command), group=1)
    # Questions: any new text in private chats; mentions and replies to the bot in groups.
    # (An edited message is not asked again: the first answer stands, none twice.)
    text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(private & text, handlers.question))
    application.add_handler(MessageHandler(
        groups & text & (filters.Entity("mention") | filters.REPLY), handlers.question
    ))
    # The "more" button (and any stale button: answered, so it stops spinning), inline mode,
    # and everything that is not text.
    application.add_handler(CallbackQueryHandler(handlers.more, pattern=f"^{handlers.MORE}:"))
    application.add_handler(CallbackQueryHandler(handlers.stale_button))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_handler(MessageHandler(
        private & filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND
        & ~filters.StatusUpdate.ALL, handlers.not_text
    ))
    application.add_error_handler(error_handler)
    return application


def run_bot(settings: Settings, webhook: bool = False) -> int:
    """`newsbot run`: load the knowledge, then serve Telegram until SIGINT/SIGTERM."""
    token = settings.require_token()
    add_secret(token)
    add_secret(token.partition(":")[2])  # the secret half alone, too
    add_secret(settings.webhook_secret)
    if webhook and not (settings.webhook_url and settings.webhook_secret):
        raise ConfigError(
            "webhook mode needs NEWSBOT_WEBHOOK_URL (the public https URL) and "
            "NEWSBOT_WEBHOOK_SECRET (a random string) in .env"
        )
    engine = load_engine(settings)
    freeze_heap()
    logging.getLogger("telegram.ext").addFilter(QuietInvalidToken())
    logging.getLogger("telegram.request.BaseRequest").addFilter(QuietInvalidJson())
    application = build_application(settings, engine)
    try:
        if webhook:
            url = f"{settings.webhook_url.rstrip('/')}/{settings.webhook_path}"
            log.info("webhook: listening on %s:%d/%s, registering %s with Telegram",
                     settings.webhook_listen, settings.webhook_port, settings.webhook_path, url)
            log_refused_webhook_requests()
            application.run_webhook(
                listen=settings.webhook_listen, port=settings.webhook_port,
                url_path=settings.webhook_path,
                webhook_url=url,
                secret_token=settings.webhook_secret, allowed_updates=Update.ALL_TYPES,
                bootstrap_retries=-1,
            )
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
    except InvalidToken:
        raise ConfigError(
            "Telegram rejected TELEGRAM_BOT_TOKEN (InvalidToken): copy the token again "
            "from @BotFather into .env"
        ) from None
    log.info("bye")
    return 0


__all__ = ["build_application", "run_bot"]
