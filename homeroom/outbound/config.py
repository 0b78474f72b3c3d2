"""A flow set's configuration, read once: Graph's provisioning flows plus Homeroom's own options.

Graph's four flow types say *what* to provision (``userProvisioningFlow``, ``classGroupProvisioningFlow``,
``administrativeUnitProvisioningFlow``, ``securityGroupProvisioningFlow``, at most one of each per set, as stored
through the API). Homeroom's options (:class:`OutboundOptions`, kept with the flow set) say *how*: naming templates,
the rename and class-end policies, the safety thresholds. Every option has a default that works, so a flow set made
through Graph's API alone plans without further configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from homeroom.errors import ConfigurationError
from homeroom.model.reference import DEFAULT_ROLE_GROUPS

USER_FLOW, CLASS_FLOW = "userProvisioningFlow", "classGroupProvisioningFlow"
UNIT_FLOW, GROUP_FLOW = "administrativeUnitProvisioningFlow", "securityGroupProvisioningFlow"
FLOW_KINDS = (USER_FLOW, CLASS_FLOW, UNIT_FLOW, GROUP_FLOW)

#: Graph's default enrollment mappings when a class group flow names none: teachers own, students are members.
DEFAULT_OWNER_ROLES = ("teacher",)
DEFAULT_MEMBER_ROLES = ("student",)


class _Options(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Limit(_Options):
    """A threshold on one kind of operation: a share of what exists now, and/or an absolute number."""

    share: float | None = Field(default=0.1, ge=0, le=1)
    absolute: int | None = Field(default=None, ge=0)


class Thresholds(_Options):
    """What holds a plan: more creates, disables or membership removals than these (share of existing, absolute),
    or more than ``per_org_disables`` of one organization's people disabled at once (a school missing)."""

    creates: Limit = Limit()
    disables: Limit = Limit()
    member_removals: Limit = Limit()
    per_org_disables: float = Field(default=0.25, ge=0, le=1)
    #: A directory snapshot that lost more than this share of its accounts since the previous one came in short.
    directory_shrink: float = Field(default=0.05, ge=0, le=1)


class Templates(_Options):
    """Naming templates (``{placeholder}`` text, see docs/provisioning.md); ``None`` takes the target kind's default."""

    user_name: str | None = None
    user_principal_name: str = "{username}"
    mail: str = "{email}"
    display_name: str = "{givenName} {familyName}"
    user_dn: str = "CN={userName},OU={orgName},{baseDn}"
    class_display_name: str = "{title}"
    class_name: str = "Section_{sourcedId}"
    class_unique_name: str = "Section_{sourcedId}"
    class_dn: str = "CN={name},OU={orgName},{baseDn}"
    unit_display_name: str = "{orgName}"
    unit_name: str = "{orgSourcedId}"
    unit_dn: str = "OU={orgName},{baseDn}"
    role_unit_display_name: str = "{orgName} {roleGroupName}"
    role_unit_name: str = "{orgSourcedId}-{roleGroup}"
    role_unit_dn: str = "OU={roleGroupName},OU={orgName},{baseDn}"
    group_display_name: str = "All {roleGroupName}"
    group_name: str = "All_{roleGroup}"
    group_dn: str = "CN={name},{baseDn}"
    org_group_display_name: str = "{orgName} {roleGroupName}"
    org_group_name: str = "{orgSourcedId}_{roleGroup}"
    org_group_dn: str = "CN={name},OU={orgName},{baseDn}"
    expired_prefix: str = "Exp{endYear} "


class OutboundOptions(_Options):
    """Homeroom's own options of a flow set (stored with it; every one has a default)."""

    templates: Templates = Templates()
    #: ``automatic``: a changed username/UPN is renamed in the plan; ``approval``: the plan is held until approved;
    #: ``never``: the account keeps its name.
    renames: Literal["automatic", "approval", "never"] = "approval"
    #: What happens to the group of a class that is no longer active: ``expire`` (display name prefixed, members
    #: kept) or ``keep`` (left as it is). Never deleted.
    class_end: Literal["expire", "keep"] = "expire"
    #: The directory's base DN (AD, LDAP): OU paths are built under it. Without one, objects get no DN.
    base_dn: str | None = None
    thresholds: Thresholds = Thresholds()


def parse_options(raw: dict[str, Any] | None, where: str) -> OutboundOptions:
    """The options stored for a flow set; a bad value is a ``ConfigurationError`` naming it."""
    try:
        return OutboundOptions.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"the options of {where} are not valid: {problems}") from None


@dataclass(frozen=True)
class RoleGroupCreation:
    """How new accounts of one role group are created: the secret holding their default password, and licences."""

    password_secret: str | None
    license_skus: tuple[str, ...]


