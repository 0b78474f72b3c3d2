"""A profile's identity configuration and licences as the engine's settings (spec §2.7, §2.8).

- ``educationIdentityCreationConfiguration`` (create users): each role's ``userDomains`` entry is the domain that
  bare SDS v1 usernames get (``OKlein`` -> ``OKlein@testschool.edu``); users are matched on their user principal
  name and created when unmatched.
- ``educationIdentityMatchingConfiguration`` (match only, create nobody): each ``matchingOptions`` entry is a
  matching setting of the role's group (source property -> ``sourceIdentifier``, target property ->
  ``matchTarget``); its ``targetDomain`` is appended to bare usernames, as classic SDS appended it to the source
  value before matching.

Matching settings are stored exactly as industryData's ``sourceSystemDefinition.userMatchingSettings`` are
(``priorityOrder``, ``sourceIdentifier.code``, ``matchTarget.code``, ``roleGroupId``), on the profile's source
system, so the identity matching reads one shape. Licences become the user flow's ``creationOptions.configurations``
(``licenseSkus`` per role group), as a ``userProvisioningFlow`` stores them.
"""

from __future__ import annotations

from typing import Any

from homeroom.errors import ConfigurationError

#: Classic roles (educationUserRole) -> the role groups of industryData (``staff``, ``students``).
ROLE_GROUPS = {"student": "students", "teacher": "staff", "faculty": "staff"}
#: The v1 format option holding each role group's username domain.
DOMAIN_OPTIONS = {"students": "student_domain", "staff": "teacher_domain"}
#: Classic source properties (Student.csv / Teacher.csv headers) -> industryData identifier codes.
SOURCE_IDENTIFIERS = {"username": "username", "sis id": "sisId", "secondary email": "email"}
CREATION, MATCHING = "educationIdentityCreationConfiguration", "educationIdentityMatchingConfiguration"


def role_group(role: str | None, prop: str) -> str:
    """The role group of a classic role, or a clear refusal."""
    group = ROLE_GROUPS.get((role or "").lower())
    if group is None:
        raise ConfigurationError(f"Invalid value for property '{prop}': '{role}' is not a role a profile can configure; "
                                 f"use one of {', '.join(ROLE_GROUPS)}.")
    return group


def check_identity(identity: dict[str, Any] | None) -> None:
    """Refuse an identity configuration the engine cannot honour (one domain per role, known roles)."""
    if identity is None:
        return
    if identity["kind"] == CREATION:
        seen: dict[str, str] = {}
        for i, domain in enumerate(identity.get("userDomains") or []):
            group = role_group(domain.get("appliesTo"), f"identitySynchronizationConfiguration.userDomains[{i}].appliesTo")
            if not (domain.get("name") or "").strip():
                raise ConfigurationError(f"Property 'identitySynchronizationConfiguration.userDomains[{i}].name' is required.")
            if seen.get(group, domain["name"]).lower() != domain["name"].lower():
                raise ConfigurationError("A profile has one user domain per role: "
                                         f"'{seen[group]}' and '{domain['name']}' both apply to {group}.")
            seen[group] = domain["name"]
        return
    for i, option in enumerate(identity.get("matchingOptions") or []):
        prop = f"identitySynchronizationConfiguration.matchingOptions[{i}]"
        role_group(option.get("appliesTo"), f"{prop}.appliesTo")
        source = (option.get("sourcePropertyName") or "").lower()
        if source not in SOURCE_IDENTIFIERS:
            raise ConfigurationError(f"Invalid value for property '{prop}.sourcePropertyName': '{option.get('sourcePropertyName')}'; "
                                     "use Username, SIS ID or Secondary Email.")
        if not option.get("targetPropertyName"):
            raise ConfigurationError(f"Property '{prop}.targetPropertyName' is required (e.g. userPrincipalName).")
        if option.get("targetDomain") and source != "username":
            raise ConfigurationError(f"Property '{prop}.targetDomain' is appended to usernames only; "
                                     "leave it out for other source properties.")


def matching_settings(identity: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The profile's identity configuration as industryData ``userMatchingSettings`` (stored shape)."""
    if identity is None:
        return []
    if identity["kind"] == CREATION:
        groups = list(dict.fromkeys(role_group(d.get("appliesTo"), "appliesTo") for d in identity.get("userDomains") or []))
        return [{"priorityOrder": i, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"},
                 "roleGroupId": group} for i, group in enumerate(groups)]
    return [{"priorityOrder": i, "sourceIdentifier": {"code": SOURCE_IDENTIFIERS[o["sourcePropertyName"].lower()]},
             "matchTarget": {"code": o["targetPropertyName"]}, "roleGroupId": role_group(o.get("appliesTo"), "appliesTo")}
            for i, o in enumerate(identity.get("matchingOptions") or [])]


def username_domains(identity: dict[str, Any] | None) -> dict[str, str]:
    """The v1 format options that give bare usernames their domain (``student_domain``, ``teacher_domain``)."""
    if identity is None:
        return {}
    if identity["kind"] == CREATION:
        pairs = [(d.get("appliesTo"), d.get("name")) for d in identity.get("userDomains") or []]
    else:
        pairs = [(o.get("appliesTo"), o.get("targetDomain")) for o in identity.get("matchingOptions") or []
                 if (o.get("sourcePropertyName") or "").lower() == "username"]
    return {DOMAIN_OPTIONS[role_group(role, "appliesTo")]: name.strip().lstrip("@") for role, name in pairs if name}


def user_flow_settings(identity: dict[str, Any] | None, licenses: list[dict[str, Any]]) -> dict[str, Any]:
    """The settings of the profile's ``userProvisioningFlow`` (as ``homeroom.api.resources.ProvisioningFlows`` stores
    them): users are created only with a creation configuration; licences per role group."""
    by_group: dict[str, list[str]] = {}
    for i, assignment in enumerate(licenses):
        group = role_group(assignment.get("appliesTo"), f"licensesToAssign[{i}].appliesTo")
        skus = by_group.setdefault(group, [])
        skus += [s for s in assignment.get("skuIds") or [] if s not in skus]
    configurations = [{"licenseSkus": skus, "roleGroupId": group} for group, skus in by_group.items()]
    return {"createUnmatchedUsers": identity is not None and identity["kind"] == CREATION,
            "creationOptions": {"configurations": configurations}}
