"""What the retrievers hand to the ranking: one question's candidate passages, joined.

Each retriever (the lexical stage's BM25, the semantic stage's nearest vectors) follows one
protocol, as Haystack's retrievers do before a `DocumentJoiner`: `retrieve` starts its work
on a question and returns a `Retrieval`; its `top()` is the retriever's own passages, best
first, and its `evidence(ids)` what it knows of any passages, also those another retriever
found. `join` puts the tops together and asks each retriever for its evidence on all of them:
`Candidates`, one column per piece of evidence. BM25 alone is the lexical retriever alone;
the semantic columns are then NaN (no vector), as for passages not yet embedded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from bot.knowledge.passages import Passage
from bot.search.answer_type import holds
from bot.search.query import Query

ABSENT = 100  # the rank of a candidate the stage did not return
E = TypeVar("E", covariant=True)


class Retrieval(Protocol[E]):
    """One retriever's work on one question (it may still be running in another thread)."""

    def top(self) -> list[int]:
        """The retriever's own passages for the question, best first."""
        ...

    def evidence(self, ids: Sequence[int]) -> E:
        """What the retriever knows of these passages (its own or another's)."""
        ...


class Retriever(Protocol[E]):
    """A way to find passages for a question."""

    def retrieve(self, query: Query, depth: int) -> Retrieval[E]:
        """Start finding the `depth` best passages for the question."""
        ...


@dataclass(frozen=True)
class LexicalEvidence:
    """The lexical stage's evidence, one value per passage."""

    bm25: np.ndarray  # the passage's BM25 score (0: none of the question's words)
    coverage: np.ndarray  # IDF-weighted share of the question's groups it holds
    matched: np.ndarray  # how many of the question's groups it holds
    rank: np.ndarray  # its place in the lexical top after reranking; ABSENT when not there
    reranked: np.ndarray  # its BM25 score with the sentence-window bonus (the top's head)


@dataclass(frozen=True)
class DenseEvidence:
    """The semantic stage's evidence, one value per passage (NaN: no vector yet)."""

    cos: np.ndarray  # the passage's cosine to the question
    sentence_cos: np.ndarray  # its best sentence's
    best_sentence: np.ndarray  # which sentence that is
    sentences: Callable[[int], Sequence[str]]  # a passage's sentences, by passage number
    rank: np.ndarray  # its place in the semantic top; ABSENT when not there
    baseline: float  # the question's mean cosine to unrelated news


@dataclass
class Candidates:
    """One question's candidate passages with the raw evidence of both stages."""

    ids: np.ndarray  # passage numbers
    bm25: np.ndarray
    coverage: np.ndarray
    matched: np.ndarray
    lexical_rank: np.ndarray  # ABSENT when only the semantic stage found it
    dense_rank: np.ndarray  # ABSENT when only the lexical stage found it
    cos: np.ndarray  # NaN for a passage without vectors yet
    sentence_cos: np.ndarray
    best_sentence: np.ndarray  # the number of the passage's sentence nearest the question
    article: np.ndarray  # which article (a number per question) each passage belongs to
    position: np.ndarray  # the passage's place in its article (0: the lead)
    sentence_type: np.ndarray  # 1 when the best sentence holds the kind of answer asked for
    passage_type: np.ndarray  # 1 when the passage does
    english: bool = False
    baseline: float = 0.0  # the question's mean cosine to unrelated news (`Semantic.baseline`)
    reranked: np.ndarray | None = None  # BM25 with the window bonus (the coverage rule's order)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, keep: np.ndarray) -> Candidates:
        """The candidates where `keep` is true, ranks renumbered among them."""
        def rerank(ranks: np.ndarray) -> np.ndarray:
            kept = ranks[keep]
            order = np.argsort(kept, kind="stable")
            out = np.full(len(kept), ABSENT)
            present = kept[order] < ABSENT
            out[order[present]] = np.arange(int(present.sum()))
            return out
        return Candidates(
            self.ids[keep], self.bm25[keep], self.coverage[keep], self.matched[keep],
            rerank(self.lexical_rank), rerank(self.dense_rank), self.cos[keep],
            self.sentence_cos[keep], self.best_sentence[keep], self.article[keep],
            self.position[keep], self.sentence_type[keep], self.passage_type[keep],
            self.english, self.baseline,
            None if self.reranked is None else self.reranked[keep],
        )

    def has_vectors(self, depth: int) -> bool:
        """Whether every passage of the lexical top's first `depth` has its vectors (while an
        archive is still being embedded, some have not)."""
        return bool(len(self)) and not np.isnan(self.cos[self.lexical_rank < depth]).any()


@dataclass(frozen=True)
class Decision:
    """What a judge (the fitted ranker, or the coverage rule) says of the candidates."""

    order: np.ndarray  # candidate places, best first
    fused: np.ndarray  # each candidate's score in that order's terms
    on_topic: bool  # the news speaks of what the question asks about
    sure: bool  # … and the best candidate is the answer
    features: np.ndarray  # the candidates' rank features (for `Ranker.answers`)


def join(query: Query, passages: Sequence[Passage], lexical: Retrieval[LexicalEvidence],
         dense: Retrieval[DenseEvidence] | None = None) -> Candidates:
    """The retrievers' tops together (the lexical top first), with each one's evidence on
    every candidate; `passages`: the index's, by number."""
    first = lexical.top()  # BM25 searches here while the dense retrieval embeds the question
    ids = list(dict.fromkeys(first + (dense.top() if dense is not None else [])))
    lex = lexical.evidence(ids)
    shown = [passages[i] for i in ids]
    articles: dict[str, int] = {}
    # the kind of answer asked for, in the passage and in its best sentence (looked for in the
    # sentence only where the passage holds it: splitting every candidate costs time)
    passage_type = np.array([holds(query.kind, p.text) for p in shown], np.float64)
    n = len(ids)
    if dense is not None:
        sem = dense.evidence(ids)
        cos, sentence_cos, best, dense_rank = sem.cos, sem.sentence_cos, sem.best_sentence, \
            sem.rank
        sentence_type = np.array([
            bool(there) and holds(query.kind, _nth(sem.sentences(i), int(b)))
            for i, b, there in zip(ids, best, passage_type, strict=True)], np.float64)
        baseline = sem.baseline
    else:
        cos = sentence_cos = np.full(n, np.nan)
        best, dense_rank = np.zeros(n, np.int64), np.full(n, ABSENT)
        sentence_type, baseline = np.zeros(n), 0.0
    return Candidates(
        np.array(ids, np.int64), lex.bm25, lex.coverage, lex.matched, lex.rank, dense_rank,
        cos, sentence_cos, np.asarray(best, np.int64),
        np.array([articles.setdefault(p.article, len(articles)) for p in shown]),
        np.array([p.position for p in shown]), sentence_type, passage_type,
        query.language == "en", baseline, lex.reranked,
    )


def _nth(sentences: Sequence[str], n: int) -> str:
    """Sentence n of a passage (its last when n is past the end)."""
    return sentences[min(n, len(sentences) - 1)]
