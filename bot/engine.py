"""The answering engine: a question in, ranked passages (or an honest "don't know") out.

It ties the stages together — knowledge → analysis → index, and for English questions the
dictionary — and knows nothing of Telegram or the command line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import english
from bot.dictionary import Dictionary
from bot.knowledge import Article, Passage, article_passages, load_articles
from bot.retrieval import Group, Hit, Index
from bot.scoring import BM25Params
from bot.text import Analyzer, count_words

log = logging.getLogger(__name__)

# Answer only when the best passage holds at least this IDF-weighted share of the question's
# words (chosen on tests/questions.jsonl with `newsbot eval --sweep`; see README).
MIN_COVERAGE = 0.45
MAX_GROUPS = 64  # a question longer than this many words is cut; the start is what counts


@dataclass(frozen=True)
class Answers:
    """What the engine says to one question: the hits best first, [] when it abstains."""

    question: str
    language: str  # "de" or "en"
    hits: list[Hit]
    terms: frozenset[str] = frozenset()  # the index terms asked for (to highlight them)

    @property
    def found(self) -> bool:
        """Whether the news answers the question."""
        return bool(self.hits)


class Engine:
    """Answers questions over one knowledge base; safe to share between handlers."""

    def __init__(
        self,
        articles: Sequence[Article],
        index: Index,
        analyzer: Analyzer,
        dictionary: Dictionary | None = None,
        min_coverage: float = MIN_COVERAGE,
    ) -> None:
        self.articles = list(articles)
        self.index = index
        self.analyzer = analyzer
        self.dictionary = dictionary
        self.min_coverage = min_coverage
        self._lock = threading.Lock()

    @classmethod
    def from_passages(
        cls,
        articles: Sequence[Article],
        passages: Sequence[Passage],
        dictionary: Dictionary | None = None,
        params: BM25Params | None = None,
    ) -> Engine:
        """Analyse and index passages (the slow path; `storage` saves the result)."""
        analyzer = Analyzer(count_words(p.text for p in passages))
        documents = [analyzer.analyze(p.text) for p in passages]
        return cls(articles, Index.build(passages, documents, params), analyzer, dictionary)

    @classmethod
    def from_folder(cls, folder: Path, dictionary: Dictionary | None = None) -> Engine:
        """Load every article of a knowledge folder and index it."""
        articles = load_articles(folder)
        passages = [p for article in articles for p in article_passages(article)]
        return cls.from_passages(articles, passages, dictionary)

    def query(self, question: str) -> tuple[str, list[Group]]:
        """The question's language and its structured query (groups of index terms)."""
        language = english.detect_language(question)
        known = self.index.knows
        if language == "en":
            groups = []
            for members in english.translate_question(question, self.dictionary):
                terms = {t for m in members for t in self.analyzer.query_terms(m, known)}
                if terms:
                    groups.append(tuple(sorted(terms)))
        else:
            groups = [(t,) for t in self.analyzer.query_terms(question, known)]
        return language, groups[:MAX_GROUPS]

    def ask(self, question: str, k: int = 3) -> Answers:
        """The k best passages answering the question, or none when the news doesn't say."""
        language, groups = self.query(question)
        with self._lock:
            hits = self.index.search(groups, k=max(k, 1)) if groups else []
        terms = frozenset(t for g in groups for t in g)
        if not hits or hits[0].coverage < self.min_coverage:
            return Answers(question, language, [], terms)
        # Later hits must also be relevant, not just the least bad of the rest.
        relevant = [h for h in hits if h.coverage >= self.min_coverage]
        return Answers(question, language, relevant, terms)
