"""SQLAlchemy models of the control plane. Every row belongs to a tenant."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from homeroom.store.sealed import SealedJSON


#: The kinds of data connector and inbound flow (their Graph type names, stored in ``kind``).
FILE_CONNECTOR, API_CONNECTOR = "azureDataLakeConnector", "oneRosterApiDataConnector"
FILE_FLOW, API_FLOW = "inboundFileFlow", "inboundApiFlow"
#: Where a file connector's settings name the classic profile it belongs to (``homeroom.classic``): such a
#: connector's flow runs only through its profile's ``start``, with the profile's options.
CLASSIC_PROFILE_KEY = "classicProfileId"


def new_id() -> str:
    """A new GUID, as Graph uses for ids."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def utc(value: datetime | None) -> datetime | None:
    """A stored datetime in UTC; naive values (SQLite returns them) are taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z`` (Graph's DateTimeOffset text)."""
    value = utc(value)
    return None if value is None else value.isoformat().replace("+00:00", "Z")


class Base(DeclarativeBase):
    """Base of every model."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Tenant(Base):
    """A tenant: an organisation whose data is kept apart from every other's."""

    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    #: Bumped in the same transaction as every change to the tenant's rows (homeroom.store.revisions): readers
    #: that cached an answer at one revision know it is still current.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SourceSystem(Base):
    """A system of record (SIS) that data comes from (Graph's sourceSystemDefinition)."""

    __tablename__ = "source_systems"
    __table_args__ = (UniqueConstraint("tenant_id", "display_name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    vendor: Mapped[str | None] = mapped_column(String(100))
    user_matching_settings: Mapped[list[Any]] = mapped_column(default=list)


class Year(Base):
    """An academic year (Graph's yearTimePeriodDefinition); ``code`` is the ending year, e.g. ``2026``."""

    __tablename__ = "years"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(4))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)


class DataConnector(Base):
    """Where a flow's data comes from: a file upload connector or a OneRoster API connector."""

    __tablename__ = "data_connectors"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # FILE_CONNECTOR | API_CONNECTOR
    display_name: Mapped[str] = mapped_column(String(100))
    source_system_id: Mapped[str] = mapped_column(ForeignKey("source_systems.id"))
    file_format: Mapped[str | None] = mapped_column(String(40))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)  # write-only everywhere; encrypted at rest
    #: The last validated upload (a folder in the data folder): what the connector's flows run next.
    current_package: Mapped[str | None] = mapped_column(Text)
    current_package_format: Mapped[str | None] = mapped_column(String(40))
    current_package_validated: Mapped[datetime | None]


