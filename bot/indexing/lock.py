"""One writer at a time for a saved index: `newsbot index`, `newsbot fetch` and the running
bot's feed round (`bot.indexing.updates.save_index`) hold a lock beside the folder.

The lock is an exclusive `flock` on `<index>.lock` (beside the index folder, which a save
replaces); the kernel drops it when the process ends, however it ends, so a crashed run never
leaves a stale lock. A second run waits for the first, saying so once.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def writer_lock(target: Path, waiting: Callable[[str], None]) -> Iterator[bool]:
    """Hold the index's writer lock; yields whether it had to wait for another writer (then
    `waiting` was told once, before the wait)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            waited = False
        except BlockingIOError:
            waiting(f"another newsbot run is writing {target} (`newsbot index`, `fetch` or a "
                    "running bot's feed round); waiting for it to finish …")
            fcntl.flock(lock, fcntl.LOCK_EX)
            waited = True
        yield waited
