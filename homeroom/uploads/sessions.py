"""Upload sessions of CSV connectors and their validation: Graph's ``getUploadSession`` and ``validate`` (spec §1.10.8-1.11).

Documented behaviour: a session is one container that files are uploaded to; ``resetSession=true`` gives a new,
empty one; ``validate`` checks that the required files are there with proper names and headers, records the
result in a ``fileValidateOperation`` and moves the validated files to the connector's internal storage; the
container is destroyed after validation or, unvalidated, at its ``containerExpirationDateTime``.

Inferred (spec Appendix C), labelled as such: without ``resetSession`` the current session is returned while it is
valid; a validation with blocking errors still ends ``succeeded`` (the verdict is in ``errors``); after validate
the container is consumed and the next ``getUploadSession`` makes a new one.

Homeroom's choice where ``fileFormat`` is not set (Microsoft documents it as optional on create): validation detects
the format, and a successful validation makes the detected code the connector's ``fileFormat``; the operation's
``statusDetail`` says so (``DETECTED_FORMAT``). Later uploads must then be of that format.

Homeroom's own codes for what Microsoft does not document: ``UploadSessionNotFound`` (validate without a session),
``UploadSessionExpired`` (validate after the session expired; nothing is kept), ``FileFormatMismatch`` (the files
are of another format than the connector's ``fileFormat``), and the basic-validation rule codes of
``docs/validation-rules.md`` (``HeaderNotPresent``, ``DuplicateColumnsInHeader``, ``InvalidEncoding``, ...).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.errors import UploadSessionError
from homeroom.inbound.formats import FORMATS, formats_of_code
from homeroom.inbound.secrets import blank_secret_columns
from homeroom.settings import Settings
from homeroom.store.models import FILE_CONNECTOR, DataConnector, Operation, UploadSession, utc, utcnow
from homeroom.store.references import tenant_reference_data
from homeroom.validate import validate_package



#: The validate operation's ``statusDetail`` when a connector without a fileFormat took the detected one.
DETECTED_FORMAT = "The connector had no fileFormat: the files were detected as {code}, which is now the connector's fileFormat."


class SessionValidation(NamedTuple):
    """What a validation found: Graph's errors and warnings, the validated files (none when there are errors) and
    a detail for the operation's ``statusDetail`` (None when there is nothing to add)."""

    errors: list[dict]
    warnings: list[dict]
    validated_files: list[str]
    detail: str | None = None


def current_session(db: Session, *, connector: DataConnector, store: Any, settings: Settings, reset: bool,
                    now: datetime | None = None) -> UploadSession:
    """The connector's upload session: the active one while it is valid, else (or with ``reset``) a new, empty one."""
    if connector.kind != FILE_CONNECTOR:
        raise UploadSessionError(f"dataConnector '{connector.id}' is a {connector.kind}; only an azureDataLakeConnector takes uploads.")
    now = now or utcnow()
    active = db.scalars(select(UploadSession).where(
        UploadSession.connector_id == connector.id, UploadSession.state == "active").order_by(UploadSession.created)).all()
    for found in active:
        if not reset and utc(found.session_expires) > now:
            return found
        found.state = "reset" if reset else "expired"
        if reset:
            store.delete_container(found.id)
    session_expires = now + timedelta(hours=settings.upload_session_hours)
    session = UploadSession(tenant_id=connector.tenant_id, connector_id=connector.id, created=now,
                            session_expires=session_expires,
                            container_expires=session_expires + timedelta(hours=settings.upload_container_extra_hours))
    db.add(session)
    db.flush()
    store.create_container(session.id)
    return session


def claim_session(db: Session, *, connector: DataConnector) -> str | None:
    """Take the connector's active session for a validation (a second validate finds none); its id, or None."""
    if connector.kind != FILE_CONNECTOR:
        raise UploadSessionError(f"dataConnector '{connector.id}' is a {connector.kind}; only an azureDataLakeConnector has "
                                 "uploads to validate (a OneRoster API connector's validate checks its credential).")
    session = db.scalars(select(UploadSession).where(
        UploadSession.connector_id == connector.id, UploadSession.state == "active").order_by(UploadSession.created.desc())).first()
    if session is None:
        return None
    session.state = "validating"
    return session.id


def public_error(code: str, message: str, target: str | None, details: list[dict] | None = None) -> dict:
    """Graph's ``publicError``."""
    return {"code": code, "message": message, "target": target, "details": details or [], "innerError": None}


def findings_to_errors(findings: pl.DataFrame) -> tuple[list[dict], list[dict]]:
    """Basic-validation findings as Graph's errors (blocking) and warnings, with the documented message templates."""
    errors, warnings = [], []
    for f in findings.iter_rows(named=True):
        if f["level"] not in ("catastrophic", "error", "warning"):
            continue
        rule, file = f["rule"], f["file"]
        if rule == "RequiredFileNotFound":
            message = f"When trying to validate required file {file} encountered {rule} error."
        elif rule == "OptionalFileNotFound":
            message = f"When trying to validate file {file} encountered {rule} error."
        else:
            message = f["message"]
        where = [f"line {f['line']}" if f["line"] is not None else None, f"field {f['field']}" if f["field"] else None]
        details = [{"code": rule, "message": f["message"], "target": ", ".join(w for w in where if w)}] if any(where) else []
        (warnings if f["level"] == "warning" else errors).append(public_error(rule, message, file, details))
    return errors, warnings


