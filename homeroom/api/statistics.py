"""How runs appear on Graph's wire: Graph's run and activity status enumerations, and getStatistics.

Homeroom's states that Graph's enumerations lack (``held``, ``discarded``) are shown as Graph allows, with the
reason in ``blockingError``; this is the only place that mapping is written.
"""

from __future__ import annotations

from homeroom.model.statuses import ActivityStatus, RunStatus
from homeroom.runs import reports
from homeroom.store.models import Run

#: Graph's enumerations of run and activity statuses, and how Homeroom's own states appear in them.
RUN_STATUSES: dict[str, str] = {
    RunStatus.running: "running", RunStatus.failed: "failed", RunStatus.completed: "completed",
    RunStatus.completedWithErrors: "completedWithErrors", RunStatus.completedWithWarnings: "completedWithWarnings",
    RunStatus.held: "unknownFutureValue", RunStatus.discarded: "failed"}
ACTIVITY_STATUSES: dict[str, str] = {**RUN_STATUSES, ActivityStatus.running: "inProgress", ActivityStatus.skipped: "skipped",
                                     ActivityStatus.discarded: "skipped"}
_HOMEROOM_STATES = {
    RunStatus.held: ("RunHeld", "The run is held for approval and has written nothing: {reasons} Approve or discard it with "
             "`homeroom runs approve|discard`."),
    RunStatus.discarded: ("RunDiscarded", "An administrator discarded this held run; nothing it would have changed was written."),
}


def wire_status(status: str, error: dict | None, statuses: dict[str, str], reasons: list | None = None) -> tuple[str, dict | None]:
    """A Homeroom status as Graph's enumeration allows, with Homeroom's own states (held, discarded) explained in
    ``blockingError`` (Graph's enumerations are evolvable: held runs show ``unknownFutureValue``)."""
    if status in _HOMEROOM_STATES and error is None:
        code, template = _HOMEROOM_STATES[status]
        error = {"code": code, "message": template.format(reasons=" ".join(r.get("message", "") for r in reasons or []))}
    return statuses.get(status, "unknownFutureValue"), error


def run_statistics(run: Run) -> dict:
    """Graph's industryDataRunStatistics of a run, with Graph's status values for the run and its activities."""
    return reports.run_statistics(run, run_status=lambda s: wire_status(s, None, RUN_STATUSES)[0],
                                  activity_status=lambda s: wire_status(s, None, ACTIVITY_STATUSES)[0])
