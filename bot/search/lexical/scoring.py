"""BM25 variants as rank-bm25 defines them, vectorised so each (term, passage) weight is
computed once at index time.

rank-bm25 (Dorian Brown, https://github.com/dorianbrown/rank_bm25) scores a passage as the sum
over query tokens of `idf(t) · tf_weight(tf, dl)`. For a term a passage does not contain,
Okapi and BM25L give 0 while BM25+ gives `idf · delta`, the same for every passage; it shifts
all scores equally and never changes the ranking, so the index stores `weight(tf) - weight(0)`
and ranks exactly as rank-bm25 does (tests/test_scoring.py checks it).

- okapi: Robertson & Zaragoza 2009; IDF floored at `epsilon · mean IDF` (rank_bm25 #29, #39).
- l:     Lv & Zhai 2011, "When documents are very long, BM25 fails!"
- plus:  Lv & Zhai 2011, "Lower-bounding term frequency normalization".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VARIANTS = ("okapi", "l", "plus")


@dataclass(frozen=True)
class BM25Params:
    """The variant and its constructor keywords, as in rank-bm25."""

    variant: str = "plus"
    k1: float = 1.2
    b: float = 0.75
    delta: float = 1.0  # BM25L / BM25+
    epsilon: float = 0.25  # BM25Okapi's IDF floor

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {self.variant!r}: choose one of {VARIANTS}")


def idf(df: np.ndarray, n: int, params: BM25Params) -> np.ndarray:
    """Inverse document frequency of terms occurring in `df` of `n` passages."""
    df = df.astype(np.float64)
    if params.variant == "okapi":
        values = np.log(n - df + 0.5) - np.log(df + 0.5)
        if len(values):
            values[values < 0] = params.epsilon * values.mean()
        return values
    if params.variant == "l":
        return np.log(n + 1) - np.log(df + 0.5)
    return np.log(n + 1) - np.log(df)


def tf_weight(tf: np.ndarray, dl: np.ndarray, avgdl: float, params: BM25Params) -> np.ndarray:
    """The term-frequency part of the score, minus its value at tf = 0."""
    k1, b, delta = params.k1, params.b, params.delta
    norm = 1 - b + b * dl / avgdl if avgdl else np.ones_like(dl, dtype=np.float64)
    tf = tf.astype(np.float64)
    if params.variant == "l":  # rank-bm25 multiplies by tf, so tf = 0 gives 0
        ctd = tf / norm
        return tf * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)
    return tf * (k1 + 1) / (tf + k1 * norm)


def unseen_idf(n: int, params: BM25Params) -> float:
    """The IDF a term would have in one passage: the weight of a question word nobody used."""
    return float(idf(np.array([1]), max(n, 2), params)[0])
