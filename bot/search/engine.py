"""The answering engine: a question in, ranked passages (or an honest "don't know") out.

It ties the stages together — knowledge → analysis → index, and for English questions the
dictionary — and knows nothing of Telegram or the command line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from bot.knowledge.articles import Article
from bot.language import english
from bot.language.dictionary import Dictionary
from bot.language.german import Analyzer
from bot.language.thesaurus import Thesaurus
from bot.search.index import Group, Hit, Index
from bot.search.rerank import rerank

log = logging.getLogger(__name__)

# Answer only when the best passage holds at least half of the question's IDF-weighted words,
# or three of its words that make at least 30% (a long question rarely matches whole).
# Chosen by measurement on tests/questions.jsonl and checked on tests/holdout (see README).
MIN_COVERAGE = 0.5
MIN_MATCHED, MIN_COVERAGE_MATCHED = 3, 0.3
MAX_GROUPS = 64  # a question longer than this many words is cut; the start is what counts
RERANK_DEPTH = 10  # how many BM25 candidates the sentence-window reranker sees
SYNONYM_FACTOR = 0.5  # a synonym's weight relative to the question's own word


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
        thesaurus: Thesaurus | None = None,
    ) -> None:
        self.articles = list(articles)
        self.index = index
        self.analyzer = analyzer
        self.dictionary = dictionary
        self.min_coverage = min_coverage
        self.thesaurus = thesaurus
        self._lock = threading.Lock()

    def query(self, question: str) -> tuple[str, list[Group], list[tuple[float, ...]]]:
        """The question's language, its structured query (groups of index terms) and each
        member's weight factor (synonyms from the thesaurus count SYNONYM_FACTOR)."""
        language = english.detect_language(question)
        known = self.index.knows
        if language == "en":
            groups, factors = [], []
            for original, *translations in english.translate_question(question, self.dictionary):
                # the English word as written (a name, or a word German shares: "Deal"), and
                # the German translations with their other forms
                terms = dict.fromkeys(self.analyzer.analyze(original), 1.0) | {
                    t: 1.0 for m in translations for g in self.analyzer.query_groups(m, known)
                    for t in g}
                if terms:
                    groups.append(tuple(terms))
                    factors.append(tuple(terms.values()))
            return language, groups[:MAX_GROUPS], factors[:MAX_GROUPS]
        groups, factors, thesaurus = [], [], self.thesaurus
        for forms in self.analyzer.query_groups(question, known, MAX_GROUPS):
            synonyms = {s for f in forms for s in thesaurus.synonyms(f)} if thesaurus else set()
            extra = tuple(sorted(s for s in synonyms if s not in forms and known(s)))
            groups.append(forms + extra)
            factors.append((1.0,) * len(forms) + (SYNONYM_FACTOR,) * len(extra))
        return language, groups, factors

    def ask(self, question: str, k: int = 3) -> Answers:
        """The k best passages answering the question, or none when the news doesn't say."""
        language, groups, factors = self.query(question)
        with self._lock:
            depth = max(k, RERANK_DEPTH)
            hits = self.index.search(groups, k=depth, factors=factors) if groups else []
        hits = rerank(hits, groups, factors, self.index, self.analyzer)[: max(k, 1)]
        terms = frozenset(t for g in groups for t in g)
        # Later hits must also be relevant, not just the least bad of the rest.
        relevant = [h for h in hits if self.relevant(h)]
        if not hits or not self.relevant(hits[0]):
            relevant = []
        return Answers(question, language, relevant, terms)

    def relevant(self, hit: Hit) -> bool:
        """The abstention rule: does this passage answer enough of the question?"""
        return hit.coverage >= self.min_coverage or (
            hit.matched >= MIN_MATCHED and hit.coverage >= MIN_COVERAGE_MATCHED
        )
