"""A run as data for people and scripts: its statistics in the shape of Graph's industryDataRunStatistics, and
Homeroom's own JSON of a run (``homeroom runs show --json``).

Statuses are Homeroom's (``homeroom.model.statuses``) unless the caller maps them: the API renders the same
statistics with Graph's status values (``homeroom.api.statistics``).
"""

from __future__ import annotations

from typing import Callable

from homeroom.store.models import OUTBOUND_ACTIVITY, Run, RunActivity, iso

#: The totals of a run's statistics: counts summed over its activities, people by role merged.
_COUNTS = ("groups", "memberships", "organizations", "people")
_BY_ROLE = ("matchedPeopleByRole", "unmatchedPeopleByRole")


def run_totals(run: Run) -> dict:
    """Errors and warnings, active groups, memberships, organizations and people, and people by role, over the
    run's activities."""
    totals: dict = {"errors": 0, "warnings": 0, **{m: 0 for m in _COUNTS}, **{m: [] for m in _BY_ROLE}}
    for a in run.activities:
        if a.kind == OUTBOUND_ACTIVITY:  # inbound totals: a provisioning flow's statistics are its own
            continue
        stats = a.statistics or {}
        totals["errors"] += stats.get("errors", 0)
        totals["warnings"] += stats.get("warnings", 0)
        for metric in _COUNTS:
            totals[metric] += stats.get(metric, {}).get("active", 0)
        for metric in _BY_ROLE:
            for item in stats.get(metric, []):
                found = next((t for t in totals[metric] if t["role"] == item["role"]), None)
                if found is None:
                    totals[metric].append(dict(item))
                else:
                    found["count"] += item["count"]
    return totals


#: The OData instance annotation holding an outbound activity's statistics: Graph defines none for outbound
#: activities (their statistics are the abstract ``industryDataActivityStatistics``: id, name and status only).
PROVISIONING_ANNOTATION = "@homeroom.provisioning"
_PROVISIONING_KEYS = ("flowSetId", "target", "targetKind", "plannedDateTime", "recordedDateTime", "planned", "plannedTotal", "collisions",
                      "counts", "applied", "errors", "failedOperations", "approvedDateTime", "reset")


def provisioning_statistics(activity: RunActivity) -> dict:
    """An outbound activity's statistics: its flow set, flow and target; the plan's counts by operation
    (``planned``), after an apply the counts by result (``applied``: done, failed, skipped, pending), ``errors``
    (failed operations) and the first of them (``failedOperations``)."""
    stats = activity.statistics or {}
    return {"provisioningFlowId": activity.provisioning_flow_id, "planned": {}, "plannedTotal": 0, "applied": {}, "errors": 0,
            "failedOperations": [], **{k: stats[k] for k in _PROVISIONING_KEYS if k in stats}}


def run_statistics(run: Run, *, run_status: Callable[[str], str] = str, activity_status: Callable[[str], str] = str) -> dict:
    """industryDataRunStatistics for a run: per activity, and totals of active entities; statuses through the mappers.

    An inbound activity's are Graph's inboundActivityResults; an outbound one's the abstract
    industryDataActivityStatistics (Graph has no outbound results type), with Homeroom's counts annotated."""
    activities = []
    for a in run.activities:
        item = {"activityId": a.id, "displayName": a.display_name, "status": activity_status(a.status)}
        if a.kind == OUTBOUND_ACTIVITY:
            activities.append({"@odata.type": "#microsoft.graph.industryData.industryDataActivityStatistics", **item,
                               PROVISIONING_ANNOTATION: provisioning_statistics(a)})
        else:
            activities.append({"@odata.type": "#microsoft.graph.industryData.inboundActivityResults", **item, **(a.statistics or {})})
    return {"@odata.type": "#microsoft.graph.industryData.industryDataRunStatistics", "runId": run.id,
            "status": run_status(run.status), "activityStatistics": activities, "inboundTotals": run_totals(run)}


def run_json(run: Run) -> dict:
    """A run with its activities, changes, statistics and Homeroom's hold information (``homeroom runs show --json``)."""
    return {
        "id": run.id,
        "displayName": run.display_name,
        "status": run.status,
        "startDateTime": iso(run.started),
        "endDateTime": iso(run.ended),
        "blockingError": run.blocking_error,
        "heldReasons": run.held_reason or [],
        "activities": [
            {"id": a.id, "displayName": a.display_name, "status": a.status, "package": a.package,
             "format": a.package_format, "files": a.files, "changes": a.changes,
             "findings": [{"file": f.file, "rule": f.rule, "level": f.level, "count": f.count} for f in a.findings]}
            for a in run.activities
        ],
        "statistics": run_statistics(run),
    }
