"""Plan, approve, discard and apply a run's provisioning, with the control plane and the lake.

A plan is made from a *completed* inbound run only (never from one that is running, held, failed or discarded):
each provisioning flow of the flow set gets an ``outbound`` activity in that run, the plan is kept in the lake
(``homeroom.outbound.storage``), and the safety checks (``homeroom.outbound.safety``) either let it be applied or
hold the run. A held plan is applied exactly as it was shown when it is approved, or marked discarded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.errors import ConfigurationError, NotFoundError, RunError
from homeroom.lake.tables import Lake
from homeroom.model.statuses import SUCCESSFUL_RUN, ActivityStatus, RunStatus, worst_completion
from homeroom.outbound import storage
from homeroom.outbound.apply import ApplyReport, Writer, apply_plan, writer_for
from homeroom.outbound.config import FLOW_KINDS, FlowSetConfig, flow_set_config
from homeroom.outbound.desired import desired_state, read_roster
from homeroom.outbound.plan import Plan, make_plan
from homeroom.outbound.safety import plan_hold_reasons
from homeroom.runs import holds
from homeroom.runs.readers import reader_lake
from homeroom.settings import Settings, get_settings
from homeroom.store import service
from homeroom.store.database import open_database
from homeroom.store.models import (
    INBOUND_ACTIVITY, OUTBOUND_ACTIVITY, InboundFlow, OutboundFlowSet, ProvisioningFlow, Run, RunActivity, utcnow,
)

_FLOW_TITLES = {"userProvisioningFlow": "users", "classGroupProvisioningFlow": "class groups",
                "administrativeUnitProvisioningFlow": "administrative units", "securityGroupProvisioningFlow": "security groups"}


@dataclass
class PlanOutcome:
    """A plan made for a run: its operations, collisions, counts, and why it is held (empty: it may be applied)."""

    run_id: str
    flow_set_id: str
    plan: Plan
    reasons: list[dict]


def load_flow_set(db: Session, tenant_id: str, name_or_id: str) -> tuple[OutboundFlowSet, FlowSetConfig]:
    """A flow set of the tenant by id or display name, with its configuration."""
    row = db.scalar(select(OutboundFlowSet).where(OutboundFlowSet.tenant_id == tenant_id, (OutboundFlowSet.id == name_or_id)
                                                  | (OutboundFlowSet.display_name == name_or_id)))
    if row is None:
        raise NotFoundError(f"no outbound flow set {name_or_id!r} in tenant {tenant_id!r}")
    flows = db.scalars(select(ProvisioningFlow).where(ProvisioningFlow.tenant_id == tenant_id, ProvisioningFlow.flow_set_id == row.id))
    config = flow_set_config(set_id=row.id, name=row.display_name, filter=row.filter, options=row.options,
                             flows=[(f.id, f.kind, f.settings, f.secrets) for f in flows])
    return row, config


class Provisioner:
    """Provisioning for one tenant."""

    def __init__(self, tenant: str = "default", settings: Settings | None = None, sessions: sessionmaker[Session] | None = None):
        self.settings = settings or get_settings()
        self.tenant = tenant
        self.sessions = sessions or open_database(self.settings)
        self.lake = Lake.from_settings(self.settings, tenant)

    def open_stored_target(self, name: str, kind: str) -> Any:
        """The connection a writer writes through: the tenant's stored target ``name`` (homeroom targets add),
        opened with its settings and secrets; a target whose kind is not the plan's is refused."""
        from homeroom.targets.service import connect, get_target

        with self.sessions() as db:
            row = get_target(db=db, tenant_id=self.tenant, name=name)
        if row.kind != kind:
            raise ConfigurationError(f"target {name!r} is a {row.kind} target, but the plan was made for a {kind} target: "
                                     "make the plan again (homeroom plan make ... --target NAME)")
        return connect(row)

    # --- planning ------------------------------------------------------------------------------------------
    def plan(self, run_id: str, flow_set: str, *, target: str, target_kind: str) -> PlanOutcome:
        """Plan a flow set's provisioning of ``target`` from a completed run, keep the plan with the run, and hold
        the run when the plan needs approval."""
        with self.sessions() as db:
            run = self._run(db, run_id)
            if run.status not in SUCCESSFUL_RUN:
                raise RunError(f"run {run.id} is {run.status}: a plan is made only from a completed run "
                               "(approve or discard a held run first; a failed run changed nothing to provision)")
            inbound = [a for a in run.activities if a.kind == INBOUND_ACTIVITY and a.status in SUCCESSFUL_RUN]
            if not inbound:
                raise RunError(f"run {run.id} has no completed inbound flow to provision from")
            activity = inbound[0]
            flow = db.get(InboundFlow, activity.flow_id)
            source_id, year, files = flow.connector.source_system_id, flow.year.code, list(activity.files or [])
            previous = self._previous_files(db, flow.id, run)
            row, config = load_flow_set(db, self.tenant, flow_set)
        if not config.flow_ids():
            raise ConfigurationError(f"flow set {config.name!r} has no provisioning flows; add one first")
        lake = reader_lake(self.settings, self.sessions, self.tenant)  # never a run's half-written tables
        desired = desired_state(read_roster(lake, source_id, year), config, target_kind=target_kind, year=year)
        actual, accounts_all = storage.read_actual(lake, target, source_id, year)
        plan = make_plan(desired, actual, config, target=target, target_kind=target_kind)
        reasons = plan_hold_reasons(plan, config.options, previous_files=previous, present_files=files,
                                    directory_shrink=storage.snapshot_shrink(accounts_all))
        self._keep(run_id, config.id, plan.ops)
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            for old in [a for a in run.activities if a.kind == OUTBOUND_ACTIVITY and (a.statistics or {}).get("flowSetId") == config.id]:
                db.delete(old)  # planned again: the new plan replaces the old one
            db.flush()
            by_flow = plan.ops.group_by("flowId", "op").len()
            added = []
            for kind in FLOW_KINDS:
                flow_id = _flow_id(config, kind)
                if flow_id is None:
                    continue
                counts = {op: n for _f, op, n in by_flow.filter(pl.col("flowId") == flow_id).iter_rows()}
                added.append(RunActivity(
                    tenant_id=self.tenant, run_id=run_id, flow_id=activity.flow_id, kind=OUTBOUND_ACTIVITY,
                    provisioning_flow_id=flow_id, display_name=f"{config.name}: {_FLOW_TITLES[kind]}"[:100],
                    status=ActivityStatus.running, statistics={
                        "flowSetId": config.id, "target": target, "targetKind": target_kind, "planned": counts,
                        "plannedTotal": sum(counts.values()), "collisions": plan.collisions.height,
                        **({"counts": plan.counts} if kind == "userProvisioningFlow" else {})}))
            db.add_all(added)
            db.flush()
            db.refresh(run)
            if reasons:
                holds.hold(run, added[0], reasons)
                for other in added[1:]:
                    other.status = ActivityStatus.held
                run.status = RunStatus.held
        return PlanOutcome(run_id, config.id, plan, reasons)

    def _keep(self, run_id: str, set_id: str, ops: pl.DataFrame) -> None:
        kept = storage.read_plan(self.lake, run_id)
        others = {s: kept.filter(pl.col("flowSetId") == s) for s in kept["flowSetId"].unique().to_list() if s != set_id}
        storage.keep_plan(self.lake, run_id, {**others, set_id: ops})

    def _previous_files(self, db: Session, flow_id: str, run: Run) -> list[str] | None:
        files = db.scalars(
            select(RunActivity.files).join(Run, Run.id == RunActivity.run_id)
            .where(RunActivity.flow_id == flow_id, RunActivity.kind == INBOUND_ACTIVITY, RunActivity.status.in_(SUCCESSFUL_RUN),
                   Run.id != run.id, Run.started < run.started)
            .order_by(Run.started.desc()).limit(1)).first()
        return list(files) if files is not None else None

    def _run(self, db: Session, run_id: str) -> Run:
        run = service.get_run(db=db, tenant_id=self.tenant, run_id=run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r} in tenant {self.tenant!r}")
        return run

    # --- reading -------------------------------------------------------------------------------------------
    def read(self, run_id: str) -> pl.DataFrame:
        """The run's plan with each op's latest result; a run that planned nothing is an error saying so."""
        with self.sessions() as db:
            run = self._run(db, run_id)
            if not any(a.kind == OUTBOUND_ACTIVITY for a in run.activities):
                raise NotFoundError(f"run {run_id} has no provisioning plan (make one with `homeroom plan make {run_id} ...`)")
        return storage.read_plan(self.lake, run_id)

    # --- approving, discarding, applying --------------------------------------------------------------------
    def approve(self, run_id: str, **apply_options: Any) -> dict[str, ApplyReport]:
        """Apply a held plan exactly as it was shown.

        Unlike an inbound hold (``holds.release``, which runs the run again), the run's inbound part has completed:
        approving gives the run back its inbound outcome at once and marks the plan's activities running, so an
        apply that is interrupted is resumed with ``apply`` and never mistaken for an interrupted run."""
        with self.sessions.begin() as db:
            run = holds.held(service.get_run(db=db, tenant_id=self.tenant, run_id=run_id), run_id, self.tenant)
            if any(a.kind == INBOUND_ACTIVITY and a.status == ActivityStatus.held for a in run.activities):
                raise RunError(f"run {run_id} holds inbound data; approve it with `homeroom runs approve {run_id}` first")
            if apply_options.get("writer") is None:  # a target that cannot be written is refused before approving
                for a in run.activities:
                    if a.kind == OUTBOUND_ACTIVITY:
                        writer_for((a.statistics or {})["targetKind"])
            for a in run.activities:
                if a.kind == OUTBOUND_ACTIVITY and a.status == ActivityStatus.held:
                    a.status = ActivityStatus.running
                    a.statistics = {**(a.statistics or {}), "approvedDateTime": utcnow().isoformat()}
            run.status = worst_completion([a.status for a in run.activities if a.kind == INBOUND_ACTIVITY])
        return self.apply(run_id, **apply_options)

    def discard(self, run_id: str) -> Run:
        """Discard a held plan: nothing of it is applied; the run keeps its inbound outcome."""
        with self.sessions.begin() as db:
            run = holds.held(service.get_run(db=db, tenant_id=self.tenant, run_id=run_id), run_id, self.tenant)
            if any(a.kind == INBOUND_ACTIVITY and a.status == ActivityStatus.held for a in run.activities):
                raise RunError(f"run {run_id} holds inbound data; discard it with `homeroom runs discard {run_id}`")
            for a in run.activities:
                if a.kind == OUTBOUND_ACTIVITY and a.status == ActivityStatus.held:
                    a.status = ActivityStatus.discarded
            run.status = worst_completion([a.status for a in run.activities if a.kind == INBOUND_ACTIVITY])
            return run

    def apply(self, run_id: str, *, writer: Writer | None = None,
              open_target: Callable[[str, str], Any] | None = None, progress: Callable[[str], None] | None = None,
              batch_size: int = 200, sleep: Callable[[float], None] | None = None) -> dict[str, ApplyReport]:
        """Apply the run's plan (resuming where an earlier apply stopped); returns a report per flow set.

        ``writer`` defaults to the target kind's ``writer.apply``; ``open_target(name, kind)`` gives the connection
        it writes through."""
        with self.sessions() as db:
            run = self._run(db, run_id)
            if run.status == RunStatus.held:
                raise RunError(f"run {run_id} is held: {' '.join(r['message'] for r in run.held_reason or [])} "
                               f"Review it (homeroom plan show {run_id}), then approve or discard it (homeroom plan approve|discard {run_id}).")
            if run.status not in SUCCESSFUL_RUN:
                raise RunError(f"run {run_id} is {run.status}: only a completed run's plan is applied")
            if any(a.kind == INBOUND_ACTIVITY and a.status not in (*SUCCESSFUL_RUN, ActivityStatus.skipped) for a in run.activities):
                raise RunError(f"run {run_id} has an inbound flow that did not complete: its plan is never applied")
            outbound = [a for a in run.activities if a.kind == OUTBOUND_ACTIVITY and a.status != ActivityStatus.discarded]
            sets = {}
            for a in outbound:
                stats = a.statistics or {}
                sets.setdefault(stats["flowSetId"], (stats["target"], stats["targetKind"]))
            secrets = {}
            for a in outbound:
                flow = db.get(ProvisioningFlow, a.provisioning_flow_id) if a.provisioning_flow_id else None
                if flow is not None and flow.kind == "userProvisioningFlow":
                    secrets[(a.statistics or {})["flowSetId"]] = dict(flow.secrets or {})
        if not sets:
            raise NotFoundError(f"run {run_id} has no provisioning plan to apply")
        writers = {set_id: writer or writer_for(kind) for set_id, (_name, kind) in sets.items()}
        open_target = open_target or self.open_stored_target
        plan = storage.read_plan(self.lake, run_id)
        reports = {}
        for set_id, (target_name, kind) in sets.items():
            ops = plan.filter(pl.col("flowSetId") == set_id)
            target = open_target(target_name, kind) if writer is None else None
            report = apply_plan(
                ops, writers[set_id], target, secrets=secrets.get(set_id, {}), batch_size=batch_size,
                record=lambda results, s=set_id: storage.record_results(self.lake, run_id, s, results),
                progress=progress, **({"sleep": sleep} if sleep else {}))
            reports[set_id] = report
            self._record(run_id, set_id, report)
        return reports

    def _record(self, run_id: str, set_id: str, report: ApplyReport) -> None:
        results = storage.read_plan(self.lake, run_id).filter(pl.col("flowSetId") == set_id)
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            for a in run.activities:
                stats = dict(a.statistics or {})
                if a.kind != OUTBOUND_ACTIVITY or stats.get("flowSetId") != set_id or a.status == ActivityStatus.discarded:
                    continue
                mine = results.filter(pl.col("flowId") == a.provisioning_flow_id)
                applied = {s or "pending": n for s, n in mine.group_by("status").len().iter_rows()}
                stats["applied"] = applied
                stats["errors"] = applied.get("failed", 0)
                a.statistics = stats
                a.status = (ActivityStatus.completedWithErrors if applied.get("failed") or applied.get("pending")
                            else ActivityStatus.completed)


def _flow_id(config: FlowSetConfig, kind: str) -> str | None:
    part = {"userProvisioningFlow": config.users, "classGroupProvisioningFlow": config.classes,
            "administrativeUnitProvisioningFlow": config.units, "securityGroupProvisioningFlow": config.groups}[kind]
    return part.flow_id if part else None
