"""The run engine: basic validation -> canonical model -> record validation -> lake update -> statistics.

A run of an inbound flow is recorded in the control plane from start to end. Safety: before a full
snapshot deactivates more than the flow's threshold of any entity's active records (default 10%),
or when a file that the flow's last run had is missing, the run is *held*: nothing is written, the
validated data is kept, and an admin approves (apply it) or discards it.

Crash safety: before writing, the run records the version of every lake table. A run found
``running`` whose process is gone was interrupted: its tables are restored to those versions and
it is marked failed, so running the package again gives exactly the result of an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import polars as pl
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.errors import HomeroomError
from homeroom.lake.snapshots import EntityChanges, apply_package, deactivate_missing, plan_package
from homeroom.lake.tables import CHANGES, Lake
from homeroom.model.entities import ENTITIES, ENTITY_BY_NAME
from homeroom.settings import Settings, get_settings
from homeroom.store import service
from homeroom.store.database import open_database
from homeroom.store.models import FindingsSummary, InboundFlow, Run, RunActivity, utcnow
from homeroom.store.references import tenant_reference_data
from homeroom.validate import validate_package
from homeroom.findings.reports import summary_by_rule, write_csv_report, write_jsonl_report

#: Which entity each Graph statistic counts.
STATISTIC_ENTITIES = {"people": "users", "organizations": "orgs", "groups": "classes", "memberships": "enrollments"}
FAULT_VARIABLE = "HOMEROOM_FAULT_INJECT"


class RunError(HomeroomError):
    """A run cannot start or an action on a run is not possible (the message says why)."""


def _fault(point: str) -> None:
    """Fault injection for crash tests: ``HOMEROOM_FAULT_INJECT=<point>`` kills this process there (SIGKILL)."""
    if os.environ.get(FAULT_VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str | None) -> bool:
    if not owner or ":" not in owner:
        return False
    host, pid = owner.rsplit(":", 1)
    if host != socket.gethostname():
        return True  # another machine's run: it cannot be checked from here, assume it is alive
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def run_folder(settings: Settings, tenant: str, run_id: str) -> Path:
    """Where a run keeps its findings and, while held, its validated data."""
    return settings.data_dir / "runs" / tenant / run_id


def findings_path(settings: Settings, tenant: str, run_id: str, activity_id: str, kind: str = "csv") -> Path:
    """The downloadable findings of one activity of a run (``csv`` or ``jsonl``)."""
    return run_folder(settings, tenant, run_id) / activity_id / f"findings.{kind}"


@dataclass
class Outcome:
    """What a run did, for the CLI and the API."""

    run: Run
    activity: RunActivity
    plans: dict[str, EntityChanges]


class Runner:
    """Runs packages for one tenant."""

    def __init__(self, tenant: str = "default", settings: Settings | None = None, sessions: sessionmaker[Session] | None = None):
        self.settings = settings or get_settings()
        self.tenant = tenant
        self.sessions = sessions or open_database(self.settings)
        self.lake = Lake.from_settings(self.settings, tenant)
        with self.sessions.begin() as db:
            service.ensure_tenant(db=db, tenant_id=tenant)

    # --- paths ---------------------------------------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        """Where a run keeps its findings and, while held, its validated data."""
        return run_folder(self.settings, self.tenant, run_id)

    def findings_file(self, run_id: str, kind: str = "csv", activity_id: str | None = None) -> Path:
        """The downloadable findings of a run's activity (``csv`` or ``jsonl``); by default its first activity's."""
        if activity_id is None:
            with self.sessions() as db:
                run = db.get(Run, run_id)
                activity_id = run.activities[0].id if run is not None and run.activities else "none"
        return findings_path(self.settings, self.tenant, run_id, activity_id, kind)

    # --- recovery ------------------------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Mark interrupted runs failed and roll the lake back to before them; returns their ids."""
        interrupted = {
            "code": "RunInterrupted",
            "message": "The run was interrupted before it finished; the lake was restored to its state before the run.",
        }
        with self.sessions() as db:
            lost = [r.id for r in service.runs_with_status(db=db, tenant_id=self.tenant, status="running") if not _owner_alive(r.owner)]
        for run_id in lost:
            self._fail(run_id, interrupted)
        return lost

    def _fail(self, run_id: str, error: dict) -> None:
        """Roll the lake back to before the run and mark it and its unfinished activities failed."""
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            for table, version in run.lake_versions.items():
                self.lake.restore(table, version)
            run.status, run.ended, run.owner, run.blocking_error = "failed", utcnow(), None, error
            for activity in run.activities:
                if activity.status != "skipped":  # a run is all or nothing: its finished activities were rolled back too
                    activity.status, activity.blocking_error = "failed", error

    # --- running -------------------------------------------------------------------------------------------
    def run(
        self,
        package: Path,
        *,
        flow_name: str,
        year: str,
        source_name: str = "Default source",
        format_name: str | None = None,
        delta: bool = False,
        options: dict | None = None,
        thresholds: dict[str, float] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> Outcome:
        """Run a package through a flow (created with its source system and year when new)."""
        if not (len(year) == 4 and year.isdigit()):
            raise RunError(f"--year must be a four-digit school year (its ending year), not {year!r}")
        self.recover()
        with self.sessions.begin() as db:
            flow = service.ensure_file_flow(
                db=db, tenant_id=self.tenant, display_name=flow_name, source_name=source_name, year_code=year,
                file_format=format_name,
            )
            if thresholds:
                unknown = set(thresholds) - {"default", *(e.name for e in ENTITIES)}
                if unknown or any(not 0 <= v <= 1 for v in thresholds.values()):
                    raise RunError(
                        f"thresholds are a share from 0 to 1 for 'default' or an entity ({', '.join(e.name for e in ENTITIES)})"
                    )
                flow.thresholds = {**flow.thresholds, **thresholds}  # kept for the flow's later runs
            if flow.year.code != year:
                raise RunError(f"flow {flow_name!r} brings data into school year {flow.year.code}, not {year}; use another flow name")
            run = self.start(db, [(flow, str(package), format_name)], trigger="cli")
        _fault("after-run-created")
        outcomes = self.execute(run.id, delta=delta, options=options, progress=progress)
        return outcomes[0]

    def start(self, db: Session, flows: list[tuple[InboundFlow, str | None, str | None]], *, trigger: str,
              started: datetime | None = None) -> Run:
        """Record a new run of ``flows`` — (flow, package or None, format or None) — for ``execute`` to carry out.

        A flow without a package gets a ``skipped`` activity. Refused while another run of the tenant is
        running, or while a run of one of the flows is held.
        """
        for flow, _package, _format in flows:
            self._refuse_if_busy(db, flow)
        started = started or utcnow()
        run = Run(
            tenant_id=self.tenant, display_name=f"Run {started:%Y-%m-%d %H:%M} UTC", status="running",
            started=started, owner=_owner(), trigger=trigger,
            lake_versions={t: self.lake.version(t) for t in [*(e.name for e in ENTITIES), CHANGES]},
        )
        db.add(run)
        db.flush()
        for flow, package, format_name in flows:
            skipped = {"code": "NoValidatedData", "message": f"The connector of flow {flow.display_name!r} has no validated "
                       "upload yet; upload files and validate them first."}
            db.add(RunActivity(
                tenant_id=self.tenant, run_id=run.id, flow_id=flow.id, display_name=flow.display_name,
                status="running" if package else "skipped", blocking_error=None if package else skipped,
                package=package, package_format=format_name,
            ))
        db.flush()
        db.refresh(run)
        return run

    def execute(
        self, run_id: str, *, delta: bool = False, options: dict | None = None, progress: Callable[[str], None] | None = None,
    ) -> list[Outcome]:
        """Carry out a started run: each of its activities in turn, then the run's own status."""
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            run.owner = _owner()
            pending = [a.id for a in run.activities if a.status == "running"]
        outcomes = []
        for activity_id in pending:
            try:
                outcomes.append(self._run_activity(run_id, activity_id, delta=delta, options=options, progress=progress))
            except Exception as exc:
                self._fail(run_id, {"code": "InternalApplicationError", "message": f"The run stopped on an unexpected error "
                                    f"({type(exc).__name__}: {exc}); the lake was restored to its state before the run."})
                raise
        with self.sessions.begin() as db:
            run = self._conclude_in(db, run_id)
            outcomes = [Outcome(run, db.get(RunActivity, o.activity.id), o.plans) for o in outcomes]
        return outcomes

    def _run_activity(
        self, run_id: str, activity_id: str, *, delta: bool, options: dict | None, progress: Callable[[str], None] | None,
    ) -> Outcome:
        say = progress or (lambda _msg: None)
        with self.sessions.begin() as db:
            activity = db.get(RunActivity, activity_id)
            flow = db.get(InboundFlow, activity.flow_id)
            package, format_name = Path(activity.package), activity.package_format
            flow_id, source_id, year = flow.id, flow.connector.source_system_id, flow.year.code
            thresholds = dict(flow.thresholds)
            reference = tenant_reference_data(db=db, tenant_id=self.tenant)  # codes the tenant added or disabled

        say("validating")
        result = validate_package(package, format_name=format_name, reference=reference, settings=self.settings, options=options)
        files = sorted(result.files)
        self._keep_findings(run_id, activity_id, result.findings)
        _fault("after-validate")
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            activity.files, activity.package_format = files, result.format
            activity.statistics = self._statistics(result, {})
            if result.stopped:
                messages = result.findings.filter(pl.col("level") == "catastrophic")["message"].to_list()
                activity.status = "failed"
                activity.blocking_error = {"code": "PackageRefused", "message": " ".join(messages[:5])}
                return Outcome(run, activity, {})

        if not delta and (result.format or "").startswith("oneroster") and _manifest_says_delta(package, self.settings):
            delta = True  # a package with any delta file never deactivates by absence
        say("planning lake changes")
        now = datetime.now(timezone.utc)
        plans = plan_package(self.lake, result.tables, source_system_id=source_id, year=year, run_id=run_id, now=now, delta=delta)
        reasons = [] if delta else self._hold_reasons(flow_id, files, result, plans, thresholds)
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            activity.changes = {name: plan.counts() for name, plan in plans.items()}
            if reasons:
                self._keep_pending(run_id, activity_id, result.tables, delta)
                if len(run.activities) > 1:
                    reasons = [{**r, "flow": activity.display_name} for r in reasons]
                run.held_reason = [*(run.held_reason or []), *reasons]
                activity.status = "held"
                return Outcome(run, activity, plans)

        say("writing the lake")
        apply_package(self.lake, plans, source_id, year, fault=_fault)
        _fault("before-commit")
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            activity.statistics = self._statistics(result, plans)
            activity.status = self._final_status(activity.statistics)
        return Outcome(run, activity, plans)

    def _conclude(self, run_id: str) -> Run:
        with self.sessions.begin() as db:
            return self._conclude_in(db, run_id)

    def _conclude_in(self, db: Session, run_id: str) -> Run:
        """The run's status from its activities': held if any is held, else the worst of those that ran."""
        run = db.get(Run, run_id)
        db.refresh(run)
        statuses = [a.status for a in run.activities]
        ran = [s for s in statuses if s != "skipped"]
        run.ended, run.owner = utcnow(), None
        if "held" in statuses:
            run.status = "held"
            return run
        if not ran or all(s == "failed" for s in ran):
            run.status = "failed"
            errors = [a.blocking_error for a in run.activities if a.blocking_error]
            run.blocking_error = errors[0] if len(errors) == 1 else (
                {"code": "AllActivitiesFailed", "message": " ".join(f"{a.display_name}: {a.blocking_error['message']}"
                                                                     for a in run.activities if a.blocking_error)}
                if errors else None)
            return run
        order = ["completed", "completedWithWarnings", "completedWithErrors", "failed"]
        worst = max(ran, key=lambda s: order.index(s) if s in order else 0)
        run.status = "completedWithErrors" if worst == "failed" else worst
        return run

    def _refuse_if_busy(self, db: Session, flow: InboundFlow) -> None:
        for run in service.runs_with_status(db=db, tenant_id=self.tenant, status="running"):
            raise RunError(f"run {run.id} is still running (owner {run.owner}); wait for it to finish")
        for run in service.runs_with_status(db=db, tenant_id=self.tenant, status="held"):
            if any(a.flow_id == flow.id for a in run.activities):
                raise RunError(
                    f"run {run.id} of flow {flow.display_name!r} is held; approve or discard it first "
                    f"(homeroom runs approve|discard {run.id})"
                )

    def _hold_reasons(
        self, flow_id: str, files: list[str], result, plans: dict[str, EntityChanges], thresholds: dict
    ) -> list[dict]:
        reasons = []
        done = ["completed", "completedWithWarnings", "completedWithErrors"]
        with self.sessions() as db:
            last = db.scalars(
                select(RunActivity.files).join(Run, Run.id == RunActivity.run_id)
                .where(RunActivity.flow_id == flow_id, RunActivity.status.in_(done))
                .order_by(Run.started.desc()).limit(1)
            ).first()
        for missing in sorted(set(last or []) - set(files)):
            reasons.append({
                "code": "FileMissing", "file": missing,
                "message": f"{missing} was in the flow's last completed run but is not in this package; "
                "approving deactivates all of its records.",
            })
        default = float(thresholds.get("default", self.settings.deactivation_threshold))
        for name, plan in plans.items():
            limit = float(thresholds.get(name, default))
            if plan.active_before and plan.deactivated / plan.active_before > limit:
                share = plan.deactivated / plan.active_before
                reasons.append({
                    "code": "DeactivationThreshold", "entity": name, "deactivated": plan.deactivated,
                    "activeBefore": plan.active_before, "threshold": limit,
                    "message": f"{plan.deactivated:,} of {plan.active_before:,} active {name} ({share:.1%}) would be "
                    f"deactivated, more than the threshold of {limit:.0%}.",
                })
        return reasons

    def _keep_findings(self, run_id: str, activity_id: str, findings: pl.DataFrame) -> None:
        (self.run_dir(run_id) / activity_id).mkdir(parents=True, exist_ok=True)
        write_csv_report(findings, self.findings_file(run_id, "csv", activity_id))
        write_jsonl_report(findings, self.findings_file(run_id, "jsonl", activity_id))
        with self.sessions.begin() as db:
            for row in summary_by_rule(findings).iter_rows(named=True):
                db.add(FindingsSummary(tenant_id=self.tenant, activity_id=activity_id, file=row["file"],
                                       rule=row["rule"], level=row["level"], count=row["count"]))

    def _pending_dir(self, run_id: str, activity_id: str) -> Path:
        return self.run_dir(run_id) / "pending" / activity_id

    def _keep_pending(self, run_id: str, activity_id: str, tables: dict, delta: bool) -> None:
        folder = self._pending_dir(run_id, activity_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            pq.write_table(table, folder / f"{name}.parquet")
        (folder / "mode").write_text("delta" if delta else "full")

    def _statistics(self, result, plans: dict[str, EntityChanges]) -> dict:
        stats: dict = {"errors": result.count("error"), "warnings": result.count("warning")}
        for metric, entity in STATISTIC_ENTITIES.items():
            plan = plans.get(entity)
            stats[metric] = (
                {"total": plan.total, "active": plan.active, "inactive": plan.total - plan.active}
                if plan else {"total": 0, "active": 0, "inactive": 0}
            )
        # Identity matching is a later stage: nobody is matched yet, so every active person is unmatched.
        by_role = _people_by_role(plans.get("roles"))
        stats["matchedPeopleByRole"] = [{"role": role, "count": 0} for role, _ in by_role]
        stats["unmatchedPeopleByRole"] = [{"role": role, "count": count} for role, count in by_role]
        return stats

    @staticmethod
    def _final_status(statistics: dict) -> str:
        if statistics["errors"]:
            return "completedWithErrors"
        return "completedWithWarnings" if statistics["warnings"] else "completed"

    # --- held runs -----------------------------------------------------------------------------------------
    def approve(self, run_id: str) -> Outcome:
        """Apply a held run: write what its held activities would change, including the deactivations that held them."""
        self.recover()
        with self.sessions.begin() as db:
            run = self._held(db, run_id)
            held = [a.id for a in run.activities if a.status == "held"]
            run.status, run.owner = "running", _owner()
            run.lake_versions = {t: self.lake.version(t) for t in [*(e.name for e in ENTITIES), CHANGES]}
            reasons = list(run.held_reason or [])
        outcomes = [self._apply_held(run_id, activity_id, reasons) for activity_id in held]
        with self.sessions.begin() as db:
            run = self._conclude_in(db, run_id)
            run.held_reason = reasons  # kept: why it was held, for the record
            first = outcomes[0]
            return Outcome(run, db.get(RunActivity, first.activity.id), first.plans)

    def _apply_held(self, run_id: str, activity_id: str, reasons: list[dict]) -> Outcome:
        with self.sessions.begin() as db:
            activity = db.get(RunActivity, activity_id)
            flow = db.get(InboundFlow, activity.flow_id)
            source_id, year, flow_name = flow.connector.source_system_id, flow.year.code, activity.display_name
        folder = self._pending_dir(run_id, activity_id)
        tables = {p.stem: pq.read_table(p) for p in sorted(folder.glob("*.parquet"))}
        delta = (folder / "mode").read_text() == "delta"
        now = datetime.now(timezone.utc)
        plans = plan_package(self.lake, tables, source_system_id=source_id, year=year, run_id=run_id, now=now, delta=delta)
        for reason in reasons:
            if reason["code"] == "FileMissing" and reason.get("flow", flow_name) == flow_name:
                entity = next((e for e in ENTITIES if _file_entity(reason["file"]) == e.name), None)
                if entity is not None and entity.name not in plans:
                    plan = deactivate_missing(self.lake, entity, source_system_id=source_id, year=year, run_id=run_id, now=now)
                    if plan is not None:
                        plans[entity.name] = plan
        apply_package(self.lake, plans, source_id, year, fault=_fault)
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            statistics = dict(activity.statistics)
            for metric, entity in STATISTIC_ENTITIES.items():
                if entity in plans:
                    p = plans[entity]
                    statistics[metric] = {"total": p.total, "active": p.active, "inactive": p.total - p.active}
            activity.statistics = statistics
            activity.changes = {name: plan.counts() for name, plan in plans.items()}
            activity.status = self._final_status(statistics)
        shutil.rmtree(folder, ignore_errors=True)
        return Outcome(run, activity, plans)

    def discard(self, run_id: str) -> Run:
        """Discard a held run: nothing it would have changed is written."""
        with self.sessions.begin() as db:
            run = self._held(db, run_id)
            run.status = "discarded"
            for activity in run.activities:
                activity.status = "discarded"
            run.ended = utcnow()
        shutil.rmtree(self.run_dir(run.id) / "pending", ignore_errors=True)
        return run

    def _held(self, db: Session, run_id: str) -> Run:
        run = service.get_run(db=db, tenant_id=self.tenant, run_id=run_id)
        if run is None:
            raise RunError(f"no run {run_id!r} in tenant {self.tenant!r}")
        if run.status != "held":
            raise RunError(f"run {run.id} is {run.status}, not held; only held runs can be approved or discarded")
        return run


def _people_by_role(roles: EntityChanges | None) -> list[tuple[str, int]]:
    """(role, number of active people holding it), most common first."""
    if roles is None or roles.state.height == 0:
        return []
    counts = (
        roles.state.filter(pl.col("isActive")).group_by("role").agg(pl.col("userSourcedId").n_unique().alias("n"))
        .sort(["n", "role"], descending=[True, False])
    )
    return [(role, int(n)) for role, n in counts.iter_rows()]


def _manifest_says_delta(package: Path, settings: Settings) -> bool:
    """Whether a OneRoster package's manifest marks any file ``delta``."""
    from homeroom.inbound.csv_reader import split_header, strip_bom
    from homeroom.inbound.formats.oneroster.manifest import MODES, Manifest
    from homeroom.inbound.package import open_package

    opened = open_package(package, settings)
    name = next((n for n in opened.files if n.lower() == "manifest.csv"), None)
    if name is None:
        return False
    header, body = split_header(strip_bom(opened.files[name].read()))
    manifest = Manifest.from_text(header, bytes(body).decode("utf-8", errors="replace"))
    return any(
        (value or "").strip().lower() == "delta"
        for key, (_line, value) in manifest.values.items()
        if key.lower().startswith("file.") and MODES
    )


def _file_entity(file: str) -> str | None:
    """The entity an SDS v2.1-style file name fills (``userFlags.csv`` -> ``userFlags``)."""
    stem = file[:-4] if file.lower().endswith(".csv") else file
    return stem if stem in ENTITY_BY_NAME else None