@dataclass(frozen=True)
class UserFlow:
    """userProvisioningFlow."""

    flow_id: str
    create_unmatched: bool
    creation: dict[str, RoleGroupCreation]  # by role group id (``staff``, ``students``)
    additional_attributes: tuple[str, ...]  # userGradeLevel, userNumber
    student_age_group: str | None  # minor, notAdult, adult


@dataclass(frozen=True)
class ClassFlow:
    """classGroupProvisioningFlow."""

    flow_id: str
    owner_roles: tuple[str, ...]
    member_roles: tuple[str, ...]
    additional_attributes: tuple[str, ...]
    create_team: bool
    display_name_on_create_only: bool


@dataclass(frozen=True)
class UnitFlow:
    """administrativeUnitProvisioningFlow."""

    flow_id: str
    per_org: bool
    per_org_role_group: bool


@dataclass(frozen=True)
class GroupFlow:
    """securityGroupProvisioningFlow."""

    flow_id: str
    per_role_group: bool
    per_org_role_group: bool


@dataclass(frozen=True)
class FlowSetConfig:
    """Everything a plan needs to know about one flow set."""

    id: str
    name: str
    orgs: tuple[str, ...] | None  # the filter's org sourcedIds; None: every org
    users: UserFlow | None = None
    classes: ClassFlow | None = None
    units: UnitFlow | None = None
    groups: GroupFlow | None = None
    options: OutboundOptions = field(default_factory=OutboundOptions)

    def flow_ids(self) -> dict[str, str]:
        """The id of each flow the set has, by object kind it provisions (``user``, ``class``, ``unit``, ``security``)."""
        pairs = {"user": self.users, "class": self.classes, "unit": self.units, "security": self.groups}
        return {kind: flow.flow_id for kind, flow in pairs.items() if flow is not None}


def _codes(values: list[dict] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if values is None:
        return default
    return tuple(str(v.get("code", "")).lower() for v in values if v.get("code"))


def flow_set_config(*, set_id: str, name: str, filter: dict | None, options: dict | None,
                    flows: list[tuple[str, str, dict, dict]]) -> FlowSetConfig:
    """The configuration of a flow set from its stored rows: ``flows`` are (id, kind, settings, secrets)."""
    orgs = tuple((filter or {}).get("in") or ()) if filter else None
    parts: dict[str, Any] = {}
    for flow_id, kind, settings, secrets in flows:
        settings = settings or {}
        if kind == USER_FLOW:
            creation = {}
            for i, config in enumerate((settings.get("creationOptions") or {}).get("configurations") or []):
                group = config.get("roleGroupId")
                if group:
                    secret = f"password{i}" if (secrets or {}).get(f"password{i}") is not None else None
                    creation[group] = RoleGroupCreation(secret, tuple(config.get("licenseSkus") or ()))
            management = settings.get("managementOptions") or {}
            extra = management.get("additionalOptions") or {}
            age = extra.get("studentAgeGroup") or ("minor" if extra.get("markAllStudentsAsMinors") else None)
            parts["users"] = UserFlow(flow_id, bool(settings.get("createUnmatchedUsers")), creation,
                                      tuple(management.get("additionalAttributes") or ()), age)
        elif kind == CLASS_FLOW:
            config = settings.get("configuration") or {}
            mappings = config.get("enrollmentMappings") or {}
            extra = config.get("additionalOptions") or {}
            parts["classes"] = ClassFlow(
                flow_id, _codes(mappings.get("ownerEnrollmentMappings"), DEFAULT_OWNER_ROLES),
                _codes(mappings.get("memberEnrollmentMappings"), DEFAULT_MEMBER_ROLES),
                tuple(config.get("additionalAttributes") or ()), bool(extra.get("createTeam")),
                bool(extra.get("writeDisplayNameOnCreateOnly")))
        elif kind == UNIT_FLOW:
            creation = settings.get("creationOptions") or {}
            parts["units"] = UnitFlow(flow_id, bool(creation.get("createBasedOnOrg")),
                                      bool(creation.get("createBasedOnOrgPlusRoleGroup")))
        elif kind == GROUP_FLOW:
            creation = settings.get("creationOptions") or {}
            parts["groups"] = GroupFlow(flow_id, bool(creation.get("createBasedOnRoleGroup")),
                                        bool(creation.get("createBasedOnOrgPlusRoleGroup")))
    return FlowSetConfig(set_id, name, orgs, options=parse_options(options, f"flow set {name!r}"), **parts)


#: Role groups by id, and the role group of each role code (lower case).
ROLE_GROUPS = {g.id: g for g in DEFAULT_ROLE_GROUPS}
ROLE_GROUP_OF_ROLE = {role.lower(): g.id for g in DEFAULT_ROLE_GROUPS for role in g.roles}
