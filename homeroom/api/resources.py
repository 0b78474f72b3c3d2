"""The industryData resources: each declares its type, permissions, JSON shape and writes; the rest is generic.

A ``Resource`` lists, gets, creates, updates and deletes rows of the caller's tenant only: another tenant's
id is simply not found. Routes (``homeroom.api.collections``) and OData (``homeroom.api.odata``) are shared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeroom.api.bodies import (
    NAMESPACE,
    AdministrativeUnitProvisioningFlowIn,
    ClassGroupProvisioningFlowIn,
    DataConnectorIn,
    GraphInput,
    InboundFlowIn,
    OutboundFlowSetIn,
    ReferenceDefinitionIn,
    ReferenceValueIn,
    SecurityGroupProvisioningFlowIn,
    SourceSystemIn,
    UserConfigurationIn,
    UserMatchingSettingIn,
    UserProvisioningFlowIn,
    YearIn,
    bound_id,
    parse_body,
    resolve_type,
)
from homeroom.api import entities
from homeroom.api.calls import Surface
from homeroom.api.entities import GraphValue, property_names
from homeroom.api.errors import BadRequest, MethodNotAllowed
from homeroom.api.statistics import ACTIVITY_STATUSES, RUN_STATUSES, wire_status
from homeroom.outbound.readiness import readiness_status as _provisioning_readiness
from homeroom.runs.readiness import readiness_status
from homeroom.runs.reports import PROVISIONING_ANNOTATION, provisioning_statistics
from homeroom.errors import ConflictError, NotFoundError
from homeroom.auth import permissions
from homeroom.model.reference import DEFAULT_ROLE_GROUPS, ReferenceDefinition
from homeroom.store import references as reference_store
from homeroom.store.models import (
    API_CONNECTOR,
    API_FLOW,
    FILE_CONNECTOR,
    FILE_FLOW,
    OUTBOUND_ACTIVITY,
    DataConnector,
    InboundFlow,
    Operation,
    OutboundFlowSet,
    ProvisioningFlow,
    Run,
    RunActivity,
    SourceSystem,
    Year,
    iso,
    utc,
)


def odata_type(name: str) -> str:
    """The canonical ``@odata.type`` of a type of the industryData namespace."""
    return f"#{NAMESPACE}.{name}"


@dataclass(frozen=True)
class Navigation:
    """A navigation property: where it leads and how to follow it from a row."""

    target: str  #: name of the target resource
    follow: Callable[[Session, str, Any], Any]  #: (db, tenant_id, row) -> row, list of rows or None
    many: bool = False


class Resource:
    """A collection of Graph entities of one tenant. Subclasses declare what differs."""

    #: URL segment of the collection under /external/industryData.
    name: str = ""
    #: Graph type of the items (the base type for polymorphic collections).
    type_name: str = ""
    #: The read model of the items (``homeroom.api.entities``; the base type for polymorphic collections): the typed
    #: JSON that ``$metadata`` and the OpenAPI document publish, and that ``properties`` is derived from.
    entity: type[GraphValue] | None = None
    #: JSON properties, for $filter, $orderby and $select (those of ``entity`` and its derived types, when declared).
    properties: frozenset[str] = frozenset()
    #: Permissions that allow reading, and writing (None: the collection is read-only).
    read: tuple[str, ...] = ()
    write: tuple[str, ...] | None = None
    #: Permissions that allow listing and counting, when they differ from ``read`` (the classic API lists for
    #: delegated tokens only).
    list_read: tuple[str, ...] | None = None
    #: The status of a successful DELETE (the classic API deletes asynchronously: 202).
    delete_status: int = 204
    #: The SQLAlchemy model (None for resources that are not plain tables).
    model: Any = None
    navigations: dict[str, Navigation] = {}
    #: Concrete types accepted on create, for polymorphic collections.
    concrete_types: dict[str, str] = {}
    #: The request body model of creates and updates (a tuple: one per concrete type), for the OpenAPI document.
    body: type[GraphInput] | tuple[type[GraphInput], ...] | None = None
    #: Whether ``to_json`` and navigations need only a row's columns: lists then read plain rows, not ORM
    #: objects (several times faster for a page of 100).
    plain_rows: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("entity") is not None:
            cls.properties = property_names(cls.entity)

    def list(self, *, db: Session, tenant_id: str) -> list[Any]:
        """Every row of the tenant."""
        if self.plain_rows:
            table = self.model.__table__
            return list(db.execute(select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.id)).all())
        return list(db.scalars(select(self.model).where(self.model.tenant_id == tenant_id).order_by(self.model.id)))

    def get(self, *, db: Session, tenant_id: str, key: str) -> Any:
        """The tenant's row with this key, or ``NotFound``."""
        row = db.get(self.model, key) if self.model is not None else None
        if row is None or row.tenant_id != tenant_id:
            raise NotFoundError(f"{self.type_name} '{key}' was not found.")
        return row

    def to_json(self, row: Any) -> dict:
        """The Graph JSON of one row."""
        raise NotImplementedError

    def create(self, *, db: Session, tenant_id: str, raw: bytes) -> Any:
        """Create a row from a POST body."""
        raise MethodNotAllowed(f"{self.name} cannot be created.")

    def update(self, *, db: Session, tenant_id: str, row: Any, raw: bytes) -> None:
        """Apply a PATCH body."""
        raise MethodNotAllowed(f"{self.name} cannot be updated.")

    def delete(self, *, db: Session, tenant_id: str, row: Any) -> None:
        """Delete a row (a DELETE)."""
        db.delete(row)
        db.flush()

    def accepted(self, app_state: Any, row_id: str) -> None:
        """Called after a create or an update of ``row_id`` was committed: background work it starts (none here)."""

    def json_list(self, *, db: Session, tenant_id: str) -> list[dict]:
        """Every row of the tenant as Graph JSON."""
        return [self.to_json(r) for r in self.list(db=db, tenant_id=tenant_id)]


