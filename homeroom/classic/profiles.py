"""A classic profile's lifecycle and its synchronizations, on the shared engine (see the package docstring).

Documented (spec §2.2-§2.12): a new profile is ``provisioning``, then ``provisioned``; ``start`` verifies the
uploaded files and, without an ``Error``, synchronizes; ``pause`` and ``resume`` stop and continue it; ``reset``
deletes the recorded errors and synchronizes again, deleting no directory data; a profile stops synchronizing after
its ``expirationDate``. Homeroom's choices where Microsoft documents none: before its first ``start`` a profile's
status is ``paused`` ("not started"); a synchronization held by a safety threshold is ``quarantined`` until the run
is approved or discarded (industryData ``runs/{id}/approve``); ``resume`` synchronizes the last verified files again;
a sync error is a record the synchronization dropped (its rule code is the ``errorCode``).
"""

from __future__ import annotations

import logging
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.classic import identity, providers
from homeroom.errors import ConflictError
from homeroom.model.statuses import RunStatus
from homeroom.runs.engine import Runner
from homeroom.settings import Settings
from homeroom.store import service
from homeroom.store.models import (
    CLASSIC_PROFILE_KEY,
    FILE_CONNECTOR,
    DataConnector,
    EducationSyncError,
    EducationSyncProfile,
    InboundFlow,
    OutboundFlowSet,
    ProvisioningFlow,
    Run,
    RunActivity,
    SourceSystem,
    UploadSession,
    utcnow,
)
from homeroom.validate import validate_package
from homeroom.validate.engine import ValidationResult

log = logging.getLogger(__name__)

#: The trigger of a profile's runs (``runs.trigger``).
TRIGGER = "classicProfile"
#: Classic SDS stops recording errors at this many per profile (spec §2.15).
MAX_ERRORS = 15_000
_ENTRY_TYPES = {"school.csv": "School", "section.csv": "Section", "student.csv": "Student", "teacher.csv": "Teacher",
                "studentenrollment.csv": "StudentEnrollment", "teacherroster.csv": "TeacherRoster", "user.csv": "User",
                "guardianrelationship.csv": "GuardianRelationship"}


def school_year(today: date) -> str:
    """The school year (its ending year, August to July) a profile's data belongs to."""
    return str(today.year + (1 if today.month >= 8 else 0))


def _names(profile: EducationSyncProfile) -> str:
    return f"SDS classic profile {profile.id}"


def provision(db: Session, profile: EducationSyncProfile) -> None:
    """Make (or, for an update, bring up to date) the engine's rows of a profile, then mark it ``provisioned``."""
    name = _names(profile)
    if profile.flow_id is None:
        source = SourceSystem(tenant_id=profile.tenant_id, display_name=name, vendor="School Data Sync (classic)")
        db.add(source)
        db.flush()
        connector = DataConnector(tenant_id=profile.tenant_id, kind=FILE_CONNECTOR, display_name=f"{name} files",
                                  source_system_id=source.id, file_format="schoolDataSyncV1", settings={CLASSIC_PROFILE_KEY: profile.id})
        db.add(connector)
        db.flush()
        year = service.ensure_year(db=db, tenant_id=profile.tenant_id, code=school_year(utcnow().date()))
        flow = InboundFlow(tenant_id=profile.tenant_id, display_name=name, connector_id=connector.id, year_id=year.id)
        flow_set = OutboundFlowSet(tenant_id=profile.tenant_id, display_name=name)
        db.add_all([flow, flow_set])
        db.flush()
        profile.flow_id, profile.flow_set_id = flow.id, flow_set.id
    flow = db.get(InboundFlow, profile.flow_id)
    flow.expiration = None if profile.expiration_date is None else datetime.combine(
        profile.expiration_date, datetime.max.time(), tzinfo=utcnow().tzinfo)
    db.get(SourceSystem, flow.connector.source_system_id).user_matching_settings = identity.matching_settings(profile.identity)
    for kind, settings in (("userProvisioningFlow", identity.user_flow_settings(profile.identity, profile.licenses)),
                           ("classGroupProvisioningFlow", providers.class_flow_settings(profile.data_provider))):
        found = db.scalar(select(ProvisioningFlow).where(ProvisioningFlow.flow_set_id == profile.flow_set_id,
                                                         ProvisioningFlow.kind == kind))
        if found is None:
            db.add(ProvisioningFlow(tenant_id=profile.tenant_id, flow_set_id=profile.flow_set_id, kind=kind, settings=settings, secrets={}))
        else:
            found.settings, found.last_modified = settings, utcnow()
    profile.state = "provisioned"
    db.flush()


