"""Logging set-up that never lets the bot token (or webhook secret) reach a log line.

The token sits in every Bot API URL (`/bot<token>/sendMessage`), and httpx logs URLs at INFO;
so httpx/httpcore are quieted, and every formatted record, traceback included, is redacted.
"""

from __future__ import annotations

import logging
import re

# the colon also percent-encoded, in any case: python-telegram-bot lowercases some error texts
TOKEN_PATTERN = re.compile(r"(?:bot)?\d{5,}(?::|%3a)[A-Za-z0-9_-]{30,}", re.IGNORECASE)
_secrets: dict[str, re.Pattern[str]] = {}


def add_secret(value: str | None) -> None:
    """Redact this value from all log output from now on (in any case, and with its colon
    percent-encoded)."""
    if value and len(value) >= 8:
        _secrets[value] = re.compile(re.escape(value).replace(":", "(?::|%3a)"), re.IGNORECASE)


def redact(text: str) -> str:
    """Replace bot tokens and registered secrets with a placeholder."""
    for pattern in _secrets.values():
        text = pattern.sub("[REDACTED]", text)
    return TOKEN_PATTERN.sub("[REDACTED]", text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose output, tracebacks included, carries no secret."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class ConsoleFormatter(RedactingFormatter):
    """For the console commands: `newsbot: warning: …` like every other line they print."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord({**record.__dict__, "levelname": record.levelname.lower()})
        return super().format(record)


def setup_logging(level: str = "INFO", console: bool = False) -> None:
    """Log to stderr through the redacting formatter; quiet the HTTP libraries. `console`:
    lines like the console commands' own (`newsbot: warning: …`), without time and module."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    handler = logging.StreamHandler()
    handler.setFormatter(ConsoleFormatter("newsbot: %(levelname)s: %(message)s") if console
                         else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    logging.captureWarnings(True)  # Python warnings, too, go through the redacting formatter
    # httpx logs every request URL (with the token) at INFO; keep them out even at DEBUG.
    for name in ("httpx", "httpcore", "hpack", "tornado.access"):
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    # the JobQueue's scheduler says "Running job …" at INFO every feed round; the round's own
    # line says what it did (its warnings, such as a skipped overlapping round, still show)
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))