def _in_use(db: Session, model: Any, column: Any, key: str) -> bool:
    return bool(db.scalar(select(func.count()).select_from(model).where(column == key)))


def _unique_name(db: Session, model: Any, tenant_id: str, display_name: str, except_id: str | None = None) -> None:
    query = select(model.id).where(model.tenant_id == tenant_id, model.display_name == display_name)
    found = db.scalar(query)
    if found is not None and found != except_id:
        raise ConflictError(f"A {model.__tablename__[:-1].replace('_', ' ')} named '{display_name}' already exists.")


def _code(value: ReferenceValueIn | None, reference_type: str, prop: str) -> str | None:
    """The code of a referenceValue given as ``code`` or bound with ``value@odata.bind``."""
    if value is None:
        return None
    if value.code is not None:
        return value.code
    if value.value_bind is not None:
        key = bound_id(value.value_bind, "referenceDefinitions", prop=f"{prop}.value")
        prefix = f"{reference_type}-"
        if not key.startswith(prefix):
            raise BadRequest(f"Invalid value for property '{prop}': '{key}' is not a {reference_type} reference definition.")
        return key[len(prefix):]
    raise BadRequest(f"Property '{prop}.code' is required.")


def _require_enabled(db: Session, tenant_id: str, reference_type: str, code: str, prop: str) -> str:
    codes = reference_store.tenant_reference_data(db=db, tenant_id=tenant_id).codes(reference_type)
    canonical = codes.get(code.lower())
    if canonical is None:
        raise BadRequest(f"Invalid value for property '{prop}': '{code}' is not an enabled {reference_type} code.")
    return canonical


class SourceSystems(Resource):
    """``/sourceSystems``: sourceSystemDefinition."""

    name, type_name, model = "sourceSystems", "sourceSystemDefinition", SourceSystem
    body = SourceSystemIn
    plain_rows = True
    entity = entities.SourceSystemDefinition
    read = ("IndustryData-SourceSystem.Read.All", "IndustryData-SourceSystem.ReadWrite.All")
    write = ("IndustryData-SourceSystem.ReadWrite.All",)

    def to_json(self, row: SourceSystem) -> dict:
        settings = [{k: v for k, v in s.items() if k != "roleGroupId"} for s in row.user_matching_settings or []]
        return {"@odata.type": odata_type(self.type_name), "id": row.id, "displayName": row.display_name,
                "vendor": row.vendor, "userMatchingSettings": settings}

    def _settings(self, db: Session, tenant_id: str, body: SourceSystemIn) -> list[dict]:
        out = []
        for i, s in enumerate(body.user_matching_settings or []):
            prop = f"userMatchingSettings[{i}]"
            entry: dict[str, Any] = {"priorityOrder": s.priority_order if s.priority_order is not None else i}
            if s.source_identifier is not None:
                code = _code(s.source_identifier, "RefIdentifierType", f"{prop}.sourceIdentifier")
                entry["sourceIdentifier"] = {"code": _require_enabled(db, tenant_id, "RefIdentifierType", code, f"{prop}.sourceIdentifier")}
            if s.match_target is not None:
                code = _code(s.match_target, "RefUserMatchTarget", f"{prop}.matchTarget")
                entry["matchTarget"] = {"code": _require_enabled(db, tenant_id, "RefUserMatchTarget", code, f"{prop}.matchTarget")}
            if (group := role_group_id(s, prop)) is not None:
                entry["roleGroupId"] = group
            out.append(entry)
        return out

    def create(self, *, db: Session, tenant_id: str, raw: bytes) -> SourceSystem:
        body = parse_body(SourceSystemIn, raw, required=("displayName",), type_name=self.type_name)
        resolve_type(body.odata_type, {self.type_name: self.type_name})
        _unique_name(db, SourceSystem, tenant_id, body.display_name)
        row = SourceSystem(tenant_id=tenant_id, display_name=body.display_name, vendor=body.vendor,
                           user_matching_settings=self._settings(db, tenant_id, body))
        db.add(row)
        db.flush()
        return row

    def update(self, *, db: Session, tenant_id: str, row: SourceSystem, raw: bytes) -> None:
        body = parse_body(SourceSystemIn, raw, type_name=self.type_name)
        resolve_type(body.odata_type, {self.type_name: self.type_name})
        if body.given("display_name"):
            if body.display_name is None:
                raise BadRequest("Invalid value for property 'displayName': it cannot be null.")
            _unique_name(db, SourceSystem, tenant_id, body.display_name, except_id=row.id)
            row.display_name = body.display_name
        if body.given("vendor"):
            row.vendor = body.vendor
        if body.given("user_matching_settings"):
            row.user_matching_settings = self._settings(db, tenant_id, body)

    def delete(self, *, db: Session, tenant_id: str, row: SourceSystem) -> None:
        if _in_use(db, DataConnector, DataConnector.source_system_id, row.id):
            raise ConflictError(f"Source system '{row.id}' is used by a data connector; delete the connector first.")
        super().delete(db=db, tenant_id=tenant_id, row=row)


_YEAR_CODE = re.compile(r"^\d{4}$")


