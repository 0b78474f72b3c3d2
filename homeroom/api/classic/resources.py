"""The classic API's resources: synchronization profiles, their status and their errors (spec §2.2-§2.10, §2.14).

Declared like industryData's (``homeroom.api.resources``) and served by the same generic collection routes; what
differs: a profile is created ``provisioning`` and provisioned in the background (``accepted``), a DELETE answers
202, and listing is for delegated tokens only (the docs list no application permission for it).
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeroom.api.bodies import parse_body, resolve_type
from homeroom.api.calls import Surface
from homeroom.api.classic import entities
from homeroom.api.classic.bodies import DataProviderIn, IdentityConfigurationIn, SynchronizationProfileIn
from homeroom.api.entities import GRAPH
from homeroom.api.errors import BadRequest, MethodNotAllowed
from homeroom.api.resources import Navigation, Resource
from homeroom.auth import permissions
from homeroom.classic import identity, profiles, providers
from homeroom.errors import ConfigurationError, NotFoundError
from homeroom.model.statuses import RunStatus
from homeroom.store.models import EducationSyncError, EducationSyncProfile, Run, iso, utcnow

#: Who may do what (spec §2.14): reads by delegated and application tokens, listing and the profile's own writes by
#: delegated tokens only, the synchronization actions by both.
READ = ("EduAdministration.Read", "EduAdministration.ReadWrite", "EduAdministration.Read.All", "EduAdministration.ReadWrite.All")
LIST = ("EduAdministration.Read", "EduAdministration.ReadWrite")
WRITE = ("EduAdministration.ReadWrite",)
SYNC = ("EduAdministration.ReadWrite", "EduAdministration.ReadWrite.All")
NOT_STARTED = "Not started: upload the files to the profile's uploadUrl, then call start."
_PROVIDERS = {k: k for k in (providers.CSV, providers.ONEROSTER, providers.POWERSCHOOL)}
_IDENTITIES = {k: k for k in (identity.CREATION, identity.MATCHING)}
_CONNECTION_SETTINGS = {"educationSynchronizationOAuth1ConnectionSettings": "oauth1",
                        "educationSynchronizationOAuth2ClientCredentialsConnectionSettings": "oauth2"}
_KIND_PROPS = {
    providers.CSV: {"customizations"},
    providers.ONEROSTER: {"customizations", "connection_url", "provider_name", "schools_ids", "term_ids", "connection_settings"},
    providers.POWERSCHOOL: {"customizations", "connection_url", "client_id", "client_secret", "schools_ids", "school_year",
                            "allow_teachers_in_multiple_schools"},
}


def odata_type(name: str) -> str:
    """The canonical ``@odata.type`` of a type of the classic API (namespace ``microsoft.graph``)."""
    return f"#{GRAPH}.{name}"


def _part(value: dict | None, prop: str, allowed: dict[str, str]) -> str:
    """The concrete type of a polymorphic part of a body (``dataProvider``, ``identitySynchronizationConfiguration``)."""
    declared = (value or {}).get("@odata.type")
    if declared is None:
        raise BadRequest(f"Property '{prop}.@odata.type' is required: one of {', '.join(odata_type(k) for k in allowed)}.")
    return resolve_type(declared, allowed, GRAPH)


def _months_after(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class SynchronizationProfiles(Resource):
    """``/education/synchronizationProfiles``: educationSynchronizationProfile."""

    name, type_name, model = "synchronizationProfiles", "educationSynchronizationProfile", EducationSyncProfile
    body = SynchronizationProfileIn
    entity = entities.EducationSynchronizationProfile
    read, list_read, write = READ, LIST, WRITE
    delete_status = 202

    def __init__(self) -> None:
        self.navigations = {
            "profileStatus": Navigation("profileStatus", lambda db, t, row: status_of(db, row)),
            "errors": Navigation("errors", lambda db, t, row: ERRORS.list(db=db, tenant_id=t, parent=row), many=True),
        }

    def to_json(self, row: EducationSyncProfile) -> dict:
        return {"@odata.type": odata_type(self.type_name), "id": row.id, "displayName": row.display_name, "state": row.state,
                "dataProvider": provider_json(row.data_provider), "identitySynchronizationConfiguration": identity_json(row.identity),
                "licensesToAssign": [{"@odata.type": odata_type("educationSynchronizationLicenseAssignment"), **a} for a in row.licenses],
                "expirationDate": None if row.expiration_date is None else row.expiration_date.isoformat(),
                "handleSpecialCharacterConstraint": row.handle_special_characters}

    def parse(self, raw: bytes, *, required: tuple[str, ...] = ()) -> SynchronizationProfileIn:
        """A profile body, with its polymorphic parts' types checked."""
        body = parse_body(SynchronizationProfileIn, raw, required=required, type_name=self.type_name, namespace=GRAPH)
        resolve_type(body.odata_type, {self.type_name: self.type_name}, GRAPH)
        return body

    def apply(self, row: EducationSyncProfile, body: SynchronizationProfileIn, raw: bytes) -> None:
        """Change what the body carries; the profile is then provisioned again (``accepted``)."""
        document = json.loads(raw)
        lower = {k.lower(): v for k, v in document.items()}
        try:
            if body.given("display_name"):
                if body.display_name is None:
                    raise BadRequest("Invalid value for property 'displayName': it cannot be null.")
                row.display_name = body.display_name
            if body.given("data_provider"):
                row.data_provider, row.secrets = self._provider(body.data_provider, lower.get("dataprovider"), row)
            if body.given("identity_synchronization_configuration"):
                row.identity = self._identity(body.identity_synchronization_configuration, lower.get("identitysynchronizationconfiguration"))
            if body.given("licenses_to_assign"):
                row.licenses = [{"appliesTo": (a.applies_to or "").lower(), "skuIds": list(a.sku_ids or [])} for a in body.licenses_to_assign or []]
                identity.user_flow_settings(row.identity, row.licenses)  # refuses unknown roles
            if body.given("handle_special_character_constraint"):
                row.handle_special_characters = body.handle_special_character_constraint
            if body.given("expiration_date"):
                created = (row.created or utcnow()).date()
                if body.expiration_date is not None and body.expiration_date > _months_after(created, 18):
                    raise BadRequest(f"Invalid value for property 'expirationDate': at most 18 months after the profile's "
                                     f"creation ({_months_after(created, 18).isoformat()}).")
                row.expiration_date = body.expiration_date
        except ConfigurationError as exc:
            raise BadRequest(exc.message) from None
        row.state, row.last_modified = "provisioning", utcnow()

    def _provider(self, body: DataProviderIn | None, raw: dict | None, row: EducationSyncProfile) -> tuple[dict, dict]:
        if body is None:
            raise BadRequest("Invalid value for property 'dataProvider': it cannot be null.")
        kind = _part(raw, "dataProvider", _PROVIDERS)
        wrong = sorted((body.model_fields_set - {"odata_type"}) - _KIND_PROPS[kind])
        if wrong:
            raise BadRequest(f"Property 'dataProvider.{DataProviderIn.model_fields[wrong[0]].alias}' does not exist on type "
                             f"'{GRAPH}.{kind}'.")
        given = body.customizations.model_dump(by_alias=True, exclude_unset=True, mode="json") if body.customizations else None
        stored: dict[str, Any] = {"kind": kind, "customizations": providers.customizations(given)}
        old = row.secrets if (row.data_provider or {}).get("kind") == kind else {}
        secrets: dict[str, Any] = {}
        if kind == providers.ONEROSTER:
            stored.update(connectionUrl=body.connection_url, providerName=body.provider_name, schoolsIds=body.schools_ids or [],
                          termIds=body.term_ids or [])
            settings = body.connection_settings
            if settings is not None:
                declared = ((raw or {}).get("connectionSettings") or {}).get("@odata.type")
                auth = _CONNECTION_SETTINGS[resolve_type(declared, _CONNECTION_SETTINGS, GRAPH) or
                                            "educationSynchronizationOAuth2ClientCredentialsConnectionSettings"]
                stored["connectionSettings"] = {"kind": auth, "clientId": settings.client_id,
                                                **({"tokenUrl": settings.token_url, "scope": settings.scope} if auth == "oauth2" else {})}
                secrets["clientSecret"] = settings.client_secret or old.get("clientSecret")
        elif kind == providers.POWERSCHOOL:
            stored.update(connectionUrl=body.connection_url, clientId=body.client_id, schoolsIds=body.schools_ids or [],
                          schoolYear=body.school_year, allowTeachersInMultipleSchools=body.allow_teachers_in_multiple_schools)
            secrets["clientSecret"] = body.client_secret or old.get("clientSecret")
        secrets = {k: v for k, v in secrets.items() if v}
        providers.check_provider(stored, secrets)
        return stored, secrets

    def _identity(self, body: IdentityConfigurationIn | None, raw: dict | None) -> dict | None:
        if body is None:
            return None
        kind = _part(raw, "identitySynchronizationConfiguration", _IDENTITIES)
        if kind == identity.CREATION:
            if body.given("matching_options"):
                raise BadRequest(f"Property 'identitySynchronizationConfiguration.matchingOptions' does not exist on type '{GRAPH}.{kind}'.")
            stored = {"kind": kind, "userDomains": [{"appliesTo": (d.applies_to or "").lower(), "name": d.name}
                                                    for d in body.user_domains or []]}
        else:
            if body.given("user_domains"):
                raise BadRequest(f"Property 'identitySynchronizationConfiguration.userDomains' does not exist on type '{GRAPH}.{kind}'.")
            stored = {"kind": kind, "matchingOptions": [
                {"appliesTo": (o.applies_to or "").lower(), "sourcePropertyName": o.source_property_name,
                 "targetPropertyName": o.target_property_name, "targetDomain": o.target_domain} for o in body.matching_options or []]}
        identity.check_identity(stored)
        return stored

    def create(self, *, db: Session, tenant_id: str, raw: bytes) -> EducationSyncProfile:
        body = self.parse(raw, required=("displayName", "dataProvider"))
        row = EducationSyncProfile(tenant_id=tenant_id, created=utcnow(), status="paused", status_message=NOT_STARTED, licenses=[])
        self.apply(row, body, raw)
        db.add(row)
        db.flush()
        return row

    def update(self, *, db: Session, tenant_id: str, row: EducationSyncProfile, raw: bytes) -> None:
        self.apply(row, self.parse(raw), raw)

    def replace(self, *, db: Session, tenant_id: str, raw: bytes) -> EducationSyncProfile:
        """The collection-level PUT: the body names the profile by ``id`` and restates it whole."""
        body = self.parse(raw, required=("id", "displayName", "dataProvider"))
        row = self.get(db=db, tenant_id=tenant_id, key=body.id)
        for field in ("identity_synchronization_configuration", "licenses_to_assign", "expiration_date",
                      "handle_special_character_constraint"):
            if not body.given(field):  # a PUT restates the profile: what it leaves out is unset
                setattr(body, field, None)
        self.apply(row, body, raw)
        return row

    def accepted(self, app_state: Any, row_id: str) -> None:
        app_state.executor.submit("validations", profiles.provision_job, app_state.sessions, row_id)

    def delete(self, *, db: Session, tenant_id: str, row: EducationSyncProfile) -> None:
        profiles.remove(db, row)


