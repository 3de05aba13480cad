"""The semantic stage: passages and their sentences as vectors, searched by cosine.

A passage is embedded with its article's title (a later paragraph rarely names its topic);
each of its sentences is embedded alone, so a question can meet the one sentence that answers
it. Vectors live in a `VectorStore` keyed by text; this module maps an index's passages onto
it, embeds what is missing (`fill`), and answers a question's cosines. Passages without a
vector yet simply don't take part (the lexical stage still finds them).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from bot.knowledge.passages import Passage
from bot.knowledge.sentences import split_sentences
from bot.search.embedding import Embedder
from bot.search.nearest import SCAN_LIMIT, Scan, nearest
from bot.search.vectors import KEY_BYTES, VectorStore, text_key

log = logging.getLogger(__name__)
MAP_SAVED_ABOVE = 20_000  # passages: above this the sentence map is saved beside the vectors
MAP_VERSION = b"1"  # raise when `passage_sentences` splits differently
BATCH = 16  # texts per call of the model: what one Ctrl-C or crash can lose at most


def passage_text(passage: Passage) -> str:
    """What is embedded for a passage: the article's title, then the passage."""
    if not passage.title or passage.text.startswith(passage.title[:40].rstrip("…")):
        return passage.text
    return f"{passage.title}\n{passage.text}"


def passage_sentences(passage: Passage) -> list[str]:
    """The passage's sentences, as embedded and shown."""
    return split_sentences(passage.text) or [passage.text]