class Years(Resource):
    """``/years``: yearTimePeriodDefinition."""

    name, type_name, model = "years", "yearTimePeriodDefinition", Year
    body = YearIn
    plain_rows = True
    entity = entities.YearTimePeriodDefinition
    read = ("IndustryData-TimePeriod.Read.All", "IndustryData-TimePeriod.ReadWrite.All")
    write = ("IndustryData-TimePeriod.ReadWrite.All",)

    def to_json(self, row: Year) -> dict:
        return {"@odata.type": odata_type(self.type_name), "id": row.id, "displayName": row.display_name,
                "startDate": row.start_date.isoformat(), "endDate": row.end_date.isoformat(),
                "year": {"@odata.type": odata_type("yearReferenceValue"), "code": row.code}}

    @staticmethod
    def _check_dates(row: Year) -> None:
        if row.end_date < row.start_date:
            raise BadRequest("Invalid value for property 'endDate': it is before 'startDate'.")

    def create(self, *, db: Session, tenant_id: str, raw: bytes) -> Year:
        body = parse_body(YearIn, raw, required=("displayName", "startDate", "endDate", "year"), type_name=self.type_name)
        resolve_type(body.odata_type, {self.type_name: self.type_name})
        code = _code(body.year, "RefAcademicYear", "year")
        if not _YEAR_CODE.match(code or ""):
            raise BadRequest(f"Invalid value for property 'year': '{code}' is not a RefAcademicYear code (a four-digit year).")
        if db.scalar(select(Year.id).where(Year.tenant_id == tenant_id, Year.code == code)):
            raise ConflictError(f"A year with code '{code}' already exists.")
        row = Year(tenant_id=tenant_id, display_name=body.display_name, code=code, start_date=body.start_date, end_date=body.end_date)
        self._check_dates(row)
        db.add(row)
        db.flush()
        return row

    def update(self, *, db: Session, tenant_id: str, row: Year, raw: bytes) -> None:
        body = parse_body(YearIn, raw, type_name=self.type_name)
        resolve_type(body.odata_type, {self.type_name: self.type_name})
        if body.given("year") and _code(body.year, "RefAcademicYear", "year") != row.code:
            raise BadRequest("Property 'year' cannot be changed; create another year instead.")
        for field, prop in (("display_name", "displayName"), ("start_date", "startDate"), ("end_date", "endDate")):
            if body.given(field):
                if getattr(body, field) is None:
                    raise BadRequest(f"Invalid value for property '{prop}': it cannot be null.")
                setattr(row, field, getattr(body, field))
        self._check_dates(row)

    def delete(self, *, db: Session, tenant_id: str, row: Year) -> None:
        if _in_use(db, InboundFlow, InboundFlow.year_id, row.id):
            raise ConflictError(f"Year '{row.id}' is used by an inbound flow; delete the flow first.")
        super().delete(db=db, tenant_id=tenant_id, row=row)


_API_REQUIRED = ("displayName", "apiFormat", "baseUrl", "credential", "apiVersion",
                 "isDemographicsEnabled", "isFlagsEnabled", "isContactsEnabled")
_CREDENTIAL_TYPES = {"oAuth1ClientCredential": "oAuth1ClientCredential", "oAuth2ClientCredential": "oAuth2ClientCredential"}


class DataConnectors(Resource):
    """``/dataConnectors``: azureDataLakeConnector (CSV upload) and oneRosterApiDataConnector (credentials write-only)."""

    name, type_name, model = "dataConnectors", "industryDataConnector", DataConnector
    body = DataConnectorIn
    entity = entities.IndustryDataConnector
    read = ("IndustryData-DataConnector.Read.All", "IndustryData-DataConnector.ReadWrite.All")
    write = ("IndustryData-DataConnector.ReadWrite.All",)
    concrete_types = {FILE_CONNECTOR: FILE_CONNECTOR, API_CONNECTOR: API_CONNECTOR}

    def __init__(self) -> None:
        self.navigations = {
            "sourceSystem": Navigation("sourceSystems", lambda db, t, row: SOURCE_SYSTEMS.get(db=db, tenant_id=t, key=row.source_system_id)),
        }

    def to_json(self, row: DataConnector) -> dict:
        out: dict[str, Any] = {"@odata.type": odata_type(row.kind), "id": row.id, "displayName": row.display_name}
        if row.kind == FILE_CONNECTOR:
            out["fileFormat"] = None if row.file_format is None else {
                "@odata.type": odata_type("fileFormatReferenceValue"), "code": row.file_format}
        else:
            s = row.settings or {}
            out.update({k: s.get(k) for k in ("apiFormat", "baseUrl", "apiVersion", "isDemographicsEnabled",
                                              "isFlagsEnabled", "isContactsEnabled")})
            out["credential"] = dict(s.get("credential") or {})  # the secret lives in row.secrets and is never shown
        return out

    def _apply(self, db: Session, tenant_id: str, row: DataConnector, body: DataConnectorIn) -> None:
        if body.given("display_name"):
            if body.display_name is None:
                raise BadRequest("Invalid value for property 'displayName': it cannot be null.")
            row.display_name = body.display_name
        if body.source_system_bind is not None:
            key = bound_id(body.source_system_bind, "sourceSystems", prop="sourceSystem")
            try:
                row.source_system_id = SOURCE_SYSTEMS.get(db=db, tenant_id=tenant_id, key=key).id
            except NotFoundError:
                raise BadRequest(f"Invalid value for property 'sourceSystem@odata.bind': no source system '{key}'.") from None
        file_props = {"file_format"}
        api_props = {"api_format", "base_url", "api_version", "credential", "is_demographics_enabled", "is_flags_enabled",
                     "is_contacts_enabled"}
        wrong = (api_props if row.kind == FILE_CONNECTOR else file_props) & body.model_fields_set
        if wrong:
            prop = DataConnectorIn.model_fields[sorted(wrong)[0]].alias
            raise BadRequest(f"Property '{prop}' does not exist on type '{NAMESPACE}.{row.kind}'.")
        if row.kind == FILE_CONNECTOR:
            if body.given("file_format"):
                code = _code(body.file_format, "RefFileFormat", "fileFormat")
                row.file_format = None if code is None else _require_enabled(db, tenant_id, "RefFileFormat", code, "fileFormat")
            return
        settings = dict(row.settings or {})
        for field in sorted(api_props - {"credential"}):
            if body.given(field):
                alias = DataConnectorIn.model_fields[field].alias
                if getattr(body, field) is None:
                    raise BadRequest(f"Invalid value for property '{alias}': it cannot be null.")
                settings[alias] = getattr(body, field)
        if body.given("credential"):
            cred = body.credential
            if cred is None:
                raise BadRequest("Invalid value for property 'credential': it cannot be null.")
            kind = resolve_type(cred.odata_type, _CREDENTIAL_TYPES) or "oAuth2ClientCredential"
            stored: dict[str, Any] = {"@odata.type": odata_type(kind), "displayName": cred.display_name, "clientId": cred.client_id,
                                      "isValid": None, "lastValidDateTime": None}
            if kind == "oAuth2ClientCredential":
                stored.update({"tokenUrl": cred.token_url, "scope": cred.scope})
            elif cred.given("token_url") or cred.given("scope"):
                raise BadRequest("Properties 'tokenUrl' and 'scope' do not exist on type 'oAuth1ClientCredential'.")
            settings["credential"] = stored
            secrets = dict(row.secrets or {})
            if cred.client_secret is not None:
                secrets["clientSecret"] = cred.client_secret
            elif "clientSecret" not in secrets:
                raise BadRequest("Property 'credential.clientSecret' is required.")
            row.secrets = secrets
        row.settings = settings

    def create(self, *, db: Session, tenant_id: str, raw: bytes) -> DataConnector:
        body = parse_body(DataConnectorIn, raw, required=("displayName",), type_name=self.type_name)
        kind = resolve_type(body.odata_type, self.concrete_types)
        if kind is None:
            raise BadRequest(f"Property '@odata.type' is required: one of #{NAMESPACE}.{FILE_CONNECTOR}, #{NAMESPACE}.{API_CONNECTOR}.")
        if body.source_system_bind is None:
            raise BadRequest("Property 'sourceSystem@odata.bind' is required to create a data connector.")
        if kind == API_CONNECTOR:
            parse_body(DataConnectorIn, raw, required=_API_REQUIRED, type_name=kind)
        row = DataConnector(tenant_id=tenant_id, kind=kind, display_name=body.display_name, settings={}, secrets={})
        self._apply(db, tenant_id, row, body)
        db.add(row)
        db.flush()
        return row

    def update(self, *, db: Session, tenant_id: str, row: DataConnector, raw: bytes) -> None:
        body = parse_body(DataConnectorIn, raw, type_name=row.kind)
        kind = resolve_type(body.odata_type, self.concrete_types)
        if kind is not None and kind != row.kind:
            raise BadRequest(f"Invalid @odata.type: connector '{row.id}' is a {row.kind}, not a {kind}.")
        self._apply(db, tenant_id, row, body)

    def delete(self, *, db: Session, tenant_id: str, row: DataConnector) -> None:
        if _in_use(db, InboundFlow, InboundFlow.connector_id, row.id):
            raise ConflictError(f"Data connector '{row.id}' is used by an inbound flow; delete the flow first.")
        super().delete(db=db, tenant_id=tenant_id, row=row)


