"""Fusion and the two decisions: one ranking from the lexical and the semantic stage; whether
the question is about anything the news holds (off topic → no answer); and whether the best
passage is surely the answer (not sure → shown under a hedge).

Each candidate (the lexical top and the semantic top, together) is described by features:
its cosine and its best sentence's cosine (each also as the gap to the question's best), its
BM25 score relative to the best, the IDF-weighted share of the question it covers, how many
question words it holds, its rank in each stage, whether its best sentence (or the passage)
holds the kind of answer the question asks for (`answer_type`), and its article's evidence
(how many of the candidates come from the same article, how near the article's best cosine is
to the question's best, whether it is the article's best, whether it is the lead). A linear
model over them ranks the candidates (a conditional logit: softmax over one question's
candidates, McFadden 1973). Two logistic models decide (the first with a lexical clause: a
passage holding a fitted share of the question's words): `on_topic` over question-level
evidence (the best cosines, their lead over the question's baseline — its mean cosine to a
fixed set of unrelated news sentences, so the same in a one-article knowledge base as in an
archive — and the best coverage), `sure` over the best candidate's evidence.
All are fitted on dev questions by `make fit` (scripts/fit_ranker.py) and stored as data in
`ranker.json` beside this module, with the embedding model they were fitted for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.search.candidates import ABSENT, Candidates, Decision
from bot.search.linear import Linear, logistic
from bot.search.query import Query
from bot.search.sentence import SENTENCE_FEATURES, Shown, answering_sentence

RANKER_FILE = Path(__file__).with_name("ranker.json")
RANK_FEATURES = ("cos", "sentence_cos", "cos_gap", "sentence_gap", "bm25", "coverage",
                 "matched", "lexical_rank", "dense_rank", "lexical", "sentence_type",
                 "passage_type", "article_share", "article_gap", "article_best", "lead")
ON_TOPIC_FEATURES = ("cos", "sentence_cos", "baseline_gap", "sentence_baseline_gap",
                     "coverage", "matched", "english")
SURE_FEATURES = ("cos", "sentence_cos", "coverage", "matched", "fused", "lead", "sentence_type",
                 "article_share", "english")


def _known(values: np.ndarray, floor: float) -> np.ndarray:
    return np.where(np.isnan(values), floor, values)


def rank_features(c: Candidates) -> np.ndarray:
    """The ranking features, one row per candidate (RANK_FEATURES)."""
    known = ~np.isnan(c.cos)
    floor = float(np.nanmin(c.cos)) if known.any() else 0.0
    cos, sentence_cos = _known(c.cos, floor), _known(c.sentence_cos, floor)
    best_bm25 = float(c.bm25.max()) if len(c) and c.bm25.max() > 0 else 1.0
    # the article's evidence: its candidates, its best cosine, this one its best?
    _, where, counts = np.unique(c.article, return_inverse=True, return_counts=True)
    article_best = np.full(len(counts), -np.inf)
    np.maximum.at(article_best, where, cos)
    return np.column_stack([
        cos, sentence_cos, cos - cos.max(initial=0.0), sentence_cos - sentence_cos.max(initial=0.0),
        c.bm25 / best_bm25, c.coverage, np.minimum(c.matched, 5) / 5,
        1 / (1 + c.lexical_rank), 1 / (1 + c.dense_rank), (c.lexical_rank < ABSENT) * 1.0,
        c.sentence_type, c.passage_type, counts[where] / max(len(c), 1),
        article_best[where] - cos.max(initial=0.0), (cos >= article_best[where]) * 1.0,
        (c.position == 0) * 1.0,
    ]).astype(np.float64)


def on_topic_features(c: Candidates) -> np.ndarray:
    """The question-level evidence that the news speaks of it at all (ON_TOPIC_FEATURES)."""
    known = ~np.isnan(c.cos)
    if not known.any():
        return np.array([0.0, 0.0, 0.0, 0.0, float(c.coverage.max(initial=0.0)),
                         float(np.minimum(c.matched, 5).max(initial=0)) / 5, float(c.english)])
    best, best_sentence = float(np.nanmax(c.cos)), float(np.nanmax(c.sentence_cos))
    return np.array([
        best, best_sentence, best - c.baseline, best_sentence - c.baseline,
        float(c.coverage.max()),
        float(np.minimum(c.matched, 5).max()) / 5, float(c.english),
    ])


def sure_features(c: Candidates, x: np.ndarray, fused: np.ndarray, at: int,
                  lead: float) -> np.ndarray:
    """The evidence that candidate `at` (rank features `x`) is the answer (SURE_FEATURES)."""
    row = x[at]
    return np.array([row[0], row[1], c.coverage[at], row[6], fused[at], lead, row[10], row[12],
                     float(c.english)])


def covered(c: Candidates, share: float) -> bool:
    """The lexical clause of the off-topic decision: a passage holds at least `share` of the
    question's IDF-weighted words, two of them at least (names the news mentions: "Wer ist
    Kevin Mayer?"). A share above 1 turns it off."""
    return bool(((c.coverage >= share) & (c.matched >= 2)).any())


