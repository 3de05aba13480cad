"""The sentence that answers: of the passages shown, the one sentence to mark.

The fitted ranker scores each sentence by a linear model (its cosine to the question, the gap
to the best, whether it holds the kind of answer asked for, the share of the question's words
it holds, whether it is in the best passage; `SENTENCE_FEATURES`), fitted by `make fit` as a
conditional logit over dev questions' sentences. Without vectors (BM25 alone) the sentence
holding the most of the question's words is marked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.knowledge.passages import Passage
from bot.search.answer_type import holds
from bot.search.lexical.rerank import window_score
from bot.search.linear import Linear
from bot.search.query import Query

SENTENCE_FEATURES = ("cos", "cos_gap", "type", "lexical", "primary")


@dataclass(frozen=True)
class Shown:
    """A passage shown as (part of) an answer, with its sentences and their cosines to the
    question (None without vectors)."""

    passage: Passage
    sentences: list[str]
    cosines: np.ndarray | None
    first: bool  # the best passage, not its companion


def sentence_features(query: Query, sentences: Sequence[str], cosines: np.ndarray,
                      primary: Sequence[bool], analyze: Callable[[str], list[str]]) -> np.ndarray:
    """One row per sentence (SENTENCE_FEATURES): its cosine, the gap to the best, whether it
    holds the kind of answer asked for, the IDF-weighted share of the question's groups it
    holds, whether it belongs to the best passage."""
    total = sum(max((query.idf.get(t, 0.0) for t in g), default=0.0) for g in query.groups)
    rows = []
    best = float(np.max(cosines)) if len(cosines) else 0.0
    for sentence, cos, first in zip(sentences, cosines, primary, strict=True):
        share = window_score([set(analyze(sentence))], query.groups, query.factors, query.idf, 1)
        rows.append([float(cos), float(cos) - best, float(holds(query.kind, sentence)),
                     share / total if total > 0 else 0.0, float(first)])
    return np.array(rows, np.float64).reshape(-1, len(SENTENCE_FEATURES))


def answering_sentence(model: Linear, query: Query, shown: Sequence[Shown],
                       analyze: Callable[[str], list[str]]) -> str:
    """The sentence of the shown passages that the model scores best."""
    sentences = [s for one in shown for s in one.sentences]
    if not sentences:
        return ""
    cosines = np.concatenate([np.full(len(one.sentences), np.nan) if one.cosines is None
                              else one.cosines for one in shown])
    primary = [one.first for one in shown for _ in one.sentences]
    scores = model(sentence_features(query, sentences, cosines, primary, analyze))
    return sentences[int(np.argmax(scores))]


def most_words_sentence(query: Query, shown: Sequence[Shown],
                        analyze: Callable[[str], list[str]]) -> str:
    """The best passage's sentence holding most of the question's words (the first on ties)."""
    sentences = next((one.sentences for one in shown if one.first), [])
    if not sentences:
        return ""
    scores = [window_score([set(analyze(s))], query.groups, query.factors, query.idf, 1)
              for s in sentences]
    return sentences[int(np.argmax(scores))]
