"""Request bodies: the writable shape of each Graph type as a Pydantic model, ``@odata.bind`` and ``@odata.type``.

Models forbid unknown properties and are strict about JSON types, so ``{"sortIndex": "1"}`` or
``{"colour": "red"}`` is a 400 whose message names the property.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from homeroom.api.errors import BadRequest

NAMESPACE = "microsoft.graph.industryData"


class GraphInput(BaseModel):
    """Base of every request body: camelCase properties, unknown ones refused, JSON types enforced."""

    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=False)
    odata_type: str | None = Field(default=None, alias="@odata.type")

    def given(self, name: str) -> bool:
        """Whether the body carried this property (PATCH changes only what it carries)."""
        return name in self.model_fields_set


class ReferenceValueIn(GraphInput):
    """A referenceValue: a ``code``, or a ``value@odata.bind`` to a referenceDefinition."""

    code: str | None = None
    value_bind: str | None = Field(default=None, alias="value@odata.bind")


class RoleGroupIn(GraphInput):
    """A roleGroup written inline, as the SDK types it (``"roleGroup": {"id": "staff"}``): the same as
    ``roleGroup@odata.bind``. Its other properties are read-only; a group read and sent back unchanged is accepted."""

    id: str
    display_name: str | None = None
    roles: list[ReferenceValueIn] | None = None


class UserMatchingSettingIn(GraphInput):
    """userMatchingSetting; the role group by ``roleGroup@odata.bind`` or inline (``roleGroup``)."""

    match_target: ReferenceValueIn | None = None
    priority_order: int | None = None
    source_identifier: ReferenceValueIn | None = None
    role_group_bind: str | None = Field(default=None, alias="roleGroup@odata.bind")
    role_group: RoleGroupIn | None = None


class SourceSystemIn(GraphInput):
    """sourceSystemDefinition."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    vendor: str | None = Field(default=None, max_length=100)
    user_matching_settings: list[UserMatchingSettingIn] | None = None


class YearIn(GraphInput):
    """yearTimePeriodDefinition."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    start_date: date | None = None
    end_date: date | None = None
    year: ReferenceValueIn | None = None


class CredentialIn(GraphInput):
    """credential (oAuth1ClientCredential or oAuth2ClientCredential); ``clientSecret`` is write-only."""

    display_name: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    scope: str | None = None


class DataConnectorIn(GraphInput):
    """industryDataConnector: azureDataLakeConnector or oneRosterApiDataConnector properties."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    source_system_bind: str | None = Field(default=None, alias="sourceSystem@odata.bind")
    file_format: ReferenceValueIn | None = None
    api_format: Literal["oneRoster"] | None = None
    base_url: str | None = None
    api_version: str | None = None
    credential: CredentialIn | None = None
    is_demographics_enabled: bool | None = None
    is_flags_enabled: bool | None = None
    is_contacts_enabled: bool | None = None


class InboundFlowIn(GraphInput):
    """inboundFlow (inboundFileFlow or inboundApiFlow)."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    data_domain: Literal["educationRostering"] | None = None
    effective_date_time: datetime | None = None
    expiration_date_time: datetime | None = None
    data_connector_bind: str | None = Field(default=None, alias="dataConnector@odata.bind")
    year_bind: str | None = Field(default=None, alias="year@odata.bind")


class ReferenceDefinitionIn(GraphInput):
    """referenceDefinition."""

    reference_type: str | None = Field(default=None, min_length=1, max_length=60)
    code: str | None = Field(default=None, min_length=1, max_length=100)
    display_name: str | None = Field(default=None, max_length=200)
    is_disabled: bool | None = None
    sort_index: int | None = None


Model = TypeVar("Model", bound=GraphInput)


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not isinstance(part, int)) or "body"


def parse_body(model: type[Model], raw: bytes, *, required: tuple[str, ...] = (), type_name: str,
               namespace: str = NAMESPACE) -> Model:
    """The body validated against ``model``; a 400 naming the property otherwise. ``required`` are JSON names."""
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON object is required.")
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(document, dict):
        raise BadRequest("The request body must be a JSON object.")
    # Annotations other than @odata.type and bindings (e.g. @odata.context sent back by a client) are ignored.
    document = canonical_keys({k: v for k, v in document.items() if not (k.startswith("@") and k != "@odata.type")}, model)
    try:
        body = model.model_validate_json(json.dumps(document))
    except ValidationError as exc:
        first = exc.errors()[0]
        prop = _location(first["loc"])
        if first["type"] == "extra_forbidden":
            raise BadRequest(f"Property '{prop}' does not exist on type '{namespace}.{type_name}' or is read-only.") from None
        raise BadRequest(f"Invalid value for property '{prop}': {first['msg']}.") from None
    for name in required:
        if name not in document or document[name] is None:
            raise BadRequest(f"Property '{name}' is required to create a {type_name}.")
    return body


def resolve_type(value: str | None, allowed: dict[str, str], namespace: str = NAMESPACE) -> str | None:
    """The canonical type name for an ``@odata.type`` (any namespace, with or without '#', any case)."""
    if value is None:
        return None
    last = value.lstrip("#").rsplit(".", 1)[-1].lower()
    found = {name.lower(): name for name in allowed}.get(last)
    if found is None:
        raise BadRequest(f"Invalid @odata.type '{value}': expected one of {', '.join(f'#{namespace}.{n}' for n in allowed)}.")
    return found


_KEY = re.compile(r"^(?P<name>[^(]+)\((?P<key>.*)\)$")


def bound_id(url: str, collection: str, *, prop: str) -> str:
    """The key in a ``<prop>@odata.bind`` URL (absolute or relative; key as segment or in parentheses)."""
    path = unquote(urlsplit(url).path) if "://" in url else unquote(url.split("?")[0])
    segments = [s for s in path.split("/") if s]
    for i, segment in enumerate(segments):
        m = _KEY.match(segment)
        if m and m.group("name").lower() == collection.lower():
            key = m.group("key").strip("'")
            if key and i == len(segments) - 1:
                return key
        if segment.lower() == collection.lower() and i == len(segments) - 2:
            return segments[i + 1].strip("'")
    raise BadRequest(f"Invalid value for property '{prop}@odata.bind': '{url}' is not the address of one of {collection}.")


class BasicFilterIn(GraphInput):
    """basicFilter: organizations a flow set applies to."""

    attribute: Literal["orgExternalId"]
    in_: list[str] = Field(alias="in")


class OutboundFlowSetIn(GraphInput):
    """outboundProvisioningFlowSet."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    filter: BasicFilterIn | None = None


