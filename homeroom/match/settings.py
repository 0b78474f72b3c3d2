"""Matching rules from a source system's ``userMatchingSettings``: per role group, which source identifier
meets which account attribute, in priority order, with an optional domain rewrite.

A stored setting (``homeroom.api.resources.SourceSystems``) is
``{"priorityOrder": 0, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"},
"roleGroupId": "students"}``; Homeroom adds ``rewriteDomain`` (``homeroom match settings --rewrite-domain``):
the source value's domain is replaced by it (a value without ``@`` gets it appended) before comparing. A
setting without a role group applies to every role group; a role group without settings matches by
``username`` against ``userPrincipalName``, SDS's default. Comparison is always case-insensitive.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeroom.errors import ConfigurationError
from homeroom.model.reference import DEFAULT_ROLE_GROUPS

#: Source identifiers (RefIdentifierType codes) and the users column each reads; any other code is taken as the
#: name of a users column (case-insensitive).
SOURCE_IDENTIFIERS = {
    "username": "username",
    "email": "email",
    "sourcedid": "sourcedId",
    "activedirectorymatchid": "activeDirectoryMatchId",
}
#: Match targets (RefUserMatchTarget codes) and the account column each compares with; ``extension:<name>``
#: (or any other code) compares with that key of the account's ``extra`` attributes.
MATCH_TARGETS = {
    "userprincipalname": "user_principal_name",
    "mail": "mail",
    "email": "mail",
    "employeeid": "employee_id",
    "employeenumber": "employee_id",
    "samaccountname": "user_name",
    "username": "user_name",
    "uid": "user_name",
    "primaryemail": "user_name",
    "externalid": "external_id",
    "externalids": "employee_id",
    "anchor": "anchor",
}
DEFAULT_RULE = {"sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"}}
ROLE_GROUP_IDS = tuple(g.id for g in DEFAULT_ROLE_GROUPS)


@dataclass(frozen=True)
class MatchRule:
    """One rule of a role group: its rank (0 first), the users column and account column it compares."""

    role_group: str
    rank: int
    source_identifier: str  # the code, as stored
    match_target: str
    source_column: str
    account_column: str | None  # None: a key of ``extra``
    extra_key: str | None
    rewrite_domain: str | None

    @property
    def name(self) -> str:
        """``username->userPrincipalName``: what match_links.matchedBy says."""
        return f"{self.source_identifier}->{self.match_target}"


def _code(value, what: str, index: int) -> str:
    code = value.get("code") if isinstance(value, dict) else value
    if not isinstance(code, str) or not code.strip():
        raise ConfigurationError(f"userMatchingSettings[{index}] has no {what} code")
    return code.strip()


def rules_from_settings(settings: list[dict], users_columns: list[str] | None = None) -> list[MatchRule]:
    """Every role group's rules, in priority order; an unknown source identifier is refused naming the setting."""
    by_lower = {c.lower(): c for c in users_columns or []}
    entries: dict[str, list[tuple[int, int, dict]]] = {g: [] for g in ROLE_GROUP_IDS}
    for index, entry in enumerate(settings or []):
        group = entry.get("roleGroupId")
        if group is not None and group not in entries:
            raise ConfigurationError(f"userMatchingSettings[{index}] names role group {group!r}; known: {', '.join(ROLE_GROUP_IDS)}")
        order = entry.get("priorityOrder", index)
        for g in [group] if group else list(entries):
            entries[g].append((order if isinstance(order, int) else index, index, entry))
    rules = []
    for group, listed in entries.items():
        for rank, (_, index, entry) in enumerate(sorted(listed, key=lambda t: (t[0], t[1])) or [(0, -1, DEFAULT_RULE)]):
            source, target = _code(entry.get("sourceIdentifier"), "sourceIdentifier", index), _code(entry.get("matchTarget"), "matchTarget", index)
            column = SOURCE_IDENTIFIERS.get(source.lower()) or by_lower.get(source.lower())
            if column is None:
                raise ConfigurationError(
                    f"userMatchingSettings[{index}]: source identifier {source!r} is not a users column; "
                    f"use one of {', '.join(sorted({*SOURCE_IDENTIFIERS.values(), *by_lower.values()}))}")
            lowered = target.lower()
            account_column = MATCH_TARGETS.get(lowered)
            extra = None if account_column else lowered.removeprefix("extension:")
            domain = entry.get("rewriteDomain")
            rules.append(MatchRule(group, rank, source, target, column, account_column, extra,
                                   domain.strip().lstrip("@").lower() if isinstance(domain, str) and domain.strip() else None))
    return rules