def provider_json(stored: dict | None) -> dict | None:
    """A stored data provider as Graph's JSON (secrets left out)."""
    if not stored:
        return None
    out: dict[str, Any] = {"@odata.type": odata_type(stored["kind"])}
    for key, value in stored.items():
        if key == "kind":
            continue
        if key == "customizations":
            value = {"@odata.type": odata_type("educationSynchronizationCustomizations"), **value}
        if key == "connectionSettings" and value:
            kind = next(k for k, v in _CONNECTION_SETTINGS.items() if v == value["kind"])
            value = {"@odata.type": odata_type(kind), **{k: v for k, v in value.items() if k != "kind"}}
        out[key] = value
    return out


def identity_json(stored: dict | None) -> dict | None:
    """A stored identity configuration as Graph's JSON."""
    if not stored:
        return None
    return {"@odata.type": odata_type(stored["kind"]), **{k: v for k, v in stored.items() if k != "kind"}}


@dataclass(frozen=True)
class ProfileStatusRow:
    """A profile's status as answered: the profile, how many errors it has, and whether it expired."""

    profile: EducationSyncProfile
    error_count: int
    expired: bool
    #: The status of a quarantined profile whose held run was approved or discarded since (None otherwise).
    released: str | None = None

    @property
    def tenant_id(self) -> str:
        return self.profile.tenant_id


