"""What a saved index must satisfy before it is served: a damaged file is never silent garbage.

`save` records each file's SHA-256 in the manifest; `load` verifies them (files larger than
LAZY_BYTES in a background thread after loading, so a million-passage index still starts in
seconds: those are covered at start by the cheap invariants) and checks the cheap invariants
every file must keep: shapes, types, offsets in order, weights finite, ids in range. Anything
wrong is an IndexFileError naming the file, which `open_index` answers with one warning and a
rebuild.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import IndexFileError

log = logging.getLogger(__name__)
LAZY_BYTES = 64 * 1024 * 1024  # files above this are verified after loading, in a thread


def damaged(path: Path, why: str) -> IndexFileError:
    """The error for one damaged file of a saved index."""
    return IndexFileError(f"saved index file {path} is damaged ({why}): run `newsbot index`")


def checksums(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """Each file's SHA-256 (hex)."""
    return {name: _digest(folder / name) for name in names}


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_manifest(manifest: Any, path: Path) -> dict[str, str]:
    """The manifest's checksums; raises when the manifest is not what `save` writes."""
    if not (isinstance(manifest, dict) and isinstance(manifest.get("params"), dict)
            and isinstance(manifest.get("files"), dict)
            and isinstance(sums := manifest.get("checksums"), dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in sums.items())):
        raise damaged(path, "not an index manifest")
    return sums


def verify(target: Path, sums: dict[str, str]) -> None:
    """Compare each file with its checksum now, or (above LAZY_BYTES) in a background thread
    that warns once naming the file."""
    later = []
    for name, expected in sums.items():
        path = target / name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise damaged(path, exc.strerror or str(exc)) from None
        if size > LAZY_BYTES:
            later.append((path, expected))
        elif _digest(path) != expected:
            raise damaged(path, "its checksum differs from the manifest's")
    if later:
        threading.Thread(target=_verify_later, args=(later,), name="newsbot-verify",
                         daemon=True).start()


def _verify_later(files: list[tuple[Path, str]]) -> None:
    for path, expected in files:
        try:
            same = _digest(path) == expected
        except OSError:  # replaced by a new `newsbot index` meanwhile
            return
        if not same:
            log.warning("%s; answers may be wrong until then", damaged(
                path, "its checksum differs from the manifest's"))
            return


def check_parts(target: Path, arrays: dict[str, np.ndarray], passages: int, offsets: np.ndarray,
                owners: np.ndarray, positions: np.ndarray, blob_size: int, articles: int,
                terms: Any, frequencies: Any, words: Any) -> None:
    """Raise naming the first file whose contents cannot be right (the cheap invariants)."""
    indptr, indices, weights, idf = (arrays[n] for n in ("indptr", "indices", "weights", "idf"))
    for name, array, kind in (("indptr", indptr, "iu"), ("indices", indices, "iu"),
                              ("weights", weights, "f"), ("idf", idf, "f"),
                              ("offsets", offsets, "iu"), ("owners", owners, "iu"),
                              ("positions", positions, "iu")):
        if array.ndim != 1 or array.dtype.kind not in kind:
            raise damaged(target / f"{name}.npy", f"a {array.ndim}-d {array.dtype} array")
    if not (isinstance(terms, list) and all(isinstance(t, str) for t in terms)):
        raise damaged(target / "vocabulary.json", "not a list of terms")
    if not (isinstance(frequencies, dict)
            and all(isinstance(n, int) for n in frequencies.values())):
        raise damaged(target / "frequencies.json", "not word counts")
    if not (isinstance(words, dict) and all(
            isinstance(v, list) and all(isinstance(t, str) for t in v) for v in words.values())):
        raise damaged(target / "words.json", "not analysed words")
    problems = {
        "indptr.npy": len(indptr) != len(terms) + 1 or (len(indptr) and (
            indptr[0] != 0 or indptr[-1] != len(indices) or (np.diff(indptr) < 0).any())),
        "idf.npy": len(idf) != len(terms) or not np.isfinite(idf).all(),
        "weights.npy": len(weights) != len(indices) or not np.isfinite(weights).all(),
        "indices.npy": len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= passages),
        "offsets.npy": len(offsets) != passages + 1 or (passages and (
            offsets[0] != 0 or offsets[-1] != blob_size or (np.diff(offsets) < 0).any())),
        "positions.npy": len(positions) != passages or (passages and int(positions.min()) < 0),
        "owners.npy": passages and (int(owners.min()) < 0 or int(owners.max()) >= articles),
        "passages.txt": not passages,
    }
    for name, wrong in problems.items():
        if wrong:
            raise damaged(target / name, "its contents do not fit the other files")
