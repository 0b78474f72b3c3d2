"""Read models: the typed JSON of every Graph type Homeroom answers, declared once.

Each class is one Graph type (its name in lowerCamel; ``__namespace__`` says where Graph puts it), its fields the
properties of its JSON with their types. Inheritance is Graph's (``azureDataLakeConnector`` is a
``fileDataConnector`` is an ``industryDataConnector``). From these, ``homeroom.api.resources`` derives each
resource's ``properties``, ``homeroom.api.csdl`` the ``$metadata`` document and ``homeroom.api.collections`` the
OpenAPI response schemas. Rows are still turned into JSON by each resource's ``to_json`` (no model per row on
the read path); a test checks that both agree.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GRAPH = "microsoft.graph"
INDUSTRY_DATA = "microsoft.graph.industryData"
EXTERNAL_CONNECTORS = "microsoft.graph.externalConnectors"


class GraphEnum(str, Enum):
    """An OData enumeration; members in Graph's declared order (their ``Value`` is that order). A ``__namespace__``
    set on the class itself places it (industryData otherwise)."""


class GraphValue(BaseModel):
    """Base of the read models: a complex type unless it derives from ``Entity``."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)
    # ``__namespace__`` and ``__abstract__``, when a class sets them, hold for that class only (not derived ones).

    @classmethod
    def type_name(cls) -> str:
        """The Graph name of the type: ``AzureDataLakeConnector`` -> ``azureDataLakeConnector``."""
        return cls.__name__[:1].lower() + cls.__name__[1:]

    @classmethod
    def qualified_name(cls) -> str:
        """``microsoft.graph.industryData.azureDataLakeConnector``."""
        return qualified_name(cls)

    @classmethod
    def own_fields(cls) -> dict[str, Any]:
        """The fields this type declares (not those of its base type), by JSON name."""
        inherited = set()
        for base in cls.__mro__[1:]:
            if isinstance(base, type) and issubclass(base, GraphValue):
                inherited |= set(base.model_fields)
        return {field.alias or name: field for name, field in cls.model_fields.items() if name not in inherited}

    @classmethod
    def json_names(cls) -> frozenset[str]:
        """Every property of the type's JSON, inherited ones included."""
        return frozenset(field.alias or name for name, field in cls.model_fields.items())


def qualified_name(cls: type) -> str:
    """The namespace-qualified Graph name of a read model or enumeration: ``microsoft.graph.publicError``."""
    return f"{cls.__dict__.get('__namespace__', INDUSTRY_DATA)}.{cls.__name__[:1].lower()}{cls.__name__[1:]}"


def is_abstract(cls: type[GraphValue]) -> bool:
    """Whether the type is abstract (only derived types appear on the wire)."""
    return bool(cls.__dict__.get("__abstract__", False))


def graph_types(root: type[GraphValue] = GraphValue) -> list[type[GraphValue]]:
    """``root`` and every type derived from it, bases before derived types."""
    out = [] if root is GraphValue else [root]
    for sub in root.__subclasses__():
        out += graph_types(sub)
    return out


def concrete_types(root: type[GraphValue]) -> list[type[GraphValue]]:
    """The non-abstract types of a polymorphic value: what an answer's ``@odata.type`` can be."""
    return [t for t in graph_types(root) if not is_abstract(t)]


def property_names(root: type[GraphValue]) -> frozenset[str]:
    """Every property of ``root`` and of the types derived from it (what a polymorphic collection filters on)."""
    return frozenset().union(*(t.json_names() for t in graph_types(root)))


# Enumerations (spec §1.4).


class InboundDomain(GraphEnum):
    educationRostering = "educationRostering"
    unknownFutureValue = "unknownFutureValue"


class ReadinessStatus(GraphEnum):
    notReady = "notReady"
    ready = "ready"
    failed = "failed"
    disabled = "disabled"
    expired = "expired"
    unknownFutureValue = "unknownFutureValue"


class IndustryDataRunStatus(GraphEnum):
    running = "running"
    failed = "failed"
    completed = "completed"
    completedWithErrors = "completedWithErrors"
    completedWithWarnings = "completedWithWarnings"
    unknownFutureValue = "unknownFutureValue"


class IndustryDataActivityStatus(GraphEnum):
    inProgress = "inProgress"
    skipped = "skipped"
    failed = "failed"
    completed = "completed"
    completedWithErrors = "completedWithErrors"
    completedWithWarnings = "completedWithWarnings"
    unknownFutureValue = "unknownFutureValue"


class ApiFormat(GraphEnum):
    oneRoster = "oneRoster"
    unknownFutureValue = "unknownFutureValue"


