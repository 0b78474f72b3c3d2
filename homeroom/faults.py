"""Fault injection for crash tests: ``HOMEROOM_FAULT_INJECT=<point>`` kills the process at that point (SIGKILL).

Runs, snapshots and matching call ``fault("<point>")`` where an interruption would hurt most; a test starts a
subprocess with the variable set and checks that what it left behind is what an uninterrupted process leaves.
"""

from __future__ import annotations

import os
import signal

FAULT_VARIABLE = "HOMEROOM_FAULT_INJECT"


def fault(point: str) -> None:
    """Kill this process here if ``HOMEROOM_FAULT_INJECT`` names ``point``."""
    if os.environ.get(FAULT_VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)