_FLOW_CONNECTOR = {FILE_FLOW: FILE_CONNECTOR, API_FLOW: API_CONNECTOR}


class InboundFlows(Resource):
    """``/inboundFlows``: inboundFileFlow and inboundApiFlow."""

    name, type_name, model = "inboundFlows", "inboundFlow", InboundFlow
    body = InboundFlowIn
    entity = entities.InboundFlow
    read = ("IndustryData-InboundFlow.Read.All", "IndustryData-InboundFlow.ReadWrite.All")
    write = ("IndustryData-InboundFlow.ReadWrite.All",)
    concrete_types = {FILE_FLOW: FILE_FLOW, API_FLOW: API_FLOW}

    def __init__(self) -> None:
        self.navigations = {
            "dataConnector": Navigation("dataConnectors", lambda db, t, row: DATA_CONNECTORS.get(db=db, tenant_id=t, key=row.connector_id)),
            "year": Navigation("years", lambda db, t, row: YEARS.get(db=db, tenant_id=t, key=row.year_id)),
        }

    def to_json(self, row: InboundFlow) -> dict:
        return {"@odata.type": odata_type(row.kind), "id": row.id, "displayName": row.display_name,
                "dataDomain": row.data_domain, "effectiveDateTime": iso(row.effective),
                "expirationDateTime": iso(row.expiration), "readinessStatus": readiness_status(row)}

    def _apply(self, db: Session, tenant_id: str, row: InboundFlow, body: InboundFlowIn) -> None:
        if body.given("display_name"):
            if body.display_name is None:
                raise BadRequest("Invalid value for property 'displayName': it cannot be null.")
            _unique_name(db, InboundFlow, tenant_id, body.display_name, except_id=row.id)
            row.display_name = body.display_name
        if body.given("data_domain") and body.data_domain is not None:
            row.data_domain = body.data_domain
        if body.given("effective_date_time"):
            if body.effective_date_time is None:
                raise BadRequest("Invalid value for property 'effectiveDateTime': it cannot be null.")
            row.effective = utc(body.effective_date_time)
        if body.given("expiration_date_time"):
            row.expiration = utc(body.expiration_date_time)
        if body.data_connector_bind is not None:
            key = bound_id(body.data_connector_bind, "dataConnectors", prop="dataConnector")
            try:
                connector = DATA_CONNECTORS.get(db=db, tenant_id=tenant_id, key=key)
            except NotFoundError:
                raise BadRequest(f"Invalid value for property 'dataConnector@odata.bind': no data connector '{key}'.") from None
            if connector.kind != _FLOW_CONNECTOR[row.kind]:
                raise BadRequest(f"Invalid value for property 'dataConnector@odata.bind': an {row.kind} needs an "
                                 f"{_FLOW_CONNECTOR[row.kind]}, and '{key}' is an {connector.kind}.")
            row.connector_id, row.connector = connector.id, connector
        if body.year_bind is not None:
            key = bound_id(body.year_bind, "years", prop="year")
            try:
                year = YEARS.get(db=db, tenant_id=tenant_id, key=key)
            except NotFoundError:
                raise BadRequest(f"Invalid value for property 'year@odata.bind': no year '{key}'.") from None
            row.year_id, row.year = year.id, year
        if row.expiration is not None and utc(row.expiration) <= utc(row.effective):
            raise BadRequest("Invalid value for property 'expirationDateTime': it is not after 'effectiveDateTime'.")

    def create(self, *, db: Session, tenant_id: str, raw: bytes) -> InboundFlow:
        body = parse_body(InboundFlowIn, raw, required=("displayName", "dataDomain", "effectiveDateTime"), type_name=self.type_name)
        kind = resolve_type(body.odata_type, self.concrete_types)
        if kind is None:
            raise BadRequest(f"Property '@odata.type' is required: one of #{NAMESPACE}.{FILE_FLOW}, #{NAMESPACE}.{API_FLOW}.")
        for prop, value in (("dataConnector", body.data_connector_bind), ("year", body.year_bind)):
            if value is None:
                raise BadRequest(f"Property '{prop}@odata.bind' is required to create an inbound flow.")
        row = InboundFlow(tenant_id=tenant_id, kind=kind, thresholds={})
        self._apply(db, tenant_id, row, body)
        db.add(row)
        db.flush()
        return row

    def update(self, *, db: Session, tenant_id: str, row: InboundFlow, raw: bytes) -> None:
        body = parse_body(InboundFlowIn, raw, type_name=row.kind)
        kind = resolve_type(body.odata_type, self.concrete_types)
        if kind is not None and kind != row.kind:
            raise BadRequest(f"Invalid @odata.type: flow '{row.id}' is an {row.kind}, not an {kind}.")
        self._apply(db, tenant_id, row, body)

    def delete(self, *, db: Session, tenant_id: str, row: InboundFlow) -> None:
        if _in_use(db, RunActivity, RunActivity.flow_id, row.id):
            raise ConflictError(f"Inbound flow '{row.id}' has runs; its history keeps it.")
        super().delete(db=db, tenant_id=tenant_id, row=row)


