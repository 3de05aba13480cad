"""What the semantic stage embeds for an index, and the keys it finds the vectors under.

A passage is embedded with its article's title (a later paragraph rarely names its topic);
each of its sentences is embedded alone, so a question can meet the one sentence that answers
it. `TextMap` holds every passage's text key and every sentence's, as arrays (at a million
passages, 8.6 million keys: 140 MB as arrays, over a gigabyte as Python objects). Hashing and
splitting a million passages takes minutes, so `newsbot index` saves the map with the index
(`save_text_map`) and a start memory-maps it (`load_text_map`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.knowledge.passages import Passage, passage_sentences
from bot.search.semantic.vectors import Keys, key_array, text_key

log = logging.getLogger(__name__)
MAP_VERSION = 1  # raise when `passage_text` or `passage_sentences` changes what they give
FILES = ("text_keys", "sentence_ptr", "sentence_keys")


def passage_text(passage: Passage) -> str:
    """What is embedded for a passage: the article's title, then the passage."""
    if not passage.title or passage.text.startswith(passage.title[:40].rstrip("…")):
        return passage.text
    return f"{passage.title}\n{passage.text}"


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


class TextMap(NamedTuple):
    """Passage i's text key is `keys[i]`; its sentences' keys are
    `sentence_keys[sentence_ptr[i]:sentence_ptr[i + 1]]`."""

    keys: Keys
    sentence_ptr: np.ndarray  # int64, one more than passages
    sentence_keys: Keys


def text_map(passages: Sequence[Passage]) -> TextMap:
    """Split and hash every passage (a few microseconds each, a minute at a million)."""
    ptr, blob, sentence_blob = np.zeros(len(passages) + 1, np.int64), bytearray(), bytearray()
    for i, p in enumerate(passages):
        blob += text_key(passage_text(p))
        sentences = passage_sentences(p)
        sentence_blob += b"".join(map(text_key, sentences))
        ptr[i + 1] = ptr[i] + len(sentences)
    return TextMap(key_array(bytes(blob)), ptr, key_array(bytes(sentence_blob)))


def save_text_map(texts: TextMap, folder: Path) -> None:
    """Write the map as `.npy` files into a (new) index folder."""
    for name, array in zip(FILES, texts, strict=True):
        np.save(folder / f"{name}.npy", array)
    (folder / "text_map.version").write_text(str(MAP_VERSION), encoding="utf-8")


def load_text_map(folder: Path, passages: int) -> TextMap | None:
    """The saved map of an index of this many passages, memory-mapped; None when there is
    none, it is of another version, or it does not fit."""
    try:
        if (folder / "text_map.version").read_text(encoding="utf-8").strip() != str(MAP_VERSION):
            return None
        texts = TextMap(*(np.load(folder / f"{name}.npy", mmap_mode="r") for name in FILES))
    except (OSError, ValueError) as exc:
        log.debug("no saved text map in %s (%s)", folder, exc)
        return None
    keys, ptr, sentence_keys = texts
    if keys.shape != (passages, 2) or ptr.shape != (passages + 1,) \
            or sentence_keys.shape != (int(ptr[-1]) if len(ptr) else 0, 2):
        return None
    return texts
