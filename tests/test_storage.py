"""bot.indexing.storage: the saved index — same answers, staleness, rebuilds, corruption."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.errors import IndexFileError, KnowledgeError
from bot.indexing import storage
from bot.knowledge.passages import Passage

QUESTIONS = [
    "Wer will Tiktok kaufen?",
    "Wie viele Nutzer hat Tiktok weltweit?",
    "Wer ist der neue Trainer von Werder Bremen?",
    "Wie heiß war es in Ihringen?",
    "Wie wird das Wetter morgen?",
]


@pytest.fixture
def settings(knowledge_copy, tmp_path):
    return Settings(knowledge_dir=knowledge_copy, cache_dir=tmp_path / "cache")


@pytest.fixture
def saved(settings):
    """A freshly saved index: (engine that built it, settings)."""
    return storage.build_and_save(settings), settings


def _answers(engine, question):
    return [(h.id, h.passage, round(h.score, 5), round(h.coverage, 5))
            for h in engine.ask(question).hits]


def test_index_is_saved_in_the_hidden_folder(saved):
    _, settings = saved
    target = settings.knowledge_dir / ".newsbot"
    assert (target / "manifest.json").is_file()
    assert not (settings.knowledge_dir / ".newsbot.tmp").exists()


def test_saved_index_is_not_read_as_an_article(saved):
    _, settings = saved
    assert all(not p.name.startswith(".") for p in storage.article_files(settings.knowledge_dir))
    assert len(storage.load_articles(settings.knowledge_dir)) == 4


@pytest.mark.parametrize("question", QUESTIONS)
def test_loaded_index_gives_the_same_answers(saved, question):
    built, settings = saved
    loaded = storage.load(settings.saved_index_dir)
    assert _answers(loaded, question) == _answers(built, question)


def test_loaded_index_has_the_articles(saved):
    built, settings = saved
    loaded = storage.load(settings.saved_index_dir)
    leads = [replace(a, paragraphs=a.paragraphs[: storage.LEAD]) for a in built.articles]
    assert loaded.articles == leads  # the full text is in the passages
    assert len(loaded.index) == len(built.index)


def test_index_dir_setting_is_honoured(knowledge_copy, tmp_path):
    settings = Settings(knowledge_dir=knowledge_copy, index_dir=tmp_path / "elsewhere")
    storage.build_and_save(settings)
    assert (tmp_path / "elsewhere" / "manifest.json").is_file()
    assert not (knowledge_copy / ".newsbot").exists()


def test_is_current_after_saving(saved):
    _, settings = saved
    assert storage.is_current(settings.knowledge_dir, settings.saved_index_dir)


def test_is_current_false_without_saved_index(settings):
    assert not storage.is_current(settings.knowledge_dir, settings.saved_index_dir)


def test_is_current_false_after_touching_a_file(saved):
    _, settings = saved
    path = next(settings.knowledge_dir.glob("*.txt"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not storage.is_current(settings.knowledge_dir, settings.saved_index_dir)


def test_an_article_edited_during_the_build_is_not_recorded_as_current(settings, monkeypatch):
    """The race of `newsbot index`: a file edited after it was read but before the manifest is
    written must count as changed, so the next start indexes its new text."""
    path = next(settings.knowledge_dir.glob("*.txt"))
    build = storage.build_engine

    def build_while_editing(articles, **kwargs):
        engine = build(articles, **kwargs)  # the articles are read: now the file changes
        path.write_text(path.read_text(encoding="utf-8") + "\n\nEin neuer Absatz.\n",
                        encoding="utf-8")
        return engine

    monkeypatch.setattr(storage, "build_engine", build_while_editing)
    engine = storage.build_and_save(settings)
    assert not any("neuer Absatz" in p.text for p in engine.index.passages)  # the old text
    assert not storage.is_current(settings.knowledge_dir, settings.saved_index_dir)
    monkeypatch.undo()
    reopened = storage.open_index(settings)  # rebuilt, with the new text
    assert any("neuer Absatz" in p.text for p in reopened.index.passages)


def test_is_current_false_after_adding_a_file(saved):
    _, settings = saved
    (settings.knowledge_dir / "neu.txt").write_text("Ein neuer Artikel.", encoding="utf-8")
    assert not storage.is_current(settings.knowledge_dir, settings.saved_index_dir)


def test_is_current_false_after_removing_a_file(saved):
    _, settings = saved
    next(settings.knowledge_dir.glob("*.txt")).unlink()
    assert not storage.is_current(settings.knowledge_dir, settings.saved_index_dir)


def test_is_current_ignores_non_article_files(saved):
    _, settings = saved
    (settings.knowledge_dir / "bild.jpg").write_bytes(b"\xff\xd8")
    assert storage.is_current(settings.knowledge_dir, settings.saved_index_dir)


def test_open_index_loads_a_current_index(saved, caplog):
    _, settings = saved
    with caplog.at_level(logging.INFO, logger="bot.indexing.storage"):
        engine = storage.open_index(settings)
    assert isinstance(engine.index.passages, storage.PassageStore)
    assert any("loaded saved index" in r.getMessage() for r in caplog.records)


def test_open_index_rebuilds_when_stale(saved):
    _, settings = saved
    (settings.knowledge_dir / "neu.txt").write_text(
        "date 2025-01 KIEL: Der Zauberwürfel-Weltrekord fiel in Kiel.", encoding="utf-8"
    )
    engine = storage.open_index(settings)
    assert not isinstance(engine.index.passages, storage.PassageStore)
    answers = engine.ask("Wo fiel der Zauberwürfel-Weltrekord?")
    assert answers.found
    assert answers.hits[0].passage.article == "neu.txt"


def test_open_index_without_saved_index_builds(settings):
    engine = storage.open_index(settings)
    assert engine.ask("Wer will Tiktok kaufen?").found


def test_open_index_on_missing_folder_is_a_knowledge_error(tmp_path):
    with pytest.raises(KnowledgeError):
        storage.open_index(Settings(knowledge_dir=tmp_path / "nowhere"))


def test_load_of_missing_index_is_an_index_file_error(tmp_path):
    with pytest.raises(IndexFileError, match="newsbot index"):
        storage.load(tmp_path / "nothing")


def _corrupt_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


CORRUPTIONS = {
    "garbage indptr.npy": ("indptr.npy", lambda p: p.write_bytes(b"garbage")),
    "bad numpy header": ("weights.npy", lambda p: p.write_bytes(b"\x93NUMPY nonsense")),
    "truncated vocabulary.json": ("vocabulary.json", _corrupt_truncate),
    "missing passages.txt": ("passages.txt", Path.unlink),
    "missing owners.npy": ("owners.npy", Path.unlink),
    "articles.json of wrong shape": ("articles.json", lambda p: p.write_text('[{"x": 1}]')),
}

CORRUPTIONS_XFAIL = {
    "empty articles.json list": ("articles.json", lambda p: p.write_text("[]")),
    "non-UTF-8 passages.txt": ("passages.txt", lambda p: p.write_bytes(b"\xff\xfe" * 3000)),
    "empty passages.txt": ("passages.txt", lambda p: p.write_bytes(b"")),
    "weights.npy too short": (
        "weights.npy", lambda p: np.save(p, np.zeros(3, dtype=np.float32))
    ),
    "indptr.npy too short": ("indptr.npy", lambda p: np.save(p, np.zeros(3, dtype=np.int64))),
}


def _corrupt_and_ask(saved, name, damage):
    _, settings = saved
    damage(settings.saved_index_dir / name)
    assert storage.is_current(settings.knowledge_dir, settings.saved_index_dir)
    engine = storage.open_index(settings)
    return engine.ask("Wer will Tiktok kaufen?")


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupt_index_is_rebuilt_with_a_warning(saved, caplog, case):
    name, damage = CORRUPTIONS[case]
    with caplog.at_level(logging.WARNING, logger="bot.indexing.storage"):
        answers = _corrupt_and_ask(saved, name, damage)
    assert answers.found
    assert "Microsoft" in answers.hits[0].passage.text
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("rebuilding" in r.getMessage() for r in warnings)


@pytest.mark.parametrize("case", list(CORRUPTIONS_XFAIL))
def test_inconsistent_index_is_rebuilt_not_a_crash(saved, case):
    name, damage = CORRUPTIONS_XFAIL[case]
    answers = _corrupt_and_ask(saved, name, damage)
    assert answers.found
    assert "Microsoft" in answers.hits[0].passage.text


def test_garbage_manifest_means_rebuild(saved):
    _, settings = saved
    (settings.saved_index_dir / "manifest.json").write_text("not json")
    assert not storage.is_current(settings.knowledge_dir, settings.saved_index_dir)
    assert storage.open_index(settings).ask("Wer will Tiktok kaufen?").found


def test_other_bm25_params_mean_rebuild(saved):
    _, settings = saved
    manifest = settings.saved_index_dir / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"plus"', '"okapi"'))
    assert not storage.is_current(settings.knowledge_dir, settings.saved_index_dir)


def test_resaving_replaces_the_index(saved):
    _, settings = saved
    (settings.knowledge_dir / "neu.txt").write_text("Ein neuer Artikel.", encoding="utf-8")
    storage.build_and_save(settings)
    assert storage.is_current(settings.knowledge_dir, settings.saved_index_dir)
    assert len(storage.load(settings.saved_index_dir).articles) == 5


# --- PassageStore ------------------------------------------------------------------------


def test_passage_store_reads_passages_exactly(saved):
    built, settings = saved
    store = storage.load(settings.saved_index_dir).index.passages
    assert len(store) == len(built.index.passages)
    assert list(store) == list(built.index.passages)
    assert all(isinstance(p, Passage) for p in store)


def test_passage_store_out_of_range(saved):
    _, settings = saved
    store = storage.load(settings.saved_index_dir).index.passages
    with pytest.raises(IndexError):
        store[len(store)]
    with pytest.raises(IndexError):
        store[-len(store) - 1]


def test_passage_store_keeps_non_ascii_text(saved):
    _, settings = saved
    store = storage.load(settings.saved_index_dir).index.passages
    assert any("Weißen Haus" in p.text for p in store)
    assert any("«Wall Street Journal»" in p.text for p in store)