class ReferenceDefinitions(Resource):
    """``/referenceDefinitions``: the seeded defaults with the tenant's codes and changes; DELETE disables."""

    name, type_name = "referenceDefinitions", "referenceDefinition"
    body = ReferenceDefinitionIn
    entity = entities.ReferenceDefinition
    read = ("IndustryData.ReadBasic.All", "IndustryData-ReferenceDefinition.Read.All", "IndustryData-ReferenceDefinition.ReadWrite.All")
    write = ("IndustryData-ReferenceDefinition.ReadWrite.All",)

    def list(self, *, db: Session, tenant_id: str) -> list[ReferenceDefinition]:
        return reference_store.tenant_reference_data(db=db, tenant_id=tenant_id).definitions()

    def get(self, *, db: Session, tenant_id: str, key: str) -> ReferenceDefinition:
        found = reference_store.tenant_reference_data(db=db, tenant_id=tenant_id).get(key)
        if found is None:
            raise NotFoundError(f"referenceDefinition '{key}' was not found.")
        return found

    def to_json(self, d: ReferenceDefinition) -> dict:
        return {"@odata.type": odata_type(self.type_name), "id": d.id, "referenceType": d.reference_type, "code": d.code,
                "displayName": d.display_name, "source": d.source, "isDisabled": d.is_disabled, "sortIndex": d.sort_index,
                "createdDateTime": iso(d.created), "lastModifiedDateTime": iso(d.last_modified)}

    def create(self, *, db: Session, tenant_id: str, raw: bytes) -> ReferenceDefinition:
        body = parse_body(ReferenceDefinitionIn, raw, required=("referenceType", "code", "isDisabled", "sortIndex"),
                          type_name=self.type_name)
        resolve_type(body.odata_type, {self.type_name: self.type_name})
        now = datetime.now(timezone.utc)
        definition = ReferenceDefinition(reference_type=body.reference_type, code=body.code, sort_index=body.sort_index,
                                         source=reference_store.TENANT_SOURCE, display_name=body.display_name,
                                         is_disabled=body.is_disabled, created=now, last_modified=now)
        data = reference_store.tenant_reference_data(db=db, tenant_id=tenant_id)
        if data.get(definition.id) is not None:
            raise ConflictError(f"referenceDefinition '{definition.id}' already exists.")
        try:
            data.add(definition)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        reference_store.save_definition(db=db, tenant_id=tenant_id, definition=definition)
        return definition

    def update(self, *, db: Session, tenant_id: str, row: ReferenceDefinition, raw: bytes) -> None:
        body = parse_body(ReferenceDefinitionIn, raw, type_name=self.type_name)
        resolve_type(body.odata_type, {self.type_name: self.type_name})
        for field, prop in (("reference_type", "referenceType"), ("code", "code")):
            if body.given(field) and getattr(body, field) != getattr(row, field):
                raise BadRequest(f"Property '{prop}' cannot be changed; it is part of the id.")
        changes: dict[str, Any] = {}
        if body.given("display_name"):
            changes["display_name"] = body.display_name
        for field, prop in (("is_disabled", "isDisabled"), ("sort_index", "sortIndex")):
            if body.given(field):
                if getattr(body, field) is None:
                    raise BadRequest(f"Invalid value for property '{prop}': it cannot be null.")
                changes[field] = getattr(body, field)
        if "sort_index" in changes and changes["sort_index"] != row.sort_index:
            data = reference_store.tenant_reference_data(db=db, tenant_id=tenant_id)
            if any(d.sort_index == changes["sort_index"] for d in data.definitions(row.reference_type)):
                raise BadRequest(f"Invalid value for property 'sortIndex': {changes['sort_index']} is already used in {row.reference_type}.")
        updated = replace(row, **changes, last_modified=datetime.now(timezone.utc))
        reference_store.save_definition(db=db, tenant_id=tenant_id, definition=updated)

    def delete(self, *, db: Session, tenant_id: str, row: ReferenceDefinition) -> None:
        # Graph's DELETE is a soft delete: historical data may still carry the code.
        disabled = replace(row, is_disabled=True, last_modified=datetime.now(timezone.utc))
        reference_store.save_definition(db=db, tenant_id=tenant_id, definition=disabled)