def provision_job(sessions: sessionmaker[Session], profile_id: str) -> None:
    """Provision a profile in the background; a failure leaves it ``provisioningFailed`` (logged)."""
    try:
        with sessions.begin() as db:
            profile = db.get(EducationSyncProfile, profile_id)
            if profile is not None and profile.state == "provisioning":
                provision(db, profile)
    except Exception:  # noqa: BLE001 - the profile's state reports it
        log.exception("provisioning profile %s failed", profile_id)
        with sessions.begin() as db:
            profile = db.get(EducationSyncProfile, profile_id)
            if profile is not None:
                profile.state = "provisioningFailed"


def remove(db: Session, profile: EducationSyncProfile) -> None:
    """Delete a profile with its errors and outbound flows; its inbound flow, connector and source system go too
    unless runs used them (the runs' history keeps them). No lake or directory data is deleted."""
    db.execute(delete(EducationSyncError).where(EducationSyncError.profile_id == profile.id))
    if profile.flow_set_id is not None:
        db.execute(delete(ProvisioningFlow).where(ProvisioningFlow.flow_set_id == profile.flow_set_id))
        db.execute(delete(OutboundFlowSet).where(OutboundFlowSet.id == profile.flow_set_id))
    flow = db.get(InboundFlow, profile.flow_id) if profile.flow_id else None
    if flow is not None and not db.scalar(select(func.count()).select_from(RunActivity).where(RunActivity.flow_id == flow.id)):
        connector = flow.connector
        db.execute(delete(UploadSession).where(UploadSession.connector_id == connector.id))
        source_id = connector.source_system_id
        db.delete(flow)
        db.flush()
        db.delete(connector)
        db.flush()
        db.execute(delete(SourceSystem).where(SourceSystem.id == source_id))
    if profile.package:
        shutil.rmtree(profile.package, ignore_errors=True)
    db.delete(profile)
    db.flush()


def require_provisioned(profile: EducationSyncProfile) -> None:
    """Refuse to act on a profile that is not provisioned (yet)."""
    if profile.state != "provisioned" or profile.flow_id is None:
        raise ConflictError(f"Profile '{profile.id}' is {profile.state}, not provisioned; wait until its state is provisioned.")


def connector_of(db: Session, profile: EducationSyncProfile) -> DataConnector:
    """The file connector a provisioned profile's uploads go to."""
    require_provisioned(profile)
    return db.get(InboundFlow, profile.flow_id).connector


def is_expired(profile: EducationSyncProfile, today: date) -> bool:
    """Whether the profile is past its ``expirationDate`` (it then synchronizes no more)."""
    return profile.expiration_date is not None and profile.expiration_date < today


def format_options(profile: EducationSyncProfile, now: datetime | None = None) -> dict[str, Any]:
    """The SDS v1 format options of the profile: its customizations and its usernames' domains."""
    return {**providers.format_options(profile.data_provider, now or utcnow()), **identity.username_domains(profile.identity)}


def verify(profile: EducationSyncProfile, package: Path, settings: Settings, reference: Any) -> ValidationResult:
    """Validate a package as the profile synchronizes it (the SDS v1 format, the profile's options)."""
    return validate_package(package, format_name="sds-v1-uk" if _is_uk(package) else "sds-v1", reference=reference,
                            settings=settings, options=format_options(profile))


def _is_uk(package: Path) -> bool:
    school = next((p for p in package.iterdir() if p.name.lower() == "school.csv"), None)
    return school is not None and "DfE Number" in school.open(encoding="utf-8-sig", errors="replace").readline()