def validate_session(sessions: sessionmaker[Session], store: Any, settings: Settings, *, tenant_id: str, operation_id: str,
                     connector_id: str, session_id: str | None) -> SessionValidation:
    """Validate a claimed session: copy its files out, run the basic checks, keep the package if it passed;
    a connector without a fileFormat takes the detected one."""
    if session_id is None:
        return SessionValidation([public_error("UploadSessionNotFound", "The connector has no upload session with files to validate; call "
                             "getUploadSession, upload the files, then validate.", None)], [], [])
    with sessions.begin() as db:
        session, connector = db.get(UploadSession, session_id), db.get(DataConnector, connector_id)
        expired = utc(session.session_expires) <= utcnow()
        file_format, expires = connector.file_format, utc(session.session_expires)
        reference = tenant_reference_data(db=db, tenant_id=tenant_id)
        if expired:
            session.state = "destroyed"
    if expired:
        store.delete_container(session_id)
        return SessionValidation([public_error("UploadSessionExpired", f"The upload session expired at {expires:%Y-%m-%dT%H:%M:%SZ} "
                                               "and its files were discarded; get a new upload session and upload the files "
                                               "again.", None)], [], [])
    dest = settings.data_dir / "packages" / tenant_id / connector_id / operation_id
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Copied, not moved: until the verdict is recorded the session and its files stay as they were, so a validation
    # a stopped server never finished can be run again (homeroom.runs.operations.recover_operations).
    try:
        store.copy_out(session_id, dest)
        verdict = _judge(sessions, settings, tenant_id=tenant_id, connector_id=connector_id, dest=dest,
                         file_format=file_format, reference=reference)
    except BaseException:
        with sessions.begin() as db:  # as before validate: the client may validate the same files again
            db.get(UploadSession, session_id).state = "active"
        raise
    with sessions.begin() as db:
        db.get(UploadSession, session_id).state = "consumed"
    store.delete_container(session_id)  # validated: the container is destroyed, as Graph documents
    return verdict


def _judge(sessions: sessionmaker[Session], settings: Settings, *, tenant_id: str, connector_id: str, dest: Path,
           file_format: str | None, reference) -> SessionValidation:
    """The basic checks of a copied package; a package that passes becomes the connector's current one."""
    allowed = formats_of_code(file_format)
    result = validate_package(dest, format_name=allowed[0] if allowed and len(allowed) == 1 else None, reference=reference,
                              settings=settings, basic_only=True)
    errors, warnings = findings_to_errors(result.findings)
    if allowed and result.format and result.format not in allowed:
        errors.append(public_error("FileFormatMismatch", f"The files are a {result.format} package, but the connector's "
                                   f"fileFormat is {file_format}; upload {file_format} files or change the connector.", None))
    if errors:
        shutil.rmtree(dest, ignore_errors=True)
        return SessionValidation(errors, warnings, [])
    blank_secret_columns(dest, result.format)  # the kept package holds no password (homeroom.inbound.secrets)
    detail = None
    with sessions.begin() as db:
        connector = db.get(DataConnector, connector_id)
        previous = connector.current_package
        connector.current_package, connector.current_package_format = str(dest), result.format
        connector.current_package_validated = utcnow()
        if connector.file_format is None and result.format:
            connector.file_format = FORMATS[result.format].file_format_code
            detail = DETECTED_FORMAT.format(code=connector.file_format)
        # Package folders are named after their validation: those still validating are not to be pruned.
        validating = set(db.scalars(select(Operation.id).where(
            Operation.tenant_id == tenant_id, Operation.status.in_(("notStarted", "running")))))
    _prune(dest.parent, keep={dest, *([Path(previous)] if previous else [])}, validating=validating)
    return SessionValidation(errors, warnings, result.recognised, detail)


def _prune(folder: Path, keep: set[Path], validating: set[str]) -> None:
    """Remove a connector's packages that are neither the accepted ones in ``keep`` (the current package and the one
    before it, which a run may still be reading) nor being validated. Pruning goes by what was accepted, not by
    age: the files of a validation a stopped server never finished are not a package."""
    for package in (p for p in folder.iterdir() if p.is_dir()):
        if package not in keep and package.name not in validating:
            shutil.rmtree(package, ignore_errors=True)


def recover_sessions(db: Session) -> int:
    """Sessions a stopped server left ``validating`` are ``active`` again, with their files, as before ``validate``
    (called when a serving process starts, before it takes requests); returns how many."""
    stuck = list(db.scalars(select(UploadSession).where(UploadSession.state == "validating")))
    for session in stuck:
        session.state = "active"
    return len(stuck)


def expire_sessions(db: Session, store: Any, now: datetime | None = None) -> int:
    """Housekeeping: sessions past their expiry take no more validation; containers past theirs are destroyed,
    and so are containers no session knows (their connector was deleted) once an hour old.

    Returns how many containers were destroyed.
    """
    now = now or utcnow()
    destroyed = 0
    known = set()
    for session in db.scalars(select(UploadSession).where(UploadSession.state.in_(("active", "validating", "expired")))):
        if session.state == "active" and utc(session.session_expires) <= now:
            session.state = "expired"
        if session.state == "expired" and utc(session.container_expires) <= now:
            session.state = "destroyed"
            store.delete_container(session.id)
            destroyed += 1
            continue
        known.add(session.id)
    for container in store.containers():
        # An hour's grace: a session being created has its container before its row is committed.
        if container not in known and now - utc(store.container_properties(container).last_modified) > timedelta(hours=1):
            store.delete_container(container)
            destroyed += 1
    return destroyed


def remove_orphan_packages(db: Session, data_dir: Path) -> int:
    """Remove the validated packages of connectors that no longer exist; returns how many folders."""
    root = data_dir / "packages"
    if not root.is_dir():
        return 0
    alive = {(t, c) for t, c in db.execute(select(DataConnector.tenant_id, DataConnector.id))}
    removed = 0
    for folder in (p for tenant in root.iterdir() if tenant.is_dir() for p in tenant.iterdir() if p.is_dir()):
        if (folder.parent.name, folder.name) not in alive:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
