"""A small on-disk cache for parsed language data (dictionary, thesaurus), in `marshal` form.

The cache file is named after the source files' paths, sizes and mtimes, so an updated
package invalidates it; it is written atomically, and an unwritable cache folder costs the parse
time on every start (and one warning naming the folder and NEWSBOT_CACHE_DIR).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import marshal
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_warned: set[Path] = set()  # cache folders already warned about (once per process each)


def cache_path(sources: Sequence[Path], cache_dir: Path, name: str) -> Path:
    """The cache file for these sources: `<name>-<digest>.marshal`."""
    parts = [name]
    for source in sources:
        stat = source.stat() if source.exists() else None
        parts.append(f"{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}" if stat else "-")
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
    return cache_dir / f"{name}-{digest}.marshal"


def read(path: Path) -> Any | None:
    """The cached value, or None if there is none or it is unreadable."""
    if not path.is_file():
        return None
    gc.disable()  # unmarshalling a million small objects: skip pointless GC passes
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    finally:
        gc.enable()


def write(path: Path, value: Any) -> None:
    """Write atomically and remove older caches of the same name; never raises OSError (an
    unwritable folder is one warning per process)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".marshal")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(value))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        for old in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.marshal"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        if path.parent not in _warned:
            _warned.add(path.parent)
            log.warning(
                "cannot write the language data cache in %s (%s), so every start parses the "
                "dictionary and thesaurus again: set NEWSBOT_CACHE_DIR to a writable folder",
                path.parent, exc.strerror or exc,
            )


def cached(
    sources: Sequence[Path], cache_dir: Path | None, name: str, build: Callable[[], Any]
) -> Any:
    """`build()`'s value, from the cache when the sources are unchanged."""
    if cache_dir is None:
        return build()
    path = cache_path(sources, cache_dir, name)
    value = read(path)
    if value is None:
        value = build()
        write(path, value)
    return value
