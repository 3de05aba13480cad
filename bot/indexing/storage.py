"""The saved index: analyse a knowledge folder once, load it in seconds next time.

Layout of `<knowledge>/.newsbot/` (or NEWSBOT_INDEX_DIR): `manifest.json` (format version,
BM25 parameters, and each article file's size and mtime, to tell whether the folder changed),
the CSR arrays as `.npy` (memory-mapped on load), the vocabulary, word frequencies and analysed
words as JSON, the passages as one UTF-8 text blob with offsets, and (with the semantic stage)
the text map of `bot/search/semantic/texts.py`; the manifest holds every file's SHA-256.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.errors import IndexFileError
from bot.indexing.build import build_engine
from bot.indexing.checks import check_manifest, check_parts, checksums, verify
from bot.knowledge.articles import Article, article_files, load_articles
from bot.knowledge.passages import Passage
from bot.language.german import Analyzer
from bot.search.engine import Engine
from bot.search.lexical.index import Index
from bot.search.lexical.scoring import BM25Params
from bot.search.semantic.texts import TextMap, load_text_map, save_text_map, text_map

log = logging.getLogger(__name__)
FORMAT = 3  # 2: words.json (the analysed words) added; 3: each file's checksum
ARRAYS = ("indptr", "indices", "weights", "idf")
LEAD = 2  # paragraphs kept per article in articles.json (`loading.example_topic` reads them)


class PassageStore(Sequence[Passage]):
    """Passages read lazily from the saved text blob: a million cost no start-up time."""

    def __init__(self, articles: list[Article], blob: bytes | mmap.mmap, offsets: np.ndarray,
                 owners: np.ndarray, positions: np.ndarray, texts: TextMap | None = None) -> None:
        self.articles, self.blob, self.offsets = articles, blob, offsets
        self.owners, self.positions = owners, positions
        self.texts = texts  # the semantic stage's keys, when saved with the index

    def __len__(self) -> int:
        return len(self.owners)

    def __getitem__(self, i: int) -> Passage:  # type: ignore[override]
        if i < 0:
            i += len(self)
        if i < 0 or i >= len(self):
            raise IndexError(i)
        a = self.articles[int(self.owners[i])]
        text = self.blob[int(self.offsets[i]) : int(self.offsets[i + 1])].decode("utf-8", "replace")
        return Passage(a.name, a.title, a.date, a.dateline, int(self.positions[i]), text, a.url)


def fingerprint(folder: Path, index_dir: Path | None = None) -> dict[str, list[int]]:
    """Each article file's size and modification time: any change means rebuild."""
    return {
        p.relative_to(folder).as_posix(): [stat.st_size, stat.st_mtime_ns]
        for p in article_files(folder, index_dir)
        for stat in [p.stat()]
    }


