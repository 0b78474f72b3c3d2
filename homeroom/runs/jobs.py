"""The work a server accepts on a client's request and carries out in the background, each with its operation:
validating an upload session, checking a OneRoster connector's credential, a run, the approval of a held run.

Each ``begin_*`` function checks and records what was asked (in the caller's transaction) and returns what the
matching job needs; the job (``run_validation``, ``run_credential_check``, ``execute_run``, ``approve_run``) is handed to an executor and
finishes the operation. The API only maps requests to these; the CLI and later a dashboard or a worker use them
the same way.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from homeroom.errors import ExternalError, NotFoundError, RunError, RunNotHeld
from homeroom.inbound.oneroster_api import OneRosterCredential, check_connection
from homeroom.model.statuses import ActivityStatus, OperationStatus, RunStatus
from homeroom.runs.engine import Runner
from homeroom.runs.operations import CHECK_OPERATION, RUN_OPERATION, VALIDATE_OPERATION, finish_operation, start_operation
from homeroom.runs.pulls import config_of
from homeroom.runs.scheduler import check_start_limit, start_run
from homeroom.settings import Settings
from homeroom.store.models import INBOUND_ACTIVITY, DataConnector, Operation, Run, iso, utcnow
from homeroom.uploads.sessions import claim_session, validate_session

log = logging.getLogger(__name__)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _running(sessions: sessionmaker[Session], operation_id: str) -> str:
    """Mark an accepted operation running; returns its tenant."""
    with sessions.begin() as db:
        operation = db.get(Operation, operation_id)
        operation.status, operation.last_action = OperationStatus.running, utcnow()
        return operation.tenant_id


def _could_not(sessions: sessionmaker[Session], operation_id: str, work: str, exc: Exception) -> None:
    """End an operation ``failed`` because ``work`` broke unexpectedly (logged; the server keeps going)."""
    log.exception("%s %s failed", work, operation_id)
    with sessions.begin() as db:
        finish_operation(db, operation_id, status=OperationStatus.failed,
                         detail=f"The {work} could not be carried out: {_describe(exc)}")


# --- validation of an upload session ----------------------------------------------------------------------------
def begin_validation(db: Session, *, connector: DataConnector, location: str, owner: str | None = None) -> tuple[Operation, str | None]:
    """Record a ``fileValidateOperation`` for the connector and claim its active session; returns both (session id or None)."""
    session_id = claim_session(db, connector=connector)
    operation = start_operation(db, tenant_id=connector.tenant_id, kind=VALIDATE_OPERATION, location=location,
                                status=OperationStatus.notStarted)
    if owner is not None:
        operation.owner = owner
    return operation, session_id


def run_validation(sessions: sessionmaker[Session], store: Any, settings: Settings, *, operation_id: str, connector_id: str,
                   session_id: str | None) -> None:
    """Carry out a validation (``homeroom.uploads.sessions.validate_session``) and finish its operation."""
    tenant_id = _running(sessions, operation_id)
    try:
        found = validate_session(sessions, store, settings, tenant_id=tenant_id, operation_id=operation_id,
                                 connector_id=connector_id, session_id=session_id)
    except Exception as exc:  # noqa: BLE001 - the operation reports it
        _could_not(sessions, operation_id, "validation", exc)
        return
    with sessions.begin() as db:
        operation = finish_operation(db, operation_id, status=OperationStatus.succeeded, detail=found.detail)
        operation.errors, operation.warnings, operation.validated_files = found.errors, found.warnings, found.validated_files


# --- the credential check of a OneRoster API connector -------------------------------------------------------------
def begin_credential_check(db: Session, *, connector: DataConnector, location: str) -> Operation:
    """``validate`` of a OneRoster API connector: record the ``longRunningOperation`` of its credential check."""
    return start_operation(db, tenant_id=connector.tenant_id, kind=CHECK_OPERATION, location=location,
                           status=OperationStatus.notStarted)


def _checked(connector: DataConnector, settings: Settings) -> tuple[str, str, OneRosterCredential]:
    """The connector's base URL, version and credential (with its secret), as a check uses and compares them."""
    config = config_of(connector, settings)
    return config.base_url, config.version, config.credential


def run_credential_check(sessions: sessionmaker[Session], settings: Settings, *, operation_id: str, connector_id: str) -> None:
    """Sign in to the connector's OneRoster API and read one org; record ``credential.isValid`` (and, when it passed,
    ``lastValidDateTime``) and finish the operation: ``succeeded``, or ``failed`` with what failed in words."""
    _running(sessions, operation_id)
    try:
        with sessions.begin() as db:
            checked = _checked(db.get(DataConnector, connector_id), settings)
        base_url, version, credential = checked
        detail, valid = check_connection(base_url, credential, timeout=settings.connector_check_timeout_seconds,
                                         version=version), True
    except ExternalError as exc:
        detail, valid = f"The credential check failed: {exc.message}", False
    except Exception as exc:  # noqa: BLE001 - the operation reports it
        _could_not(sessions, operation_id, "credential check", exc)
        return
    with sessions.begin() as db:
        connector = db.get(DataConnector, connector_id)
        if connector is not None and _checked(connector, settings) == checked:  # not changed meanwhile
            stored = dict(connector.settings["credential"], isValid=valid)
            if valid:
                stored["lastValidDateTime"] = iso(utcnow())
            connector.settings = {**connector.settings, "credential": stored}
        finish_operation(db, operation_id, status=OperationStatus.succeeded if valid else OperationStatus.failed, detail=detail)


