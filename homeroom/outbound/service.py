"""Plan, approve, discard and apply a run's provisioning, with the control plane and the lake.

A plan is made from a *completed* inbound run only (never from one that is running, held, failed or discarded):
each provisioning flow of the flow set gets an ``outbound`` activity in that run, the plan is kept in the lake
(``homeroom.outbound.storage``), and the safety checks (``homeroom.outbound.safety``) either let it be applied or
hold the run. A held plan is applied exactly as it was shown when it is approved, or marked discarded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.errors import ConfigurationError, ExternalError, HomeroomError, NotFoundError, RunError
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
    INBOUND_ACTIVITY, OUTBOUND_ACTIVITY, DirectoryTarget, InboundFlow, OutboundFlowSet, ProvisioningFlow, Run, RunActivity,
    iso, utc, utcnow,
)

#: How many failed operations an activity's statistics list (all of them are in the plan export).
MAX_LISTED_ERRORS = 20
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
    def plan(self, run_id: str, flow_set: str, *, target: str, target_kind: str,
             inbound_activity_id: str | None = None) -> PlanOutcome:
        """Plan a flow set's provisioning of ``target`` from a completed run (from its inbound activity
        ``inbound_activity_id``, by default its first completed one), keep the plan with the run, and hold the run
        when the plan needs approval.

        A flow that was ``reset`` since it was last planned is planned as if for the first time: what only a
        create writes (a class group's display name under ``writeDisplayNameOnCreateOnly``) is written again."""
        with self.sessions() as db:
            run = self._run(db, run_id)
            if run.status not in SUCCESSFUL_RUN:
                raise RunError(f"run {run.id} is {run.status}: a plan is made only from a completed run "
                               "(approve or discard a held run first; a failed run changed nothing to provision)")
            inbound = [a for a in run.activities if a.kind == INBOUND_ACTIVITY and a.status in SUCCESSFUL_RUN
                       and inbound_activity_id in (None, a.id)]
            if not inbound:
                raise RunError(f"run {run.id} has no completed inbound flow to provision from")
            activity = inbound[0]
            flow = db.get(InboundFlow, activity.flow_id)
            source_id, year, files = flow.connector.source_system_id, flow.year.code, list(activity.files or [])
            previous = self._previous_files(db, flow.id, run)
            row, config = load_flow_set(db, self.tenant, flow_set)
            resets = {f.id: iso(f.reset_requested) for f in db.scalars(select(ProvisioningFlow).where(
                ProvisioningFlow.flow_set_id == row.id, ProvisioningFlow.reset_requested.is_not(None)))
                if _reset_pending(db, f)}
        if not config.flow_ids():
            raise ConfigurationError(f"flow set {config.name!r} has no provisioning flows; add one first")
        if config.classes is not None and config.classes.flow_id in resets:
            config = replace(config, classes=replace(config.classes, display_name_on_create_only=False))
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
                        "plannedDateTime": utcnow().isoformat(),
                        **({"reset": resets[flow_id]} if flow_id in resets else {}),
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

    # --- after an inbound run -------------------------------------------------------------------------------
    def provision_run(self, run_id: str, *, open_target: Callable[[str, str], Any] | None = None,
                      progress: Callable[[str], None] | None = None) -> list[str]:
        """The outbound part of a run, once its inbound part completed (validated, stored, directory snapshotted
        and matched): every flow set that provisions a directory the run matched its people against is planned,
        then applied unless a plan held the run. Returns the ids of the flow sets planned.

        Each provisioning flow of a set gets its outboundFlowActivity. A set whose target this run did not snapshot
        and match (the directory could not be read) is not planned: its activities are ``skipped`` and say why. A
        set that cannot be planned or applied (bad options, no writer, an unreachable target) gets ``failed``
        activities with the blocking error; the roster the run wrote stays written, and the run ends
        ``completedWithErrors``. A failed inbound run, or one held for approval, provisions nothing."""
        say = progress or (lambda _m: None)
        from homeroom.runs.engine import MATCHING_ANNOTATION

        work: list[tuple[str, str, str, str, str | None]] = []  # (inbound activity, flow set, target, kind, why not)
        with self.sessions() as db:
            run = self._run(db, run_id)
            if run.status not in SUCCESSFUL_RUN:
                return []
            for activity in run.activities:
                if activity.kind != INBOUND_ACTIVITY or activity.status not in SUCCESSFUL_RUN:
                    continue
                flow = db.get(InboundFlow, activity.flow_id)
                source_id = flow.connector.source_system_id
                matching = (activity.statistics or {}).get(MATCHING_ANNOTATION) or {}
                targets = db.scalars(select(DirectoryTarget).where(DirectoryTarget.tenant_id == self.tenant)
                                     .order_by(DirectoryTarget.name))
                for target in targets:
                    if source_id not in (target.source_system_ids or []):
                        continue
                    sets = db.scalars(select(OutboundFlowSet).where(OutboundFlowSet.tenant_id == self.tenant,
                                                                     OutboundFlowSet.target_id == target.id)
                                      .order_by(OutboundFlowSet.created, OutboundFlowSet.id))
                    matched = matching.get("status") == "matched" and target.name in (matching.get("targets") or [])
                    why = None if matched else (matching.get("message") or "it was not matched")
                    work.extend((activity.id, s.id, target.name, target.kind, why) for s in sets)
        planned, held = [], False
        for activity_id, set_id, target, kind, why in work:
            if why is not None:
                self._close(run_id, activity_id, set_id, target, kind, ActivityStatus.skipped, {
                    "code": "DirectoryNotMatched", "message": f"Nothing was provisioned into {target!r}: this run could not "
                    f"snapshot and match it ({why})."})
                continue
            say(f"planning flow set {set_id} for {target}")
            try:
                outcome = self.plan(run_id, set_id, target=target, target_kind=kind, inbound_activity_id=activity_id)
            except HomeroomError as exc:
                self._close(run_id, activity_id, set_id, target, kind, ActivityStatus.failed,
                            {"code": "PlanFailed", "message": f"The plan could not be made: {exc}"})
                continue
            planned.append(set_id)
            held = held or bool(outcome.reasons)
        if held:  # the whole run waits: approving applies every set's plan as shown
            return planned
        self._apply_sets(run_id, planned, open_target=open_target, progress=progress)
        return planned

    def _apply_sets(self, run_id: str, set_ids: list[str], *, open_target: Callable[[str, str], Any] | None = None,
                    progress: Callable[[str], None] | None = None) -> None:
        """Apply each set's plan on its own: one that cannot be applied fails its activities, not the others'."""
        for set_id in set_ids:
            try:
                self.apply(run_id, open_target=open_target, progress=progress, flow_sets=[set_id])
            except (HomeroomError, OSError) as exc:
                code = "TargetUnavailable" if isinstance(exc, (ExternalError, OSError)) else "ApplyFailed"
                self._fail_set(run_id, set_id, {"code": code, "message": f"The plan could not be applied: {exc} What was "
                                                "applied is recorded; `homeroom plan apply` resumes the rest."})

    def approve_run(self, run_id: str) -> None:
        """Approve a run held by its provisioning plan, as ``runs/{id}/approve`` and ``homeroom runs approve`` do:
        each flow set's plan is applied exactly as shown, a set that cannot be applied fails its activities."""
        self._release(run_id, writer_given=False)
        with self.sessions() as db:
            run = self._run(db, run_id)
            sets = list(dict.fromkeys((a.statistics or {}).get("flowSetId") for a in run.activities
                                      if a.kind == OUTBOUND_ACTIVITY and a.status == ActivityStatus.running))
        self._apply_sets(run_id, [s for s in sets if s])

    def _close(self, run_id: str, activity_id: str, set_id: str, target: str, kind: str, status: str, error: dict) -> None:
        """Activities for a flow set's flows that were not planned: ``skipped`` or ``failed``, with the reason (and
        no ``plannedDateTime``: a pending reset is still pending)."""
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            name = db.get(OutboundFlowSet, set_id).display_name
            for old in [a for a in run.activities if a.kind == OUTBOUND_ACTIVITY and (a.statistics or {}).get("flowSetId") == set_id]:
                db.delete(old)
            flows = db.scalars(select(ProvisioningFlow).where(ProvisioningFlow.flow_set_id == set_id))
            for flow in sorted(flows, key=lambda f: FLOW_KINDS.index(f.kind)):
                db.add(RunActivity(
                    tenant_id=self.tenant, run_id=run_id, flow_id=db.get(RunActivity, activity_id).flow_id, kind=OUTBOUND_ACTIVITY,
                    provisioning_flow_id=flow.id, display_name=f"{name}: {_FLOW_TITLES[flow.kind]}"[:100], status=status,
                    blocking_error=error, statistics={"flowSetId": set_id, "target": target, "targetKind": kind,
                                                      "recordedDateTime": utcnow().isoformat()}))
            db.flush()
            db.refresh(run)
            conclude(run)

    def _fail_set(self, run_id: str, set_id: str, error: dict) -> None:
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            for a in run.activities:
                if a.kind == OUTBOUND_ACTIVITY and (a.statistics or {}).get("flowSetId") == set_id and a.status == ActivityStatus.running:
                    a.status, a.blocking_error = ActivityStatus.failed, error
            conclude(run)

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
        self._release(run_id, writer_given=apply_options.get("writer") is not None)
        return self.apply(run_id, **apply_options)

    def _release(self, run_id: str, *, writer_given: bool) -> None:
        """A held plan approved: its activities running again, the run back to its inbound outcome."""
        with self.sessions.begin() as db:
            run = holds.held(service.get_run(db=db, tenant_id=self.tenant, run_id=run_id), run_id, self.tenant)
            if any(a.kind == INBOUND_ACTIVITY and a.status == ActivityStatus.held for a in run.activities):
                raise RunError(f"run {run_id} holds inbound data; approve it with `homeroom runs approve {run_id}` first")
            if not writer_given:  # a target that cannot be written is refused before approving
                for a in run.activities:
                    if a.kind == OUTBOUND_ACTIVITY:
                        writer_for((a.statistics or {})["targetKind"])
            for a in run.activities:
                if a.kind == OUTBOUND_ACTIVITY and a.status == ActivityStatus.held:
                    a.status = ActivityStatus.running
                    a.statistics = {**(a.statistics or {}), "approvedDateTime": utcnow().isoformat()}
            run.status = worst_completion([a.status for a in run.activities if a.kind == INBOUND_ACTIVITY])

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
              batch_size: int = 200, sleep: Callable[[float], None] | None = None,
              flow_sets: list[str] | None = None) -> dict[str, ApplyReport]:
        """Apply the run's plan (resuming where an earlier apply stopped); returns a report per flow set.

        ``writer`` defaults to the target kind's ``writer.apply``; ``open_target(name, kind)`` gives the connection
        it writes through; ``flow_sets`` (ids) limits the apply to those sets. The operations of a flow whose
        activity was discarded (the plan was discarded, or the flow was reset since) are not applied."""
        with self.sessions() as db:
            run = self._run(db, run_id)
            if run.status == RunStatus.held:
                raise RunError(f"run {run_id} is held: {' '.join(r['message'] for r in run.held_reason or [])} "
                               f"Review it (homeroom plan show {run_id}), then approve or discard it (homeroom plan approve|discard {run_id}).")
            if run.status not in SUCCESSFUL_RUN:
                raise RunError(f"run {run_id} is {run.status}: only a completed run's plan is applied")
            if any(a.kind == INBOUND_ACTIVITY and a.status not in (*SUCCESSFUL_RUN, ActivityStatus.skipped) for a in run.activities):
                raise RunError(f"run {run_id} has an inbound flow that did not complete: its plan is never applied")
            outbound = [a for a in run.activities if a.kind == OUTBOUND_ACTIVITY and a.status != ActivityStatus.discarded
                        and (flow_sets is None or (a.statistics or {}).get("flowSetId") in flow_sets)]
            flows = {a.provisioning_flow_id for a in outbound}
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
            ops = plan.filter((pl.col("flowSetId") == set_id) & pl.col("flowId").is_in(list(flows)))
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
                failed = mine.filter(pl.col("status") == "failed").head(MAX_LISTED_ERRORS)
                stats["failedOperations"] = [{"seq": seq, "op": op, "objectKey": key, "error": error}
                                             for seq, op, key, error in failed.select("seq", "op", "objectKey", "error").iter_rows()]
                a.statistics = stats
                a.status = (ActivityStatus.completedWithErrors if applied.get("failed") or applied.get("pending")
                            else ActivityStatus.completed)
            conclude(run)