def sync_errors(profile: EducationSyncProfile, result: ValidationResult, now: datetime) -> list[EducationSyncError]:
    """The records a synchronization of this result drops, as educationSynchronizationErrors (at most ``MAX_ERRORS``)."""
    dropped = result.findings.filter((pl.col("level") == "error") & pl.col("line").is_not_null()).head(MAX_ERRORS)
    return [EducationSyncError(tenant_id=profile.tenant_id, profile_id=profile.id,
                               entry_type=_ENTRY_TYPES.get(f["file"].lower(), f["file"]), error_code=f["rule"],
                               error_message=f["message"], joining_value=f["recordId"] or f["value"],
                               reportable_identifier=f"{f['file']} line {f['line']}", recorded=now)
            for f in dropped.iter_rows(named=True)]


def begin_sync(db: Session, profile: EducationSyncProfile, runner: Runner, result: ValidationResult) -> str:
    """Record a synchronization of the profile's verified package (a run of its flow) and its errors; the run id."""
    flow = db.get(InboundFlow, profile.flow_id)
    run = runner.start(db, [(flow, profile.package, result.format)], trigger=TRIGGER)
    now = utcnow()
    db.execute(delete(EducationSyncError).where(EducationSyncError.profile_id == profile.id))
    db.add_all(sync_errors(profile, result, now))
    profile.run_id, profile.status, profile.paused_status = run.id, "inProgress", None
    profile.status_message, profile.last_activity = "Synchronizing the verified files.", now
    return run.id


def run_sync(sessions: sessionmaker[Session], runner: Runner, profile_id: str, run_id: str, options: dict[str, Any]) -> None:
    """Carry out a profile's synchronization and record how it went in the profile's status."""
    try:
        runner.execute(run_id, options=options)
    except Exception:  # noqa: BLE001 - the run and the profile record the failure
        log.exception("synchronization %s of profile %s failed", run_id, profile_id)
    with sessions.begin() as db:
        profile, run = db.get(EducationSyncProfile, profile_id), db.get(Run, run_id)
        if profile is None or run is None:
            return
        record_outcome(db, profile, run)
    after_inbound(sessions, profile_id, run_id)


def record_outcome(db: Session, profile: EducationSyncProfile, run: Run) -> None:
    """The profile's status from its run: success, error (failed), or quarantined (held by a safety threshold). A
    profile paused while its synchronization ran stays paused; the outcome is what ``resume`` returns to."""
    errors = db.scalar(select(func.count()).select_from(EducationSyncError).where(EducationSyncError.profile_id == profile.id))
    now = utcnow()
    profile.last_activity = now
    if run.status == RunStatus.held:
        status, message = "quarantined", (f"The synchronization was held by a safety threshold: approve or discard run {run.id} "
                                          f"(industryData runs/{run.id}/approve or /discard).")
    elif run.status == RunStatus.failed:
        status, message = "error", f"The synchronization failed: {(run.blocking_error or {}).get('message', 'see run ' + run.id)}"
    else:
        status, profile.last_synchronization = "success", now
        message = "Synchronized." + (f" {errors} record(s) could not be synchronized; see errors." if errors else "")
    if profile.status == "paused":
        profile.paused_status = status
        return
    profile.status, profile.status_message = status, message


def after_inbound(sessions: sessionmaker[Session], profile_id: str, run_id: str) -> None:
    """The hook where outbound provisioning follows a profile's inbound run: the profile's outbound flow set
    (``flow_set_id``: its user flow with the licences, its class group flow) applied to the tenant's target.
    Provisioning is not part of Homeroom yet, so nothing happens here."""


def pause(profile: EducationSyncProfile) -> None:
    """Stop synchronizing: the status is ``paused`` until ``resume``."""
    if profile.status != "paused" or profile.paused_status is None:
        profile.paused_status = profile.status if profile.status != "paused" else "paused"
    profile.status, profile.status_message, profile.last_activity = "paused", "Paused.", utcnow()


def record_verification_failure(profile: EducationSyncProfile, messages: list[dict]) -> None:
    """``start`` found errors in the files: nothing runs; the status says so."""
    errors = sum(1 for m in messages if m["type"] == "Error")
    profile.status, profile.last_activity = "validationError", utcnow()
    profile.status_message = f"The files were not synchronized: verification found {errors} error message(s)."


def package_folder(settings: Settings, profile: EducationSyncProfile, name: str) -> Path:
    """Where a profile keeps a verified package."""
    return settings.data_dir / "classic" / profile.tenant_id / profile.id / name