def status_of(db: Session, profile: EducationSyncProfile) -> ProfileStatusRow:
    """The ``profileStatus`` of a profile."""
    count = db.scalar(select(func.count()).select_from(EducationSyncError).where(EducationSyncError.profile_id == profile.id))
    released = None
    if profile.status == "quarantined" and profile.run_id and (run := db.get(Run, profile.run_id)) is not None:
        released = {RunStatus.held: None, RunStatus.running: "inProgress", RunStatus.failed: "error",
                    RunStatus.discarded: "error"}.get(run.status, "success")
    return ProfileStatusRow(profile, int(count or 0), profiles.is_expired(profile, utcnow().date()), released)


class ProfileStatuses(Resource):
    """``/synchronizationProfiles/{id}/profileStatus``: educationSynchronizationProfileStatus (read-only)."""

    name, type_name = "profileStatus", "educationSynchronizationProfileStatus"
    entity = entities.EducationSynchronizationProfileStatus
    read = READ

    def to_json(self, row: ProfileStatusRow) -> dict:
        p = row.profile
        message = (f"The profile expired on {p.expiration_date.isoformat()} and synchronizes no more." if row.expired
                   else f"The held synchronization (run {p.run_id}) was approved or discarded." if row.released
                   else p.status_message)
        return {"@odata.type": odata_type(self.type_name), "id": p.id, "status": row.released or p.status, "statusMessage": message,
                "errorCount": row.error_count, "lastActivityDateTime": iso(p.last_activity),
                "lastSynchronizationDateTime": iso(p.last_synchronization)}