class FilterOptions(GraphEnum):
    orgExternalId = "orgExternalId"
    unknownFutureValue = "unknownFutureValue"


class AdditionalUserAttributes(GraphEnum):
    userGradeLevel = "userGradeLevel"
    userNumber = "userNumber"
    unknownFutureValue = "unknownFutureValue"


class AdditionalClassGroupAttributes(GraphEnum):
    courseTitle = "courseTitle"
    courseCode = "courseCode"
    courseSubject = "courseSubject"
    courseGradeLevel = "courseGradeLevel"
    courseExternalId = "courseExternalId"
    academicSessionTitle = "academicSessionTitle"
    academicSessionExternalId = "academicSessionExternalId"
    classCode = "classCode"
    unknownFutureValue = "unknownFutureValue"


class StudentAgeGroup(GraphEnum):
    minor = "minor"
    notAdult = "notAdult"
    adult = "adult"
    unknownFutureValue = "unknownFutureValue"


class LongRunningOperationStatus(GraphEnum):
    __namespace__ = GRAPH
    notStarted = "notStarted"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    unknownFutureValue = "unknownFutureValue"


# Complex types.


class PublicErrorDetail(GraphValue):
    __namespace__ = GRAPH
    code: str | None = None
    message: str | None = None
    target: str | None = None


class PublicInnerError(GraphValue):
    __namespace__ = GRAPH
    code: str | None = None
    message: str | None = None
    target: str | None = None
    details: list[PublicErrorDetail] = []


class PublicError(GraphValue):
    __namespace__ = GRAPH
    code: str | None = None
    message: str | None = None
    target: str | None = None
    details: list[PublicErrorDetail] = []
    inner_error: PublicInnerError | None = None


class ReferenceValue(GraphValue):
    __abstract__ = True
    code: str | None = None


class IdentifierTypeReferenceValue(ReferenceValue):
    pass


class RoleReferenceValue(ReferenceValue):
    pass


class UserMatchTargetReferenceValue(ReferenceValue):
    pass


class YearReferenceValue(ReferenceValue):
    pass


class SectionRoleReferenceValue(ReferenceValue):
    pass


class FileFormatReferenceValue(ReferenceValue):
    pass


class UserMatchingSetting(GraphValue):
    match_target: UserMatchTargetReferenceValue | None = None
    priority_order: int | None = None
    source_identifier: IdentifierTypeReferenceValue | None = None


class Credential(GraphValue):
    __abstract__ = True
    display_name: str | None = None
    is_valid: bool | None = None
    last_valid_date_time: datetime | None = None


class OAuthClientCredential(Credential):
    """``clientSecret`` is write-only: Graph never returns it, nor does Homeroom."""

    __abstract__ = True
    client_id: str | None = None


class OAuth1ClientCredential(OAuthClientCredential):
    pass


class OAuth2ClientCredential(OAuthClientCredential):
    scope: str | None = None
    token_url: str | None = None


class FileUploadSession(GraphValue):
    container_expiration_date_time: datetime | None = None
    container_id: str | None = None
    session_expiration_date_time: datetime | None = None
    session_url: str | None = None


class IndustryDataRunStatistics(GraphValue):
    """getStatistics' answer; its activity statistics and totals are described in docs/api.md."""

    run_id: str | None = None
    status: IndustryDataRunStatus | None = None
    activity_statistics: list[dict] = []
    inbound_totals: dict | None = None


class Filter(GraphValue):
    __abstract__ = True


class BasicFilter(Filter):
    attribute: FilterOptions | None = None
    in_: list[str] = Field(default=[], alias="in")


class PasswordSettings(GraphValue):
    __abstract__ = True


class SimplePasswordSettings(PasswordSettings):
    password: str | None = None


class UserConfiguration(GraphValue):
    """``roleGroup`` is a navigation in Graph's metadata; Homeroom answers it inline."""

    default_password_settings: SimplePasswordSettings | None = None
    license_skus: list[str] = []


class UserCreationOptions(GraphValue):
    configurations: list[UserConfiguration] = []


class AdditionalUserOptions(GraphValue):
    allow_student_contact_association: bool | None = None
    mark_all_students_as_minors: bool | None = None
    student_age_group: StudentAgeGroup | None = None


class UserManagementOptions(GraphValue):
    additional_attributes: list[AdditionalUserAttributes] = []
    additional_options: AdditionalUserOptions | None = None


class AdditionalClassGroupOptions(GraphValue):
    create_team: bool | None = None
    write_display_name_on_create_only: bool | None = None