class Sentences:
    """Each passage's sentences, split when asked (not millions of strings kept)."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = passages

    def __len__(self) -> int:
        return len(self.passages)

    def __getitem__(self, i: int) -> list[str]:
        return passage_sentences(self.passages[i])

    def __iter__(self) -> Iterator[list[str]]:
        return (passage_sentences(p) for p in self.passages)


def sentence_map(passages: Sequence[Passage], keys: list[bytes],
                 folder: Path) -> tuple[np.ndarray, bytes]:
    """Where each passage's sentences start, and every sentence's key (one blob). Splitting a
    million passages into sentences takes a minute, so for a big index the map is saved beside
    the vectors, named by a digest of the passages' keys, and read at the next start."""
    path = None
    if len(passages) > MAP_SAVED_ABOVE and folder.is_dir():
        digest = hashlib.blake2b(MAP_VERSION + b"".join(keys), digest_size=12).hexdigest()
        path = folder / f"sentences-{digest}.npz"
        try:
            with np.load(path) as saved:
                return saved["ptr"], saved["keys"].tobytes()
        except (OSError, ValueError, KeyError):
            pass
    ptr, blob = np.zeros(len(passages) + 1, np.int64), bytearray()
    for i, p in enumerate(passages):
        sentences = passage_sentences(p)
        blob += b"".join(map(text_key, sentences))
        ptr[i + 1] = ptr[i] + len(sentences)
    if path is not None:
        try:
            with open(path.with_suffix(".tmp"), "wb") as f:
                np.savez(f, ptr=ptr, keys=np.frombuffer(blob, np.uint8))
            os.replace(path.with_suffix(".tmp"), path)
            for old in folder.glob("sentences-*.npz"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("sentence map not saved in %s: %s", folder, exc)
    return ptr, bytes(blob)


class Semantic:
    """Vectors of one index's passages and sentences, and the cosine search over them."""

    def __init__(self, embedder: Embedder, passages: Sequence[Passage], store: VectorStore,
                 scan_limit: int = SCAN_LIMIT):
        self.embedder, self.passages, self.scan_limit = embedder, passages, scan_limit
        self.sentences = Sentences(passages)
        self.keys = [text_key(passage_text(p)) for p in passages]
        # one blob, not millions of small bytes objects
        self.sentence_ptr, self._sentence_keys = sentence_map(passages, self.keys, store.folder)
        self._state: tuple = (np.zeros(0, np.int64), np.zeros(0, np.int64),
                              np.zeros(len(passages), bool), 0, Scan(np.zeros(0, np.int64),
                                                                     np.zeros((0, store.dim))),
                              store)
        self.refresh(store)

    @property
    def store(self) -> VectorStore:
        """Where the vectors are kept (and `fill` saves new ones)."""
        return self._state[5]

    @property
    def sentence_keys(self) -> list[bytes]:
        """Every sentence's key, passage by passage."""
        blob = self._sentence_keys
        return [blob[i : i + KEY_BYTES] for i in range(0, len(blob), KEY_BYTES)]

    def refresh(self, store: VectorStore) -> None:
        """Take up the vectors the store has now (after `fill`). Only row numbers are kept:
        vectors are read from the memory-mapped store when asked, except what the search
        holds (`bot/search/nearest.py`)."""
        rows, sentence_rows = store.rows(self.keys), store.rows(self.sentence_keys)
        # a passage takes part once its vector and all its sentences' vectors are there
        missing_sentence = np.add.reduceat(sentence_rows < 0, self.sentence_ptr[:-1]) > 0 \
            if len(sentence_rows) else np.zeros(len(rows), bool)
        ready = (rows >= 0) & ~missing_sentence
        count = int(ready.sum())
        search = self._state[4]
        # an index is rebuilt when 10 % more passages are ready (or all): not every batch
        if count != search.size and (count <= self.scan_limit or count == len(rows)
                                     or count >= 1.1 * search.size):
            ids = np.flatnonzero(ready)
            search = nearest(store, ids, rows[ids], self.scan_limit)
        # one assignment: a question being answered sees the old arrays or the new, not a mix
        self._state = (rows, sentence_rows, ready, count, search, store)

    def todo(self) -> int:
        """How many distinct texts (passages and sentences) still need a vector, as of the
        last `refresh` (read off its row numbers: the store is not asked again)."""
        rows, sentence_rows = self._state[:2]
        blob = self._sentence_keys
        return len({self.keys[i] for i in np.flatnonzero(rows < 0)}
                   | {blob[i * KEY_BYTES : (i + 1) * KEY_BYTES]
                      for i in np.flatnonzero(sentence_rows < 0)})

    @property
    def count(self) -> int:
        """How many passages have their vectors."""
        return self._state[3]

    @property
    def complete(self) -> bool:
        """Whether every passage has its vectors."""
        return self.count == len(self.keys)

    def embed(self, question: str) -> np.ndarray:
        """The question's unit vector."""
        return self.embedder.queries([question])[0]

    def top(self, vector: np.ndarray, k: int) -> list[int]:
        """The k passages nearest to the vector (those with vectors), nearest first."""
        return self._state[4].top(vector, k) if self._state[3] else []

    def cosines(self, vector: np.ndarray, passages: Sequence[int] | np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """For each passage: its cosine, its best sentence's cosine and that sentence's number
        (NaN and 0 for a passage without vectors). Reads only these passages' vectors."""
        rows, sentence_rows, ready, _, _, store = self._state
        ids = np.asarray(passages, np.int64)
        cos = np.full(len(ids), np.nan, np.float32)
        best_cos = np.full(len(ids), np.nan, np.float32)
        best = [0] * len(ids)
        have = ids[ready[ids]] if len(ids) else ids
        if not len(have):
            return cos, best_cos, best
        starts, ends = self.sentence_ptr[have], self.sentence_ptr[have + 1]
        gather = np.concatenate([sentence_rows[a:b] for a, b in zip(starts, ends, strict=True)])
        passage_cos = store.vectors(rows[have]).astype(np.float32) @ vector
        sentence_cos = store.vectors(gather).astype(np.float32) @ vector
        lengths = (ends - starts).tolist()
        offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
        places = np.flatnonzero(ready[ids]).tolist()
        for n, j in enumerate(places):
            s = sentence_cos[offsets[n] : offsets[n + 1]]
            cos[j] = passage_cos[n]
            best[j] = int(np.argmax(s))
            best_cos[j] = s[best[j]]
        return cos, best_cos, best

    def sentence_cosines(self, vector: np.ndarray, i: int) -> np.ndarray:
        """The cosine of each sentence of passage i (NaN without vectors)."""
        rows, sentence_rows, ready = self._state[:3]
        start, end = int(self.sentence_ptr[i]), int(self.sentence_ptr[i + 1])
        if not ready[i]:
            return np.full(end - start, np.nan, np.float32)
        return self._state[5].vectors(sentence_rows[start:end]).astype(np.float32) @ vector


def fill(semantic: Semantic, store: VectorStore, progress: Callable[[int, int], None] | None = None,
         stop: Callable[[], bool] = lambda: False) -> int:
    """Embed every text of the index that has no vector yet, BATCH at a time, saving each
    batch; `progress(done, total)` after each. Returns how many texts were embedded."""
    texts: dict[bytes, str] = {}
    for i in np.flatnonzero(store.rows(semantic.keys) < 0):
        texts.setdefault(semantic.keys[i], passage_text(semantic.passages[int(i)]))
    sentence_keys = semantic.sentence_keys  # built from a blob: once, not per sentence
    missing = np.flatnonzero(store.rows(sentence_keys) < 0)
    if len(missing):
        flat = [s for ss in semantic.sentences for s in ss]
        for i in missing:
            texts.setdefault(sentence_keys[i], flat[int(i)])
    todo, done, started = list(texts.items()), 0, time.perf_counter()
    for start in range(0, len(todo), BATCH):
        if stop():
            break
        batch = todo[start : start + BATCH]
        store.append([k for k, _ in batch], semantic.embedder.passages([t for _, t in batch]))
        done += len(batch)
        if progress:
            progress(done, len(todo))
    if todo:
        log.debug("embedded %d texts in %.1f s", done, time.perf_counter() - started)
    if not stop():  # stopped: the engine is being replaced, its search not rebuilt
        semantic.refresh(store)
    return done
