"""Runs as JSON, in the shapes of Graph's industryDataRun and industryDataRunStatistics."""

from __future__ import annotations

from homeroom.store.models import Run


def _iso(value) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def run_statistics(run: Run) -> dict:
    """Graph's industryDataRunStatistics for a run: per activity, and totals of active entities."""
    activities = []
    totals = {"errors": 0, "warnings": 0, "groups": 0, "memberships": 0, "organizations": 0, "people": 0,
              "matchedPeopleByRole": [], "unmatchedPeopleByRole": []}
    for a in run.activities:
        stats = a.statistics or {}
        activities.append({
            "@odata.type": "#microsoft.graph.industryData.inboundActivityResults",
            "activityId": a.id, "displayName": a.display_name, "status": a.status, **stats,
        })
        totals["errors"] += stats.get("errors", 0)
        totals["warnings"] += stats.get("warnings", 0)
        for metric in ("groups", "memberships", "organizations", "people"):
            totals[metric] += stats.get(metric, {}).get("active", 0)
        for metric in ("matchedPeopleByRole", "unmatchedPeopleByRole"):
            for item in stats.get(metric, []):
                found = next((t for t in totals[metric] if t["role"] == item["role"]), None)
                if found is None:
                    totals[metric].append(dict(item))
                else:
                    found["count"] += item["count"]
    return {
        "@odata.type": "#microsoft.graph.industryData.industryDataRunStatistics",
        "runId": run.id, "status": run.status, "activityStatistics": activities, "inboundTotals": totals,
    }


def run_json(run: Run) -> dict:
    """A run with its activities, changes, statistics and Homeroom's hold information."""
    return {
        "id": run.id,
        "displayName": run.display_name,
        "status": run.status,
        "startDateTime": _iso(run.started),
        "endDateTime": _iso(run.ended),
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
