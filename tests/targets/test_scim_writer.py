"""The SCIM writer against the real scim2-server: creates look up their anchor first (a rerun creates nothing twice),
updates, disables, memberships; units and owners are skipped."""

from __future__ import annotations

import httpx
from scimserver import TOKEN, scim_server  # noqa: F401 - fixture

from homeroom.targets import kind_of
from homeroom.targets.scim.writer import apply


def _plan() -> list[dict]:
    return [
        {"seq": 1, "op": "create_unit", "objectKey": "org:sch-1", "attributes": {"name": "Lincoln"}},
        {"seq": 2, "op": "create_user", "objectKey": "stu-1", "attributes": {
            "user_name": "s1@example.edu", "mail": "s1@example.edu", "given_name": "Ann", "family_name": "Lee",
            "display_name": "Ann Lee", "enabled": True, "password": "Initial-Passw0rd"}},
        {"seq": 3, "op": "create_user", "objectKey": "stu-2", "attributes": {"user_name": "s2@example.edu", "enabled": True}},
        {"seq": 4, "op": "create_group", "objectKey": "cls-1", "groupKind": "class", "attributes": {"display_name": "Math 1"}},
    ]


def test_apply_creates_once_updates_disables_and_manages_members(scim_server):
    target = kind_of("scim").connect("w", {"base_url": scim_server}, {"bearer_token": TOKEN})
    first = apply(target, _plan())
    assert [(r["seq"], r["status"]) for r in first] == [(1, "skipped"), (2, "done"), (3, "done"), (4, "done")]
    again = apply(target, _plan())  # a rerun after a crash finds each object by its anchor
    assert [r["accountId"] for r in again] == [r["accountId"] for r in first]
    ids = {r["seq"]: r["accountId"] for r in first}
    http = httpx.Client(base_url=scim_server, headers={"Authorization": f"Bearer {TOKEN}"})
    assert http.get("/Users").json()["totalResults"] == 2 and http.get("/Groups").json()["totalResults"] == 1

    results = apply(target, [
        {"seq": 5, "op": "update_user", "objectKey": "stu-1", "accountId": ids[2], "attributes": {"display_name": "Ann Li"},
         "old": {"display_name": "Ann Lee"}},
        {"seq": 6, "op": "disable_user", "objectKey": "stu-2", "accountId": ids[3], "attributes": {"enabled": False}},
        {"seq": 7, "op": "add_member", "objectKey": "cls-1", "accountId": ids[4], "memberKey": "stu-1", "memberId": ids[2]},
        {"seq": 8, "op": "add_member", "objectKey": "cls-1", "accountId": ids[4], "memberKey": "stu-2", "memberId": ids[3]},
        {"seq": 9, "op": "remove_member", "objectKey": "cls-1", "accountId": ids[4], "memberKey": "stu-2", "memberId": ids[3]},
        {"seq": 10, "op": "add_owner", "objectKey": "cls-1", "accountId": ids[4], "memberKey": "stf-1", "memberId": "x"},
    ])
    assert [r["status"] for r in results] == ["done"] * 5 + ["skipped"]
    user = http.get(f"/Users/{ids[2]}").json()
    assert (user["displayName"], user["externalId"], user["userName"], "password" in user) == ("Ann Li", "stu-1", "s1@example.edu", False)
    assert http.get(f"/Users/{ids[3]}").json()["active"] is False
    assert [m["value"] for m in http.get(f"/Groups/{ids[4]}").json()["members"]] == [ids[2]]

    failed = apply(target, [{"seq": 11, "op": "update_user", "objectKey": "x", "accountId": "no-such-id", "attributes": {"display_name": "x"}}])
    assert failed[0]["status"] == "failed" and failed[0]["error"].startswith("SCIM target 'w': PATCH /Users/no-such-id: 404")
