"""The states of runs, their activities and long-running operations: Homeroom's own vocabulary.

Members are named as their values (Graph's camelCase), so that a status stored as text and the enum member are
the same string. Graph's enumerations have fewer states (no ``held``, no ``discarded``); how Homeroom's
states appear on Graph's wire is decided once, in ``homeroom.api.statistics``.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """A run's status."""

    running = "running"
    held = "held"  # a safety threshold or a missing file held it: nothing written until approved or discarded
    completed = "completed"
    completedWithWarnings = "completedWithWarnings"  # noqa: N815 - Graph's spelling
    completedWithErrors = "completedWithErrors"  # noqa: N815
    failed = "failed"
    discarded = "discarded"  # an admin discarded the held run


class ActivityStatus(StrEnum):
    """One flow's part of a run: the run's statuses, and ``skipped`` for a flow that had nothing to run."""

    running = "running"
    held = "held"
    skipped = "skipped"
    completed = "completed"
    completedWithWarnings = "completedWithWarnings"  # noqa: N815
    completedWithErrors = "completedWithErrors"  # noqa: N815
    failed = "failed"
    discarded = "discarded"


class OperationStatus(StrEnum):
    """A long-running operation's status (Graph's ``longRunningOperationStatus``)."""

    notStarted = "notStarted"  # noqa: N815
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


#: A run that ended and wrote what it read (the on-demand run limit counts these).
SUCCESSFUL_RUN = (RunStatus.completed, RunStatus.completedWithWarnings, RunStatus.completedWithErrors)
#: Operations that no longer change.
FINISHED_OPERATION = (OperationStatus.succeeded, OperationStatus.failed)


def worst_completion(statuses: list[str]) -> RunStatus:
    """The run status from the statuses of the activities that ran: the worst completion (a failed one among
    completed ones makes the run completedWithErrors)."""
    order = [RunStatus.completed, RunStatus.completedWithWarnings, RunStatus.completedWithErrors, RunStatus.failed]
    worst = max(statuses, key=lambda s: order.index(s) if s in order else 0)
    return RunStatus.completedWithErrors if worst == RunStatus.failed else RunStatus(worst)
