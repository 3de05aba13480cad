"""Saved passage vectors: content-keyed, compact, memory-mapped, resumable.

A folder (`<index>/vectors/`) holds `model.json` (the model's name and the vector size),
`vectors.f16` (float16 rows, appended) and `keys.bin` (a 16-byte BLAKE2b digest of each row's
text, appended after its row). A text is embedded once whatever file or position it comes from,
so adding articles embeds only their passages. Rows are written vector first, key second, so a
crash or Ctrl-C leaves at worst a torn tail, which readers ignore and the next writer cuts off:
everything embedded before it is kept. A different model name starts the files anew.
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


def text_key(text: str) -> bytes:
    """The key a text's vector is stored under."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


class VectorStore:
    """Vectors by text key, read memory-mapped, appended as they are embedded.

    Any number of processes may read; writers take turns by an exclusive lock on
    `<folder>/lock` (`newsbot index` beside a running bot embedding the same folder), and each
    takes up what the others wrote before adding its own. Readers never change the files."""

    def __init__(self, folder: Path, model: str, dim: int) -> None:
        self.folder, self.model, self.dim = folder, model, dim
        self._meta = {"model": model, "dim": dim, "dtype": "float16"}
        self._keys_path, self._vectors_path = folder / "keys.bin", folder / "vectors.f16"
        self._rows: dict[bytes, int] = {}
        self._vectors = np.zeros((0, dim), DTYPE)
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
        return len(self._rows)

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
        known = len(self._rows) if n >= len(self._rows) else 0
        if known == 0:
            self._rows = {}
        if n > known:
            with open(self._keys_path, "rb") as f:
                f.seek(known * KEY_BYTES)
                keys = f.read((n - known) * KEY_BYTES)
            self._rows.update(
                (keys[i * KEY_BYTES : (i + 1) * KEY_BYTES], known + i) for i in range(n - known))
        self._map(n)

    def _map(self, n: int) -> None:
        if n:
            self._vectors = np.memmap(self._vectors_path, DTYPE, "r", shape=(n, self.dim))
        else:
            self._vectors = np.zeros((0, self.dim), DTYPE)

    def rows(self, keys: Sequence[bytes]) -> np.ndarray:
        """Each key's row, -1 where it has no vector yet."""
        get = self._rows.get
        return np.fromiter((get(k, -1) for k in keys), np.int64, len(keys))

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The vectors at these rows (float16)."""
        return np.asarray(self._vectors[rows])

    def append(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors for new keys, durably, and map them (under the writers' lock)."""
        if all(k in self._rows for k in keys):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if self._fresh:  # the first vectors of this model here: start the files anew
                if self._current_model() != self._meta:
                    for path in (self._keys_path, self._vectors_path):
                        path.unlink(missing_ok=True)
                    (self.folder / "model.json").write_text(json.dumps(self._meta),
                                                            encoding="utf-8")
                self._rows, self._fresh = {}, False
            self._catch_up(repair=True)  # what other writers added, and no torn tail
            fresh = list({k: i for i, k in enumerate(keys) if k not in self._rows}.values())
            if not fresh:
                return
            with open(self._vectors_path, "ab") as f:
                f.write(np.ascontiguousarray(vectors[fresh], DTYPE).tobytes())
                f.flush()
                os.fsync(f.fileno())
            with open(self._keys_path, "ab") as f:
                f.write(b"".join(keys[i] for i in fresh))
                f.flush()
                os.fsync(f.fileno())
            start = len(self._rows)
            self._rows.update((keys[i], start + j) for j, i in enumerate(fresh))
            self._map(len(self._rows))
