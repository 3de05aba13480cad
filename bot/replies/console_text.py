"""A reply as terminal text: the `ask` command's numbered answers, and the chat's one answer
at a time with its answering sentence marked (bold on a terminal, between » « in a pipe)."""

from __future__ import annotations

from collections.abc import Collection

from bot.knowledge.articles import Article
from bot.replies.model import Answer, Reply
from bot.replies.texts import article_lines, source_line, text

BOLD, RESET = "\033[1m", "\033[0m"


def ask_text(reply: Reply, show_scores: bool = True) -> str:
    """Every answer of `reply`, numbered: its text, the answering sentence again (» …) when
    the answer holds more than that one, its source and (with `show_scores`) its score and
    place in the article; under the hedge line when the reply is hedged."""
    if not reply.answers:
        return text("no_answer", reply.language)
    blocks = [text("hedge", reply.language)] if reply.under_hedge(reply.answers[0]) else []
    for answer in reply.answers:
        source = answer.source
        places = "+".join(f"#{p}" for p in source.passages)
        score = f"  [score {answer.score:.2f}, {source.article} {places}]"
        sentence = f"\n   » {answer.sentence}" if answer.mark else ""
        blocks.append(f"{answer.rank + 1}. {answer.text}{sentence}\n   "
                      f"{source_line(source, reply.language)}" + (score if show_scores else ""))
    return "\n\n".join(blocks)


def answer_text(reply: Reply, answer: Answer, bold: bool = False) -> str:
    """One answer in the chat: its text with the answering sentence marked (`bold`: in bold
    for a terminal, else »between these«), then its source; the hedge line above it when it
    is the best answer of a hedged reply."""
    shown = answer.text
    if answer.mark:
        start, end = answer.mark
        sentence = shown[start:end]
        shown = shown[:start] + (f"{BOLD}{sentence}{RESET}" if bold else f"»{sentence}«") \
            + shown[end:]
    hedge = f"\n{text('hedge', reply.language)}" if reply.under_hedge(answer) else ""
    return f"{hedge}\n{shown}\n  — {source_line(answer.source, reply.language)}\n"


def no_answer_text(language: str, example: str) -> str:
    """The news says nothing like it: say so, and suggest a question it answers."""
    return f"{text('no_answer', language)}\n{text('example', language)} {example}\n"


def welcome_text(articles: Collection[Article], language: str, examples: list[str]) -> str:
    """/start in the chat: the greeting, the articles known, example questions."""
    return "\n".join([text("welcome", language), *article_lines(articles), "",
                      text("example", language), *examples])


def sources_text(articles: Collection[Article], language: str) -> str:
    """/sources in the chat: the articles known, newest first."""
    return "\n".join([text("sources", language), *article_lines(articles, limit=25)])
