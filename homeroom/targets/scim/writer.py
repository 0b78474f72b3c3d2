"""Applying a plan's operations to a SCIM service (see docs/directory.md and the plan contract).

Each operation is one call: ``POST /Users`` or ``/Groups`` (after looking the object up by its anchor,
``externalId eq "<objectKey>"``, so that rerunning a plan after a crash never creates twice), ``PATCH`` with
``replace`` for updates and ``active=false`` to disable, ``PATCH`` ``add``/``remove`` of ``members``. SCIM has no
units and no owners: those operations are ``skipped``. A 429 or 503 waits as ``Retry-After`` says (exponential
backoff without it) and retries. A password is sent on create only and never kept or logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from homeroom.targets.scim.client import ScimTarget
from homeroom.targets.scim.reader import ENTERPRISE

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_RETRIES = 5
SKIPPED = {"create_unit", "update_unit", "add_owner", "remove_owner"}


class _Failed(Exception):
    pass


def _call(target: ScimTarget, method: str, path: str, body: dict | None = None, params: dict | None = None,
          sleep: Callable[[float], None] = time.sleep) -> Any:
    for attempt in range(MAX_RETRIES + 1):
        response = target.http.request(method, path, json=body, params=params,
                                        headers={"Content-Type": "application/scim+json"} if body is not None else None)
        if response.status_code in (429, 503) and attempt < MAX_RETRIES:
            try:
                wait = min(float(response.headers.get("Retry-After", "")), 300.0)
            except ValueError:
                wait = float(min(2 ** attempt, 60))
            sleep(wait)
            continue
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail") or response.text
            except ValueError:
                detail = response.text
            raise _Failed(f"{method} {path}: {response.status_code} {str(detail)[:300]}")
        return response.json() if response.content else None
    raise _Failed(f"{method} {path}: still throttled after {MAX_RETRIES} retries")


def _find(target: ScimTarget, resource: str, anchor: str) -> str | None:
    escaped = anchor.replace("\\", "\\\\").replace('"', '\\"')
    found = _call(target, "GET", f"/{resource}", params={"filter": f'externalId eq "{escaped}"', "count": "2"})
    items = (found or {}).get("Resources") or []
    if len(items) > 1:
        raise _Failed(f"two {resource} have externalId {anchor!r}; remove one")
    return items[0]["id"] if items else None


def _user_body(attributes: dict, anchor: str | None) -> dict:
    body: dict[str, Any] = {"schemas": [USER_SCHEMA, ENTERPRISE]}
    if anchor is not None:
        body["externalId"] = anchor
    if "user_name" in attributes or "user_principal_name" in attributes:
        body["userName"] = attributes.get("user_name") or attributes.get("user_principal_name")
    name = {k: attributes[a] for a, k in (("given_name", "givenName"), ("family_name", "familyName")) if a in attributes}
    if name:
        body["name"] = name
    if "display_name" in attributes:
        body["displayName"] = attributes["display_name"]
    if attributes.get("mail"):
        body["emails"] = [{"value": attributes["mail"], "primary": True}]
    if "enabled" in attributes:
        body["active"] = bool(attributes["enabled"])
    if attributes.get("employee_id"):
        body[ENTERPRISE] = {"employeeNumber": attributes["employee_id"]}
    if attributes.get("password"):
        body["password"] = attributes["password"]
    return body


def _replace(body: dict) -> dict:
    values = {k: v for k, v in body.items() if k not in ("schemas", "password")}
    return {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": values}]}


def apply_one(target: ScimTarget, op: dict, sleep: Callable[[float], None] = time.sleep) -> dict:
    """Apply one operation; returns its result row."""
    kind, attributes = op["op"], op.get("attributes") or {}
    account = op.get("accountId")
    if kind in SKIPPED:
        return {"seq": op["seq"], "status": "skipped", "accountId": account, "error": f"SCIM has no {kind.split('_', 1)[1]}s"}
    try:
        if kind in ("create_user", "create_group"):
            resource = "Users" if kind == "create_user" else "Groups"
            existing = _find(target, resource, op["objectKey"])
            if existing is not None:  # created by an earlier, interrupted apply
                return {"seq": op["seq"], "status": "done", "accountId": existing, "error": None}
            if resource == "Users":
                body = _user_body(attributes, op["objectKey"])
            else:
                body = {"schemas": [GROUP_SCHEMA], "externalId": op["objectKey"],
                        "displayName": attributes.get("display_name") or attributes.get("name") or op["objectKey"]}
            account = _call(target, "POST", f"/{resource}", body, sleep=sleep)["id"]
        elif kind == "update_user":
            _call(target, "PATCH", f"/Users/{account}", _replace(_user_body(attributes, None)), sleep=sleep)
        elif kind == "disable_user":
            _call(target, "PATCH", f"/Users/{account}", {"schemas": [PATCH_SCHEMA], "Operations": [
                {"op": "replace", "path": "active", "value": False}]}, sleep=sleep)
        elif kind == "update_group":
            _call(target, "PATCH", f"/Groups/{account}", {"schemas": [PATCH_SCHEMA], "Operations": [
                {"op": "replace", "value": {"displayName": attributes.get("display_name") or attributes.get("name")}}]}, sleep=sleep)
        elif kind in ("add_member", "remove_member"):
            member = op.get("memberId")
            if kind == "add_member":
                patch = {"op": "add", "path": "members", "value": [{"value": member}]}
            else:
                patch = {"op": "remove", "path": f'members[value eq "{member}"]'}
            _call(target, "PATCH", f"/Groups/{account}", {"schemas": [PATCH_SCHEMA], "Operations": [patch]}, sleep=sleep)
        else:
            return {"seq": op["seq"], "status": "failed", "accountId": account, "error": f"unknown operation {kind!r}"}
    except _Failed as exc:
        return {"seq": op["seq"], "status": "failed", "accountId": account, "error": f"SCIM target {target.name!r}: {exc}"}
    return {"seq": op["seq"], "status": "done", "accountId": account, "error": None}


def apply(target: ScimTarget, ops: list[dict]) -> list[dict]:
    """Apply a plan's operations in ``seq`` order; one result per operation."""
    return [apply_one(target, op) for op in sorted(ops, key=lambda o: o["seq"])]
