"""Whether a provisioning flow can provision: Graph's ``readinessStatus`` of a provisioningFlow, and why not.

Graph documents the values (``notReady``, ``ready``, ``failed``, ``disabled``, ``expired``) but not when a flow has
each; Homeroom's reading, from the flow's configuration and its target:

- ``notReady`` while the flow cannot provision: its flow set names no directory target (``homeroom targets
  provision``), the target it names was removed, the target's stored settings no longer validate, its kind has no
  writer, or it matches no source system's people (so no run ever snapshots and matches it);
- ``failed`` when the flow's latest provisioning (its newest ``outboundFlowActivity`` made after the flow's last
  ``reset``) failed as a whole: planning or applying stopped with a blocking error. A reset clears it;
- ``ready`` otherwise. A new flow is ``notReady`` (its set has no target yet), as Graph's examples show.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeroom.errors import ConfigurationError
from homeroom.model.statuses import ActivityStatus
from homeroom.store.models import OUTBOUND_ACTIVITY, DirectoryTarget, OutboundFlowSet, ProvisioningFlow, Run, RunActivity


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def has_writer(kind: str) -> bool:
    """Whether ``homeroom/targets/<kind>/writer.py`` exists (a plan for a kind without one can be shown, not applied)."""
    return importlib.util.find_spec(f"homeroom.targets.{kind.replace('-', '_')}.writer") is not None


def flow_set_target(db: Session, flow_set: OutboundFlowSet) -> DirectoryTarget | None:
    """The directory target a flow set provisions, if it names one that still exists in its tenant."""
    if flow_set.target_id is None:
        return None
    target = db.get(DirectoryTarget, flow_set.target_id)
    return target if target is not None and target.tenant_id == flow_set.tenant_id else None


def not_ready_reason(db: Session, flow: ProvisioningFlow) -> str | None:
    """Why the flow cannot provision, in words (None: it can)."""
    from homeroom.targets.service import validated_settings

    flow_set = db.get(OutboundFlowSet, flow.flow_set_id)
    if flow_set is None or flow_set.target_id is None:
        return "its flow set provisions no directory target yet (homeroom targets provision TARGET --flow-set SET)"
    target = flow_set_target(db, flow_set)
    if target is None:
        return f"the directory target its flow set provisions ({flow_set.target_id}) was removed"
    try:
        validated_settings(target.kind, target.settings or {})
    except ConfigurationError as exc:
        return f"target {target.name!r}: {exc}"
    if not has_writer(target.kind):
        return f"target {target.name!r} is a {target.kind} target, and Homeroom cannot write {target.kind} targets yet"
    if not target.source_system_ids:
        return f"target {target.name!r} matches no source system's people (homeroom targets add ... --source)"
    return None


def latest_activity(db: Session, flow: ProvisioningFlow) -> RunActivity | None:
    """The flow's newest outboundFlowActivity made after its last reset (None: none yet)."""
    found = db.scalars(
        select(RunActivity).join(Run, Run.id == RunActivity.run_id)
        .where(RunActivity.kind == OUTBOUND_ACTIVITY, RunActivity.provisioning_flow_id == flow.id)
        .order_by(Run.started.desc()).limit(1)).first()
    if found is None or flow.reset_requested is None:
        return found
    stats = found.statistics or {}
    recorded = stats.get("plannedDateTime") or stats.get("recordedDateTime")
    if recorded is None or datetime.fromisoformat(recorded) < _utc(flow.reset_requested):
        return None
    return found


def readiness_status(db: Session, flow: ProvisioningFlow) -> str:
    """The flow's readinessStatus: ``notReady``, ``failed`` or ``ready`` (see the module's docstring)."""
    if not_ready_reason(db, flow) is not None:
        return "notReady"
    latest = latest_activity(db, flow)
    if latest is not None and latest.status == ActivityStatus.failed:
        return "failed"
    return "ready"
