"""Saved passage vectors: content-keyed, compact, memory-mapped, resumable.

A folder (`<index>/vectors/`) holds `model.json` (the model's name and the vector size),
`vectors.f16` (float16 rows, appended) and `keys.bin` (a 16-byte BLAKE2b digest of each row's
text, appended after its row). A text is embedded once whatever file or position it comes from,
so adding articles embeds only their passages. Rows are written vector first, key second, so a
crash or Ctrl-C leaves at worst a torn tail, which readers ignore and the next writer cuts off:
everything embedded before it is kept. A different model name starts the files anew.

Keys are looked up by binary search, not in a dictionary (7.6 million keys were 5 s to read
and a gigabyte of Python objects): `sorted.npy` holds the keys of the first rows sorted, with
their rows (memory-mapped); the rows appended since (the tail) are sorted in memory when a
lookup needs them, and a writer saves a new `sorted.npy` once the tail reaches `TAIL` rows.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
KEY_BYTES = 16
DTYPE = np.float16
TAIL = 65_536  # rows a writer leaves out of sorted.npy before it saves them (or half of it)
SORT_ASKED = 100_000  # keys asked at once above which they are sorted first (cache-friendly)
Keys = np.ndarray  # (n, 2) uint64: each key's 16 bytes as two numbers


def text_key(text: str) -> bytes:
    """The key a text's vector is stored under."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


def key_array(keys: Sequence[bytes] | bytes | np.ndarray) -> Keys:
    """Keys as an (n, 2) uint64 array, from 16-byte strings, one blob, or such an array."""
    if isinstance(keys, np.ndarray):
        return keys.reshape(-1, 2).view(np.uint64) if keys.dtype == np.uint8 else keys
    blob = keys if isinstance(keys, bytes) else b"".join(keys)
    return np.frombuffer(blob, np.uint64).reshape(-1, 2)


class Lookup:
    """Sorted keys with their rows: binary search by the first 8 bytes, checked on all 16."""

    def __init__(self, table: np.ndarray) -> None:
        self.table = table  # (3, n) uint64: first 8 bytes (sorted), last 8, row

    @classmethod
    def of(cls, keys: Keys, first_row: int = 0) -> Lookup:
        """The lookup of keys stored at rows first_row, first_row + 1, …"""
        order = np.argsort(keys[:, 0], kind="stable")
        rows = np.arange(first_row, first_row + len(keys), dtype=np.uint64)[order]
        return cls(np.stack([keys[order, 0], keys[order, 1], rows]))

    def __len__(self) -> int:
        return self.table.shape[1]

    def rows(self, keys: Keys) -> np.ndarray:
        """Each key's row, -1 where it is not here."""
        found = np.full(len(keys), -1, np.int64)
        n = len(self)
        if not n or not len(keys):
            return found
        high, low, rows = self.table
        if len(keys) > SORT_ASKED:  # in order, each search starts where the last one ended
            order = np.argsort(keys[:, 0])
            at = np.empty(len(keys), np.int64)
            at[order] = np.searchsorted(high, keys[order, 0])
        else:
            at = np.searchsorted(high, keys[:, 0])
        near = np.minimum(at, n - 1)
        same = high[near] == keys[:, 0]
        hit = same & (low[near] == keys[:, 1])
        found[hit] = rows[near[hit]].astype(np.int64)
        for j in np.flatnonzero(same & ~hit):  # another key shares the first 8 bytes (rare)
            i = int(at[j]) + 1
            while i < n and high[i] == keys[j, 0]:
                if low[i] == keys[j, 1]:
                    found[j] = int(rows[i])
                    break
                i += 1
        return found

    def merge(self, other: Lookup) -> Lookup:
        """Both lookups in one (no key is in both)."""
        at = np.searchsorted(self.table[0], other.table[0])
        return Lookup(np.insert(self.table, at, other.table, axis=1))


