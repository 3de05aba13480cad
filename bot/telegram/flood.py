"""Flood control: a token bucket per user, so one fast asker waits while others don't.

Messages over the limit are delayed, never dropped; the asker hears about it once per burst.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    warned: bool = False


class FloodGate:
    """Allow `limit` questions per `window` seconds per user; later ones wait their turn."""

    def __init__(self, limit: int = 12, window: float = 10.0) -> None:
        self.limit = max(1, limit)
        self.rate = self.limit / max(window, 0.001)
        self._buckets: dict[int, _Bucket] = {}

    def admit(self, user_id: int, now: float | None = None) -> tuple[float, bool]:
        """Reserve a slot: (seconds to wait before answering, whether to send the notice)."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(float(self.limit), now)
        bucket.tokens = min(self.limit, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= self.limit:
            bucket.warned = False  # a quiet spell ends the burst
        bucket.tokens -= 1
        if bucket.tokens >= 0:
            return 0.0, False
        notice = not bucket.warned
        bucket.warned = True
        return -bucket.tokens / self.rate, notice
