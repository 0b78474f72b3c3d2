"""Throttling: at most N calls per window for each (tenant, client), answered with 429 and ``Retry-After``."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from homeroom.api.errors import Throttled


class Throttle:
    """A sliding-window counter per (tenant, client), in memory (one process serves the API)."""

    def __init__(self, calls: int, window_seconds: float, clock=time.monotonic):
        self.calls = calls
        self.window = window_seconds
        self._clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, tenant_id: str, client_id: str) -> None:
        """Count one call, or raise ``Throttled`` with the seconds until the oldest call leaves the window."""
        now = self._clock()
        with self._lock:
            if len(self._hits) > 10_000:  # forget clients that have been idle for a whole window
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
            hits = self._hits.setdefault((tenant_id, client_id), deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.calls:
                retry = max(1, math.ceil(hits[0] + self.window - now))
                raise Throttled(
                    f"Too many requests: {self.calls} calls per {self.window:g} seconds; retry after {retry} seconds.",
                    headers={"Retry-After": str(retry)},
                )
            hits.append(now)