# --- runs ---------------------------------------------------------------------------------------------------------
def begin_on_demand_run(db: Session, *, tenant_id: str, settings: Settings, sessions: sessionmaker[Session],
                        location: Callable[[str], str]) -> tuple[Runner, str, str]:
    """``runs/start``: within the on-demand limit, record a run of every flow that may run, and its operation.

    ``location(run_id)`` is the address of the run, for the operation. Returns the runner, run id and operation id.
    """
    runner = Runner(tenant_id, settings, sessions)
    runner.recover()
    check_start_limit(db, tenant_id, settings)
    run = start_run(db, runner, trigger="onDemand")
    operation = start_operation(db, tenant_id=tenant_id, kind=RUN_OPERATION, location=location(run.id))
    return runner, run.id, operation.id


def execute_run(sessions: sessionmaker[Session], runner: Runner, run_id: str, operation_id: str | None = None) -> None:
    """Carry out a started run, then finish its operation (if it has one)."""
    detail = None
    try:
        runner.execute(run_id)
    except Exception as exc:  # noqa: BLE001 - the run and its operation record the failure
        log.exception("run %s failed", run_id)
        detail = _describe(exc)
    if operation_id is None:
        return
    with sessions.begin() as db:
        run = db.get(Run, run_id)
        status = OperationStatus.failed if run.status == RunStatus.failed else OperationStatus.succeeded
        finish_operation(db, operation_id, status=status, detail=detail or f"The run ended with status {run.status}.")


# --- held runs ----------------------------------------------------------------------------------------------------
def held_run(db: Session, *, tenant_id: str, run_id: str) -> Run:
    """The tenant's held run ``run_id``; ``NotFoundError`` or ``RunNotHeld`` otherwise."""
    run = db.get(Run, run_id)
    if run is None or run.tenant_id != tenant_id:
        raise NotFoundError(f"industryDataRun '{run_id}' was not found.")
    if run.status != RunStatus.held:
        raise RunNotHeld(f"Run '{run_id}' is {run.status}, not held; only a held run can be approved or discarded.")
    return run


def begin_approval(db: Session, *, tenant_id: str, settings: Settings, sessions: sessionmaker[Session], run_id: str,
                   location: str) -> tuple[Runner, str, str]:
    """Accept the approval of a held run and record its operation; returns the runner, run id and operation id."""
    run = held_run(db, tenant_id=tenant_id, run_id=run_id)
    operation = start_operation(db, tenant_id=tenant_id, kind=RUN_OPERATION, location=location)
    return Runner(tenant_id, settings, sessions), run.id, operation.id


def approve_run(sessions: sessionmaker[Session], runner: Runner, run_id: str, operation_id: str) -> None:
    """Apply a held run, then finish its operation."""
    detail, status = None, OperationStatus.succeeded
    try:
        runner.approve(run_id)
    except Exception as exc:  # noqa: BLE001 - the operation records the failure
        log.exception("approving run %s failed", run_id)
        detail, status = _describe(exc), OperationStatus.failed
    with sessions.begin() as db:
        run = db.get(Run, run_id)
        finish_operation(db, operation_id, status=status,
                         detail=detail or f"The run was approved and ended with status {run.status}.")


# --- held provisioning plans --------------------------------------------------------------------------------------
def begin_plan_approval(db: Session, *, tenant_id: str, run_id: str, location: str) -> str:
    """Accept the approval of a run's held provisioning plan and record its operation; returns the operation id.

    Refused at once (not in the job) when the run is not held, or holds inbound data rather than a plan."""
    run = held_run(db, tenant_id=tenant_id, run_id=run_id)
    if any(a.kind == INBOUND_ACTIVITY and a.status == ActivityStatus.held for a in run.activities):
        raise RunError(f"Run '{run_id}' holds inbound data, not a provisioning plan: approve or discard it as a held run.")
    return start_operation(db, tenant_id=tenant_id, kind=RUN_OPERATION, location=location).id


def approve_plan(sessions: sessionmaker[Session], provisioner: Any, run_id: str, operation_id: str) -> None:
    """Apply a held plan exactly as it was shown (``Provisioner.approve``), then finish its operation with the
    counts of what was done, or why it could not be applied."""
    try:
        reports = provisioner.approve(run_id)
    except Exception as exc:  # the operation records the failure
        log.exception("approving the plan of run %s failed", run_id)
        detail, status = _describe(exc), OperationStatus.failed
    else:
        done, failed = sum(r.done + r.already_done for r in reports.values()), sum(r.failed for r in reports.values())
        detail = f"The plan was approved and applied: {done:,} operations done, {failed:,} failed."
        status = OperationStatus.failed if failed else OperationStatus.succeeded
    with sessions.begin() as db:
        finish_operation(db, operation_id, status=status, detail=detail)
