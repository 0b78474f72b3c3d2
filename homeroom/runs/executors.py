"""Where background work is carried out: one small interface, threads of the serving process today.

``submit(queue, fn, *args)`` hands work to a named queue and returns a ``Future`` (its status: ``done()``,
``result()``; ``cancel()`` while it waits). A task engine's workers can later stand behind the same interface.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Protocol

#: The queues and how many of their jobs go side by side. Validations are light (names and headers); a run of a
#: large district takes gigabytes, so runs (and approvals), of every tenant and from every trigger, go one at a time.
QUEUES = {"validations": 2, "runs": 1}


class Executor(Protocol):
    """Carries out submitted work."""

    def submit(self, queue: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Queue ``fn(*args, **kwargs)`` on ``queue``; the future tells its status and result."""
        ...

    def shutdown(self) -> None:
        """Finish what was submitted, then stop."""
        ...


class ThreadExecutor:
    """An ``Executor`` of worker threads in this process, one pool per queue."""

    def __init__(self, queues: dict[str, int] | None = None):
        self._pools = {name: ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"homeroom-{name}")
                       for name, n in (queues or QUEUES).items()}

    def submit(self, queue: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._pools[queue].submit(fn, *args, **kwargs)

    def shutdown(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True)
