"""Answers of reads, kept per tenant revision: a repeated list or get of unchanged data skips the database reads
and the JSON building, but never the token, throttling and permission checks, which run on every call.

An answer is reused only while the tenant's revision (bumped in the same transaction as any change to its rows,
by any process; homeroom.store.revisions) is the one it was computed at, and for at most ``max_age`` seconds, so
that values computed from the clock (a flow's ``readinessStatus`` turning ``expired``) stay current too.
The key holds the full URL (query options, base URL) and the caller's permissions (``$expand`` depends on them).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Hashable


class ReadCache:
    """A bounded map of (key) -> (revision, time, answer)."""

    def __init__(self, max_entries: int = 1024, max_age: float = 5.0, clock=time.monotonic):
        self.max_entries, self.max_age, self._clock = max_entries, max_age, clock
        self._entries: dict[Hashable, tuple[int, float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, revision: int) -> Any | None:
        """The answer kept for ``key`` at ``revision``, if still fresh."""
        found = self._entries.get(key)
        if found is None or found[0] != revision or self._clock() - found[1] > self.max_age:
            return None
        return found[2]

    def put(self, key: Hashable, revision: int, answer: Any) -> None:
        """Keep an answer computed at ``revision`` (answers are never changed after this)."""
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (revision, self._clock(), answer)