class VectorStore:
    """Vectors by text key, read memory-mapped, appended as they are embedded.

    Any number of processes may read; writers take turns by an exclusive lock on
    `<folder>/lock` (`newsbot index` beside a running bot embedding the same folder), and each
    takes up what the others wrote before adding its own. Readers never change the files."""

    def __init__(self, folder: Path, model: str, dim: int) -> None:
        self.folder, self.model, self.dim = folder, model, dim
        self._meta = {"model": model, "dim": dim, "dtype": "float16"}
        self._keys_path, self._vectors_path = folder / "keys.bin", folder / "vectors.f16"
        self._sorted_path = folder / "sorted.npy"
        self._count = 0
        self._keys: Keys = np.zeros((0, 2), np.uint64)
        self._vectors = np.zeros((0, dim), DTYPE)
        # (sorted on disk, the tail sorted in memory): swapped as one, read as one
        self._lookup = (Lookup.of(self._keys), Lookup.of(self._keys))
        current = self._current_model()
        # nothing is written until the first vector is: reading a knowledge base creates
        # no folder, and another model's vectors are only replaced when new ones come
        self._fresh = current != self._meta
        if self._fresh and current is not None:
            log.info("saved vectors are from %s; embedding anew with %s",
                     current.get("model") if isinstance(current, dict) else "?", model)
        if not self._fresh:
            self._catch_up()

    def __len__(self) -> int:
        return self._count

    def _current_model(self) -> object:
        try:
            return json.loads((self.folder / "model.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _complete_rows(self) -> int:
        """Rows whose vector and key are both on disk (a batch being written is not yet)."""
        row_bytes = self.dim * np.dtype(DTYPE).itemsize
        keys = self._keys_path.stat().st_size if self._keys_path.exists() else 0
        size = self._vectors_path.stat().st_size if self._vectors_path.exists() else 0
        return min(keys // KEY_BYTES, size // row_bytes)

    def _catch_up(self, repair: bool = False) -> None:
        """Take up the rows on disk that this store does not know yet; `repair` (a writer,
        holding the lock) also cuts off a torn tail left by a crash."""
        n = self._complete_rows()
        if repair:
            with open(self._keys_path, "ab") as f:
                f.truncate(n * KEY_BYTES)
            with open(self._vectors_path, "ab") as f:
                f.truncate(n * self.dim * np.dtype(DTYPE).itemsize)
        known, self._count = self._count, n
        self._map(n)
        table = self._read_sorted(n)  # another writer may have saved a newer one
        saved, tail = self._lookup
        if len(table) == len(saved) and len(saved) + len(tail) == known <= n:
            tail = tail.merge(Lookup.of(self._keys[known:n], known))  # rows appended since
        else:
            tail = Lookup.of(self._keys[len(table):n], len(table))
        self._lookup = (table, tail)

    def _read_sorted(self, n: int) -> Lookup:
        """The saved sorted keys if they describe the first rows of keys.bin (spot-checked)."""
        try:
            table = np.load(self._sorted_path, mmap_mode="r")
        except (OSError, ValueError):
            return Lookup.of(self._keys[:0])
        if table.ndim != 2 or table.shape[0] != 3 or table.shape[1] > n:
            return Lookup.of(self._keys[:0])
        sample = np.linspace(0, table.shape[1] - 1, min(64, table.shape[1])).astype(np.int64)
        rows = table[2, sample].astype(np.int64)
        if not np.array_equal(self._keys[rows].T, table[:2, sample]):
            log.debug("%s does not match keys.bin: sorting the keys in memory", self._sorted_path)
            return Lookup.of(self._keys[:0])
        return Lookup(table)

    def _map(self, n: int) -> None:
        if n:
            self._keys = np.memmap(self._keys_path, np.uint64, "r", shape=(n, 2))
            self._vectors = np.memmap(self._vectors_path, DTYPE, "r", shape=(n, self.dim))
        else:
            self._keys, self._vectors = np.zeros((0, 2), np.uint64), np.zeros((0, self.dim), DTYPE)

    def rows(self, keys: Sequence[bytes] | bytes | np.ndarray) -> np.ndarray:
        """Each key's row, -1 where it has no vector yet (keys: see `key_array`)."""
        keys = key_array(keys)
        sorted_rows, tail = self._lookup
        found = sorted_rows.rows(keys)
        if len(tail):
            missing = np.flatnonzero(found < 0)
            found[missing] = tail.rows(keys[missing])
        return found

    def keys_at(self, rows: np.ndarray) -> Keys:
        """The keys stored at these rows."""
        return np.asarray(self._keys[rows])

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The vectors at these rows (float16)."""
        return np.asarray(self._vectors[rows])

    def append(self, keys: Sequence[bytes] | np.ndarray, vectors: np.ndarray) -> None:
        """Store vectors for new keys, durably, and map them (under the writers' lock)."""
        keys = key_array(keys)
        if (self.rows(keys) >= 0).all():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if self._fresh:  # the first vectors of this model here: start the files anew
                if self._current_model() != self._meta:
                    for path in (self._keys_path, self._vectors_path, self._sorted_path):
                        path.unlink(missing_ok=True)
                    (self.folder / "model.json").write_text(json.dumps(self._meta),
                                                            encoding="utf-8")
                self._count, self._fresh = 0, False
            self._catch_up(repair=True)  # what other writers added, and no torn tail
            new = self.rows(keys) < 0
            _, first = np.unique(keys[new], axis=0, return_index=True)
            fresh = np.flatnonzero(new)[np.sort(first)]
            if not len(fresh):
                return
            with open(self._vectors_path, "ab") as f:
                f.write(np.ascontiguousarray(vectors[fresh], DTYPE).tobytes())
                f.flush()
                os.fsync(f.fileno())
            with open(self._keys_path, "ab") as f:
                f.write(np.ascontiguousarray(keys[fresh], np.uint64).tobytes())
                f.flush()
                os.fsync(f.fileno())
            self._catch_up()
            if len(self._lookup[1]) >= max(TAIL, len(self._lookup[0]) // 2):
                self._save_sorted()

    def compact(self) -> None:
        """Save the rows appended since the last sorted.npy into it (a writer, at the end of
        a fill), so the next start searches them on disk instead of sorting them."""
        if self._fresh or not len(self._lookup[1]):
            return
        with open(self.folder / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._catch_up(repair=True)
            self._save_sorted()

    def _save_sorted(self) -> None:  # the caller holds the lock
        merged = self._lookup[0].merge(self._lookup[1])
        try:
            temporary = self._sorted_path.with_suffix(".tmp")
            with open(temporary, "wb") as f:
                np.save(f, merged.table)
            os.replace(temporary, self._sorted_path)
        except OSError as exc:
            log.debug("sorted keys not saved in %s: %s", self.folder, exc)
            return
        saved = Lookup(np.load(self._sorted_path, mmap_mode="r"))
        self._lookup = (saved, Lookup.of(self._keys[:0]))