class PasswordSettingsIn(GraphInput):
    """simplePasswordSettings; ``password`` is write-only (masked on read)."""

    password: str | None = None


class UserConfigurationIn(GraphInput):
    """userConfiguration: per role group (by ``roleGroup@odata.bind`` or inline), the default password and licences
    of created users."""

    role_group_bind: str | None = Field(default=None, alias="roleGroup@odata.bind")
    role_group: RoleGroupIn | None = None
    default_password_settings: PasswordSettingsIn | None = None
    license_skus: list[str] | None = None


class UserCreationOptionsIn(GraphInput):
    """userCreationOptions."""

    configurations: list[UserConfigurationIn] | None = None


class AdditionalUserOptionsIn(GraphInput):
    """additionalUserOptions."""

    allow_student_contact_association: bool | None = None
    mark_all_students_as_minors: bool | None = None
    student_age_group: Literal["minor", "notAdult", "adult"] | None = None


class UserManagementOptionsIn(GraphInput):
    """userManagementOptions."""

    additional_attributes: list[Literal["userGradeLevel", "userNumber"]] | None = None
    additional_options: AdditionalUserOptionsIn | None = None


class UserProvisioningFlowIn(GraphInput):
    """userProvisioningFlow."""

    create_unmatched_users: bool | None = None
    creation_options: UserCreationOptionsIn | None = None
    management_options: UserManagementOptionsIn | None = None


class AdditionalClassGroupOptionsIn(GraphInput):
    """additionalClassGroupOptions."""

    create_team: bool | None = None
    write_display_name_on_create_only: bool | None = None


class EnrollmentMappingsIn(GraphInput):
    """enrollmentMappings: section roles that become owners or members of class groups."""

    owner_enrollment_mappings: list[ReferenceValueIn] | None = None
    member_enrollment_mappings: list[ReferenceValueIn] | None = None


class ClassGroupConfigurationIn(GraphInput):
    """classGroupConfiguration."""

    additional_attributes: list[Literal["courseTitle", "courseCode", "courseSubject", "courseGradeLevel", "courseExternalId",
                                        "academicSessionTitle", "academicSessionExternalId", "classCode"]] | None = None
    additional_options: AdditionalClassGroupOptionsIn | None = None
    enrollment_mappings: EnrollmentMappingsIn | None = None


class ClassGroupProvisioningFlowIn(GraphInput):
    """classGroupProvisioningFlow."""

    configuration: ClassGroupConfigurationIn | None = None


class AdminUnitCreationOptionsIn(GraphInput):
    """adminUnitCreationOptions."""

    create_based_on_org: bool | None = None
    create_based_on_org_plus_role_group: bool | None = None


class AdministrativeUnitProvisioningFlowIn(GraphInput):
    """administrativeUnitProvisioningFlow."""

    creation_options: AdminUnitCreationOptionsIn | None = None


class SecurityGroupCreationOptionsIn(GraphInput):
    """securityGroupCreationOptions."""

    create_based_on_role_group: bool | None = None
    create_based_on_org_plus_role_group: bool | None = None


class SecurityGroupProvisioningFlowIn(GraphInput):
    """securityGroupProvisioningFlow."""

    creation_options: SecurityGroupCreationOptionsIn | None = None


def canonical_keys(document: Any, model: type[BaseModel]) -> Any:
    """The document with property names matched case-insensitively to the model's (``createBasedOnOrgPlusroleGroup``)."""
    if not isinstance(document, dict):
        return document
    by_lower = {(f.alias or name).lower(): (f.alias or name, f.annotation) for name, f in model.model_fields.items()}
    out = {}
    for key, value in document.items():
        alias, annotation = by_lower.get(key.lower(), (key, None))
        nested = _nested_model(annotation)
        if nested is not None:
            value = [canonical_keys(v, nested) for v in value] if isinstance(value, list) else canonical_keys(value, nested)
        out[alias] = value
    return out


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None