class EnrollmentMappings(GraphValue):
    member_enrollment_mappings: list[SectionRoleReferenceValue] = []
    owner_enrollment_mappings: list[SectionRoleReferenceValue] = []


class ClassGroupConfiguration(GraphValue):
    additional_attributes: list[AdditionalClassGroupAttributes] = []
    additional_options: AdditionalClassGroupOptions | None = None
    enrollment_mappings: EnrollmentMappings | None = None


class AdminUnitCreationOptions(GraphValue):
    create_based_on_org: bool | None = None
    create_based_on_org_plus_role_group: bool | None = None


class SecurityGroupCreationOptions(GraphValue):
    create_based_on_org: bool | None = None
    create_based_on_org_plus_role_group: bool | None = None


# Entity types.


class Entity(GraphValue):
    __namespace__ = GRAPH
    __abstract__ = True
    id: str


class External(Entity):
    """Graph's ``/external`` singleton; Homeroom serves only its ``industryData`` navigation."""

    __namespace__ = EXTERNAL_CONNECTORS


class IndustryDataRoot(Entity):
    pass


class SourceSystemDefinition(Entity):
    display_name: str
    vendor: str | None = None
    user_matching_settings: list[UserMatchingSetting] = []


class YearTimePeriodDefinition(Entity):
    display_name: str
    start_date: date
    end_date: date
    year: YearReferenceValue


class IndustryDataConnector(Entity):
    __abstract__ = True
    display_name: str


class FileDataConnector(IndustryDataConnector):
    __abstract__ = True


class AzureDataLakeConnector(FileDataConnector):
    file_format: FileFormatReferenceValue | None = None


class ApiDataConnector(IndustryDataConnector):
    __abstract__ = True
    api_format: ApiFormat
    base_url: str
    credential: Credential


class OneRosterApiDataConnector(ApiDataConnector):
    api_version: str
    is_contacts_enabled: bool
    is_demographics_enabled: bool
    is_flags_enabled: bool


class IndustryDataActivity(Entity):
    __abstract__ = True
    display_name: str
    readiness_status: ReadinessStatus | None = None


class InboundFlow(IndustryDataActivity):
    __abstract__ = True
    data_domain: InboundDomain
    effective_date_time: datetime
    expiration_date_time: datetime | None = None


class InboundFileFlow(InboundFlow):
    pass


class InboundApiFlow(InboundFlow):
    pass


class ReferenceDefinition(Entity):
    code: str
    created_date_time: datetime | None = None
    display_name: str | None = None
    is_disabled: bool
    last_modified_date_time: datetime | None = None
    reference_type: str
    sort_index: int
    source: str | None = None


class RoleGroup(Entity):
    display_name: str
    roles: list[RoleReferenceValue] = []


class IndustryDataRun(Entity):
    blocking_error: PublicError | None = None
    display_name: str | None = None
    end_date_time: datetime | None = None
    start_date_time: datetime | None = None
    status: IndustryDataRunStatus


class IndustryDataRunActivity(Entity):
    __abstract__ = True
    blocking_error: PublicError | None = None
    display_name: str | None = None
    status: IndustryDataActivityStatus


class InboundFlowActivity(IndustryDataRunActivity):
    pass


class LongRunningOperation(Entity):
    __namespace__ = GRAPH
    created_date_time: datetime | None = None
    last_action_date_time: datetime | None = None
    resource_location: str | None = None
    status: LongRunningOperationStatus | None = None
    status_detail: str | None = None


class ValidateOperation(LongRunningOperation):
    __abstract__ = True
    errors: list[PublicError] = []
    warnings: list[PublicError] = []


class FileValidateOperation(ValidateOperation):
    validated_files: list[str] = []


class OutboundProvisioningFlowSet(Entity):
    created_date_time: datetime | None = None
    display_name: str
    filter: Filter | None = None
    last_modified_date_time: datetime | None = None


class ProvisioningFlow(Entity):
    __abstract__ = True
    created_date_time: datetime | None = None
    last_modified_date_time: datetime | None = None
    readiness_status: ReadinessStatus | None = None


class UserProvisioningFlow(ProvisioningFlow):
    create_unmatched_users: bool | None = None
    creation_options: UserCreationOptions | None = None
    management_options: UserManagementOptions | None = None


class ClassGroupProvisioningFlow(ProvisioningFlow):
    configuration: ClassGroupConfiguration | None = None


class AdministrativeUnitProvisioningFlow(ProvisioningFlow):
    creation_options: AdminUnitCreationOptions | None = None


class SecurityGroupProvisioningFlow(ProvisioningFlow):
    creation_options: SecurityGroupCreationOptions | None = None
