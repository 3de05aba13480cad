"""The semantic stage joined to a built index: vectors saved beside it, filled now or later.

`attach` gives an engine its model, its saved vectors (`<index>/vectors/`) and the fitted
ranker; every failure there (no model package, an unwritable folder) leaves the engine lexical
with one warning. `embed_all` fills the missing vectors with a progress bar (`newsbot index`,
`eval`); a `Filler` does it in a background thread at low priority while the bot serves, taking
up the new vectors every few seconds. Whoever serves owns that thread: the Telegram app starts
it in `post_init` and stops it in `post_shutdown` and around a reload, the console chat around
its conversation. Nothing here starts a thread by itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from tqdm import tqdm

from bot.config import Settings
from bot.indexing.storage import PassageStore
from bot.knowledge.passages import Passage
from bot.search.engine import Engine
from bot.search.fusion import Ranker
from bot.search.semantic import nearest
from bot.search.semantic.embedding import load_embedder
from bot.search.semantic.stage import Semantic, fill
from bot.search.semantic.vectorcheck import damaged_vectors, discard
from bot.search.semantic.vectors import VectorStore

log = logging.getLogger(__name__)
SMALL = 100  # texts: a knowledge base this small (the seed: ~50) is embedded at start, in seconds
SAVED_MAP = 20_000  # passages: a start without the saved text map says why it is slow
REFRESH = 30.0  # seconds between the background filler's swaps of new vectors


def vectors_dir(settings: Settings) -> Path:
    """Where the vectors are saved (NEWSBOT_VECTORS_DIR, by default inside the index folder)."""
    return settings.saved_vectors_dir


class Stage(NamedTuple):
    """The semantic stage of one index: its vectors, the fitted ranker, the store to fill."""

    semantic: Semantic
    ranker: Ranker
    store: VectorStore


def semantic_stage(passages: Sequence[Passage], settings: Settings, threads: int = 1
                   ) -> Stage | None:
    """The semantic stage for these passages, if they can have one (None: BM25 alone).
    `threads`: for building the vector index; the model runs with the OpenMP threads the
    command line chose (one), and `embed_all` with as many worker threads calling it as it is
    told (as fast, and on a busy machine a stalled thread holds up only its own batch).
    The caller stops any `Filler` writing into the same folder first (one writer at a time)."""
    if not settings.semantic:
        return None
    embedder = load_embedder()
    if embedder is None:
        return None
    nearest.set_threads(threads)
    try:
        ranker = Ranker.load(model=embedder.name)
    except (OSError, ValueError) as exc:
        log.warning("semantic stage off, answering with BM25 alone: the ranker cannot be "
                    "read (%s)", exc)
        return None
    try:  # reads what is saved; the folder is made when the first vectors are
        store = VectorStore(vectors_dir(settings), embedder.name, embedder.dim)
    except OSError as exc:
        log.warning("semantic stage off, answering with BM25 alone: cannot read vectors in %s "
                    "(%s)", vectors_dir(settings), exc.strerror or exc)
        return None
    texts = passages.texts if isinstance(passages, PassageStore) else None
    if texts is None and len(passages) > SAVED_MAP:
        log.info("splitting and hashing %d passages for the semantic stage; `newsbot index` "
                 "saves them with the index, so a start need not", len(passages))
    semantic = Semantic(embedder, passages, store, texts=texts)
    if problem := damaged_vectors(semantic, store):  # never serve garbage silently
        log.warning("%s; embedding them anew", problem)
        discard(store.folder)
        store = VectorStore(vectors_dir(settings), embedder.name, embedder.dim)
        semantic = Semantic(embedder, passages, store, texts=texts)
    return Stage(semantic, ranker, store)


def attach(engine: Engine, settings: Settings, threads: int = 1) -> VectorStore | None:
    """Give an engine built without it its semantic stage (tests, scripts); the store to
    fill, or None. The bot's engines are made whole by `loading.load_engine`."""
    stage = semantic_stage(engine.index.passages, settings, threads)
    if stage is None:
        return None
    engine.semantic, engine.ranker = stage.semantic, stage.ranker
    return stage.store


def missing(engine: Engine) -> int:
    """How many passages still wait for their vectors."""
    return len(engine.semantic.keys) - engine.semantic.count if engine.semantic else 0


def embed_all(semantic: Semantic | None, store: VectorStore, progress: bool = True,
              workers: int = 1) -> None:
    """Embed every missing text now, with a progress bar, `workers` batches at once;
    Ctrl-C keeps what is done."""
    if semantic is None or semantic.complete:
        return
    with tqdm(total=None, unit=" texts", desc="embedding", disable=not progress,
              smoothing=0.1, dynamic_ncols=True) as bar:
        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
        try:
            fill(semantic, store, advance, workers=workers)
        except KeyboardInterrupt:
            semantic.refresh(store)
            bar.close()
            log.warning("embedding stopped: %d of %d texts embedded and saved; `newsbot index` "
                        "goes on where it stopped", bar.n, bar.total or 0)
            raise


class Filler(threading.Thread):
    """Embeds an engine's missing vectors in the background, at low priority. `start()` it;
    `stop()` ends it after the batch it is on (what is done is saved)."""

    def __init__(self, engine: Engine, store: VectorStore) -> None:
        super().__init__(name="newsbot-embed", daemon=True)
        self.engine, self.store = engine, store
        self.stopping = threading.Event()

    def stop(self, timeout: float = 60.0) -> None:
        """Ask it to stop and wait (at most `timeout` seconds) until its batch is saved."""
        self.stopping.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        """Embed, swapping in what is done every REFRESH seconds."""
        semantic = self.engine.semantic
        if semantic is None:
            return
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # this thread only
        except (OSError, AttributeError):
            pass
        started = last = time.monotonic()
        log.info("embedding %d texts of %d passages in the background; until then those "
                 "passages are found by BM25 alone", semantic.todo(),
                 missing(self.engine))

        def progress(done: int, total: int) -> None:
            nonlocal last
            if time.monotonic() - last >= REFRESH:
                last = time.monotonic()
                semantic.refresh(self.store)
                rate = done / (last - started)
                log.info("embedding: %d of %d texts (%.1f/s, %.0f min left)", done, total,
                         rate, (total - done) / max(rate, 1e-9) / 60)

        try:
            fill(semantic, self.store, progress, self.stopping.is_set)
        except OSError as exc:
            log.warning("background embedding stopped: cannot save vectors in %s (%s); set "
                        "NEWSBOT_INDEX_DIR to a folder this user can write", self.store.folder,
                        exc.strerror or exc)
            return
        except Exception:  # the bot keeps serving with what it has
            log.exception("background embedding failed; answering with the vectors it has")
            return
        if self.stopping.is_set():
            log.info("background embedding stopped (what is done is saved)")
            return
        log.info("embedding done: %d passages with vectors (%.0f s)", semantic.count,
                 time.monotonic() - started)


def filler(engine: Engine) -> Filler | None:
    """A (not yet started) background embedder for the engine's missing vectors; None when
    it has no semantic stage or nothing is missing."""
    semantic = engine.semantic
    if semantic is None or semantic.complete:
        return None
    return Filler(engine, semantic.store)

