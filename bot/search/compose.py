"""Answers as a reader sees them: the best passage, with a second passage of the same article
when the ranker puts it close behind (news articles are long paragraphs cut at ~700
characters; the answer often sits across the cut), at most MAX_ANSWER_CHARS in all; and the
sentence that answers, marked.

How close "close behind" is (`Ranker.companion_depth`) and how sentences are scored
(`Ranker.sentence`) are fitted by `make fit`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bot.knowledge.passages import Passage
from bot.search.answer_type import holds
from bot.search.fusion import SENTENCE_FEATURES, Linear
from bot.search.query import Query
from bot.search.rerank import window_score

MAX_ANSWER_CHARS = 1500  # what a reader takes in at a glance


def groups_of(order: Sequence[int], articles: Sequence[int], lengths: Sequence[int],
              depth: int, k: int) -> list[tuple[int, int | None]]:
    """Up to k answers from the candidates in `order` (places into `articles`/`lengths`):
    each the next unused candidate, with the first unused candidate of the same article
    among the next `depth` places after it (when both fit in MAX_ANSWER_CHARS)."""
    answers: list[tuple[int, int | None]] = []
    used: set[int] = set()
    for n, at in enumerate(order):
        if len(answers) >= k:
            break
        if at in used:
            continue
        used.add(at)
        companion = next((other for other in order[n + 1 : n + 1 + depth]
                          if other not in used and articles[other] == articles[at]), None)
        if companion is not None and lengths[at] + lengths[companion] > MAX_ANSWER_CHARS:
            companion = None
        if companion is not None:
            used.add(companion)
        answers.append((at, companion))
    return answers


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


def answering_sentence(model: Linear, query: Query, shown: Sequence[tuple[Passage, list[str],
                       np.ndarray, bool]], analyze: Callable[[str], list[str]]) -> str:
    """The sentence of the shown passages that answers best: (passage, its sentences, their
    cosines, whether it is the best passage) for each shown passage."""
    sentences = [s for _, ss, _, _ in shown for s in ss]
    if not sentences:
        return ""
    cosines = np.concatenate([c for _, _, c, _ in shown])
    primary = [first for _, ss, _, first in shown for _ in ss]
    scores = model(sentence_features(query, sentences, cosines, primary, analyze))
    return sentences[int(np.argmax(scores))]
