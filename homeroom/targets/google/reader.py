"""Reading Workspace users, groups (with members and owners) and org units in pages, as rows of the account shape.

A user's ``id`` is its account id; ``primaryEmail`` its login (user name and principal name); its
``externalIds`` value of type ``organization`` its employee id (and Homeroom's anchor); its ``orgUnitPath`` its
``distinguished_name`` (the unit path); custom schema fields go to ``extra`` as ``<schema>.<field>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from homeroom.targets.google.client import GoogleTarget


def _external(user: dict, kind: str) -> str | None:
    for item in user.get("externalIds") or []:
        if isinstance(item, dict) and item.get("type") == kind and item.get("value"):
            return item["value"]
    return None


def account_row(user: dict) -> dict:
    """One Directory API user as an account row."""
    name = user.get("name") or {}
    extra = {f"{schema}.{field}".lower(): value for schema, fields in (user.get("customSchemas") or {}).items()
             for field, value in (fields or {}).items()}
    custom = _external(user, "custom")
    if custom:
        extra["externalid.custom"] = custom
    employee = _external(user, "organization")
    return {
        "account_id": user.get("id"), "user_name": user.get("primaryEmail"), "user_principal_name": user.get("primaryEmail"),
        "mail": user.get("primaryEmail"), "employee_id": employee, "external_id": employee,
        "given_name": name.get("givenName"), "family_name": name.get("familyName"), "display_name": name.get("fullName"),
        "enabled": not user.get("suspended", False), "distinguished_name": user.get("orgUnitPath"), "anchor": employee,
        "extra": json.dumps(extra, sort_keys=True) if extra else None,
    }


def _pages(target: GoogleTarget, collection, key: str, doing: str, **params) -> Iterator[list[dict]]:
    request = collection.list(**params)
    while request is not None:
        body = target.execute(request, doing)
        items = body.get(key) or []
        if items:
            yield items
        request = collection.list_next(request, body)


def read_accounts(target: GoogleTarget, page_size: int) -> Iterator[list[dict]]:
    """Every user of the customer, a page at a time (at most 500 a page, the API's limit)."""
    users = target.service().users()
    for page in _pages(target, users, "users", "list users", customer=target.config.customer,
                       maxResults=min(page_size, 500), projection="full"):
        yield [account_row(u) for u in page]


def read_groups(target: GoogleTarget, page_size: int) -> Iterator[list[dict]]:
    """Every group (members and owners read per group), then every org unit (kind ``unit``; its members are the
    accounts whose ``distinguished_name`` is its path)."""
    service = target.service()
    for page in _pages(target, service.groups(), "groups", "list groups", customer=target.config.customer,
                       maxResults=min(page_size, 200)):
        rows = []
        for group in page:
            members, owners = [], []
            for batch in _pages(target, service.members(), "members", f"list the members of {group.get('email')}",
                                groupKey=group["id"], maxResults=min(page_size, 200)):
                for m in batch:
                    (owners if m.get("role") == "OWNER" else members).append(m["id"])
            rows.append({"group_id": group["id"], "name": group.get("email"), "display_name": group.get("name"),
                         "kind": "security" if "security" in str(group.get("labels") or "") else "distribution",
                         "distinguished_name": None, "anchor": None, "members": members, "owners": owners})
        yield rows
    body = target.execute(service.orgunits().list(customerId=target.config.customer, type="all"), "list org units")
    units = body.get("organizationUnits") or []
    if units:
        yield [{"group_id": u.get("orgUnitId"), "name": u.get("orgUnitPath"), "display_name": u.get("name"), "kind": "unit",
                "distinguished_name": u.get("orgUnitPath"), "anchor": None, "members": [], "owners": []} for u in units]
