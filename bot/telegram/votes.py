"""Feedback in Telegram: 👍/👎 beside "more", the question log fed from the handlers,
`/privacy` for everyone and `/stats` for the operator.

The vote buttons carry only "vote:+" or "vote:-": the answer is known by its chat and message
(hashed in the log), so a vote works on any answer, also after a restart, and a second press
replaces the first. The log itself is `context.bot_data.questions` (a QuestionLog, or None);
this module reads `bot_data` only through `_questions` and `_settings`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from bot import replies
from bot.config import Settings
from bot.feedback.asked import Asked
from bot.feedback.report import stats_text
from bot.feedback.store import QuestionLog
from bot.telegram.state import Context

log = logging.getLogger(__name__)
VOTE = "vote"  # callback data: "vote:+" or "vote:-"


def _language(update: Update) -> str:
    user = update.effective_user
    return replies.language_of(user.language_code if user else None)


def keyboard(more: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup:
    """The buttons under an answer: "more" (when there is more), 👍 and 👎, in one row."""
    row = list(more.inline_keyboard[0]) if more else []
    row += [InlineKeyboardButton("👍", callback_data=f"{VOTE}:+"),
            InlineKeyboardButton("👎", callback_data=f"{VOTE}:-")]
    return InlineKeyboardMarkup([row])


def without(markup: InlineKeyboardMarkup | None, prefix: str) -> InlineKeyboardMarkup | None:
    """The keyboard without the buttons whose callback data starts with `prefix`."""
    rows = [[b for b in row if not str(b.callback_data or "").startswith(prefix)]
            for row in (markup.inline_keyboard if markup else ())]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def _questions(context: Context) -> QuestionLog | None:
    return context.bot_data.questions


def _settings(context: Context) -> Settings:
    return context.bot_data.settings


def log_answer(context: Context, update: Update, sent: Message,
               asked: Asked | None) -> None:
    """Hand an answer the bot just sent to the question log (returns at once)."""
    questions, user = _questions(context), update.effective_user
    if questions is not None and asked is not None:
        questions.answered(asked, sent.chat.type, sent.chat.id, sent.message_id,
                           user.id if user else None)


def log_inline(context: Context, update: Update, reply: replies.Reply | None) -> None:
    """Log an inline question (the reader's last while typing counts) by the reply it offered
    (its best answer; None: a hint for an empty query, not logged)."""
    questions, inline = _questions(context), update.inline_query
    if questions is not None and inline is not None and reply is not None:
        questions.answered(Asked.of(reply), "inline", None, None, inline.from_user.id)


async def vote(update: Update, context: Context) -> None:
    """Record a 👍/👎 on the answer it sits under; say thanks in a toast. The answer stays."""
    query = update.callback_query
    if query is None:
        return
    value = 1 if (query.data or "").endswith("+") else -1
    questions, message = _questions(context), query.message
    if questions is not None and message is not None:
        questions.vote(message.chat.id, message.message_id, query.from_user.id, value)
    await query.answer(replies.thanks(_language(update), value))


async def privacy(update: Update, context: Context) -> None:
    """Say what is stored about questions and votes, and for how long."""
    if update.effective_message:
        await update.effective_message.reply_text(
            replies.privacy_text(_language(update), _settings(context)))


async def stats(update: Update, context: Context) -> None:
    """/stats for the operator (NEWSBOT_ADMIN_IDS, private chat); others: the unknown hint."""
    user, message, settings = update.effective_user, update.effective_message, _settings(context)
    if message is None or message.chat.type != ChatType.PRIVATE:
        return
    if not user or user.id not in settings.admin_ids:
        await message.reply_text(replies.text("unknown_command", _language(update)))
        return
    if settings.state_dir is None:
        await message.reply_text("The question log is off (no NEWSBOT_STATE_DIR).")
        return
    try:
        text = await asyncio.to_thread(stats_text, settings.state_dir.expanduser())
    except sqlite3.Error as exc:
        text = f"Cannot read the question log: {exc}"
    await message.reply_text(text)