class RoleGroups(Resource):
    """``/roleGroups``: the seeded ``staff`` and ``students`` groups (read-only)."""

    name, type_name = "roleGroups", "roleGroup"
    entity = entities.RoleGroup
    read = ("IndustryData.ReadBasic.All",)

    def list(self, *, db: Session, tenant_id: str) -> list:
        return list(DEFAULT_ROLE_GROUPS)

    def get(self, *, db: Session, tenant_id: str, key: str):
        for group in DEFAULT_ROLE_GROUPS:
            if group.id == key.lower():
                return group
        raise NotFoundError(f"roleGroup '{key}' was not found.")

    def to_json(self, group) -> dict:
        return {"@odata.type": odata_type(self.type_name), "id": group.id, "displayName": group.display_name,
                "roles": [{"code": r} for r in group.roles]}


class RunActivities(Resource):
    """``/runs/{id}/activities``: inboundFlowActivity, one per flow of a run."""

    name, type_name, model = "activities", "inboundFlowActivity", RunActivity
    entity = entities.IndustryDataRunActivity
    read = ("IndustryData-Run.Read.All", "IndustryData-Run.Start")

    def __init__(self) -> None:
        self.navigations = {
            "activity": Navigation("inboundFlows", lambda db, t, row: INBOUND_FLOWS.get(db=db, tenant_id=t, key=row.flow_id)),
        }

    def to_json(self, row: RunActivity) -> dict:
        status, error = wire_status(row.status, row.blocking_error, ACTIVITY_STATUSES)
        if row.kind != OUTBOUND_ACTIVITY:
            return {"@odata.type": odata_type(self.type_name), "id": row.id, "displayName": row.display_name,
                    "status": status, "blockingError": error}
        # Graph's outboundFlowActivity has no statistics of its own: Homeroom's are an instance annotation.
        return {"@odata.type": odata_type("outboundFlowActivity"), "id": row.id, "displayName": row.display_name,
                "status": status, "blockingError": error, PROVISIONING_ANNOTATION: provisioning_statistics(row)}


class Runs(Resource):
    """``/runs``: industryDataRun, read-only (started by ``runs/start``, the scheduler or ``homeroom run``)."""

    name, type_name, model = "runs", "industryDataRun", Run
    entity = entities.IndustryDataRun
    read = ("IndustryData-Run.Read.All", "IndustryData-Run.Start")

    def __init__(self) -> None:
        self.navigations = {"activities": Navigation("activities", lambda db, t, row: list(row.activities), many=True)}

    def list(self, *, db: Session, tenant_id: str) -> list[Run]:
        return list(db.scalars(select(Run).where(Run.tenant_id == tenant_id).order_by(Run.started.desc())))

    def to_json(self, row: Run) -> dict:
        status, error = wire_status(row.status, row.blocking_error, RUN_STATUSES, row.held_reason)
        return {"@odata.type": odata_type(self.type_name), "id": row.id, "displayName": row.display_name,
                "startDateTime": iso(row.started), "endDateTime": iso(row.ended), "status": status,
                "blockingError": error}


class Operations(Resource):
    """``/operations``: the long-running operations of ``validate`` (fileValidateOperation) and ``runs/start``."""

    name, type_name, model = "operations", "longRunningOperation", Operation
    plain_rows = True
    entity = entities.LongRunningOperation
    read = ("IndustryData.ReadBasic.All",)

    def list(self, *, db: Session, tenant_id: str) -> list[Operation]:
        return list(db.scalars(select(Operation).where(Operation.tenant_id == tenant_id).order_by(Operation.created.desc())))

    def to_json(self, row: Operation) -> dict:
        item = {"@odata.type": "#microsoft.graph.longRunningOperation" if row.kind == "longRunningOperation" else odata_type(row.kind),
                "id": row.id, "createdDateTime": iso(row.created), "lastActionDateTime": iso(row.last_action),
                "resourceLocation": row.resource_location, "status": row.status, "statusDetail": row.status_detail}
        if row.kind != "longRunningOperation":
            item.update(errors=row.errors, warnings=row.warnings)
        if row.kind == "fileValidateOperation":
            item["validatedFiles"] = row.validated_files
        return item


MASKED_PASSWORD = "***************"


