"""The passages nearest to a question's vector: an exact scan, or an inverted-file index.

Up to `SCAN_LIMIT` passages the vectors are scanned exactly (a float32 matrix product, ~4 MB
per 2,500 passages). Above it they go into an inverted-file index with 8-bit vectors (faiss
`IndexIVFScalarQuantizer`, inner product: 384 bytes a passage, k-means lists, `PROBES` lists
searched a question), which answers in about a millisecond at a million passages. Building it
takes seconds per 100,000 passages, so it is saved beside the vectors, named by a digest of the
store rows it holds, and memory-mapped at the next start (its lists are then the kernel's
pages, not the process's memory). Without the `faiss-cpu` package the scan serves every size.
Both kinds share `top(vector, k)`, so another method can take their place.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import ThreadpoolController

from bot.search.semantic.vectors import VectorStore

try:  # optional: without it the exact scan serves every size
    import faiss
except ImportError:  # pragma: no cover - the package is a dependency
    faiss = None  # type: ignore[assignment]  # the fallback the None checks below test for

log = logging.getLogger(__name__)


def set_threads(threads: int) -> None:
    """The threads faiss may use (its OpenMP runtime and its own BLAS are not the model's nor
    numpy's): one while serving, so a search never competes with the other questions, one per
    core for `newsbot index` (building the inverted file is mostly matrix products)."""
    if faiss is not None:
        faiss.omp_set_num_threads(max(1, threads))
        for blas in ThreadpoolController().select(user_api="blas").lib_controllers:
            if "faiss" in blas.filepath:  # `bot.cli` put every BLAS on one thread
                blas.set_num_threads(max(1, threads))


SCAN_LIMIT = 50_000  # passages: above this, an inverted-file index
PROBES = 32  # lists searched a question
CHUNK = 100_000  # rows converted to float32 at a time while building


class Nearest(Protocol):
    """What the semantic stage needs of a vector search over its ready passages."""

    size: int  # how many passages it searches

    def top(self, vector: np.ndarray, k: int) -> list[int]:
        """Up to k passage numbers, nearest first."""
        ...


class Scan:
    """Exact cosine top-k: every vector, one matrix product."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.ids, self.matrix, self.size = ids, vectors.astype(np.float32), len(ids)

    def top(self, vector: np.ndarray, k: int) -> list[int]:
        """The k passages nearest to the vector, nearest first (ties: lower number first)."""
        k = min(k, self.size)
        if k <= 0:
            return []
        cosines = self.matrix @ vector
        best = np.argpartition(-cosines, k - 1)[:k]
        best = best[np.lexsort((self.ids[best], -cosines[best]))]
        return [int(i) for i in self.ids[best]]


class Inverted:
    """Approximate cosine top-k: faiss IVF lists of 8-bit vectors."""

    def __init__(self, index: faiss.Index, size: int) -> None:
        self.index, self.size = index, size
        index.nprobe = PROBES  # type: ignore[attr-defined]

    def top(self, vector: np.ndarray, k: int) -> list[int]:
        """About the k passages nearest to the vector, nearest first."""
        k = min(k, self.size)
        if k <= 0:
            return []
        _, found = self.index.search(
            np.ascontiguousarray(vector, np.float32)[None], k)
        return [int(i) for i in found[0] if i >= 0]


def nearest(store: VectorStore, ids: np.ndarray, rows: np.ndarray,
            limit: int = SCAN_LIMIT) -> Nearest:
    """A search over the passages `ids` whose vectors are the store's `rows`."""
    if len(ids) <= limit or faiss is None:
        return Scan(ids, store.vectors(rows) if len(rows) else np.zeros((0, store.dim)))
    digest = hashlib.blake2b(ids.astype(np.int64).tobytes() + rows.astype(np.int64).tobytes(),
                             digest_size=12).hexdigest()
    path = store.folder / f"ivf-{digest}.faiss"
    if path.exists():
        try:
            # memory-mapped: the lists are the kernel's pages, not the process's memory
            mapped = getattr(faiss, "IO_FLAG_MMAP_IFC", 0)
            return Inverted(faiss.read_index(str(path), mapped), len(ids))
        except RuntimeError as exc:
            log.warning("rebuilding the vector index: %s cannot be read (%s)", path, exc)
    index = _build(store, ids, rows)
    _save(index, path)
    return Inverted(index, len(ids))


def _build(store: VectorStore, ids: np.ndarray, rows: np.ndarray) -> faiss.Index:
    """Train the lists on a sample (40 vectors a list), then add every vector."""
    lists = max(1, min(int(4 * np.sqrt(len(ids))), len(ids) // 40))
    quantizer = faiss.IndexFlatIP(store.dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, store.dim, lists,
                                          faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(len(rows), min(len(rows), 40 * lists), False)
    index.train(store.vectors(np.sort(rows[sample])).astype(np.float32))
    for start in range(0, len(ids), CHUNK):
        index.add_with_ids(store.vectors(rows[start : start + CHUNK]).astype(np.float32),
                           ids[start : start + CHUNK].astype(np.int64))
    return index


def _save(index: faiss.Index, path: Path) -> None:
    """Write the index (atomically) and drop older ones; a failure only costs the next start."""
    try:
        temporary = path.with_suffix(".tmp")
        faiss.write_index(index, str(temporary))
        os.replace(temporary, path)
        for old in path.parent.glob("ivf-*.faiss"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, RuntimeError) as exc:
        log.warning("the vector index cannot be saved in %s (%s)", path.parent, exc)
