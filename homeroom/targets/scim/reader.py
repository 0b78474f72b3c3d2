"""Reading a SCIM service's Users and Groups in pages (``startIndex``/``count``), as rows of the account shape.

A user's ``id`` is its account id; ``userName`` its login (also its user principal name, SCIM has no other);
the primary (else first) ``emails`` value its mail; the enterprise extension's ``employeeNumber`` its employee
id; ``externalId`` its external id and Homeroom's anchor. Groups keep their ``members`` values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from scim2_models import SearchRequest

from homeroom.targets.scim.client import ScimTarget

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
_CORE = {"schemas", "id", "externalId", "meta", "userName", "name", "displayName", "active", "emails"}


def read_page(target: ScimTarget, model: Any, start: int, count: int) -> dict:
    """One page of a resource type as the service sent it (``totalResults``, ``Resources``, ...)."""
    with target.errors(f"list {model.__name__}s"):
        return target.scim.query(model, query_parameters=SearchRequest(start_index=start, count=count),
                                 check_response_payload=False)


def _pages(target: ScimTarget, model: Any, page_size: int) -> Iterator[list[dict]]:
    start = 1
    while True:
        page = read_page(target, model, start, page_size)
        resources = page.get("Resources") or []
        if resources:
            yield resources
        start += len(resources)
        total = page.get("totalResults")
        if not resources or (isinstance(total, int) and start > total):
            return


def _mail(user: dict) -> str | None:
    emails = [e for e in user.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    primary = [e for e in emails if e.get("primary")]
    return (primary or emails or [{}])[0].get("value")


def account_row(user: dict) -> dict:
    """One SCIM user as an account row."""
    name = user.get("name") or {}
    enterprise = user.get(ENTERPRISE) or {}
    extra = {k.lower(): v for k, v in user.items() if k not in _CORE and k != ENTERPRISE}
    extra.update({k.lower(): v for k, v in enterprise.items() if k != "employeeNumber"})
    return {
        "account_id": user.get("id"),
        "user_name": user.get("userName"),
        "user_principal_name": user.get("userName"),
        "mail": _mail(user),
        "employee_id": enterprise.get("employeeNumber"),
        "external_id": user.get("externalId"),
        "given_name": name.get("givenName"),
        "family_name": name.get("familyName"),
        "display_name": user.get("displayName") or name.get("formatted"),
        "enabled": user.get("active", True) is not False,
        "distinguished_name": None,
        "anchor": user.get("externalId"),
        "extra": json.dumps(extra, sort_keys=True) if extra else None,
    }


def read_accounts(target: ScimTarget, page_size: int) -> Iterator[list[dict]]:
    """Every user, a page at a time."""
    user, _group = target.models()
    for page in _pages(target, user, page_size):
        yield [account_row(u) for u in page]


def read_groups(target: ScimTarget, page_size: int) -> Iterator[list[dict]]:
    """Every group, a page at a time."""
    _user, group = target.models()
    if group is None:
        return
    for page in _pages(target, group, page_size):
        yield [{
            "group_id": g.get("id"), "name": g.get("displayName"), "display_name": g.get("displayName"),
            "kind": target.config.group_kind, "distinguished_name": None, "anchor": g.get("externalId"),
            "members": [m.get("value") for m in g.get("members") or [] if isinstance(m, dict) and m.get("value")],
            "owners": [],
        } for g in page]
