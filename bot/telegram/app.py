"""The Telegram side: build the PTB Application, register handlers, run polling or a webhook.

Start-up work (set_my_commands, SIGHUP, the background embedder, the feed round) happens in
`post_init`, and `post_shutdown` stops what it started; the engine is built once and shared
through the typed `bot_data` (`bot.telegram.state`). Reloads and the feed round are in
`bot.telegram.upkeep`. The token never reaches a log line (see `bot.logs`).
What happens when Telegram is unreachable is in `bot.telegram.delivery`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
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
    InlineQueryHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from bot import replies
from bot.config import Settings
from bot.errors import ConfigError
from bot.feedback.store import QuestionLog
from bot.indexing.loading import load_engine
from bot.logs import add_secret
from bot.search.engine import Engine
from bot.telegram import handlers, votes
from bot.telegram.delivery import (
    NewsbotApplication,
    PatientRateLimiter,
    QuietInvalidJson,
    QuietInvalidToken,
    log_refused_webhook_requests,
)
from bot.telegram.flood import FloodGate
from bot.telegram.state import CONTEXT_TYPES, App, Context
from bot.telegram.upkeep import (
    reload_knowledge,
    schedule_feeds,
    start_embedding,
    stop_embedding,
)

log = logging.getLogger(__name__)
ENGINE_WORKERS = 2  # questions answered at once (one per core); more wait their turn
HTTP_TIMEOUT = 5.0  # seconds to connect, send, and wait for Telegram's answer (PTB's default)

COMMANDS = {
    "de": [("ask", "Eine Frage stellen (in Gruppen)"), ("sources", "Die Artikel, die ich kenne"),
           ("help", "So fragen Sie"), ("start", "Begrüßung und Beispiele"),
           ("privacy", "Was ich speichere")],
    "en": [("ask", "Ask a question (in groups)"), ("sources", "The articles I know"),
           ("help", "How to ask"), ("start", "Welcome and examples"),
           ("privacy", "What I store")],
}


async def post_init(application: App) -> None:
    """Register the command menu (German default, English for English clients); hook SIGHUP;
    start the background embedder and the feed round."""
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
    start_embedding(application.bot_data)
    schedule_feeds(application)
    log.info("bot @%s is up", bot.username)


async def post_shutdown(application: App) -> None:
    """Stop what post_init started: the embedder (after its batch) and the engine workers;
    then write what waits for the question log. The feed round's JobQueue has stopped with
    the Application already (after a round in progress, whose reload is skipped), taking its
    jobs along."""
    state = application.bot_data
    state.feeds = None
    await stop_embedding(state)
    state.workers.shutdown(wait=False, cancel_futures=True)
    if state.questions is not None:
        await asyncio.to_thread(state.questions.close)


async def reload_command(update: Update, context: Context) -> None:
    """/reload for admins only; everyone else gets no hint that it exists."""
    user, message = update.effective_user, update.effective_message
    if not user or not message or user.id not in context.bot_data.settings.admin_ids:
        return
    await message.reply_text(await reload_knowledge(context.application))


async def error_handler(update: object, context: Context) -> None:
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
    settings: Settings, engine: Engine, http_timeout: float = HTTP_TIMEOUT
) -> App:
    """The Application with all handlers, the rate limiter and shared state."""
    token = settings.require_token()
    application: App = (
        Application.builder()
        .application_class(NewsbotApplication)
        .context_types(CONTEXT_TYPES)
        .job_queue(JobQueue["Context"]())
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
    state = application.bot_data
    state.engine, state.settings = engine, settings
    state.flood = FloodGate(settings.flood_limit, settings.flood_window)
    # engine work runs here, never on the event loop: a slow question delays no one else
    state.workers = ThreadPoolExecutor(ENGINE_WORKERS, thread_name_prefix="newsbot-engine")
    state.questions = QuestionLog.from_settings(settings)  # None without a state folder
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    # Commands, in every chat (new messages only: an edited one is not answered again).
    new = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", handlers.start, filters=new))
    application.add_handler(CommandHandler("help", handlers.help_command, filters=new))
    application.add_handler(CommandHandler("sources", handlers.sources, filters=new))
    application.add_handler(CommandHandler("ask", handlers.ask_command, filters=new))
    application.add_handler(CommandHandler("reload", reload_command, filters=new))
    application.add_handler(CommandHandler("privacy", votes.privacy, filters=new))
    application.add_handler(CommandHandler("stats", votes.stats, filters=new))
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
    # The "more" and vote buttons (and any stale button: answered, so it stops spinning),
    # inline mode, and everything that is not text.
    application.add_handler(CallbackQueryHandler(handlers.more, pattern=f"^{handlers.MORE}:"))
    application.add_handler(CallbackQueryHandler(votes.vote, pattern=f"^{votes.VOTE}:[+-]$"))
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
            url = f"{(settings.webhook_url or '').rstrip('/')}/{settings.webhook_path}"
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
