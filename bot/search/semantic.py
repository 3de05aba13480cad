"""The semantic stage: passages and their sentences as vectors, searched by cosine.

A passage is embedded with its article's title (a later paragraph rarely names its topic);
each of its sentences is embedded alone, so a question can meet the one sentence that answers
it. Vectors live in a `VectorStore` keyed by text; this module maps an index's passages onto
it, embeds what is missing (`fill`), and answers a question's cosines. Passages without a
vector yet simply don't take part (the lexical stage still finds them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import numpy as np

from bot.knowledge.passages import Passage
from bot.knowledge.sentences import split_sentences
from bot.search.embedding import Embedder
from bot.search.vectors import VectorStore, text_key

log = logging.getLogger(__name__)
BATCH = 16  # texts per call of the model: what one Ctrl-C or crash can lose at most


def passage_text(passage: Passage) -> str:
    """What is embedded for a passage: the article's title, then the passage."""
    if not passage.title or passage.text.startswith(passage.title[:40].rstrip("…")):
        return passage.text
    return f"{passage.title}\n{passage.text}"


def passage_sentences(passage: Passage) -> list[str]:
    """The passage's sentences, as embedded and shown."""
    return split_sentences(passage.text) or [passage.text]


class Semantic:
    """Vectors of one index's passages and sentences, and the cosine search over them."""

    def __init__(self, embedder: Embedder, passages: Sequence[Passage], store: VectorStore):
        self.embedder, self.passages = embedder, passages
        sentences = [passage_sentences(p) for p in passages]
        self.sentences = sentences
        self.sentence_ptr = np.zeros(len(passages) + 1, np.int64)
        np.cumsum([len(s) for s in sentences], out=self.sentence_ptr[1:])
        self.keys = [text_key(passage_text(p)) for p in passages]
        self.sentence_keys = [text_key(s) for ss in sentences for s in ss]
        self.refresh(store)

    def refresh(self, store: VectorStore) -> None:
        """Take up the vectors the store has now (after `fill`)."""
        rows, sentence_rows = store.rows(self.keys), store.rows(self.sentence_keys)
        # a passage takes part once its vector and all its sentences' vectors are there
        missing_sentence = np.add.reduceat(sentence_rows < 0, self.sentence_ptr[:-1]) > 0 \
            if len(sentence_rows) else np.zeros(len(rows), bool)
        ready = (rows >= 0) & ~missing_sentence
        matrix = np.zeros((len(rows), store.dim), np.float32)
        matrix[ready] = store.vectors(rows[ready])
        sentence_matrix = np.zeros((len(sentence_rows), store.dim), np.float16)  # 2 B/value
        have = sentence_rows >= 0
        sentence_matrix[have] = store.vectors(sentence_rows[have])
        # one assignment: a question being answered sees the old arrays or the new, not a mix
        self._state = (matrix, sentence_matrix, ready, int(ready.sum()))

    def todo(self, store: VectorStore) -> int:
        """How many distinct texts (passages and sentences) still need a vector."""
        keys = {*self.keys, *self.sentence_keys}
        return int((store.rows(list(keys)) < 0).sum())

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
        matrix, _, ready, count = self._state
        if not count:
            return []
        cosines = matrix @ vector
        cosines[~ready] = -2.0
        k = min(k, count)
        best = np.argpartition(-cosines, k - 1)[:k]
        return [int(i) for i in best[np.argsort(-cosines[best], kind="stable")]]

    def cosines(self, vector: np.ndarray, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray,
                                                                         list[int]]:
        """For each passage: its cosine, its best sentence's cosine and that sentence's number
        (NaN and 0 for a passage without vectors)."""
        matrix, sentence_matrix, ready, _ = self._state
        ids = np.asarray(ids, np.int64)
        cos = np.full(len(ids), np.nan, np.float32)
        best_cos = np.full(len(ids), np.nan, np.float32)
        best = [0] * len(ids)
        for j, i in enumerate(ids):
            if not ready[i]:
                continue
            cos[j] = matrix[i] @ vector
            s = sentence_matrix[self.sentence_ptr[i] : self.sentence_ptr[i + 1]].astype(
                np.float32) @ vector
            best[j] = int(np.argmax(s))
            best_cos[j] = s[best[j]]
        return cos, best_cos, best


def fill(semantic: Semantic, store: VectorStore, progress: Callable[[int, int], None] | None = None,
         stop: Callable[[], bool] = lambda: False) -> int:
    """Embed every text of the index that has no vector yet, BATCH at a time, saving each
    batch; `progress(done, total)` after each. Returns how many texts were embedded."""
    texts: dict[bytes, str] = {}
    for i in np.flatnonzero(store.rows(semantic.keys) < 0):
        texts.setdefault(semantic.keys[i], passage_text(semantic.passages[int(i)]))
    flat = [s for ss in semantic.sentences for s in ss]
    for i in np.flatnonzero(store.rows(semantic.sentence_keys) < 0):
        texts.setdefault(semantic.sentence_keys[i], flat[int(i)])
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
    semantic.refresh(store)
    return done
