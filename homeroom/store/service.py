"""Plain service functions over the control plane; each takes the session as ``db`` and is tenant-scoped."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from homeroom.errors import ConfigurationError
from homeroom.store.models import API_CONNECTOR, API_FLOW, FILE_CONNECTOR, DataConnector, InboundFlow, ProvisioningFlow, Run, SourceSystem, Tenant, Year, utcnow


#: Tenant names the token endpoint reserves, as Entra ID does (``/common/oauth2/...``).
RESERVED_TENANTS = frozenset({"common", "organizations", "consumers"})
#: A tenant id names folders of the lake, uploads and runs: a letter or digit, then letters, digits, '.', '_' or '-'
#: (so never '.', '..' or a path), at most 64 characters. Entra's tenant GUIDs fit.
TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def is_tenant_id(value: str) -> bool:
    """Whether ``value`` may name a new tenant (``TENANT_ID``, and not a name the token endpoint reserves)."""
    return bool(TENANT_ID.fullmatch(value)) and value.lower() not in RESERVED_TENANTS


def ensure_tenant(*, db: Session, tenant_id: str, display_name: str | None = None) -> Tenant:
    """The tenant with this id, created if needed."""
    tenant = db.get(Tenant, tenant_id)
    if tenant is None:
        if not is_tenant_id(tenant_id):
            raise ConfigurationError(f"{tenant_id!r} cannot name a tenant: names are 1 to 64 letters, digits, '.', '_' or '-', "
                                     f"starting with a letter or digit, and {', '.join(sorted(RESERVED_TENANTS))} are "
                                     "reserved by the token endpoint")
        tenant = Tenant(id=tenant_id, display_name=display_name or tenant_id)
        db.add(tenant)
        db.flush()
    return tenant


def ensure_source_system(*, db: Session, tenant_id: str, display_name: str) -> SourceSystem:
    """The tenant's source system of this name, created if needed."""
    found = db.scalar(select(SourceSystem).where(SourceSystem.tenant_id == tenant_id, SourceSystem.display_name == display_name))
    if found is None:
        found = SourceSystem(tenant_id=tenant_id, display_name=display_name)
        db.add(found)
        db.flush()
    return found


def ensure_year(*, db: Session, tenant_id: str, code: str) -> Year:
    """The tenant's academic year ``code`` (its ending year), created if needed (1 August to 31 July)."""
    found = db.scalar(select(Year).where(Year.tenant_id == tenant_id, Year.code == code))
    if found is None:
        y = int(code)
        found = Year(tenant_id=tenant_id, code=code, display_name=f"School year {y - 1}-{y}",
                     start_date=date(y - 1, 8, 1), end_date=date(y, 7, 31))
        db.add(found)
        db.flush()
    return found


def get_flow(*, db: Session, tenant_id: str, display_name: str) -> InboundFlow | None:
    """The tenant's inbound flow of this name."""
    return db.scalar(select(InboundFlow).where(InboundFlow.tenant_id == tenant_id, InboundFlow.display_name == display_name))


def ensure_file_flow(
    *, db: Session, tenant_id: str, display_name: str, source_name: str, year_code: str, file_format: str | None
) -> InboundFlow:
    """The tenant's file flow of this name, created with its source system, year and connector if needed.

    ``file_format`` is the connector's fileFormat code (``homeroom.inbound.formats.file_format_code``)."""
    flow = get_flow(db=db, tenant_id=tenant_id, display_name=display_name)
    if flow is not None:
        return flow
    source = ensure_source_system(db=db, tenant_id=tenant_id, display_name=source_name)
    year = ensure_year(db=db, tenant_id=tenant_id, code=year_code)
    connector = DataConnector(
        tenant_id=tenant_id, kind=FILE_CONNECTOR, display_name=f"{display_name} files",
        source_system_id=source.id, file_format=file_format,
    )
    db.add(connector)
    db.flush()
    flow = InboundFlow(tenant_id=tenant_id, display_name=display_name, connector_id=connector.id, year_id=year.id)
    db.add(flow)
    db.flush()
    return flow


def ensure_api_flow(
    *, db: Session, tenant_id: str, display_name: str, source_name: str, year_code: str, base_url: str, api_version: str,
    credential: dict, client_secret: str | None, demographics: bool = False, contacts: bool = False,
) -> InboundFlow:
    """The tenant's OneRoster API flow of this name, created with its source system, year and ``oneRosterApiDataConnector``
    if needed; an existing flow's connector takes the given settings (a secret of None keeps the stored one).

    ``credential`` is stored as the Graph API stores it: ``@odata.type`` (``#microsoft.graph.industryData.oAuth1ClientCredential``
    or ``...oAuth2ClientCredential``), ``displayName``, ``clientId`` and, for OAuth 2, ``tokenUrl`` and ``scope``."""
    flow = get_flow(db=db, tenant_id=tenant_id, display_name=display_name)
    if flow is not None and flow.kind != API_FLOW:
        raise ConfigurationError(f"flow {display_name!r} is a CSV upload flow; use another name for a OneRoster API flow")
    if flow is None:
        source = ensure_source_system(db=db, tenant_id=tenant_id, display_name=source_name)
        year = ensure_year(db=db, tenant_id=tenant_id, code=year_code)
        connector = DataConnector(tenant_id=tenant_id, kind=API_CONNECTOR, display_name=f"{display_name} API",
                                  source_system_id=source.id, settings={}, secrets={})
        db.add(connector)
        db.flush()
        flow = InboundFlow(tenant_id=tenant_id, kind=API_FLOW, display_name=display_name, connector_id=connector.id, year_id=year.id)
        db.add(flow)
        db.flush()
    connector = flow.connector
    previous = dict(connector.settings or {})
    stored = {"isValid": None, "lastValidDateTime": None, **credential}
    connector.settings = {**previous, "apiFormat": "oneRoster", "baseUrl": base_url, "apiVersion": api_version,
                          "isDemographicsEnabled": demographics, "isFlagsEnabled": False, "isContactsEnabled": contacts,
                          "credential": stored}
    if client_secret is not None:
        connector.secrets = {**(connector.secrets or {}), "clientSecret": client_secret}
    return flow


def get_run(*, db: Session, tenant_id: str, run_id: str) -> Run | None:
    """A run of the tenant (another tenant's run is not found). A unique id prefix is accepted."""
    run = db.get(Run, run_id)
    if run is not None:
        return run if run.tenant_id == tenant_id else None
    matches = db.scalars(select(Run).where(Run.tenant_id == tenant_id, Run.id.startswith(run_id))).all() if len(run_id) >= 4 else []
    return matches[0] if len(matches) == 1 else None


def list_runs(*, db: Session, tenant_id: str, limit: int = 50) -> list[Run]:
    """The tenant's runs, newest first."""
    return list(db.scalars(select(Run).where(Run.tenant_id == tenant_id).order_by(Run.started.desc()).limit(limit)))


def runs_with_status(*, db: Session, tenant_id: str, status: str) -> list[Run]:
    """The tenant's runs in one status."""
    return list(db.scalars(select(Run).where(Run.tenant_id == tenant_id, Run.status == status)))


def reset_provisioning_flow(*, db: Session, flow: ProvisioningFlow) -> None:
    """Graph's ``reset`` of a provisioning flow: its next provisioning starts from scratch.

    Only recorded (``reset_requested``) until the outbound engine exists to read it."""
    flow.reset_requested = flow.last_modified = utcnow()
