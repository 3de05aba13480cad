"""Fusion and abstention: one ranking from the lexical and the semantic stage, and whether its
best passage answers at all.

Each candidate (the lexical top and the semantic top, together) is described by a few
features: its cosine and its best sentence's cosine (each also as the gap to the question's
best), its BM25 score relative to the best, the IDF-weighted share of the question it covers,
how many question words it holds, and its rank in each stage. A linear model over them ranks
the candidates (a conditional logit: softmax over one question's candidates, McFadden 1973);
a logistic model over the best candidate's features and its lead over the next decides whether
to answer. Both are fitted on dev questions by `make fit` (scripts/fit_ranker.py) and stored
as data in `ranker.json` beside this module; nothing here is tuned by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RANKER_FILE = Path(__file__).with_name("ranker.json")
ABSENT = 100  # the rank of a candidate the stage did not return
RANK_FEATURES = ("cos", "sentence_cos", "cos_gap", "sentence_gap", "bm25", "coverage",
                 "matched", "lexical_rank", "dense_rank", "lexical")
ANSWER_FEATURES = ("cos", "sentence_cos", "coverage", "matched", "fused", "lead")


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
    best_sentence: list[int] = field(default_factory=list)

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
            self.sentence_cos[keep],
            [b for b, k in zip(self.best_sentence, keep, strict=True) if k],
        )


def rank_features(c: Candidates) -> np.ndarray:
    """The ranking features, one row per candidate (RANK_FEATURES)."""
    known = ~np.isnan(c.cos)
    floor = float(np.nanmin(c.cos)) if known.any() else 0.0
    cos = np.where(known, c.cos, floor)
    sentence_cos = np.where(known, c.sentence_cos, floor)
    best_bm25 = float(c.bm25.max()) if len(c) and c.bm25.max() > 0 else 1.0
    return np.column_stack([
        cos, sentence_cos, cos - cos.max(initial=0.0), sentence_cos - sentence_cos.max(initial=0.0),
        c.bm25 / best_bm25, c.coverage, np.minimum(c.matched, 5) / 5,
        1 / (1 + c.lexical_rank), 1 / (1 + c.dense_rank), (c.lexical_rank < ABSENT) * 1.0,
    ]).astype(np.float64)


def answer_features(c: Candidates, fused: np.ndarray, at: int, lead: float) -> np.ndarray:
    """The abstention features of candidate `at` (ANSWER_FEATURES)."""
    x = rank_features(c)[at]
    return np.array([x[0], x[1], c.coverage[at], x[6], fused[at], lead])


@dataclass(frozen=True)
class Linear:
    """A standardised linear model: w · (x − mean) / scale + bias."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict) -> Linear:
        return cls(np.array(data["mean"]), np.array(data["scale"]), np.array(data["weights"]),
                   float(data.get("bias", 0.0)))


@dataclass(frozen=True)
class Ranker:
    """The fitted ranking and abstention models."""

    rank: Linear
    answer: Linear
    threshold: float  # answer when the probability reaches it

    def order(self, c: Candidates) -> tuple[np.ndarray, np.ndarray]:
        """The candidates' order, best first, and their fused scores."""
        fused = self.rank(rank_features(c))
        return np.lexsort((c.ids, -fused)), fused

    def probability(self, c: Candidates, fused: np.ndarray, at: int, lead: float) -> float:
        """How likely candidate `at` answers the question (the logistic of the answer model)."""
        return float(1 / (1 + np.exp(-self.answer(answer_features(c, fused, at, lead)))))

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> Ranker:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("rank_features") != list(RANK_FEATURES) or \
                data.get("answer_features") != list(ANSWER_FEATURES):
            raise ValueError(f"{path} was fitted for other features: run `make fit`")
        return cls(Linear.from_json(data["rank"]), Linear.from_json(data["answer"]),
                   float(data["threshold"]))