class SynchronizationErrors(Resource):
    """``/synchronizationProfiles/{id}/errors``: educationSynchronizationError (read-only: the synchronization writes them)."""

    name, type_name, model = "errors", "educationSynchronizationError", EducationSyncError
    entity = entities.EducationSynchronizationError
    read, write = READ, WRITE
    plain_rows = True

    def list(self, *, db: Session, tenant_id: str, parent: EducationSyncProfile | None = None) -> list:
        table = EducationSyncError.__table__
        query = select(table).where(table.c.tenant_id == tenant_id)
        if parent is not None:
            query = query.where(table.c.profile_id == parent.id)
        return list(db.execute(query.order_by(table.c.recorded, table.c.id)).all())

    def get(self, *, db: Session, tenant_id: str, key: str, parent: EducationSyncProfile | None = None) -> Any:
        row = super().get(db=db, tenant_id=tenant_id, key=key)
        if parent is not None and row.profile_id != parent.id:
            raise NotFoundError(f"{self.type_name} '{key}' was not found.")
        return row

    def to_json(self, row: Any) -> dict:
        return {"@odata.type": odata_type(self.type_name), "id": row.id, "entryType": row.entry_type, "errorCode": row.error_code,
                "errorMessage": row.error_message, "joiningValue": row.joining_value,
                "recordedDateTime": iso(row.recorded), "reportableIdentifier": row.reportable_identifier}

    def create(self, *, db: Session, tenant_id: str, raw: bytes, parent: Any = None) -> Any:
        raise MethodNotAllowed("Synchronization errors are recorded by the synchronization; they cannot be created.")

    def update(self, *, db: Session, tenant_id: str, row: Any, raw: bytes) -> None:
        raise MethodNotAllowed("Synchronization errors cannot be changed; reset the profile to clear them.")

    def delete(self, *, db: Session, tenant_id: str, row: Any) -> None:
        raise MethodNotAllowed("Synchronization errors cannot be deleted one by one; reset the profile to clear them.")


PROFILES = SynchronizationProfiles()
PROFILE_STATUS = ProfileStatuses()
ERRORS = SynchronizationErrors()
#: Every resource of the classic API, by name (navigation targets).
RESOURCES: dict[str, Resource] = {r.name: r for r in (PROFILES, PROFILE_STATUS, ERRORS)}
#: Graph's classic education synchronization API, as served by the generic collection routes.
EDUCATION_SYNC = Surface("education", GRAPH, permissions.EDUCATION_SYNC, RESOURCES)
