"""Text from outside, made safe at the edge, before any stage sees it.

Questions (the console's arguments and stdin, a question set, Telegram messages) may carry
invalid UTF-8 (read with `surrogateescape`, it arrives as lone surrogates), lone surrogates
from a JSON escape, or control characters; the model's tokenizer, the terminal and Telegram's
JSON all fail on some of them. `clean` replaces them; `cap` cuts a question to the one length
every channel allows (NEWSBOT_MAX_QUESTION_CHARS); `printable` makes text that came from
outside (a feed's link, a server's error) safe to print on a terminal.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1, but tab and newline
# for the terminal, also newlines and the bidirectional overrides that reorder what is shown
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def decode(data: bytes) -> str:
    """Bytes from outside as text: invalid UTF-8 becomes U+FFFD."""
    return data.decode("utf-8", "replace")


def clean(text: str) -> str:
    """The text with lone surrogates replaced by U+FFFD and control characters (but tab and
    newline) by a space."""
    return _CONTROLS.sub(" ", _SURROGATES.sub(REPLACEMENT, text))


def cap(text: str, limit: int) -> tuple[str, bool]:
    """The text cut to `limit` characters, and whether it was cut."""
    return (text[:limit], True) if len(text) > limit else (text, False)


def clean_question(text: str, limit: int) -> tuple[str, bool]:
    """A question as every channel takes it: cleaned, then cut to `limit` characters;
    (question, whether it was cut)."""
    return cap(clean(text), limit)


def printable(text: object) -> str:
    """One line safe for a terminal: control characters (escape sequences, newlines) and
    direction overrides become a space, lone surrogates U+FFFD."""
    return _UNPRINTABLE.sub(" ", _SURROGATES.sub(REPLACEMENT, str(text)))
