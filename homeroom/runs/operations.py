"""Long-running operations: what a client polls while a validation, a run or an approval is carried out.

An operation (Graph's ``longRunningOperation``, or ``fileValidateOperation`` for a validation) is recorded when the
work is accepted, owned by the process that carries it out, and finished ``succeeded`` or ``failed`` with a
detail. Operations a stopped process left unfinished end ``failed`` (``recover_operations``); finished ones are
forgotten after ``operation_retention_days`` (Graph's operations are ephemeral).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.model.statuses import FINISHED_OPERATION, OperationStatus
from homeroom.runs.recovery import owner_alive, owner_id
from homeroom.store.models import Operation, utc, utcnow

#: The kinds of operation: Graph's types (a OneRoster connector's validate, a credential check, is a plain one).
RUN_OPERATION, VALIDATE_OPERATION = "longRunningOperation", "fileValidateOperation"
CHECK_OPERATION = RUN_OPERATION


def start_operation(db: Session, *, tenant_id: str, kind: str, location: str,
                    status: OperationStatus = OperationStatus.running) -> Operation:
    """Record an operation that this process carries out; ``location`` is the resource it is about."""
    operation = Operation(tenant_id=tenant_id, kind=kind, status=status, owner=owner_id(), resource_location=location)
    db.add(operation)
    db.flush()
    return operation


def finish_operation(db: Session, operation_id: str, *, status: OperationStatus, detail: str | None) -> Operation:
    """End an operation with its status and detail; it has no owner any more."""
    operation = db.get(Operation, operation_id)
    operation.status, operation.status_detail = status, detail
    operation.last_action, operation.owner = utcnow(), None
    return operation


def recover_operations(sessions: sessionmaker[Session]) -> int:
    """Operations left unfinished by a process that is gone end ``failed``; returns how many."""
    with sessions.begin() as db:
        lost = [o.id for o in db.scalars(select(Operation).where(
            Operation.status.in_((OperationStatus.notStarted, OperationStatus.running)))) if not owner_alive(o.owner)]
        for operation_id in lost:
            finish_operation(db, operation_id, status=OperationStatus.failed,
                             detail="The server stopped before the operation finished; start it again.")
    return len(lost)


def forget_old_operations(db: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete finished operations older than ``older_than``; returns how many."""
    limit = (now or utcnow()) - older_than
    old = [o for o in db.scalars(select(Operation).where(Operation.status.in_(FINISHED_OPERATION))) if utc(o.last_action) < limit]
    for operation in old:
        db.delete(operation)
    return len(old)
