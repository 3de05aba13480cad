"""The dense retriever: the passages nearest the question's embedding, and their cosines (and
their sentences') for any passage.

`retrieve` starts embedding the question in another thread and returns at once, so the
question waits for the longer of the two stages, not their sum (the model releases the GIL
while BM25 searches); the first `top()` or `evidence()` waits for the vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from bot.search.candidates import ABSENT, DenseEvidence
from bot.search.query import Query
from bot.search.semantic.stage import Semantic


class DenseRetriever:
    """Nearest-vector search over one set of vectors (thread-safe)."""

    def __init__(self, semantic: Semantic) -> None:
        self.semantic = semantic

    def retrieve(self, query: Query, depth: int, vector: np.ndarray | None = None
                 ) -> DenseRetrieval:
        """The `depth` nearest passages (`vector`: the question's, when the caller has it;
        otherwise it is embedded in another thread from now)."""
        pending = self.semantic.embed_soon(query.text) if vector is None else None
        return DenseRetrieval(self.semantic, depth, pending, vector)


class DenseRetrieval:
    """One question's nearest-vector search."""

    def __init__(self, semantic: Semantic, depth: int, pending: Future[np.ndarray] | None,
                 vector: np.ndarray | None) -> None:
        self.semantic, self.depth = semantic, depth
        self._pending, self._vector = pending, vector
        self._top: list[int] | None = None

    @property
    def vector(self) -> np.ndarray:
        """The question's embedding (waits for it the first time)."""
        if self._vector is None:
            assert self._pending is not None
            self._vector = self._pending.result()
        return self._vector

    def top(self) -> list[int]:
        """The nearest passages, nearest first."""
        if self._top is None:
            self._top = self.semantic.top(self.vector, self.depth)
        return self._top

    def evidence(self, ids: Sequence[int]) -> DenseEvidence:
        """The cosines of these passages and of their best sentences."""
        cos, sentence_cos, best = self.semantic.cosines(self.vector, np.array(ids, np.int64))
        rank = {i: r for r, i in enumerate(self.top())}
        return DenseEvidence(cos, sentence_cos, np.asarray(best, np.int64),
                             self.semantic.sentences.__getitem__,
                             np.array([rank.get(i, ABSENT) for i in ids]),
                             self.semantic.baseline(self.vector))

    def sentences(self, i: int) -> list[str]:
        """Passage i's sentences, as embedded."""
        return list(self.semantic.sentences[i])

    def sentence_cosines(self, i: int) -> np.ndarray:
        """The cosines of passage i's sentences to the question."""
        return self.semantic.sentence_cosines(self.vector, i)
