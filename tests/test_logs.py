"""bot.logs: no bot token or secret ever reaches a log line."""

from __future__ import annotations

import io
import logging

import pytest

from bot import logs
from bot.logs import RedactingFormatter, add_secret, redact, setup_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture(autouse=True)
def no_secrets(monkeypatch):
    monkeypatch.setattr(logs, "_secrets", {})


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,
        f"token={TOKEN}",
        f"POST https://api.telegram.org/bot{TOKEN}/sendMessage",
        f"'{TOKEN}'",
        f"{TOKEN}\n{TOKEN}",
    ],
)
def test_redact_removes_bot_tokens(text):
    redacted = redact(text)
    assert TOKEN not in redacted
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0" not in redacted
    assert "[REDACTED]" in redacted


def test_redact_keeps_the_rest_of_the_url():
    assert redact(f"https://api.telegram.org/bot{TOKEN}/getMe") == (
        "https://api.telegram.org/[REDACTED]/getMe"
    )


@pytest.mark.parametrize("text", ["12:30 Uhr", "Stand 2020-08-03 12:00:00", "user 123456789"])
def test_redact_leaves_ordinary_text(text):
    assert redact(text) == text


def test_registered_secret_is_redacted():
    add_secret("webhook-secret-value")
    assert redact("secret=webhook-secret-value;") == "secret=[REDACTED];"


@pytest.mark.parametrize("value", [None, "", "short"])
def test_short_or_empty_secrets_are_not_registered(value):
    add_secret(value)
    assert logs._secrets == {}
    assert redact("a short text") == "a short text"


def _format(record_maker) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test.redaction")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        record_maker(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_formatter_redacts_messages_and_arguments():
    output = _format(lambda log: log.warning("calling %s", f"/bot{TOKEN}/getUpdates"))
    assert TOKEN not in output
    assert "calling /[REDACTED]/getUpdates" in output


def test_formatter_redacts_exception_tracebacks():
    def log_exception(log: logging.Logger) -> None:
        try:
            raise RuntimeError(f"connection to https://api.telegram.org/bot{TOKEN}/getMe failed")
        except RuntimeError:
            log.exception("request failed")

    output = _format(log_exception)
    assert "Traceback" in output
    assert "RuntimeError" in output
    assert TOKEN not in output
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0" not in output


def test_formatter_redacts_registered_secret_in_traceback():
    add_secret("my-webhook-secret-123")

    def log_exception(log: logging.Logger) -> None:
        try:
            raise ValueError("bad secret my-webhook-secret-123")
        except ValueError:
            log.exception("oops")

    assert "my-webhook-secret-123" not in _format(log_exception)


def test_setup_logging_quiets_http_libraries_at_debug(restore_logging):
    setup_logging("DEBUG")
    assert logging.getLogger().level == logging.DEBUG
    for name in ("httpx", "httpcore"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING


def test_setup_logging_uses_the_redacting_formatter(restore_logging):
    setup_logging("INFO")
    handlers = logging.getLogger().handlers
    assert len(handlers) == 1
    assert isinstance(handlers[0].formatter, RedactingFormatter)


def test_setup_logging_with_error_level_keeps_http_at_error(restore_logging):
    setup_logging("ERROR")
    assert logging.getLogger("httpx").level == logging.ERROR


def test_setup_logging_unknown_level_falls_back_to_info(restore_logging):
    setup_logging("chatty")
    assert logging.getLogger().level == logging.INFO


def test_httpx_request_line_never_reaches_stderr(restore_logging, capsys):
    setup_logging("DEBUG")
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN)
    logging.getLogger("bot.test").error("failed at /bot%s/getMe", TOKEN)
    err = capsys.readouterr().err
    assert "HTTP Request" not in err
    assert "failed at /[REDACTED]/getMe" in err
    assert TOKEN not in err


def test_a_percent_encoded_lowercased_token_is_redacted():
    """A Bot API error description quoting the bot's path, as python-telegram-bot shows it."""
    mangled = f"not found: /bot{TOKEN.replace(':', '%3A')}/getme".lower()
    assert "[REDACTED]" in redact(mangled)
    assert TOKEN.split(":")[1].lower() not in redact(mangled)
    add_secret(TOKEN.split(":")[1])
    assert TOKEN.split(":")[1].lower() not in redact(f"secret {TOKEN.split(':')[1].lower()}")
