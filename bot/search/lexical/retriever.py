"""The lexical retriever: BM25's top for a question, its head reranked by the best window of
sentences, and BM25's evidence on any passage (looked up, not searched)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.language.german import Analyzer
from bot.search.candidates import ABSENT, LexicalEvidence
from bot.search.hits import Hit
from bot.search.lexical.index import Index
from bot.search.lexical.rerank import rerank
from bot.search.query import Query

RERANK_DEPTH = 10  # how many of the BM25 top the sentence-window reranker sees


class LexicalRetriever:
    """BM25 over one index (thread-safe: each question's work is its own)."""

    def __init__(self, index: Index, analyzer: Analyzer) -> None:
        self.index = index
        self.analyzer = analyzer

    def retrieve(self, query: Query, depth: int) -> LexicalRetrieval:
        """BM25's `depth` best passages for the question (searched on first use)."""
        return LexicalRetrieval(self, query, depth)


class LexicalRetrieval:
    """One question's BM25 search."""

    def __init__(self, retriever: LexicalRetriever, query: Query, depth: int) -> None:
        self.retriever, self.query, self.depth = retriever, query, depth
        self._hits: list[Hit] | None = None

    def hits(self) -> list[Hit]:
        """The top as BM25 scored it (searched once)."""
        if self._hits is None:
            q = self.query
            self._hits = self.retriever.index.search(q.groups, self.depth, q.factors) \
                if q.groups else []
        return self._hits

    def top(self) -> list[int]:
        """The passages with any of the question's words, best first."""
        return [h.id for h in self.hits()]

    def evidence(self, ids: Sequence[int]) -> LexicalEvidence:
        """BM25's score, coverage and rank for these passages; those BM25 did not return are
        scored as `search` would score them. The rank is the order after the reranker."""
        q, index = self.query, self.retriever.index
        hits = self.hits()
        seen = {h.id for h in hits}
        found = hits + index.score(q.groups, [i for i in ids if i not in seen], q.factors)
        lexical = [h for h in found if h.score > 0][: self.depth]
        head = rerank(lexical[:RERANK_DEPTH], q.groups, q.factors, index,
                      self.retriever.analyzer)
        ranked = head + lexical[RERANK_DEPTH:]
        rank = {h.id: r for r, h in enumerate(ranked)}
        reranked = {h.id: h.score for h in ranked}
        by_id = {h.id: h for h in found}
        return LexicalEvidence(
            np.array([by_id[i].score for i in ids], np.float64),
            np.array([by_id[i].coverage for i in ids], np.float64),
            np.array([by_id[i].matched for i in ids], np.float64),
            np.array([rank.get(i, ABSENT) for i in ids]),
            np.array([reranked.get(i, by_id[i].score) for i in ids], np.float64),
        )
