"""Who carries out a run or an operation, and whether that process is still there.

A run or operation records its owner while it is in progress; one found in progress whose owner is gone was
interrupted, and is recovered: a run's lake tables are rolled back (``Runner.recover``), an operation ends
``failed`` (``homeroom.runs.operations.recover_operations``).

An owner is ``host:pid:start`` where ``start`` names this start of the process: the machine's boot id and the
process's start time (``/proc/<pid>/stat``, in clock ticks since boot). A process id that the kernel has since given
to another process, or one from before a reboot, therefore does not pass for the owner: liveness is the same pid
started at the same moment of the same boot, and not merely a pid that answers a signal. (Owners written as
``host:pid`` by older versions are checked by pid alone.)
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def owner_id() -> str:
    """This process, as an owner of runs and operations: ``host:pid:start``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_of(pid) or 'unknown'}"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "noboot"


def _start_of(pid: int) -> str | None:
    """This start of process ``pid``: boot id and start time; None where /proc cannot tell (not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return f"{_boot_id()}-{stat.rsplit(')', 1)[-1].split()[19]}"


def owner_alive(owner: str | None) -> bool:
    """Whether the process that owns a run or operation is still running.

    An owner on another host cannot be checked from here and counts as alive.
    """
    if not owner or ":" not in owner:
        return False
    host, _, rest = owner.partition(":")
    pid, _, start = rest.partition(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        pass
    if _zombie(int(pid)):
        return False
    if start and start != "unknown":
        current = _start_of(int(pid))
        return current is None or current == start  # the same pid started again is another process
    return True


def _zombie(pid: int) -> bool:
    """Whether a process has exited but not been reaped (it still answers signal 0); Linux only, else False."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]
