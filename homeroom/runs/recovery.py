"""Who carries out a run or an operation, and whether that process is still there.

A run or operation records its owner (``host:pid``) while it is in progress; one found in progress whose owner is
gone was interrupted, and is recovered: a run's lake tables are rolled back (``Runner.recover``), an operation
ends ``failed`` (``homeroom.runs.operations.recover_operations``).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def owner_id() -> str:
    """This process, as an owner of runs and operations: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """Whether the process that owns a run or operation is still running.

    An owner on another host cannot be checked from here and counts as alive.
    """
    if not owner or ":" not in owner:
        return False
    host, pid = owner.rsplit(":", 1)
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return not _zombie(int(pid))


def _zombie(pid: int) -> bool:
    """Whether a process has exited but not been reaped (it still answers signal 0); Linux only, else False."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]
