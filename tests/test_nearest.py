"""The vector search behind the semantic stage: exact scan, and the saved IVF index above the
scan limit; the semantic stage's memory plan (row numbers, not copies of the vectors)."""

from __future__ import annotations

import numpy as np
import pytest
from test_semantic import ARTICLES, HashEmbedder

from bot.indexing.build import build_engine
from bot.knowledge.articles import parse_article
from bot.search.semantic import nearest
from bot.search.semantic.stage import Semantic, fill
from bot.search.semantic.vectors import VectorStore, text_key

DIM = 32


def _store(tmp_path, n: int = 3000) -> tuple[VectorStore, np.ndarray]:
    rng = np.random.default_rng(1)
    centers = rng.standard_normal((40, DIM))
    x = centers[rng.integers(0, 40, n)] + 0.5 * rng.standard_normal((n, DIM))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    store = VectorStore(tmp_path / "vectors", "synthetic", DIM)
    store.append([text_key(str(i)) for i in range(n)], x)
    return store, x


def test_scan_is_exact_and_orders_ties_by_number(tmp_path):
    store, x = _store(tmp_path, 200)
    ids = np.arange(0, 400, 2)
    search = nearest.nearest(store, ids, np.arange(200))
    assert isinstance(search, nearest.Scan)
    q = x[7]
    exact = np.argsort(-(store.vectors(np.arange(200)).astype(np.float32) @ q), kind="stable")
    assert search.top(q, 5) == (ids[exact[:5]]).tolist()
    assert nearest.Scan(np.array([3, 1]), np.ones((2, DIM))).top(np.ones(DIM), 2) == [1, 3]


@pytest.mark.skipif(nearest.faiss is None, reason="faiss-cpu not installed")
def test_inverted_index_finds_the_nearest_and_is_saved_and_reused(tmp_path, monkeypatch):
    store, x = _store(tmp_path)
    ids, rows = np.arange(3000) + 10, np.arange(3000)
    search = nearest.nearest(store, ids, rows, limit=1000)
    assert isinstance(search, nearest.Inverted) and search.size == 3000
    saved = list(store.folder.glob("ivf-*.faiss"))
    assert len(saved) == 1
    recall = []
    for q in x[:50]:
        exact = set((np.argsort(-(x @ q))[:10] + 10).tolist())
        recall.append(len(exact & set(search.top(q, 10))) / 10)
    assert np.mean(recall) >= 0.9
    monkeypatch.setattr(nearest, "_build", lambda *a: pytest.fail("built again"))
    again = nearest.nearest(store, ids, rows, limit=1000)
    assert again.top(x[0], 10) == search.top(x[0], 10)


@pytest.mark.skipif(nearest.faiss is None, reason="faiss-cpu not installed")
def test_semantic_above_the_scan_limit_answers_like_the_scan(tmp_path):
    engine = build_engine([parse_article(n, t) for n, t in ARTICLES.items()])
    embedder = HashEmbedder()
    store = VectorStore(tmp_path / "v", embedder.name, embedder.dim)
    exact = Semantic(embedder, engine.index.passages, store)
    fill(exact, store)
    indexed = Semantic(embedder, engine.index.passages, store, scan_limit=1)
    assert isinstance(indexed._state[4], nearest.Inverted)
    vector = embedder.queries(["Streik der Lokführer"])[0]
    assert indexed.top(vector, 3) == exact.top(vector, 3)
    ids = list(range(len(engine.index.passages)))
    for a, b in zip(indexed.cosines(vector, ids), exact.cosines(vector, ids), strict=True):
        np.testing.assert_array_equal(a, b)


def test_semantic_keeps_row_numbers_not_vector_copies(tmp_path):
    engine = build_engine([parse_article(n, t) for n, t in ARTICLES.items()])
    embedder = HashEmbedder()
    store = VectorStore(tmp_path / "v", embedder.name, embedder.dim)
    semantic = Semantic(embedder, engine.index.passages, store)
    fill(semantic, store)
    rows, sentence_rows = semantic._state[:2]
    assert rows.dtype == sentence_rows.dtype == np.int64
    assert len(sentence_rows) == semantic.sentence_ptr[-1]
    assert all(not isinstance(a, np.ndarray) or a.ndim == 1 for a in semantic._state)
