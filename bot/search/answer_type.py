"""What kind of answer a question wants, and whether a sentence holds one.

"Wie viel …?" / "How much …?" wants an amount, "Wann …?" / "When …?" a date, "Wer …?" /
"Who …?" a person or an organisation, "Wo …?" / "Where …?" a place. A sentence that holds
that kind of thing is more likely the answer than a neighbour that only repeats the
question's words ("Wie viel Microsoft zahlen müsste, ist bislang unklar." holds no amount;
"Es dürfte aber um einen zweistelligen Milliardenbetrag gehen." does). The match is one
feature of the ranker (`bot/search/fusion.py`); its weight is fitted, not set here.
"""

from __future__ import annotations

import re
from enum import Enum


class AnswerType(Enum):
    """The kind of thing a question asks for."""

    AMOUNT = "amount"
    DATE = "date"
    NAME = "name"
    PLACE = "place"


QUESTION_PATTERNS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.AMOUNT, re.compile(
        r"\b(wie\s*viele?|wieviele?|wie\s+(hoch|teuer|gro(ß|ss)|lange?|alt|weit|schnell|stark)"
        r"|how\s+(much|many|long|old|high|big|large|far|expensive)|what\s+(price|percentage)"
        r"|um\s+wie\s+viel|wie\s+viel\s+prozent)\b", re.IGNORECASE)),
    (AnswerType.DATE, re.compile(
        r"\b(wann|bis\s+wann|seit\s+wann|ab\s+wann|in\s+welchem\s+jahr|an\s+welchem\s+tag"
        r"|when|what\s+year|which\s+year|what\s+date|since\s+when|until\s+when)\b",
        re.IGNORECASE)),
    (AnswerType.NAME, re.compile(
        r"\b(wer|wem|wen|wessen|welche[rsmn]?\s+(firma|unternehmen|konzern|partei|verein|"
        r"person|politiker\w*|minister\w*|chef\w*|spieler\w*|trainer\w*)|who|whom|whose"
        r"|which\s+(company|firm|party|club|person|player|minister))\b", re.IGNORECASE)),
    (AnswerType.PLACE, re.compile(
        r"\b(wo|wohin|woher|in\s+welche[mr]?\s+(stadt|land|ort|region|bundesland|staat)"
        r"|where|in\s+which\s+(city|country|town|state|region))\b", re.IGNORECASE)),
)

MONTHS = (r"januar|jänner|februar|märz|april|mai|juni|juli|august|september|oktober|november"
          r"|dezember|jan|feb|mär|apr|jun|jul|aug|sep|sept|okt|nov|dez")
NUMBER_WORDS = (r"ein(e|en|er)?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf"
                r"|zwanzig|dreißig|vierzig|fünfzig|hundert\w*|tausend\w*|dutzend\w*|hälfte"
                r"|drittel|viertel|doppelt\w*|\w+stellig\w*")
ANSWER_PATTERNS: dict[AnswerType, re.Pattern[str]] = {
    AnswerType.AMOUNT: re.compile(
        r"\d|\b(" + NUMBER_WORDS + r")\b|(millionen?|milliarden?|mio|mrd|prozent|euro|dollar"
        r"|franken|pfund|grad|kilometer|meter|stunden?|jahre?n?|tage?n?|minuten)\b",
        re.IGNORECASE),
    AnswerType.DATE: re.compile(
        r"\b(1[89]\d\d|20\d\d)\b|\b\d{1,2}\.\s*(" + MONTHS + r")|\b(" + MONTHS + r")\b"
        r"|\b(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|wochenende|heute"
        r"|gestern|morgen|frühjahr|sommer|herbst|winter|jahrhundert\w*|\d{1,2}\.\d{1,2}\.)",
        re.IGNORECASE),
    # two capitalised words in a row that do not start the sentence ("Satya Nadella"), an
    # organisation's form ("AG", "GmbH") or a name in quotes
    AnswerType.NAME: re.compile(
        r"(?<=[a-zäöüß,;:] )[A-ZÄÖÜ][\w-]+ [A-ZÄÖÜ][\w-]+|\b(AG|GmbH|SE|Inc|Corp|Ltd)\b"
        r"|[«„\"][A-ZÄÖÜ]"),
    AnswerType.PLACE: re.compile(
        r"\b(in|im|aus|nach|bei|auf)\s+(der\s+|dem\s+|den\s+)?[A-ZÄÖÜ][\w-]+"),
}


def question_type(question: str) -> AnswerType | None:
    """The kind of answer the question asks for, or None (a yes/no or a why question)."""
    for kind, pattern in QUESTION_PATTERNS:
        if pattern.search(question):
            return kind
    return None


def holds(kind: AnswerType | None, text: str) -> bool:
    """Whether the text holds something of that kind (False for no kind)."""
    return kind is not None and bool(ANSWER_PATTERNS[kind].search(text))
