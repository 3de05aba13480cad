"""The semantic stage: passages and their sentences as vectors, searched by cosine.

Vectors live in a `VectorStore` keyed by text (`texts.py` says which texts); this module
maps an index's passages onto the store's rows, embeds what is missing (`fill`), and answers
a question's cosines. Passages without a vector yet simply don't take part (the
lexical stage still finds them). The row numbers are saved beside the vectors
(`rows-<digest>.npy`, named by the passages' keys), so a start reads them instead of looking
up millions of keys; only those still missing are looked up again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bot.knowledge.passages import Passage
from bot.search.semantic.embedding import Embedder
from bot.search.semantic.nearest import SCAN_LIMIT, Scan, nearest
from bot.search.semantic.texts import (
    MAP_VERSION,
    Sentences,
    TextMap,
    passage_sentences,
    passage_text,
    text_map,
)
from bot.search.semantic.vectors import VectorStore, key_array, text_key

__all__ = ["Semantic", "fill", "passage_sentences", "passage_text"]
log = logging.getLogger(__name__)
BASELINE_FILE = Path(__file__).with_name("background.txt")  # unrelated news sentences
BATCH = 16  # texts per call of the model: what one Ctrl-C or crash can lose at most
CHECKED = 64  # saved row numbers compared with the store's keys before they are trusted
QUESTION_THREADS = 2  # questions embedded at once (as many as the handlers' worker threads)
_questions: ThreadPoolExecutor | None = None  # started by the first `embed_soon`
_starting = threading.Lock()


class Semantic:
    """Vectors of one index's passages and sentences, and the cosine search over them."""

    def __init__(self, embedder: Embedder, passages: Sequence[Passage], store: VectorStore,
                 scan_limit: int = SCAN_LIMIT, texts: TextMap | None = None):
        self.embedder, self.passages, self.scan_limit = embedder, passages, scan_limit
        self.sentences = Sentences(passages)
        texts = texts if texts is not None else text_map(passages)
        self.keys, self.sentence_ptr, self.sentence_keys = texts
        digest = hashlib.blake2b(str(MAP_VERSION).encode() + np.ascontiguousarray(
            self.keys).tobytes(), digest_size=12).hexdigest()
        self._rows_path = store.folder / f"rows-{digest}.npy"
        rows, sentence_rows = self._saved_rows(store)
        self._saved = int((rows >= 0).sum() + (sentence_rows >= 0).sum())
        self._state: tuple = (rows, sentence_rows, np.zeros(len(passages), bool), 0,
                              Scan(np.zeros(0, np.int64), np.zeros((0, store.dim))), store)
        self._baseline: np.ndarray | None = None
        self.refresh(store)

    @property
    def store(self) -> VectorStore:
        """Where the vectors are kept (and `fill` saves new ones)."""
        return self._state[5]

    def _saved_rows(self, store: VectorStore) -> tuple[np.ndarray, np.ndarray]:
        """The row numbers saved at the last start or fill, if they still fit the store
        (spot-checked against its keys); else none known yet (-1)."""
        n, m = len(self.keys), len(self.sentence_keys)
        try:
            saved = np.load(self._rows_path, mmap_mode="r")
        except (OSError, ValueError):
            saved = None
        if saved is not None and saved.shape == (n + m + 1,) and 0 <= saved[0] <= len(store):
            both = saved[1:]  # the passages' rows, then the sentences'
            sample = np.linspace(0, n + m - 1, min(CHECKED, n + m)).astype(np.int64)
            found = np.asarray(both[sample])
            known = found >= 0
            wanted = np.concatenate([self.keys[sample[sample < n]],
                                     self.sentence_keys[sample[sample >= n] - n]])
            if (found < saved[0]).all() and np.array_equal(store.keys_at(found[known]),
                                                           wanted[known]):
                return both[:n], both[n:]
        return np.full(n, -1, np.int64), np.full(m, -1, np.int64)

    def _save_rows(self, store: VectorStore, rows: np.ndarray, sentence_rows: np.ndarray) -> None:
        """Save the row numbers for the next start (a failure only costs it time)."""
        path = self._rows_path
        try:
            with open(path.with_suffix(".tmp"), "wb") as f:
                np.save(f, np.concatenate([[len(store)], rows, sentence_rows]).astype(np.int64))
            os.replace(path.with_suffix(".tmp"), path)
            for old in path.parent.glob("rows-*.npy"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("row numbers not saved in %s: %s", path.parent, exc)

    def refresh(self, store: VectorStore) -> None:
        """Take up the vectors the store has now (after `fill`). Only row numbers are kept:
        vectors are read from the memory-mapped store when asked, except what the search
        holds (`bot/search/semantic/nearest.py`). Only the texts without a row yet are looked up."""
        rows, sentence_rows = (_looked_up(store, keys, known) for keys, known in (
            (self.keys, self._state[0]), (self.sentence_keys, self._state[1])))
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
            found = int((rows >= 0).sum() + (sentence_rows >= 0).sum())
            if found != self._saved and store.folder.is_dir():  # when rebuilt, not every batch
                self._save_rows(store, rows, sentence_rows)
                self._saved = found
        # one assignment: a question being answered sees the old arrays or the new, not a mix
        self._state = (rows, sentence_rows, ready, count, search, store)

    def todo(self) -> int:
        """How many distinct texts (passages and sentences) still need a vector, as of the
        last `refresh` (read off its row numbers: the store is not asked again)."""
        rows, sentence_rows = self._state[:2]
        missing = np.concatenate([self.keys[rows < 0], self.sentence_keys[sentence_rows < 0]])
        return len(np.unique(missing[:, 0]))  # by the first 8 bytes: a second for millions

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

    def embed_soon(self, question: str) -> Future[np.ndarray]:
        """The question's unit vector, made in another thread: the model runs in C without
        the GIL, so the caller can search BM25 meanwhile and wait for the longer of the two,
        not their sum. Up to QUESTION_THREADS questions are embedded at once."""
        global _questions
        with _starting:
            if _questions is None:
                _questions = ThreadPoolExecutor(QUESTION_THREADS, "newsbot-question")
        return _questions.submit(self.embed, question)

    def baseline(self, vector: np.ndarray) -> float:
        """The question's mean cosine to unrelated news sentences (`background.txt`): how
        near anything seems to it, whatever the knowledge base holds. Their vectors come from
        the store (`fill` saves them), else are embedded once, when first asked."""
        if self._baseline is None:
            texts = baseline_texts()
            store = self._state[5]
            rows = store.rows(key_array([text_key(t) for t in texts]))
            self._baseline = store.vectors(rows).astype(np.float32) if (rows >= 0).all() \
                else self.embedder.passages(texts)
        return float((self._baseline @ vector).mean())

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


def baseline_texts() -> list[str]:
    """The unrelated news sentences the baseline is measured against."""
    return [line.strip() for line in BASELINE_FILE.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _looked_up(store: VectorStore, keys: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The rows of these keys: those known already, the others looked up in the store."""
    missing = np.flatnonzero(known < 0)
    if not len(missing):
        return known
    rows = np.array(known, np.int64)
    rows[missing] = store.rows(keys[missing])
    return rows


def fill(semantic: Semantic, store: VectorStore, progress: Callable[[int, int], None] | None = None,
         stop: Callable[[], bool] = lambda: False, workers: int = 1) -> int:
    """Embed every text of the index that has no vector yet, BATCH at a time, saving each
    batch; `progress(done, total)` after each. `workers` threads call the model at once (it
    releases the GIL; give each one OpenMP thread). Returns how many texts were embedded."""
    semantic.refresh(store)
    rows, sentence_rows = semantic._state[:2]
    baseline = baseline_texts()  # first, when the store lacks them (`Semantic.baseline`)
    baseline_keys = key_array([text_key(t) for t in baseline])
    extra = [baseline[int(j)] for j in np.flatnonzero(store.rows(baseline_keys) < 0)]
    passages, sentences = np.flatnonzero(rows < 0), np.flatnonzero(sentence_rows < 0)
    keys = np.concatenate([key_array([text_key(t) for t in extra]).reshape(-1, 2),
                           semantic.keys[passages], semantic.sentence_keys[sentences]])
    _, first = np.unique(keys, axis=0, return_index=True)  # each distinct text once
    todo = np.sort(first)
    ptr, split = semantic.sentence_ptr, dict[int, list[str]]()

    def text(j: int) -> str:
        if j < len(extra):
            return extra[j]
        j -= len(extra)
        if j < len(passages):
            return passage_text(semantic.passages[int(passages[j])])
        s = int(sentences[j - len(passages)])
        i = int(np.searchsorted(ptr, s, "right")) - 1
        if i not in split:  # consecutive sentences of a passage: split it once
            split.clear()
            split[i] = passage_sentences(semantic.passages[i])
        return split[i][s - int(ptr[i])]

    done, started, in_flight = 0, time.perf_counter(), max(1, workers)
    pending: deque[tuple[np.ndarray, Future]] = deque()

    def save(batch: np.ndarray, vectors: Future) -> None:
        nonlocal done
        store.append(keys[batch], vectors.result())
        done += len(batch)
        if progress:
            progress(done, len(todo))

    with ThreadPoolExecutor(in_flight) as pool:
        try:
            for start in range(0, len(todo), BATCH):
                if stop():
                    break
                batch = todo[start : start + BATCH]  # texts made here: `text` is not thread-safe
                pending.append((batch, pool.submit(semantic.embedder.passages,
                                                   [text(int(j)) for j in batch])))
                if len(pending) >= in_flight:
                    save(*pending.popleft())
            while pending and not stop():
                save(*pending.popleft())
        finally:
            for _, future in pending:
                future.cancel()
    if len(todo):
        log.debug("embedded %d texts in %.1f s", done, time.perf_counter() - started)
    if not stop():  # stopped: the engine is being replaced, its search not rebuilt
        store.compact()
        semantic.refresh(store)
    return done