def conclude(run: Run) -> None:
    """A run's status once its provisioning moved on: the worst of what its inbound and outbound activities ended
    with (a failed provisioning makes it ``completedWithErrors``: the roster it wrote stays written). A held run,
    or one whose inbound part did not complete, is left as it is."""
    if run.status not in SUCCESSFUL_RUN:
        return
    ended = [a.status for a in run.activities if a.kind == INBOUND_ACTIVITY and a.status in SUCCESSFUL_RUN]
    ended += [a.status for a in run.activities if a.kind == OUTBOUND_ACTIVITY
              and a.status in (*SUCCESSFUL_RUN, ActivityStatus.failed)]
    if ended:
        run.status = worst_completion(ended)
    run.ended = utcnow()


def _reset_pending(db: Session, flow: ProvisioningFlow) -> bool:
    """Whether the flow was reset after its latest plan (its next plan is made as if for the first time)."""
    planned = db.scalars(select(RunActivity.statistics).where(
        RunActivity.kind == OUTBOUND_ACTIVITY, RunActivity.provisioning_flow_id == flow.id)).all()
    times = [datetime.fromisoformat(p["plannedDateTime"]) for p in planned if p and p.get("plannedDateTime")]
    return not times or max(times) < utc(flow.reset_requested)


def reset_flow(*, db: Session, flow: ProvisioningFlow) -> None:
    """Graph's ``reset`` of a provisioning flow: provision as if for the first time, and clear its errors.

    What earlier applies left unfinished for the flow is forgotten: its activities still ``running`` (an apply that
    stopped or failed part-way, whose operations ``homeroom plan apply`` would resume) are ``discarded``, so that
    no operation planned against an older snapshot is written later. The next plan is computed against the
    directory's snapshot alone and writes again what only a create writes; until then the flow's readinessStatus
    no longer reflects the failures of before (``homeroom.outbound.readiness``)."""
    service.reset_provisioning_flow(db=db, flow=flow)
    unfinished = db.scalars(select(RunActivity).where(
        RunActivity.kind == OUTBOUND_ACTIVITY, RunActivity.provisioning_flow_id == flow.id,
        RunActivity.status == ActivityStatus.running))
    for activity in unfinished:
        activity.status = ActivityStatus.discarded
        activity.statistics = {**(activity.statistics or {}), "reset": iso(flow.reset_requested)}


def provision_target(*, db: Session, tenant_id: str, flow_set: str, target: str | None) -> OutboundFlowSet:
    """Say which directory target a flow set provisions (``None``: none; its flows are then ``notReady``).

    Runs of the inbound flows whose people are matched against that target then plan and apply the set."""
    from homeroom.targets.service import get_target

    row = db.scalar(select(OutboundFlowSet).where(OutboundFlowSet.tenant_id == tenant_id, (OutboundFlowSet.id == flow_set)
                                                  | (OutboundFlowSet.display_name == flow_set)))
    if row is None:
        raise NotFoundError(f"no outbound flow set {flow_set!r} in tenant {tenant_id!r}")
    row.target_id = None if target is None else get_target(db=db, tenant_id=tenant_id, name=target).id
    row.last_modified = utcnow()
    return row


def _flow_id(config: FlowSetConfig, kind: str) -> str | None:
    part = {"userProvisioningFlow": config.users, "classGroupProvisioningFlow": config.classes,
            "administrativeUnitProvisioningFlow": config.units, "securityGroupProvisioningFlow": config.groups}[kind]
    return part.flow_id if part else None
