"""Failed sign-ins, counted per client id and per username, so that guessing secrets and passwords is slow.

After ``max_failures`` failures of one key within ``window_seconds``, that key's sign-ins are refused until the
oldest failure leaves the window (``SignInThrottled``, answered 429 with ``Retry-After``). A success does not reset
the count: a guesser who also holds one valid secret gains nothing. In memory: one process serves the API.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from homeroom.errors import SignInThrottled


class SignInGuard:
    """Sliding windows of failed sign-ins per key (``("client", tenant, id)``, ``("user", tenant, name)``)."""

    def __init__(self, max_failures: int, window_seconds: float, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, *keys: tuple[str, ...]) -> None:
        """Refuse a sign-in while any of its keys has had too many failures."""
        now = self._clock()
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.max_failures:
                    retry = max(1, math.ceil(failures[0] + self.window - now))
                    raise SignInThrottled(
                        f"too many failed sign-ins for this {key[0]}; try again in {retry} seconds.", retry_after=retry)

    def failed(self, *keys: tuple[str, ...]) -> None:
        """Count one failed sign-in for each key."""
        now = self._clock()
        with self._lock:
            if len(self._failures) > 10_000:  # forget keys idle for a whole window
                self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > now - self.window}
            for key in keys:
                self._recent(key, now).append(now)
