"""Articles → passages that read well on a phone: about a paragraph each, long paragraphs cut
at sentence boundaries."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge.articles import Article
from bot.knowledge.sentences import split_sentences

MAX_PASSAGE_CHARS = 700  # longer paragraphs are cut at sentence boundaries


@dataclass(frozen=True)
class Passage:
    """A piece of an article shown as an answer; `text` is exactly as written."""

    article: str
    title: str
    date: str | None
    dateline: str | None
    position: int  # 0-based order within the article
    text: str
    url: str | None = None  # the article's web address, when it has one


def split_paragraph(paragraph: str, limit: int = MAX_PASSAGE_CHARS) -> list[str]:
    """Cut a long paragraph into balanced runs of whole sentences of at most ~limit chars."""
    if len(paragraph) <= limit:
        return [paragraph]
    sentences = split_sentences(paragraph)
    parts = max(2, -(-len(paragraph) // limit))
    target = len(paragraph) / parts
    chunks: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        size = sum(len(s) + 1 for s in current)
        if current and (size + len(sentence) > limit or size >= target):
            chunks.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        chunks.append(" ".join(current))
    return chunks


def article_passages(article: Article) -> list[Passage]:
    """Split an article into passages: about a paragraph each."""
    texts = [chunk for paragraph in article.paragraphs for chunk in split_paragraph(paragraph)]
    return [
        Passage(article.name, article.title, article.date, article.dateline, i, text, article.url)
        for i, text in enumerate(texts)
    ]


def passage_sentences(passage: Passage) -> list[str]:
    """The passage's sentences, as embedded and shown (the whole text when it has none)."""
    return split_sentences(passage.text) or [passage.text]
