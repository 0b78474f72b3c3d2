"""Reading Entra users, groups, education classes and administrative units through Graph v1.0, with ``$select``.

Users are read by ``/users/delta``: the first snapshot enumerates every user and ends with a ``@odata.deltaLink``,
kept in the target's state; a later snapshot (``read_account_changes``) asks that link for what changed since,
users removed included (``@removed``). Groups are ``/groups`` (classes excepted), ``/education/classes`` (kind
``class``; their teachers are the owners) and ``/directory/administrativeUnits`` (kind ``unit``); members are
read per group, paged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from homeroom.targets.entra.client import EntraTarget

USER_FIELDS = ("id", "userPrincipalName", "mail", "employeeId", "givenName", "surname", "displayName", "accountEnabled",
               "onPremisesExtensionAttributes", "onPremisesSamAccountName")
GROUP_FIELDS = "id,displayName,mailNickname,securityEnabled,mailEnabled,groupTypes"


def _select(target: EntraTarget) -> str:
    return ",".join([*USER_FIELDS, *target.config.extension_attributes])


def account_row(user: dict) -> dict:
    """One Graph user as an account row; extension attributes go to ``extra`` (lowercase keys)."""
    extra = {k.lower(): v for k, v in (user.get("onPremisesExtensionAttributes") or {}).items() if v is not None}
    extra.update({k.lower(): v for k, v in user.items() if k.startswith("extension_") and v is not None})
    if user.get("onPremisesSamAccountName"):
        extra["onpremisessamaccountname"] = user["onPremisesSamAccountName"]
    return {
        "account_id": user.get("id"), "user_name": user.get("userPrincipalName"),
        "user_principal_name": user.get("userPrincipalName"), "mail": user.get("mail"), "employee_id": user.get("employeeId"),
        "external_id": None, "given_name": user.get("givenName"), "family_name": user.get("surname"),
        "display_name": user.get("displayName"),
        "enabled": (user["accountEnabled"] is not False) if "accountEnabled" in user else None,
        "distinguished_name": None, "anchor": user.get("employeeId"),
        "extra": json.dumps(extra, sort_keys=True) if extra else None,
    }


def read_accounts(target: EntraTarget, page_size: int) -> Iterator[list[dict]]:
    """Every user, by a full delta round; keeps the round's deltaLink in ``target.state``."""
    params = {"$select": _select(target), "$top": str(min(page_size, 999))}
    for users, body in target.pages("/users/delta", params):
        rows = [account_row(u) for u in users if "@removed" not in u]
        if rows:
            yield rows
        if body.get("@odata.deltaLink"):
            target.state["usersDeltaLink"] = body["@odata.deltaLink"]


def read_account_changes(target: EntraTarget, page_size: int) -> Iterator[list[dict]] | None:
    """What changed since the last round, as account rows with ``status`` ``tobedeleted`` for removed users;
    None when there is no delta link yet (the snapshot then reads everything)."""
    link = target.state.get("usersDeltaLink")
    if not link:
        return None

    def changes() -> Iterator[list[dict]]:
        body = target.get(link)
        while True:
            rows = []
            for user in body.get("value") or []:
                row = account_row(user)
                row["status"] = "tobedeleted" if "@removed" in user else "active"
                rows.append(row)
            if rows:
                yield rows
            if body.get("@odata.deltaLink"):
                target.state["usersDeltaLink"] = body["@odata.deltaLink"]
                return
            body = target.get(body["@odata.nextLink"])

    return changes()


def _ids(target: EntraTarget, path: str, page_size: int) -> list[str]:
    return [m["id"] for items, _ in target.pages(path, {"$select": "id", "$top": str(min(page_size, 999))}) for m in items]


def _kind(group: dict) -> str:
    if group.get("securityEnabled") and not group.get("mailEnabled"):
        return "security"
    return "distribution"


def read_groups(target: EntraTarget, page_size: int) -> Iterator[list[dict]]:
    """Classes, then the other groups, then administrative units, a page at a time (members read per group)."""
    top = str(min(page_size, 999))
    classes: set[str] = set()
    if target.config.read_classes:
        for items, _ in target.pages("/education/classes", {"$select": "id,displayName,mailNickname,externalId", "$top": top}):
            classes.update(c["id"] for c in items)
            yield [{"group_id": c["id"], "name": c.get("mailNickname") or c.get("displayName"), "display_name": c.get("displayName"),
                    "kind": "class", "distinguished_name": None, "anchor": c.get("externalId"),
                    "members": _ids(target, f"/education/classes/{c['id']}/members", page_size),
                    "owners": _ids(target, f"/education/classes/{c['id']}/teachers", page_size)} for c in items]
    for items, _ in target.pages("/groups", {"$select": GROUP_FIELDS, "$top": top}):
        rows = [{"group_id": g["id"], "name": g.get("mailNickname") or g.get("displayName"), "display_name": g.get("displayName"),
                 "kind": _kind(g), "distinguished_name": None, "anchor": None,
                 "members": _ids(target, f"/groups/{g['id']}/members", page_size),
                 "owners": _ids(target, f"/groups/{g['id']}/owners", page_size)} for g in items if g["id"] not in classes]
        if rows:
            yield rows
    if target.config.read_units:
        for items, _ in target.pages("/directory/administrativeUnits", {"$select": "id,displayName", "$top": top}):
            yield [{"group_id": u["id"], "name": u.get("displayName"), "display_name": u.get("displayName"), "kind": "unit",
                    "distinguished_name": None, "anchor": None,
                    "members": _ids(target, f"/directory/administrativeUnits/{u['id']}/members", page_size),
                    "owners": []} for u in items]