@dataclass(frozen=True)
class Ranker:
    """The fitted ranking model and the two decisions, for one embedding model."""

    rank: Linear
    on_topic: Linear
    on_topic_threshold: float  # answer at all when the probability reaches it
    on_topic_coverage: float  # … or when a passage holds this share of the question (2+ words)
    sure: Linear
    sure_threshold: float  # answer without a hedge when the probability reaches it
    sentence: Linear  # scores the shown passages' sentences: the best is marked
    companion_depth: int = 0  # a same-article passage this high in the order is shown too
    model: str = ""  # the embedding model the weights were fitted for

    def order(self, c: Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The candidates' order, best first, their fused scores and rank features."""
        x = rank_features(c)
        fused = self.rank(x)
        return np.lexsort((c.ids, -fused)), fused, x

    def decide(self, c: Candidates) -> Decision:
        """Rank the candidates and take both decisions about the best."""
        order, fused, x = self.order(c)
        if not len(c):
            return Decision(order, fused, False, False, x)
        top = int(order[0])
        lead = float(fused[top] - fused[order[1]]) if len(order) > 1 else 1.0
        on_topic = logistic(float(self.on_topic(on_topic_features(c)))) >= \
            self.on_topic_threshold or covered(c, self.on_topic_coverage)
        sure = on_topic and logistic(float(self.sure(sure_features(c, x, fused, top, lead)))) \
            >= self.sure_threshold
        return Decision(order, fused, on_topic, sure, x)

    def answers(self, c: Candidates, decision: Decision, at: int) -> bool:
        """Whether candidate `at` answers as a later answer ("more"): the sure model, as if
        tied with the one before, says yes."""
        x = sure_features(c, decision.features, decision.fused, at, 0.0)
        return logistic(float(self.sure(x))) >= self.sure_threshold

    def later(self, c: Candidates, decision: Decision, places: Sequence[int]) -> list[int]:
        """The next answers as long as each answers (`answers`): "more" stops at the first
        that doesn't."""
        kept = []
        for at in places:
            if not self.answers(c, decision, at):
                break
            kept.append(at)
        return kept

    def mark(self, query: Query, shown: Sequence[Shown],
             analyze: Callable[[str], list[str]]) -> str:
        """The sentence to mark in the shown passages (the fitted sentence model)."""
        return answering_sentence(self.sentence, query, shown, analyze)

    @classmethod
    def load(cls, path: Path = RANKER_FILE, model: str | None = None) -> Ranker:
        """The fitted ranker; a ValueError when it was fitted for other features or another
        embedding model (`model`: the model in use)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, names in (("rank_features", RANK_FEATURES),
                           ("on_topic_features", ON_TOPIC_FEATURES),
                           ("sure_features", SURE_FEATURES),
                           ("sentence_features", SENTENCE_FEATURES)):
            if data.get(key) != list(names):
                raise ValueError(f"{path} was fitted for other features: run `make fit`")
        if model is not None and data.get("model") != model:
            raise ValueError(f"{path} was fitted for the embedding model {data.get('model')!r}, "
                             f"not {model!r}: run `make fit`")
        return cls(Linear.from_json(data["rank"]), Linear.from_json(data["on_topic"]),
                   float(data["on_topic_threshold"]), float(data["on_topic_coverage"]),
                   Linear.from_json(data["sure"]),
                   float(data["sure_threshold"]), Linear.from_json(data["sentence"]),
                   int(data["companion_depth"]), str(data.get("model", "")))
