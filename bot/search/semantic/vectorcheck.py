"""Whether saved vectors can be trusted before they are served (kept apart from the store).

Two cheap checks: every row must be a finite unit vector (a zeroed or NaN row fails; above
SCAN_ROWS rows an evenly spread sample of them is read), and a few passages, spread over the
index, are embedded again and must meet their saved vectors (a shuffled or mixed `keys.bin`
fails: the vector under a text's key belongs to another text). `damaged_vectors` says what is
wrong, naming the file; `discard` removes the files, under the writers' lock, so that they are
embedded anew.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

import numpy as np

from bot.search.semantic.stage import Semantic, passage_text
from bot.search.semantic.vectors import VectorStore

SCAN_ROWS = 100_000  # rows read whole at start (~77 MB of float16 at 384 dimensions)
CHUNK = 65_536
SAMPLE = 2  # passages embedded again to check the keys (a shuffle moves nearly all)
UNIT = 0.02  # how far from length 1 a saved (float16) unit vector may be
SAME = 0.98  # the least cosine between a passage's fresh and saved vector


def damaged_vectors(semantic: Semantic, store: VectorStore) -> str | None:
    """None when the saved vectors look right, else one line naming the file and the fault."""
    count = len(store)
    rows = np.arange(count) if count <= SCAN_ROWS else np.unique(
        np.linspace(0, count - 1, SCAN_ROWS).astype(np.int64))
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        with np.errstate(over="ignore", invalid="ignore"):
            norms = np.linalg.norm(store.vectors(part).astype(np.float32), axis=1)
        bad = ~np.isfinite(norms) | (np.abs(norms - 1) > UNIT)
        if bad.any():
            row = int(part[np.argmax(bad)])
            return (f"saved vectors {store.folder / 'vectors.f16'} are damaged (row {row} is "
                    "not a unit vector: zeroed or NaN)")
    saved = store.rows(semantic.keys)
    have = np.flatnonzero(saved >= 0)
    if not len(have):
        return None
    pick = have[np.unique(np.linspace(0, len(have) - 1, SAMPLE).astype(np.int64))]
    fresh = semantic.embedder.passages([passage_text(semantic.passages[int(i)]) for i in pick])
    cosines = (fresh * store.vectors(saved[pick]).astype(np.float32)).sum(axis=1)
    if (cosines < SAME).any():
        return (f"saved vectors {store.folder / 'keys.bin'} are damaged (a text's key leads to "
                "another text's vector: shuffled or mixed)")
    return None


def discard(folder: Path) -> None:
    """Remove the saved vectors (taking the writers' lock), so that they are embedded anew."""
    with open(folder / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in ("keys.bin", "vectors.f16", "model.json", "sorted.npy"):
            (folder / name).unlink(missing_ok=True)
        for derived in (*folder.glob("rows-*.npy"), *folder.glob("ivf-*.faiss")):
            derived.unlink(missing_ok=True)  # row numbers and vector indexes of those rows