class OutboundFlowSets(Resource):
    """``/outboundProvisioningFlowSets``: sets of outbound flows, optionally filtered to some organizations."""

    name, type_name, model = "outboundProvisioningFlowSets", "outboundProvisioningFlowSet", OutboundFlowSet
    body = OutboundFlowSetIn
    entity = entities.OutboundProvisioningFlowSet
    read = ("IndustryData-OutboundFlow.Read.All", "IndustryData-OutboundFlow.ReadWrite.All")
    write = ("IndustryData-OutboundFlow.ReadWrite.All",)

    def __init__(self) -> None:
        self.navigations = {"provisioningFlows": Navigation(
            "provisioningFlows", lambda db, t, row: PROVISIONING_FLOWS.list(db=db, tenant_id=t, parent=row), many=True)}

    def to_json(self, row: OutboundFlowSet) -> dict:
        return {"@odata.type": odata_type(self.type_name), "id": row.id, "displayName": row.display_name,
                "filter": row.filter, "createdDateTime": iso(row.created), "lastModifiedDateTime": iso(row.last_modified)}

    def _apply(self, db: Session, tenant_id: str, row: OutboundFlowSet, body: OutboundFlowSetIn) -> None:
        if body.given("display_name"):
            if body.display_name is None:
                raise BadRequest("Invalid value for property 'displayName': it cannot be null.")
            _unique_name(db, OutboundFlowSet, tenant_id, body.display_name, except_id=row.id)
            row.display_name = body.display_name
        if body.given("filter"):
            if body.filter is not None:
                resolve_type(body.filter.odata_type, {"basicFilter": "basicFilter"})
            row.filter = None if body.filter is None else {
                "@odata.type": odata_type("basicFilter"), "attribute": body.filter.attribute, "in": body.filter.in_}
        row.last_modified = datetime.now(timezone.utc)

    def create(self, *, db: Session, tenant_id: str, raw: bytes) -> OutboundFlowSet:
        body = parse_body(OutboundFlowSetIn, raw, required=("displayName",), type_name=self.type_name)
        resolve_type(body.odata_type, {self.type_name: self.type_name})
        row = OutboundFlowSet(tenant_id=tenant_id)
        self._apply(db, tenant_id, row, body)
        db.add(row)
        db.flush()
        return row

    def update(self, *, db: Session, tenant_id: str, row: OutboundFlowSet, raw: bytes) -> None:
        body = parse_body(OutboundFlowSetIn, raw, type_name=self.type_name)
        resolve_type(body.odata_type, {self.type_name: self.type_name})
        self._apply(db, tenant_id, row, body)

    def delete(self, *, db: Session, tenant_id: str, row: OutboundFlowSet) -> None:
        for flow in PROVISIONING_FLOWS.list(db=db, tenant_id=tenant_id, parent=row):
            db.delete(flow)
        db.flush()  # the flows first: nothing orders these deletes, and the database would cascade them again
        super().delete(db=db, tenant_id=tenant_id, row=row)


PROVISIONING_TYPES: dict[str, type[GraphInput]] = {
    "userProvisioningFlow": UserProvisioningFlowIn,
    "classGroupProvisioningFlow": ClassGroupProvisioningFlowIn,
    "administrativeUnitProvisioningFlow": AdministrativeUnitProvisioningFlowIn,
    "securityGroupProvisioningFlow": SecurityGroupProvisioningFlowIn,
}


#: The read model of each kind of provisioning flow.
PROVISIONING_ENTITIES = {t.type_name(): t for t in entities.concrete_types(entities.ProvisioningFlow)}


def role_group_id(body: UserMatchingSettingIn | UserConfigurationIn, prop: str) -> str | None:
    """The role group a body names, by ``roleGroup@odata.bind`` or inline as the SDK types it (``roleGroup: {id}``);
    both forms together must name the same group."""
    named: dict[str, str] = {}
    if body.role_group_bind is not None:
        named[f"{prop}.roleGroup@odata.bind"] = bound_id(body.role_group_bind, "roleGroups", prop=f"{prop}.roleGroup")
    if body.role_group is not None:
        named[f"{prop}.roleGroup"] = body.role_group.id
    if not named:
        return None
    if len({g.lower() for g in named.values()}) > 1:
        (a, x), (b, y) = named.items()
        raise BadRequest(f"Properties '{a}' and '{b}' name different role groups ('{x}' and '{y}'): give one of them.")
    for where, group in named.items():
        if _role_group_json(group.lower()) is None:
            raise BadRequest(f"Invalid value for property '{where}': no role group '{group}'.")
    return next(iter(named.values())).lower()


def _role_group_json(group_id: str) -> dict | None:
    for group in DEFAULT_ROLE_GROUPS:
        if group.id == group_id:
            return {"id": group.id, "displayName": group.display_name, "roles": [{"code": r} for r in group.roles]}
    return None