class InboundFlow(Base):
    """A flow bringing one source's roster into one year (Graph's inboundFlow)."""

    __tablename__ = "inbound_flows"
    __table_args__ = (UniqueConstraint("tenant_id", "display_name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), default=FILE_FLOW)
    display_name: Mapped[str] = mapped_column(String(100))
    data_domain: Mapped[str] = mapped_column(String(40), default="educationRostering")
    effective: Mapped[datetime] = mapped_column(default=utcnow)
    expiration: Mapped[datetime | None]
    connector_id: Mapped[str] = mapped_column(ForeignKey("data_connectors.id"))
    year_id: Mapped[str] = mapped_column(ForeignKey("years.id"))
    #: Safety thresholds: {"default": 0.1, "users": 0.05, ...}: the share of active records a run may deactivate.
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    connector: Mapped[DataConnector] = relationship(lazy="joined")
    year: Mapped[Year] = relationship(lazy="joined")


class Run(Base):
    """One run; ``status`` is a ``homeroom.model.statuses.RunStatus``."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(30), index=True)
    started: Mapped[datetime] = mapped_column(default=utcnow)
    ended: Mapped[datetime | None]
    blocking_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    held_reason: Mapped[list[Any] | None] = mapped_column(JSON)
    #: While running: who runs it (host and pid), so that an interrupted run can be recognised.
    owner: Mapped[str | None] = mapped_column(String(200))
    #: Lake table versions before the run wrote anything: an interrupted run is rolled back to them.
    lake_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: What started the run: ``cli``, ``onDemand`` (``runs/start``) or ``scheduled``.
    trigger: Mapped[str] = mapped_column(String(20), default="cli")
    activities: Mapped[list["RunActivity"]] = relationship(back_populates="run", lazy="selectin", order_by="RunActivity.id")


class LakeVersion(Base):
    """The version of one lake table that readers read: what the last finished writer of the table committed.

    A run publishes the versions of every table it wrote in the transaction that ends it, so a run that is killed
    part-way never becomes visible (``homeroom.runs.readers``); ``version`` None: the table is empty to readers.
    """

    __tablename__ = "lake_versions"
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int | None] = mapped_column(Integer)
    #: Who committed it: a run id, or ``snapshot:<target>`` / ``match:<target>`` for a directory snapshot or match.
    committed_by: Mapped[str] = mapped_column(String(200))
    committed: Mapped[datetime] = mapped_column(default=utcnow)


#: The kinds of run activity: an inbound flow's (Graph's inboundFlowActivity) or a provisioning flow's (outboundFlowActivity).
INBOUND_ACTIVITY, OUTBOUND_ACTIVITY = "inbound", "outbound"


class RunActivity(Base):
    """One flow's part of a run, with its statistics (Graph's inboundFlowActivity and inboundActivityResults, or
    an outboundFlowActivity: a provisioning flow's plan and apply, after the inbound flow ``flow_id`` it follows)."""

    __tablename__ = "run_activities"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    flow_id: Mapped[str] = mapped_column(ForeignKey("inbound_flows.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=INBOUND_ACTIVITY, server_default=INBOUND_ACTIVITY)
    #: For an outbound activity: the provisioning flow it ran (no foreign key: a deleted flow keeps its history).
    provisioning_flow_id: Mapped[str | None] = mapped_column(String(36), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(30))
    blocking_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    package: Mapped[str | None] = mapped_column(Text)
    package_format: Mapped[str | None] = mapped_column(String(40))
    files: Mapped[list[Any]] = mapped_column(default=list)  # the package's file names
    statistics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {entity: {added, updated, deactivated, reactivated}}
    run: Mapped[Run] = relationship(back_populates="activities")
    findings: Mapped[list["FindingsSummary"]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class FindingsSummary(Base):
    """How many findings of one rule, level and file an activity had; the full list is a file on disk."""

    __tablename__ = "findings_summaries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("run_activities.id"), index=True)
    file: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)


class AppRegistration(Base):
    """An application allowed to call the API: its client id, a hash of its secret, and its permissions."""

    __tablename__ = "app_registrations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)  # the client id
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    #: ``scrypt$<salt hex>$<hash hex>``; the secret itself is shown once, at creation, and never stored.
    secret_hash: Mapped[str] = mapped_column(String(300))
    permissions: Mapped[list[Any]] = mapped_column(default=list)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who signs in to Homeroom (delegated tokens): a username, a password hash and delegated permissions."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    username: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    permissions: Mapped[list[Any]] = mapped_column(default=list)
    disabled: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class TenantReferenceDefinition(Base):
    """A tenant's change to reference data: a code it added, or a default it edited or disabled."""

    __tablename__ = "tenant_reference_definitions"
    __table_args__ = (UniqueConstraint("tenant_id", "reference_type", "code"),)
    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    reference_type: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(200))
    sort_index: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(60))
    is_disabled: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundFlowSet(Base):
    """A set of outbound provisioning flows, optionally filtered to some organizations (Graph's outboundProvisioningFlowSet)."""

    __tablename__ = "outbound_flow_sets"
    __table_args__ = (UniqueConstraint("tenant_id", "display_name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    filter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(default=utcnow)
    #: The directory target the set provisions (a ``directory_targets`` id).
    target_id: Mapped[str | None] = mapped_column(String(36))
    #: Homeroom's own options (``homeroom.outbound.config.OutboundOptions``): naming templates, policies, thresholds.
    options: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class ProvisioningFlow(Base):
    """One outbound flow of a set: users, class groups, administrative units or security groups (at most one of each)."""

    __tablename__ = "provisioning_flows"
    __table_args__ = (UniqueConstraint("flow_set_id", "kind"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    flow_set_id: Mapped[str] = mapped_column(ForeignKey("outbound_flow_sets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)  # default passwords; write-only, encrypted at rest
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(default=utcnow)
    #: When Graph's ``reset`` last asked that the flow's next provisioning start from a clean state.
    reset_requested: Mapped[datetime | None]


class UploadSession(Base):
    """A connector's upload session: one container that files are uploaded to until it is validated or expires."""

    __tablename__ = "upload_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)  # the container id
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    connector_id: Mapped[str] = mapped_column(ForeignKey("data_connectors.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    session_expires: Mapped[datetime]
    container_expires: Mapped[datetime]
    #: ``active`` (accepting uploads), ``validating``, ``consumed`` (validated), ``reset``, ``expired``.
    state: Mapped[str] = mapped_column(String(20), default="active", index=True)


class Operation(Base):
    """A long-running operation: a file validation (``fileValidateOperation``) or a started run."""

    __tablename__ = "operations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # fileValidateOperation | longRunningOperation
    status: Mapped[str] = mapped_column(String(20), default="notStarted")
    status_detail: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_action: Mapped[datetime] = mapped_column(default=utcnow)
    #: URL of the resource operated on (the connector validated, the run started).
    resource_location: Mapped[str | None] = mapped_column(Text)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    validated_files: Mapped[list[Any]] = mapped_column(default=list)
    owner: Mapped[str | None] = mapped_column(String(200))


class DirectoryTarget(Base):
    """A directory Homeroom reads (snapshots, matching) and later writes: Active Directory, LDAP, SCIM, Entra, Google."""

    __tablename__ = "directory_targets"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))  # a homeroom.targets kind name
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)  # write-only everywhere, never logged; encrypted at rest
    #: What a target keeps between snapshots (an Entra delta link); not configuration.
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The source systems whose people are matched against this target when a run of their flows ends.
    source_system_ids: Mapped[list[Any]] = mapped_column(default=list)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(default=utcnow)


class EducationSyncProfile(Base):
    """A classic SDS synchronization profile (Graph's educationSynchronizationProfile, ``homeroom.classic``).

    Its data runs on the same engine as everything else: provisioning gives it a source system (the matching
    settings), a file connector (its uploads) and an inbound flow of its own, and an outbound flow set whose user
    flow carries its licences. ``status`` is Graph's educationSynchronizationStatus of its last synchronization."""

    __tablename__ = "education_sync_profiles"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    #: provisioning, provisioned, provisioningFailed, deleting, deletionFailed.
    state: Mapped[str] = mapped_column(String(30), default="provisioning")
    data_provider: Mapped[dict[str, Any]] = mapped_column(default=dict)  # Graph's JSON, canonical, secrets left out
    secrets: Mapped[dict[str, Any]] = mapped_column(default=dict)  # a provider's clientSecret: write-only
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    licenses: Mapped[list[Any]] = mapped_column(default=list)
    expiration_date: Mapped[date | None] = mapped_column(Date)
    handle_special_characters: Mapped[bool | None]
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(default=utcnow)
    #: The rows provisioning made for it (null until provisioned).
    flow_id: Mapped[str | None] = mapped_column(String(36))
    flow_set_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(30), default="paused")
    status_message: Mapped[str | None] = mapped_column(Text)
    last_synchronization: Mapped[datetime | None]
    last_activity: Mapped[datetime | None]
    #: The verified package its synchronizations read, and the run of its last one.
    package: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(36))
    #: Whether a pause is in force (``status`` then is ``paused``; ``paused_status`` what it was before).
    paused_status: Mapped[str | None] = mapped_column(String(30))


class EducationSyncError(Base):
    """A record a profile's synchronization could not sync (Graph's educationSynchronizationError)."""

    __tablename__ = "education_sync_errors"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("education_sync_profiles.id", ondelete="CASCADE"), index=True)
    entry_type: Mapped[str] = mapped_column(String(40))
    error_code: Mapped[str] = mapped_column(String(60))
    error_message: Mapped[str] = mapped_column(Text)
    joining_value: Mapped[str | None] = mapped_column(Text)
    reportable_identifier: Mapped[str | None] = mapped_column(Text)
    recorded: Mapped[datetime] = mapped_column(default=utcnow)
