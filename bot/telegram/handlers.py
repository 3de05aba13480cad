"""Telegram handlers: each extracts the question, asks the engine, sends the reply.

Shared state is the typed `context.bot_data` (`bot.telegram.state.BotState`): `engine`
(swapped whole by a reload), `settings`, `flood` (the per-user FloodGate), `workers`,
`questions` (the question log, or None; see `votes`).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot import replies
from bot.feedback.asked import Asked
from bot.language.english import detect_language
from bot.search.engine import Engine
from bot.telegram import votes
from bot.telegram.state import Context
from bot.text import clean_question

log = logging.getLogger(__name__)
T = TypeVar("T")
MORE = "more"  # callback data: "more:<rank>:<question start>", at most 64 bytes
MAX_RANK = 100  # "more" pages no deeper than this (callback data can be forged)
ASK_RE = re.compile(r"^/ask(?:@\w+)?(?:\s+|$)", re.IGNORECASE)


def _language(update: Update) -> str:
    user = update.effective_user
    return replies.language_of(user.language_code if user else None)


def strip_mention(text: str, username: str | None) -> str:
    """The text without "@username" (any case, whole word); unchanged if it isn't there."""
    if not username:
        return text
    pattern = rf"(?<![\w@])@{re.escape(username)}(?!\w)"
    return re.sub(pattern, " ", text, flags=re.IGNORECASE)


def question_of(text: str, username: str | None) -> str:
    """The question in a message: without a leading /ask command and the bot's @username."""
    return " ".join(strip_mention(ASK_RE.sub("", text, count=1), username).split())


def _more_button(language: str, rank: int, question: str) -> InlineKeyboardMarkup:
    data = f"{MORE}:{rank}:"
    room = 64 - len(data.encode())
    data += question.encode()[:room].decode("utf-8", "ignore")
    label = replies.text("more", language)
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"{label} ➜", callback_data=data)]])


def compose(
    engine: Engine, question: str, rank: int = 0, limit: int = replies.TELEGRAM_LIMIT,
) -> tuple[str, InlineKeyboardMarkup | None, Asked | None]:
    """The reply to a question: (HTML text, keyboard or None, what the question log keeps or
    None). Rank 0 is the best passage."""
    answers = engine.ask(question, k=rank + 2)
    reply = replies.build(answers, replies.matcher(engine.analyzer.analyze, answers.terms),
                          first=rank, count=1)
    if not reply.answers:
        if rank:
            return html.escape(replies.text("no_more", reply.language)), None, None
        example = replies.example_question(engine, reply.language)
        return replies.no_answer_html(engine.articles, reply.language, example), None, \
            Asked.of(reply)
    text = replies.answer_html(reply, reply.answers[0], limit)
    more = _more_button(reply.language, rank + 1, question) if reply.more else None
    return text, votes.keyboard(more), Asked.of(reply)


async def in_worker(context: Context, work: Callable[..., T], *args: Any) -> T:
    """Run engine work in the worker threads (`bot_data.workers`), not on the event loop."""
    return await asyncio.get_running_loop().run_in_executor(
        context.bot_data.workers, work, *args)


async def reply_to_question(update: Update, context: Context, question: str) -> None:
    """Answer one question in the chat it came from (flood-controlled, cut when too long).
    Logs one INFO line per question: chat type, language, answered or not, latency — never
    the question or who asked."""
    started = time.perf_counter()
    settings = context.bot_data.settings
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:  # the handlers' filters let only messages through
        return
    language = detect_language(question)
    if not question.strip() or not any(ch.isalnum() for ch in question):
        example = replies.example_question(context.bot_data.engine, language)
        await message.reply_text(replies.text("empty", language, example=example))
        return
    note = ""
    question, cut = clean_question(question, settings.max_question_chars)
    if cut:
        note = "\n\n" + html.escape(
            replies.text("cut", language, limit=settings.max_question_chars)
        )
    wait, notice = context.bot_data.flood.admit(user.id)
    if notice:
        await message.reply_text(replies.text("slow_down", language))
    if wait:
        await asyncio.sleep(wait)
    text, markup, asked = await in_worker(
        context, compose, context.bot_data.engine, question, 0, replies.TELEGRAM_LIMIT - len(note))
    sent = await message.reply_text(
        text + note, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=True,
        disable_web_page_preview=True,
    )
    votes.log_answer(context, update, sent, asked)
    answered = asked is not None and asked.outcome is not replies.Outcome.NONE
    log.info("question in a %s chat (%s): %s in %.0f ms", message.chat.type, language,
             "answered" if answered else "no answer", (time.perf_counter() - started) * 1000)