class ProvisioningFlows(Resource):
    """``/outboundProvisioningFlowSets/{id}/provisioningFlows``: at most one flow of each type per set.

    ``readinessStatus`` is computed from the flow's set, its directory target and its latest provisioning
    (``homeroom.outbound.readiness``): ``notReady`` until the set provisions a target that can be written.
    """

    name, type_name, model = "provisioningFlows", "provisioningFlow", ProvisioningFlow
    entity = entities.ProvisioningFlow
    read = OutboundFlowSets.read
    write = OutboundFlowSets.write
    body = tuple(PROVISIONING_TYPES.values())
    concrete_types = {name: name for name in PROVISIONING_TYPES}

    def list(self, *, db: Session, tenant_id: str, parent: OutboundFlowSet | None = None) -> list[ProvisioningFlow]:
        query = select(ProvisioningFlow).where(ProvisioningFlow.tenant_id == tenant_id)
        if parent is not None:
            query = query.where(ProvisioningFlow.flow_set_id == parent.id)
        return list(db.scalars(query.order_by(ProvisioningFlow.created, ProvisioningFlow.id)))

    def get(self, *, db: Session, tenant_id: str, key: str, parent: OutboundFlowSet | None = None) -> ProvisioningFlow:
        row = super().get(db=db, tenant_id=tenant_id, key=key)
        if parent is not None and row.flow_set_id != parent.id:
            raise NotFoundError(f"{self.type_name} '{key}' was not found.")
        return row

    def to_json(self, row: ProvisioningFlow) -> dict:
        settings = json.loads(json.dumps(row.settings or {}))
        for i, config in enumerate((settings.get("creationOptions") or {}).get("configurations") or []):
            group = config.pop("roleGroupId", None)
            if group is not None:
                config["roleGroup"] = _role_group_json(group)
            if (row.secrets or {}).get(f"password{i}") is not None:
                config["defaultPasswordSettings"] = {"@odata.type": odata_type("simplePasswordSettings"), "password": MASKED_PASSWORD}
        unset = dict.fromkeys(PROVISIONING_ENTITIES[row.kind].own_fields())  # Graph answers every property, null if unset
        return {"@odata.type": odata_type(row.kind), "id": row.id, "createdDateTime": iso(row.created),
                "lastModifiedDateTime": iso(row.last_modified), "readinessStatus": provisioning_readiness(row), **unset, **settings}

    def _apply(self, db: Session, tenant_id: str, row: ProvisioningFlow, body: GraphInput) -> None:
        settings = dict(row.settings or {})
        secrets = dict(row.secrets or {})
        given = body.model_dump(by_alias=True, exclude_unset=True, exclude={"odata_type"})
        for alias, value in given.items():
            settings[alias] = value
        if isinstance(body, UserProvisioningFlowIn) and body.given("creation_options"):
            secrets = {}
            configs = []
            for i, config in enumerate((body.creation_options.configurations if body.creation_options else None) or []):
                stored: dict[str, Any] = {"licenseSkus": config.license_skus or []}
                if (group := role_group_id(config, f"creationOptions.configurations[{i}]")) is not None:
                    stored["roleGroupId"] = group
                if config.default_password_settings is not None:
                    resolve_type(config.default_password_settings.odata_type, {"simplePasswordSettings": "simplePasswordSettings"})
                    secrets[f"password{i}"] = config.default_password_settings.password
                configs.append(stored)
            settings["creationOptions"] = None if body.creation_options is None else {"configurations": configs}
        if isinstance(body, ClassGroupProvisioningFlowIn) and body.configuration and body.configuration.enrollment_mappings:
            roles = reference_store.tenant_reference_data(db=db, tenant_id=tenant_id).codes("RefRole")
            mappings = {}
            for prop in ("ownerEnrollmentMappings", "memberEnrollmentMappings"):
                values = getattr(body.configuration.enrollment_mappings, "owner_enrollment_mappings" if prop.startswith("owner")
                                 else "member_enrollment_mappings") or []
                codes = []
                for value in values:
                    code = _code(value, "RefRole", f"configuration.enrollmentMappings.{prop}")
                    if code.lower() not in roles:
                        raise BadRequest(f"Invalid value for property 'configuration.enrollmentMappings.{prop}': "
                                         f"'{code}' is not an enabled RefRole code.")
                    codes.append({"code": roles[code.lower()]})
                mappings[prop] = codes
            settings["configuration"]["enrollmentMappings"] = mappings
        row.settings = _without_odata_types(settings)
        row.secrets = secrets
        row.last_modified = datetime.now(timezone.utc)

    def _body(self, raw: bytes, kind: str) -> GraphInput:
        return parse_body(PROVISIONING_TYPES[kind], raw, type_name=kind)

    def create(self, *, db: Session, tenant_id: str, raw: bytes, parent: OutboundFlowSet | None = None) -> ProvisioningFlow:
        try:
            declared = json.loads(raw).get("@odata.type") if raw.strip() else None
        except (ValueError, AttributeError):
            declared = None
        kind = resolve_type(declared, self.concrete_types)
        if kind is None:
            raise BadRequest("Property '@odata.type' is required: one of "
                             + ", ".join(f"#{NAMESPACE}.{n}" for n in PROVISIONING_TYPES) + ".")
        body = self._body(raw, kind)
        if any(f.kind == kind for f in self.list(db=db, tenant_id=tenant_id, parent=parent)):
            raise ConflictError(f"Flow set '{parent.id}' already has a {kind}; a set holds at most one flow of each type.")
        row = ProvisioningFlow(tenant_id=tenant_id, flow_set_id=parent.id, kind=kind, settings={}, secrets={})
        self._apply(db, tenant_id, row, body)
        db.add(row)
        db.flush()
        return row

    def update(self, *, db: Session, tenant_id: str, row: ProvisioningFlow, raw: bytes) -> None:
        body = self._body(raw, row.kind)
        kind = resolve_type(body.odata_type, self.concrete_types)
        if kind is not None and kind != row.kind:
            raise BadRequest(f"Invalid @odata.type: flow '{row.id}' is a {row.kind}, not a {kind}.")
        self._apply(db, tenant_id, row, body)


def provisioning_readiness(row: ProvisioningFlow) -> str:
    """A provisioning flow's readinessStatus, read in the session that loaded it."""
    from sqlalchemy.orm import object_session

    db = object_session(row)
    return "notReady" if db is None else _provisioning_readiness(db, row)


def _without_odata_types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_odata_types(v) for k, v in value.items() if k != "@odata.type"}
    if isinstance(value, list):
        return [_without_odata_types(v) for v in value]
    return value


SOURCE_SYSTEMS = SourceSystems()
YEARS = Years()
DATA_CONNECTORS = DataConnectors()
INBOUND_FLOWS = InboundFlows()
REFERENCE_DEFINITIONS = ReferenceDefinitions()
ROLE_GROUPS = RoleGroups()
RUNS = Runs()
RUN_ACTIVITIES = RunActivities()
OUTBOUND_FLOW_SETS = OutboundFlowSets()
PROVISIONING_FLOWS = ProvisioningFlows()
OPERATIONS = Operations()

#: The collections directly under /external/industryData, by URL segment.
COLLECTIONS: dict[str, Resource] = {r.name: r for r in (
    DATA_CONNECTORS, INBOUND_FLOWS, OPERATIONS, OUTBOUND_FLOW_SETS, REFERENCE_DEFINITIONS, ROLE_GROUPS, RUNS, SOURCE_SYSTEMS,
    YEARS)}
#: Every resource, including contained ones, by name (navigation targets).
RESOURCES: dict[str, Resource] = {**COLLECTIONS, RUN_ACTIVITIES.name: RUN_ACTIVITIES, PROVISIONING_FLOWS.name: PROVISIONING_FLOWS}
#: Graph's industryData API, as served by the generic collection routes.
INDUSTRY_DATA = Surface("external/industryData", NAMESPACE, permissions.INDUSTRY_DATA, RESOURCES)
