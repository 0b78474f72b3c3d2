"""The run engine: basic validation -> canonical model -> record validation -> lake update -> statistics.

A run of an inbound flow is recorded in the control plane from start to end. Safety (``homeroom.runs.holds``):
before a full snapshot deactivates more than the flow's threshold of any entity's active records (default 10%),
or when a file that the flow's last run had is missing, the run is *held*: nothing is written, the
validated data is kept, and an admin approves (apply it) or discards it.

Crash safety: before writing, the run records the version of every lake table. A run found
``running`` whose process is gone was interrupted: its tables are restored to those versions and
it is marked failed, so running the package again gives exactly the result of an uninterrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.errors import ConfigurationError, ExternalError, IncompletePull, NotFoundError, RunError, RunInProgress
from homeroom.faults import FAULT_VARIABLE, fault as _fault  # noqa: F401 - FAULT_VARIABLE is imported from here by tests
from homeroom.inbound.formats import FORMATS, file_format_code
from homeroom.inbound.oneroster_api import DELTA_OWNERS, pull
from homeroom.inbound.secrets import without_secrets
from homeroom.lake.changes import EntityChanges, apply_changes, deactivate_missing, diff_package
from homeroom.lake.tables import CHANGES, Lake
from homeroom.match.tables import DIRECTORY_TABLES
from homeroom.model.entities import ENTITIES, ENTITY_BY_NAME
from homeroom.model.statuses import SUCCESSFUL_RUN, ActivityStatus, RunStatus, worst_completion
from homeroom.runs import holds, pulls
from homeroom.runs.readers import publish_versions
from homeroom.runs.readiness import not_ready_reason
from homeroom.runs.folders import findings_path, pending_folder, run_folder
from homeroom.runs.recovery import owner_alive, owner_id
from homeroom.settings import Settings, get_settings
from homeroom.store import service
from homeroom.store.database import open_database
from homeroom.store.models import API_FLOW, INBOUND_ACTIVITY, FindingsSummary, InboundFlow, Run, RunActivity, utcnow
from homeroom.store.references import tenant_reference_data
from homeroom.validate import check, validate_package
from homeroom.findings import Findings
from homeroom.findings.reports import summary_by_rule, write_csv_report, write_jsonl_report, write_parquet_report

#: The OData instance annotation of an activity's statistics that says how its people were matched: ``status``
#: ``matched`` (with ``targets``, ``target`` and ``counts`` by role group and outcome), ``noDirectory`` or ``failed``.
MATCHING_ANNOTATION = "@homeroom.matching"
#: Which entity each Graph statistic counts.
STATISTIC_ENTITIES = {"people": "users", "organizations": "orgs", "groups": "classes", "memberships": "enrollments"}


@dataclass
class Outcome:
    """What a run did, for the CLI and the API."""

    run: Run
    activity: RunActivity
    changes: dict[str, EntityChanges]


class Runner:
    """Runs packages for one tenant."""

    def __init__(self, tenant: str = "default", settings: Settings | None = None, sessions: sessionmaker[Session] | None = None):
        self.settings = settings or get_settings()
        self.tenant = tenant
        self.sessions = sessions or open_database(self.settings)
        self.lake = Lake.from_settings(self.settings, tenant)
        with self.sessions.begin() as db:
            service.ensure_tenant(db=db, tenant_id=tenant)

    def _versions(self) -> dict[str, int | None]:
        """The version of every table a run may write: the roster's, the change set, the directory's and the links."""
        return {t: self.lake.version(t) for t in [*(e.name for e in ENTITIES), CHANGES, *DIRECTORY_TABLES]}

    def _publish(self, db: Session, run: Run) -> None:
        """Publish the versions of the tables the run wrote (or rolled back), for readers (``homeroom.runs.readers``).

        A table the run left as it was keeps what was published of it. Taken under the tenant's directory lock, so
        a snapshot or match started on its own is never published half done.
        """
        from homeroom.match.service import tenant_lock

        before = dict(run.lake_versions or {})
        with tenant_lock(self.settings, self.tenant):
            written = {t: v for t, v in self._versions().items() if t not in before or v != before[t]}
            publish_versions(db, tenant_id=self.tenant, versions=written, by=run.id)

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
            lost = [r.id for r in service.runs_with_status(db=db, tenant_id=self.tenant, status=RunStatus.running) if not owner_alive(r.owner)]
        for run_id in lost:
            self._fail(run_id, interrupted)
        return lost

    def _fail(self, run_id: str, error: dict) -> None:
        """Roll the lake back to before the run and mark it and its unfinished activities failed."""
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            for table, version in run.lake_versions.items():
                self.lake.restore(table, version)
            self._publish(db, run)
            run.status, run.ended, run.owner, run.blocking_error = RunStatus.failed, utcnow(), None, error
            for activity in run.activities:
                if activity.status != ActivityStatus.skipped:  # a run is all or nothing: its finished activities were rolled back too
                    activity.status, activity.blocking_error = ActivityStatus.failed, error

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
                file_format=file_format_code(format_name),
            )
            if thresholds:
                holds.check_thresholds(thresholds, (e.name for e in ENTITIES))
                flow.thresholds = {**flow.thresholds, **thresholds}  # kept for the flow's later runs
            if flow.year.code != year:
                raise RunError(f"flow {flow_name!r} brings data into school year {flow.year.code}, not {year}; use another flow name")
            run = self.start(db, [(flow, str(package), format_name)], trigger="cli")
        _fault("after-run-created")
        outcomes = self.execute(run.id, delta=delta, options=options, progress=progress)
        return outcomes[0]

    def pull(self, flow_name: str, *, progress: Callable[[str], None] | None = None) -> Outcome:
        """Run one OneRoster API flow now: pull its connector's API, then validate, diff and write as any run."""
        self.recover()
        with self.sessions.begin() as db:
            flow = service.get_flow(db=db, tenant_id=self.tenant, display_name=flow_name)
            if flow is None or flow.kind != API_FLOW:
                raise RunError(f"tenant {self.tenant!r} has no OneRoster API flow {flow_name!r}"
                               + ("" if flow is None else " (it is a CSV upload flow)"))
            if (reason := not_ready_reason(flow)) is not None:
                raise RunError(f"flow {flow_name!r} cannot run: {reason}")
            run = self.start(db, [(flow, (flow.connector.settings or {}).get("baseUrl"), pulls.format_of(flow.connector))],
                             trigger="cli")
        return self.execute(run.id, progress=progress)[0]

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
            tenant_id=self.tenant, display_name=f"Run {started:%Y-%m-%d %H:%M} UTC", status=RunStatus.running,
            started=started, owner=owner_id(), trigger=trigger,
            lake_versions=self._versions(),
        )
        db.add(run)
        db.flush()
        for flow, package, format_name in flows:
            skipped = {"code": "NoValidatedData", "message": f"The connector of flow {flow.display_name!r} has no validated "
                       "upload yet; upload files and validate them first."}
            db.add(RunActivity(
                tenant_id=self.tenant, run_id=run.id, flow_id=flow.id, display_name=flow.display_name,
                status=ActivityStatus.running if package else ActivityStatus.skipped, blocking_error=None if package else skipped,
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
            run.owner = owner_id()
            pending = [a.id for a in run.activities if a.status == ActivityStatus.running]
        outcomes = []
        for activity_id in pending:
            try:
                outcomes.append(self._run_activity(run_id, activity_id, delta=delta, options=options, progress=progress))
            except Exception as exc:
                self._fail(run_id, {"code": "InternalApplicationError", "message": f"The run stopped on an unexpected error "
                                    f"({type(exc).__name__}: {exc}); the lake was restored to its state before the run."})
                raise
        with self.sessions.begin() as db:
            completed = self._conclude_in(db, run_id).status in SUCCESSFUL_RUN
        if completed:
            self._provision(run_id, progress)
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            db.refresh(run)
            outcomes = [Outcome(run, db.get(RunActivity, o.activity.id), o.changes) for o in outcomes]
        return outcomes

    def _provision(self, run_id: str, progress: Callable[[str], None] | None) -> None:
        """The run's outbound part, once its inbound part completed: the flow sets provisioning the directories
        it matched are planned and applied (``homeroom.outbound.service.Provisioner.provision_run``). The lake is
        not rolled back if this stops: what the run wrote is a completed run's, and an apply resumes."""
        from homeroom.outbound.service import Provisioner

        Provisioner(self.tenant, self.settings, self.sessions).provision_run(run_id, progress=progress)

    def _run_activity(
        self, run_id: str, activity_id: str, *, delta: bool, options: dict | None, progress: Callable[[str], None] | None,
    ) -> Outcome:
        say = progress or (lambda _msg: None)
        with self.sessions.begin() as db:
            activity = db.get(RunActivity, activity_id)
            flow = db.get(InboundFlow, activity.flow_id)
            package, format_name = activity.package, activity.package_format
            flow_id, source_id, year = flow.id, flow.connector.source_system_id, flow.year.code
            thresholds = dict(flow.thresholds)
            reference = tenant_reference_data(db=db, tenant_id=self.tenant)  # codes the tenant added or disabled
            api = flow.kind == API_FLOW
            if api:
                config, state = pulls.config_of(flow.connector, self.settings), pulls.state_of(flow.connector)

        if api:
            say("pulling from the OneRoster API")
            try:
                pulled = pull(config, self.settings, state=state)
            except ExternalError as exc:  # an incomplete pull: nothing of it may be used
                return self._pull_failed(run_id, activity_id, exc)
            pulls.keep_state(self.run_dir(run_id) / activity_id, pulled.state)
            say("validating")
            result = check(pulled.batch, reference=reference, settings=self.settings)
        else:
            say("validating")
            result = validate_package(Path(package), format_name=format_name, reference=reference, settings=self.settings,
                                      options=options)
        files = sorted(result.files)
        self._keep_findings(run_id, activity_id, result.findings)
        _fault("after-validate")
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            activity.files, activity.package_format = files, result.format
            activity.statistics = self._statistics(result, {})
            if result.stopped:
                messages = result.findings.filter(pl.col("level") == "catastrophic")["message"].to_list()
                activity.status = ActivityStatus.failed
                activity.blocking_error = {"code": "PackageRefused", "message": " ".join(messages[:5])}
                return Outcome(run, activity, {})

        delta = delta or result.mode == "delta"  # a package with any delta file never deactivates by absence
        say("comparing with the lake")
        now = datetime.now(timezone.utc)
        tables = without_secrets(result.tables)  # the SIS's passwords are validated, never kept (homeroom.inbound.secrets)
        changes = diff_package(self.lake, tables, source_system_id=source_id, year=year, run_id=run_id, now=now,
                               delta=delta, owners=DELTA_OWNERS if api else delta_owners(result.format))
        reasons = [] if delta else self._hold_reasons(flow_id, files, result, changes, thresholds)
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            activity.changes = {name: diff.counts() for name, diff in changes.items()}
            if reasons:
                self._pending(run_id, activity_id).keep(tables, "delta" if delta else "full")
                holds.hold(run, activity, reasons)
                return Outcome(run, activity, changes)

        say("writing the lake")
        apply_changes(self.lake, changes, fault=_fault)
        directory = self._match_directory(run_id, activity_id, source_id, year, changes, result.findings, say)
        _fault("before-commit")
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            activity.statistics = self._statistics(result, changes, directory)
            activity.status = self._final_status(activity.statistics)
            if api:  # written: the connector's next pull is a delta from this one
                pulls.commit_state(db.get(InboundFlow, flow_id).connector, self.run_dir(run_id) / activity_id)
        return Outcome(run, activity, changes)

    def _match_directory(self, run_id: str, activity_id: str, source_id: str, year: str, changes: dict[str, EntityChanges],
                         findings: pl.DataFrame | None, say: Callable[[str], None]) -> dict:
        """Snapshot the directories the source system's people are matched against, and match them; returns what
        the statistics say of it (``homeroom.match``). A directory that cannot be read is a warning, not a failure:
        the roster is written and the statistics say why nobody was matched."""
        from homeroom.match.service import match_stored, snapshot_stored
        from homeroom.targets.service import targets_for_source

        with self.sessions() as db:
            names = [t.name for t in targets_for_source(db=db, tenant_id=self.tenant, source_system_id=source_id)]
        if not names:
            return {"status": "noDirectory", "message": "No directory target is configured for this flow's source system; "
                    "people were not matched (homeroom targets add ... --source)."}
        users, roles = changes.get("users"), changes.get("roles")
        results = []
        try:
            for name in names:
                say(f"snapshotting directory {name}")
                snapshot_stored(self.settings, self.sessions, self.tenant, name, snapshot_id=run_id, publish=False)
                _fault("after-snapshot")
                say(f"matching people against {name}")
                results.append(match_stored(
                    self.settings, self.sessions, self.tenant, name, source_id, year, lake=self.lake,
                    users=users.state if users else None, roles=roles.state if roles else None, publish=False))
        except (ExternalError, ConfigurationError, NotFoundError) as exc:
            return {"status": "failed", "targets": names, "message": str(exc)}
        if findings is not None:
            matching = pl.concat([r.findings for r in results])
            self._keep_findings(run_id, activity_id, pl.concat([findings, matching]), new=matching)
        first = results[0]
        return {"status": "matched", "targets": names, "target": first.target, "outcomes": first.outcomes,
                "counts": first.counts()}

    def _pull_failed(self, run_id: str, activity_id: str, exc: ExternalError) -> Outcome:
        """End an activity whose pull did not get everything: failed with the reason, nothing written."""
        self._keep_findings(run_id, activity_id, Findings().frame())  # no record was checked: the reports are empty
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            activity.status = ActivityStatus.failed
            activity.blocking_error = {"code": "IncompletePull" if isinstance(exc, IncompletePull) else "PullFailed",
                                       "message": f"{exc.message} Nothing was written: the lake keeps the data of the last "
                                                  "successful run."}
            activity.statistics = self._statistics(None, {})
            return Outcome(run, activity, {})

    def _conclude_in(self, db: Session, run_id: str) -> Run:
        """The run's status from its activities': held if any is held, else the worst of those that ran."""
        run = db.get(Run, run_id)
        db.refresh(run)
        statuses = [a.status for a in run.activities]
        ran = [s for s in statuses if s != ActivityStatus.skipped]
        run.ended, run.owner = utcnow(), None
        self._publish(db, run)  # in the transaction that ends the run: readers see all of it, or none
        if ActivityStatus.held in statuses:
            run.status = RunStatus.held
            return run
        if not ran or all(s == ActivityStatus.failed for s in ran):
            run.status = RunStatus.failed
            errors = [a.blocking_error for a in run.activities if a.blocking_error]
            run.blocking_error = errors[0] if len(errors) == 1 else (
                {"code": "AllActivitiesFailed", "message": " ".join(f"{a.display_name}: {a.blocking_error['message']}"
                                                                     for a in run.activities if a.blocking_error)}
                if errors else None)
            return run
        run.status = worst_completion(ran)
        return run

    def _refuse_if_busy(self, db: Session, flow: InboundFlow) -> None:
        for run in service.runs_with_status(db=db, tenant_id=self.tenant, status=RunStatus.running):
            raise RunInProgress(f"run {run.id} is still running (owner {run.owner}); wait for it to finish")
        for run in service.runs_with_status(db=db, tenant_id=self.tenant, status=RunStatus.held):
            if any(a.flow_id == flow.id for a in run.activities):
                raise RunInProgress(
                    f"run {run.id} of flow {flow.display_name!r} is held; approve or discard it first "
                    f"(homeroom runs approve|discard {run.id})"
                )

    def _hold_reasons(
        self, flow_id: str, files: list[str], result, changes: dict[str, EntityChanges], thresholds: dict
    ) -> list[dict]:
        with self.sessions() as db:
            last = db.scalars(
                select(RunActivity.files).join(Run, Run.id == RunActivity.run_id)
                .where(RunActivity.flow_id == flow_id, RunActivity.status.in_(SUCCESSFUL_RUN))
                .order_by(Run.started.desc()).limit(1)
            ).first()
        guarded = [holds.Guarded(name, diff.deactivated, diff.active_before) for name, diff in changes.items()]
        return [*holds.missing_file_reasons(last or [], files),
                *holds.threshold_reasons(guarded, thresholds, self.settings.deactivation_threshold)]

    def _keep_findings(self, run_id: str, activity_id: str, findings: pl.DataFrame, new: pl.DataFrame | None = None) -> None:
        """Write the activity's findings files; summarise ``new`` (default: all of them) in the store."""
        (self.run_dir(run_id) / activity_id).mkdir(parents=True, exist_ok=True)
        write_csv_report(findings, self.findings_file(run_id, "csv", activity_id))
        write_jsonl_report(findings, self.findings_file(run_id, "jsonl", activity_id))
        write_parquet_report(findings, self.findings_file(run_id, "parquet", activity_id))  # paged by the dashboard
        with self.sessions.begin() as db:
            for row in summary_by_rule(findings if new is None else new).iter_rows(named=True):
                db.add(FindingsSummary(tenant_id=self.tenant, activity_id=activity_id, file=row["file"],
                                       rule=row["rule"], level=row["level"], count=row["count"]))

    def _pending(self, run_id: str, activity_id: str) -> holds.PendingData:
        return holds.PendingData(pending_folder(self.settings, self.tenant, run_id, activity_id))

    def _statistics(self, result, changes: dict[str, EntityChanges], directory: dict | None = None) -> dict:
        stats: dict = {"errors": result.count("error") if result else 0, "warnings": result.count("warning") if result else 0}
        for metric, entity in STATISTIC_ENTITIES.items():
            diff = changes.get(entity)
            stats[metric] = (
                {"total": diff.total, "active": diff.active, "inactive": diff.total - diff.active}
                if diff else {"total": 0, "active": 0, "inactive": 0}
            )
        # People matched to an account of the flow's directory (its first target, by name), by each role they hold.
        # Without a directory nobody was matched or found unmatched: both lists are empty and the annotation says why.
        stats["matchedPeopleByRole"], stats["unmatchedPeopleByRole"] = [], []
        if directory is not None and directory["status"] == "matched":
            outcomes = directory["outcomes"].select("personSourcedId", (pl.col("outcome") == "matched").alias("matched"))
            by_role = _people_by_role(changes.get("roles"), outcomes)
            stats["matchedPeopleByRole"] = [{"role": role, "count": m} for role, m, _ in by_role if m]
            stats["unmatchedPeopleByRole"] = [{"role": role, "count": u} for role, _, u in by_role if u]
        if directory is not None:
            stats[MATCHING_ANNOTATION] = {k: v for k, v in directory.items() if k != "outcomes"}
        return stats

    @staticmethod
    def _final_status(statistics: dict) -> str:
        if statistics["errors"]:
            return ActivityStatus.completedWithErrors
        return ActivityStatus.completedWithWarnings if statistics["warnings"] else ActivityStatus.completed

    # --- held runs -----------------------------------------------------------------------------------------
    def approve(self, run_id: str) -> Outcome | None:
        """Apply a held run: write what its held activities would change, including the deactivations that held them.

        A run held by its provisioning plan (its inbound part completed) is handed to the provisioning, which
        applies the plan as shown (``Provisioner.approve_run``); that returns None."""
        self.recover()
        if self._held_by_plan(run_id):
            from homeroom.outbound.service import Provisioner

            Provisioner(self.tenant, self.settings, self.sessions).approve_run(run_id)
            return None
        with self.sessions.begin() as db:
            run = self._held(db, run_id)
            held = holds.release(run, owner_id())
            run.lake_versions = self._versions()
            reasons = list(run.held_reason or [])
        outcomes = [self._apply_held(run_id, activity_id, reasons) for activity_id in held]
        with self.sessions.begin() as db:
            run = self._conclude_in(db, run_id)
            run.held_reason = reasons  # kept: why it was held, for the record
            completed = run.status in SUCCESSFUL_RUN
        if completed:
            self._provision(run_id, None)
        with self.sessions.begin() as db:
            run = db.get(Run, run_id)
            db.refresh(run)
            first = outcomes[0]
            return Outcome(run, db.get(RunActivity, first.activity.id), first.changes)

    def _apply_held(self, run_id: str, activity_id: str, reasons: list[dict]) -> Outcome:
        with self.sessions.begin() as db:
            activity = db.get(RunActivity, activity_id)
            flow = db.get(InboundFlow, activity.flow_id)
            source_id, year, flow_name = flow.connector.source_system_id, flow.year.code, activity.display_name
            format_name, api, flow_id = activity.package_format, flow.kind == API_FLOW, flow.id
        pending = self._pending(run_id, activity_id)
        tables, mode = pending.load()
        delta = mode == "delta"
        now = datetime.now(timezone.utc)
        changes = diff_package(self.lake, tables, source_system_id=source_id, year=year, run_id=run_id, now=now,
                               delta=delta, owners=DELTA_OWNERS if api else delta_owners(format_name))
        for reason in reasons:
            if reason["code"] == "FileMissing" and reason.get("flow", flow_name) == flow_name:
                for name in entities_of_file(format_name, reason["file"]):
                    if name in changes:
                        continue  # another file of the package fills it: the snapshot already says what is active
                    diff = deactivate_missing(self.lake, ENTITY_BY_NAME[name], source_system_id=source_id, year=year,
                                              run_id=run_id, now=now)
                    if diff is not None:
                        changes[name] = diff
        apply_changes(self.lake, changes, fault=_fault)
        directory = self._match_directory(run_id, activity_id, source_id, year, changes, None, lambda _m: None)
        with self.sessions.begin() as db:
            run, activity = db.get(Run, run_id), db.get(RunActivity, activity_id)
            statistics = dict(activity.statistics)
            for metric, entity in STATISTIC_ENTITIES.items():
                if entity in changes:
                    p = changes[entity]
                    statistics[metric] = {"total": p.total, "active": p.active, "inactive": p.total - p.active}
            matched = self._statistics(_NoFindings(), changes, directory)
            for key in ("matchedPeopleByRole", "unmatchedPeopleByRole", MATCHING_ANNOTATION):
                if key in matched:
                    statistics[key] = matched[key]
            activity.statistics = statistics
            activity.changes = {name: diff.counts() for name, diff in changes.items()}
            activity.status = self._final_status(statistics)
            if api:
                pulls.commit_state(db.get(InboundFlow, flow_id).connector, self.run_dir(run_id) / activity_id)
        pending.drop()
        return Outcome(run, activity, changes)

    def _held_by_plan(self, run_id: str) -> bool:
        with self.sessions() as db:
            run = holds.held(service.get_run(db=db, tenant_id=self.tenant, run_id=run_id), run_id, self.tenant)
            return not any(a.status == ActivityStatus.held and a.kind == INBOUND_ACTIVITY for a in run.activities)

    def discard(self, run_id: str) -> Run:
        """Discard a held run: nothing it would have changed is written (a held provisioning plan: nothing of it
        is applied, the run keeps its inbound outcome)."""
        if self._held_by_plan(run_id):
            from homeroom.outbound.service import Provisioner

            return Provisioner(self.tenant, self.settings, self.sessions).discard(run_id)
        with self.sessions.begin() as db:
            run = self._held(db, run_id)
            holds.discard(run)
        holds.PendingData(self.run_dir(run.id) / "pending").drop()
        return run

    def _held(self, db: Session, run_id: str) -> Run:
        run = holds.held(service.get_run(db=db, tenant_id=self.tenant, run_id=run_id), run_id, self.tenant)
        if not any(a.status == ActivityStatus.held and a.kind == INBOUND_ACTIVITY for a in run.activities):
            raise RunError(f"run {run.id} holds a provisioning plan, not inbound data: review it with `homeroom plan show "
                           f"{run.id}`, then `homeroom plan approve|discard {run.id}`")
        return run


def _people_by_role(roles: EntityChanges | None, outcomes: pl.DataFrame) -> list[tuple[str, int, int]]:
    """(role, matched people holding it, unmatched people holding it) over the people matching decided, most
    common role first; ``outcomes`` has personSourcedId and matched."""
    if roles is None or roles.state.height == 0:
        return []
    held = roles.state.filter(pl.col("isActive")).select(pl.col("userSourcedId").alias("personSourcedId"), "role").unique()
    counts = (
        held.join(outcomes, on="personSourcedId", how="inner").group_by("role")
        .agg(pl.col("matched").sum().alias("m"), (~pl.col("matched")).sum().alias("u"), pl.len().alias("n"))
        .sort(["n", "role"], descending=[True, False])
    )
    return [(role, int(m), int(u)) for role, m, u, _ in counts.iter_rows()]


class _NoFindings:
    """A validation result with no findings: the statistics of a held run being applied (counted when it was held)."""

    @staticmethod
    def count(_level: str) -> int:
        return 0


def recover_runs(settings: Settings, sessions: sessionmaker[Session]) -> dict[str, list[str]]:
    """Recover the interrupted runs of every tenant (a serving process does this when it starts, so that a run a
    killed server left ``running`` is failed and rolled back at once); returns the recovered run ids by tenant."""
    with sessions() as db:
        tenants = sorted(set(db.scalars(select(Run.tenant_id).where(Run.status == RunStatus.running))))
    return {tenant: lost for tenant in tenants if (lost := Runner(tenant, settings, sessions).recover())}


def delta_owners(format_name: str | None) -> dict:
    """The rows a delta package of this format restates as a whole (``CsvFormat.delta_owners``)."""
    fmt = FORMATS.get(format_name or "")
    return dict(fmt.delta_owners) if fmt else {}


def entities_of_file(format_name: str | None, file: str) -> list[str]:
    """The entities a file of a format fills (``Guardianrelationship.csv`` of SDS v1 -> ``relationships``)."""
    fmt = FORMATS.get(format_name or "")
    spec = next((f for f in fmt.files if f.name.lower() == file.lower()), None) if fmt else None
    return [] if spec is None or spec.entity is None else list(spec.mappings())
