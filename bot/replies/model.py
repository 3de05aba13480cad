"""The reply model: what the bot says to one question, built once from the engine's `Answers`
and then rendered — Telegram HTML (`telegram_html`), console and `ask` text (`console_text`),
the `ask --json` line (`json_line`) — so every channel shows the same passages, marks the same
sentence and says the same outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

from bot.language.german import TOKEN_RE
from bot.search.engine import Answers
from bot.search.hits import Hit

Span = tuple[int, int]  # [start, end) character offsets into an answer's text


class Outcome(StrEnum):
    """How a question went: a sure answer, a hedged ("not sure") one, or none."""

    SURE = "sure"
    HEDGED = "hedged"
    NONE = "none"


def outcome(answers: Answers) -> Outcome:
    """The outcome of the engine's `Answers`: none found, found and sure, or hedged."""
    if not answers.found:
        return Outcome.NONE
    return Outcome.HEDGED if answers.hedged else Outcome.SURE


@dataclass(frozen=True)
class Source:
    """Where an answer stands: its article and the positions of the passages shown."""

    article: str  # the article's file name
    title: str
    date: str | None
    dateline: str | None
    url: str | None
    passage: int  # the answering passage's position in its article (0-based)
    passages: tuple[int, ...]  # the positions of all passages shown, in article order


@dataclass(frozen=True)
class Answer:
    """One answer as shown: its text (one passage, or two of one article), the sentence that
    answers and where it stands, the question's words in it, its score and source."""

    rank: int  # 0: the best answer to the question
    id: int  # the answering passage's number in the index
    text: str
    sentence: str  # the answering sentence; the whole text when the engine picked none
    mark: Span | None  # where `sentence` stands in `text`; None when it is the whole answer
    words: tuple[Span, ...]  # the words of `text` that match the question (shown in bold)
    score: float
    source: Source


@dataclass(frozen=True)
class Reply:
    """What the bot says to one question: the outcome, the answers shown (from rank `first`
    on, best first), and whether the engine holds more answers after them."""

    question: str
    language: str  # "de" or "en": the language the bot answers in
    outcome: Outcome
    answers: tuple[Answer, ...]
    first: int = 0  # the rank of answers[0] (a "more" page starts further down)
    more: bool = False

    @property
    def sure(self) -> bool:
        """Whether the best answer surely answers (False also when there is none)."""
        return self.outcome is Outcome.SURE

    def at(self, rank: int) -> Answer | None:
        """The answer at `rank`, when this reply shows it."""
        index = rank - self.first
        return self.answers[index] if 0 <= index < len(self.answers) else None

    def under_hedge(self, answer: Answer) -> bool:
        """Whether `answer` is shown under the hedge (the best answer of a hedged reply)."""
        return self.outcome is Outcome.HEDGED and answer.rank == 0


def build(answers: Answers, is_match: Callable[[str], bool] | None = None, first: int = 0,
          count: int | None = None) -> Reply:
    """The reply to `answers`: `count` answers from rank `first` (all by default), with the
    words `is_match` accepts marked as the question's (none without it)."""
    hits = answers.hits
    end = len(hits) if count is None else min(len(hits), first + count)
    shown = tuple(_answer(rank, hits[rank], is_match) for rank in range(first, end))
    return Reply(answers.question, answers.language, outcome(answers), shown, first,
                 more=len(hits) > end)


def _answer(rank: int, hit: Hit, is_match: Callable[[str], bool] | None) -> Answer:
    text, passage = hit.text, hit.passage
    source = Source(passage.article, passage.title, passage.date, passage.dateline, passage.url,
                    passage.position, tuple(p.position for p in hit.shown))
    words = matching_words(text, is_match) if is_match else ()
    return Answer(rank, hit.id, text, hit.sentence or text, sentence_span(text, hit.sentence),
                  words, hit.score, source)


def sentence_span(text: str, sentence: str) -> Span | None:
    """Where `sentence` first stands in `text`; None when there is nothing to single out (no
    sentence, the sentence is the whole text, or it is not in it)."""
    if not sentence or sentence.strip() == text.strip():
        return None
    at = text.find(sentence)
    return (at, at + len(sentence)) if at >= 0 else None


def word_spans(text: str) -> list[Span]:
    """The spans of the words of `text`, as the analyser splits them."""
    return [m.span() for m in TOKEN_RE.finditer(text)]


def matching_words(text: str, is_match: Callable[[str], bool]) -> tuple[Span, ...]:
    """The spans of the words of `text` that `is_match` accepts."""
    return tuple((a, b) for a, b in word_spans(text) if is_match(text[a:b]))


def matcher(analyze: Callable[[str], list[str]], terms: Collection[str]) -> Callable[[str], bool]:
    """A predicate: does this word of a passage analyse to one of the question's terms?"""
    wanted = set(terms)
    return lambda word: bool(wanted.intersection(analyze(word)))