def save(engine: Engine, target: Path, files: dict[str, list[int]], texts: bool = False) -> None:
    """Write the engine's index to `target` atomically (a temp folder renamed into place).
    `files`: the folder's `fingerprint` taken BEFORE its articles were read, so a file edited
    while the index was built counts as changed (and is indexed again next time). `texts`:
    with the semantic stage's text keys (`bot/search/semantic/texts.py`), so that a start reads them
    instead of splitting and hashing every passage; they are checksummed like every file."""
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")  # this run's own
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _write(engine, tmp, files, keys=texts)
    except BaseException:  # a full disk, Ctrl-C: leave nothing behind that needs space
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if (target / "vectors").is_dir():  # vectors are keyed by text: they outlive a rebuild
        os.replace(target / "vectors", tmp / "vectors")
    old = target.with_name(f"{target.name}.old-{os.getpid()}")  # swap: never missing
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(target: Path) -> None:
    """Remove the temporary folders of saves that were killed (call it holding the lock)."""
    for path in target.parent.glob(f"{target.name}.tmp-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in target.parent.glob(f"{target.name}.old-*"):
        shutil.rmtree(path, ignore_errors=True)


def _write(engine: Engine, tmp: Path, files: dict[str, list[int]], keys: bool) -> None:
    index = engine.index
    for name in ARRAYS:
        np.save(tmp / f"{name}.npy", getattr(index, name))
    names = {a.name: i for i, a in enumerate(engine.articles)}
    texts = [p.text.encode("utf-8") for p in index.passages]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    (tmp / "passages.txt").write_bytes(b"".join(texts))
    np.save(tmp / "offsets.npy", offsets)
    np.save(tmp / "owners.npy", np.array([names[p.article] for p in index.passages], np.int32))
    np.save(tmp / "positions.npy", np.array([p.position for p in index.passages], np.int32))
    vocabulary = sorted(index.vocabulary, key=index.vocabulary.__getitem__)
    _write_json(tmp / "vocabulary.json", vocabulary)
    _write_json(tmp / "frequencies.json", engine.analyzer.frequencies)
    _write_json(tmp / "words.json", engine.analyzer.known_words())
    _write_json(tmp / "articles.json", [  # the text is in passages.txt: keep the leads
        {**asdict(a), "paragraphs": a.paragraphs[:LEAD]} for a in engine.articles
    ])
    if keys:  # before the manifest: its checksums cover the text map too
        save_text_map(text_map(index.passages), tmp)
    _write_json(tmp / "manifest.json", {
        "format": FORMAT, "params": asdict(index.params), "files": files,
        "checksums": checksums(tmp, sorted(p.name for p in tmp.iterdir() if p.is_file())),
    })


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load(target: Path) -> Engine:
    """Load a saved index; raises IndexFileError (naming the file) when it is unreadable or
    damaged (`bot.indexing.checks`)."""
    path = target / "manifest.json"
    try:
        manifest = _read_json(path)
        verify(target, check_manifest(manifest, path))
        params = BM25Params(**manifest["params"])
        path = target / "articles.json"
        articles = [
            Article(**{**a, "paragraphs": tuple(a["paragraphs"])}) for a in _read_json(path)
        ]
        arrays = {}
        for name in ARRAYS:
            path = target / f"{name}.npy"
            arrays[name] = np.load(path, mmap_mode="r")
        path = target / "passages.txt"
        blob = _map(path)
        parts = {}
        for name in ("offsets", "owners", "positions"):
            path = target / f"{name}.npy"
            parts[name] = np.load(path)
        path = target / "text_keys.npy"
        texts = load_text_map(target, len(parts["owners"]))
        store = PassageStore(articles, blob, **parts, texts=texts)
        jsons = []
        for name in ("vocabulary", "frequencies", "words"):
            path = target / f"{name}.json"
            jsons.append(_read_json(path))
        terms, frequencies, known_words = jsons
    except IndexFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IndexFileError(
            f"saved index file {path} is unreadable ({exc}): run `newsbot index`"
        ) from exc
    check_parts(target, arrays, len(store), store.offsets, store.owners, store.positions,
                len(blob), len(articles), terms, frequencies, known_words)
    vocabulary = {term: i for i, term in enumerate(terms)}
    index = Index(store, vocabulary, **arrays, params=params)
    analyzer = Analyzer(Counter(frequencies))
    analyzer.remember(known_words)
    return Engine(articles, index, analyzer)


def _map(path: Path) -> bytes | mmap.mmap:
    """The file's bytes, memory-mapped: a passage's page is read when it is shown."""
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def is_current(folder: Path, target: Path) -> bool:
    """Whether the saved index was built from exactly the folder's current files."""
    try:
        manifest = _read_json(target / "manifest.json")
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and (
        manifest.get("format") == FORMAT
        and manifest.get("params") == asdict(BM25Params())
        and manifest.get("files") == fingerprint(folder, target)
    )


def build_and_save(settings: Settings, progress: bool = False) -> Engine:
    """`newsbot index`: analyse the folder and save the index."""
    started = time.perf_counter()
    folder, target = settings.knowledge_dir, settings.saved_index_dir
    files = fingerprint(folder, target)  # before reading: an edit meanwhile means stale
    engine = build_engine(load_articles(folder, target), progress=progress)
    save(engine, target, files, texts=settings.semantic)
    log.info("saved index of %d passages to %s in %.1f s", len(engine.index),
             settings.saved_index_dir, time.perf_counter() - started)
    if settings.semantic:  # the saved engine: its text map is made, and its passages mapped
        try:
            return load(settings.saved_index_dir)
        except IndexFileError as exc:
            log.warning("%s", exc)
    return engine


def open_index(settings: Settings, skipped: list[str] | None = None) -> Engine:
    """The engine for the knowledge folder: the saved index if current, else built now.
    Files that cannot be read are skipped and, when built now, named in `skipped`."""
    folder, target = settings.knowledge_dir, settings.saved_index_dir
    started = time.perf_counter()
    if not is_current(folder, target):
        _say_if_damaged(target / "manifest.json")
    else:
        try:
            engine = load(target)
        except IndexFileError as exc:
            log.warning("%s; rebuilding", exc)
        else:
            log.info("loaded saved index (%d passages, %d articles) in %.2f s",
                     len(engine.index), len(engine.articles), time.perf_counter() - started)
            return engine
    engine = build_engine(load_articles(folder, target, skipped))
    for article in engine.articles:
        log.debug("article %s: %r (%s)", article.name, article.title, article.date or "no date")
    log.info("indexed %d passages from %d articles in %.2f s", len(engine.index),
             len(engine.articles), time.perf_counter() - started)
    return engine


def _say_if_damaged(path: Path) -> None:
    """A manifest that is there but unreadable is said (one warning); a missing one is not."""
    try:
        manifest = _read_json(path)
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        log.warning("saved index file %s is damaged (%s); rebuilding", path, exc)
        return
    if isinstance(manifest, dict) and manifest.get("format") not in (FORMAT, None):
        log.info("the saved index in %s is of another format: run `newsbot index` to save it "
                 "anew", path.parent)
        return
    try:
        check_manifest(manifest, path)
    except IndexFileError as exc:
        log.warning("%s; rebuilding", exc)
