"""Saved passage vectors: content-keyed, compact, memory-mapped, resumable.

A folder (`<index>/vectors/`) holds `model.json` (the model's name and the vector size),
`vectors.f16` (float16 rows, appended) and `keys.bin` (a 16-byte BLAKE2b digest of each row's
text, appended after its row). A text is embedded once whatever file or position it comes from,
so adding articles embeds only their passages. Rows are written vector first, key second, so a
crash or Ctrl-C leaves at worst a torn tail, which the next open cuts off: everything embedded
before it is kept. A different model name starts the folder anew.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
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
    """Vectors by text key, read memory-mapped, appended as they are embedded."""

    def __init__(self, folder: Path, model: str, dim: int) -> None:
        self.folder, self.model, self.dim = folder, model, dim
        meta = {"model": model, "dim": dim, "dtype": "float16"}
        try:
            current = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            current = None
        self._keys_path, self._vectors_path = folder / "keys.bin", folder / "vectors.f16"
        self._rows: dict[bytes, int] = {}
        self._vectors = np.zeros((0, dim), DTYPE)
        # nothing is written until the first vector is: reading a knowledge base creates
        # no folder, and another model's vectors are only replaced when new ones come
        self._fresh = current != meta
        if self._fresh and current is not None:
            log.info("saved vectors are from %s; embedding anew with %s",
                     current.get("model") if isinstance(current, dict) else "?", model)
        if not self._fresh:
            self._repair()

    def __len__(self) -> int:
        return len(self._rows)

    def _repair(self) -> None:
        """Read the keys and map the vectors, cutting off a torn tail."""
        row_bytes = self.dim * np.dtype(DTYPE).itemsize
        keys = self._keys_path.read_bytes() if self._keys_path.exists() else b""
        size = self._vectors_path.stat().st_size if self._vectors_path.exists() else 0
        n = min(len(keys) // KEY_BYTES, size // row_bytes)
        if len(keys) != n * KEY_BYTES or size != n * row_bytes:
            with open(self._keys_path, "ab") as f:
                f.truncate(n * KEY_BYTES)
            with open(self._vectors_path, "ab") as f:
                f.truncate(n * row_bytes)
        self._rows = {keys[i * KEY_BYTES : (i + 1) * KEY_BYTES]: i for i in range(n)}
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
        """Store vectors for new keys, durably, and map them."""
        fresh = [i for i, k in enumerate(keys) if k not in self._rows]
        fresh = list({keys[i]: i for i in fresh}.values())  # a text twice in one batch: once
        if not fresh:
            return
        if self._fresh:  # the first vectors of this model: start the folder
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            meta = {"model": self.model, "dim": self.dim, "dtype": "float16"}
            (self.folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
            self._fresh = False
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

