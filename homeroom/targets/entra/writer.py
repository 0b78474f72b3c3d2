"""Applying a plan's operations to Entra through Graph v1.0 (see docs/directory.md and the plan contract).

Users: ``POST /users`` (after ``$filter=employeeId eq '<objectKey>'``: the anchor, so a rerun never creates twice),
``PATCH /users/{id}``, disable with ``accountEnabled: false``. Groups by kind: classes ``POST /education/classes``
(anchor ``externalId``), units ``POST /directory/administrativeUnits`` (found again by ``displayName``), others
``POST /groups`` as security groups (anchor ``mailNickname``). Members and owners with ``$ref`` (a class's owners
are its teachers). Throttled requests wait as ``Retry-After`` says (``EntraTarget.send``). A password is sent on
create only and never kept or logged.
"""

from __future__ import annotations

import re

from homeroom.errors import ExternalError
from homeroom.targets.entra.client import EntraTarget

COLLECTIONS = {"class": "/education/classes", "unit": "/directory/administrativeUnits"}
OWNERS = {"class": "teachers", "unit": None}


def _collection(op: dict) -> str:
    return COLLECTIONS.get(op.get("groupKind") or "", "/groups")


def _nickname(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", key)[:64]


def _quote(value: str) -> str:
    return value.replace("'", "''")


def _user_body(attributes: dict, key: str | None) -> dict:
    names = {"user_principal_name": "userPrincipalName", "mail": "mail", "given_name": "givenName", "family_name": "surname",
             "display_name": "displayName", "enabled": "accountEnabled"}
    body = {graph: attributes[ours] for ours, graph in names.items() if ours in attributes}
    if "user_principal_name" not in attributes and attributes.get("user_name"):
        body["userPrincipalName"] = attributes["user_name"]
    if key is not None:
        body["employeeId"] = key
    return body


def _find(target: EntraTarget, collection: str, field: str, value: str) -> str | None:
    found = target.get(collection, {"$filter": f"{field} eq '{_quote(value)}'", "$select": "id"}).get("value") or []
    if len(found) > 1:
        raise ExternalError(f"two objects in {collection} have {field} {value!r}; remove one")
    return found[0]["id"] if found else None


def apply_one(target: EntraTarget, op: dict) -> dict:
    """Apply one operation; returns its result row."""
    kind, attributes, account = op["op"], op.get("attributes") or {}, op.get("accountId")
    key = op.get("objectKey")
    try:
        if kind == "create_user":
            account = _find(target, "/users", "employeeId", key)
            if account is None:
                upn = attributes.get("user_principal_name") or attributes.get("user_name") or ""
                body = {"accountEnabled": True, "mailNickname": _nickname(upn.partition("@")[0] or key),
                        "displayName": attributes.get("display_name") or upn, **_user_body(attributes, key)}
                if attributes.get("password"):
                    body["passwordProfile"] = {"password": attributes["password"], "forceChangePasswordNextSignIn": True}
                account = target.send("POST", "/users", body=body)["id"]
        elif kind == "update_user":
            target.send("PATCH", f"/users/{account}", body=_user_body(attributes, None))
        elif kind == "disable_user":
            target.send("PATCH", f"/users/{account}", body={"accountEnabled": False})
        elif kind in ("create_group", "create_unit"):
            collection = COLLECTIONS["unit"] if kind == "create_unit" else _collection(op)
            name = attributes.get("display_name") or attributes.get("name") or key
            if collection == COLLECTIONS["class"]:
                account = _find(target, collection, "externalId", key) or target.send("POST", collection, body={
                    "displayName": name, "mailNickname": _nickname(key), "externalId": key, "externalSource": "sis"})["id"]
            elif collection == COLLECTIONS["unit"]:
                account = _find(target, collection, "displayName", name) or target.send("POST", collection, body={
                    "displayName": name, "description": key})["id"]
            else:
                account = _find(target, collection, "mailNickname", _nickname(key)) or target.send("POST", collection, body={
                    "displayName": name, "mailNickname": _nickname(key), "mailEnabled": False, "securityEnabled": True})["id"]
        elif kind in ("update_group", "update_unit"):
            collection = COLLECTIONS["unit"] if kind == "update_unit" else _collection(op)
            target.send("PATCH", f"{collection}/{account}", body={"displayName": attributes.get("display_name") or attributes.get("name")})
        elif kind in ("add_member", "remove_member", "add_owner", "remove_owner"):
            relation = "members"
            if kind.endswith("owner"):
                relation = OWNERS.get(op.get("groupKind") or "", "owners")
                if relation is None:
                    return {"seq": op["seq"], "status": "skipped", "accountId": account, "error": "units have no owners"}
            path = f"{_collection(op)}/{account}/{relation}"
            if kind.startswith("add"):
                target.send("POST", f"{path}/$ref", body={"@odata.id": f"{target.config.graph_url}/directoryObjects/{op['memberId']}"})
            else:
                target.send("DELETE", f"{path}/{op['memberId']}/$ref")
        else:
            return {"seq": op["seq"], "status": "failed", "accountId": account, "error": f"unknown operation {kind!r}"}
    except ExternalError as exc:
        return {"seq": op["seq"], "status": "failed", "accountId": account, "error": str(exc)}
    return {"seq": op["seq"], "status": "done", "accountId": account, "error": None}


def apply(target: EntraTarget, ops: list[dict]) -> list[dict]:
    """Apply a plan's operations in ``seq`` order; one result per operation."""
    return [apply_one(target, op) for op in sorted(ops, key=lambda o: o["seq"])]
