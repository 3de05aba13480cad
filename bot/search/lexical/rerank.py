"""Reranking of the top BM25 candidates by their best window of consecutive sentences.

BM25 sees a passage as a bag of words; an answer usually sits in one or two sentences that
hold several of the question's words together. For the few top candidates only, we score
every window of up to `WINDOW` consecutive sentences by the IDF of the question groups it
covers (a synonym counts its factor) and add the best window's score to the passage's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.knowledge.sentences import split_sentences
from bot.language.german import Analyzer
from bot.search.lexical.index import Group, Hit, Index

WINDOW = 2  # sentences
WEIGHT = 0.5  # the window score's weight next to the passage's BM25 score


def window_score(
    sentences: Sequence[set[str]], groups: Sequence[Group],
    factors: Sequence[Sequence[float]], idf: dict[str, float], window: int = WINDOW,
) -> float:
    """The best IDF-weighted group coverage of `window` consecutive sentences."""
    best = 0.0
    for start in range(max(len(sentences) - window + 1, 1)):
        terms = set().union(*sentences[start : start + window])
        score = 0.0
        for group, scale in zip(groups, factors, strict=True):
            score += max(
                (idf.get(t, 0.0) * f for t, f in zip(group, scale, strict=True) if t in terms),
                default=0.0,
            )
        best = max(best, score)
    return best


def rerank(
    hits: list[Hit], groups: Sequence[Group], factors: Sequence[Sequence[float]],
    index: Index, analyzer: Analyzer, weight: float = WEIGHT, window: int = WINDOW,
) -> list[Hit]:
    """The hits reordered by passage score + weight · best window score (stable on ties)."""
    if weight <= 0 or len(hits) < 2:
        return hits
    idf = {
        t: max(float(index.idf[index.vocabulary[t]]), 0.0)
        for group in groups for t in group if t in index.vocabulary
    }
    scored = []
    for hit in hits:
        sentences = [set(analyzer.analyze(s)) for s in split_sentences(hit.passage.text)]
        bonus = window_score(sentences, groups, factors, idf, window)
        scored.append(replace(hit, score=hit.score + weight * bonus))
    return sorted(scored, key=lambda h: -h.score)