async def start(update: Update, context: Context) -> None:
    """Greet, say what the bot knows, and give two example questions."""
    language, engine = _language(update), context.bot_data.engine
    if update.effective_message:
        await update.effective_message.reply_html(replies.welcome_html(
            engine.articles, language,
            [replies.example_question(engine, "de"), replies.example_question(engine, "en")],
        ))


async def help_command(update: Update, context: Context) -> None:
    """Explain how to ask, in private chats, groups and inline."""
    if update.effective_message:
        await update.effective_message.reply_html(
            replies.help_html(_language(update), context.bot.username or "newsbot")
        )


async def sources(update: Update, context: Context) -> None:
    """List the articles the bot knows."""
    if update.effective_message:
        await update.effective_message.reply_html(
            replies.sources_html(context.bot_data.engine.articles, _language(update))
        )


async def ask_command(update: Update, context: Context) -> None:
    """Answer `/ask <question>` (the way to ask in groups)."""
    question = " ".join(context.args or [])
    if not question and update.effective_message:
        await update.effective_message.reply_text(replies.text("ask_usage", _language(update)))
        return
    await reply_to_question(update, context, question)


async def question(update: Update, context: Context) -> None:
    """Answer a text message: any in private chats; mentions and replies to the bot in groups."""
    message, bot = update.effective_message, context.bot
    if message is None:
        return
    text = message.text or ""
    if message.chat.type != ChatType.PRIVATE:
        replied = message.reply_to_message and message.reply_to_message.from_user
        addressed = strip_mention(text, bot.username) != text
        if not addressed and not (replied and replied.id == bot.id):
            return
    await reply_to_question(update, context, question_of(text, bot.username))


async def more(update: Update, context: Context) -> None:
    """Send the next-best passage for the same question as a new message, with the button;
    the tapped answer stays as it was, without its "more" button (works after a restart)."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    _, rank_text, short = ((query.data or "").split(":", 2) + ["", ""])[:3]
    rank = min(int(rank_text), MAX_RANK) if rank_text.isdecimal() and len(rank_text) < 6 else 1
    message = query.message
    if message is None:  # inline messages carry no button
        return
    # the votes stay (Telegram sends no buttons of a message the bot can no longer read)
    buttons = message.reply_markup if isinstance(message, Message) else None
    try:  # the button moves on to the next passage; a double tap finds it gone: done
        await context.bot.edit_message_reply_markup(
            chat_id=message.chat.id, message_id=message.message_id,
            reply_markup=votes.without(buttons, f"{MORE}:"),
        )
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return
        log.info("could not remove the tapped button (%s); sending the next answer", exc)
    # The question asked (full, when Telegram still shows it), else its start in the data.
    original = getattr(message, "reply_to_message", None)
    asked = question_of(original.text or "", context.bot.username) if original else ""
    limit = context.bot_data.settings.max_question_chars
    question_text, _ = clean_question(asked or short, limit)
    text, markup, shown = await in_worker(context, compose, context.bot_data.engine,
                                          question_text, rank)
    sent = await context.bot.send_message(  # quoting the question: the next tap reads it whole
        message.chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup,
        disable_web_page_preview=True,
        message_thread_id=getattr(message, "message_thread_id", None),
        reply_parameters=ReplyParameters(original.message_id, allow_sending_without_reply=True)
        if original else None,
    )
    votes.log_answer(context, update, sent, shown)


async def inline_query(update: Update, context: Context) -> None:
    """Offer the best passages as inline results; a hint for an empty query."""
    query = update.inline_query
    if query is None:
        return
    text, _ = clean_question(query.query.strip(), context.bot_data.settings.max_question_chars)
    results, reply = await in_worker(context, replies.inline_answers, context.bot_data.engine,
                                     text, _language(update))
    await query.answer(
        [
            InlineQueryResultArticle(
                id=r["id"], title=r["title"], description=r["description"],
                input_message_content=InputTextMessageContent(r["html"], parse_mode=ParseMode.HTML),
            )
            for r in results
        ],
        cache_time=60, is_personal=True,  # the hint and labels follow the user's language
    )
    votes.log_inline(context, update, reply)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice: say that the bot answers text questions."""
    if update.effective_message:
        await update.effective_message.reply_text(replies.text("text_only", _language(update)))


async def unknown_command(update: Update, context: Context) -> None:
    """A /command the bot does not know (in a private chat): one line pointing to /help."""
    known = any(  # asked as PTB matches commands: the same answer as its CommandHandlers
        handler.check_update(update) for handler in context.application.handlers.get(0, [])
        if isinstance(handler, CommandHandler)
    )
    if not known and update.effective_message:
        await update.effective_message.reply_text(
            replies.text("unknown_command", _language(update))
        )


async def stale_button(update: Update, context: Context) -> None:
    """A button this version does not know (from an older one): answer it so it stops spinning."""
    if update.callback_query:
        await update.callback_query.answer()
