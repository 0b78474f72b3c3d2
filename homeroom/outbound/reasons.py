"""The reason codes of plan operations: stable, registered once, documented (like validation rules).

Every operation of a plan carries one of these codes; they are part of Homeroom's public contract (plan exports,
the API, the writers), so a code is never renamed. ``docs/provisioning.md`` lists them (``reasons_markdown``; a
test keeps the page and the registry in step).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """Why an operation is in a plan."""

    code: str
    op: str  # the operation it goes with
    summary: str


REASONS: dict[str, Reason] = {}


def register(*reasons: Reason) -> None:
    """Declare reason codes; a code belongs to one reason only."""
    for r in reasons:
        if REASONS.setdefault(r.code, r) != r:
            raise ValueError(f"reason code {r.code!r} is registered twice")


register(
    Reason("UnitCreate", "create_unit", "An organization (or organization x role group) in scope has no unit yet."),
    Reason("UnitAttributeChanged", "update_unit", "A unit's name or display name differs from its template."),
    Reason("UserUnmatchedCreate", "create_user", "An active person has no account and the flow creates unmatched users."),
    Reason("UserAttributeChanged", "update_user", "A managed attribute of a matched account differs from the roster."),
    Reason("UserRenamed", "update_user", "The account's login name or UPN differs from the template (rename policy)."),
    Reason("UserReenabled", "update_user", "An active person's account is disabled: it is enabled again."),
    Reason("UserInactiveDisable", "disable_user", "The person is active nowhere in the year: the account is disabled, not deleted."),
    Reason("ClassGroupCreate", "create_group", "An active class has no group yet."),
    Reason("SecurityGroupCreate", "create_group", "A role group (or organization x role group) has no security group yet."),
    Reason("GroupAttributeChanged", "update_group", "A group's name or display name differs from its template."),
    Reason("ClassEndedExpire", "update_group", "The class ended: its group is marked expired (display name prefix), members kept."),
    Reason("ClassMemberAdded", "add_member", "An enrollment in a member role has no membership yet."),
    Reason("ClassMemberRemoved", "remove_member", "A managed member of a class group has no enrollment in a member role."),
    Reason("ClassOwnerAdded", "add_owner", "An enrollment in an owner role has no ownership yet."),
    Reason("ClassOwnerRemoved", "remove_owner", "A managed owner of a class group has no enrollment in an owner role."),
    Reason("GroupMemberAdded", "add_member", "A person of the role group (at the organization) is not a member yet."),
    Reason("GroupMemberRemoved", "remove_member", "A managed member no longer belongs to the role group (at the organization)."),
    Reason("UnitMemberAdded", "add_member", "A person with a role at the organization is not a member of its unit yet."),
    Reason("UnitMemberRemoved", "remove_member", "A managed member of a unit no longer has a role at the organization."),
)


def reasons_markdown() -> list[str]:
    """The reason codes as a Markdown table (a section of docs/provisioning.md)."""
    lines = ["| Code | Operation | Meaning |", "|---|---|---|"]
    lines += [f"| `{r.code}` | `{r.op}` | {r.summary} |" for r in REASONS.values()]
    return lines
