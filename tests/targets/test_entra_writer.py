"""The Entra writer against the Graph fake: creates find their anchor first (a rerun creates nothing twice), updates,
disables, classes, units and security groups with members and owners, Retry-After honoured."""

from __future__ import annotations

import pytest
from fake_graph import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph

from homeroom.targets import kind_of
from homeroom.targets.entra.writer import apply


@pytest.fixture
def graph():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


def _target(graph):
    target = kind_of("entra").connect("entra", {"tenant_id": TENANT, "client_id": CLIENT_ID, "graph_url": graph.base,
                                                "authority_url": graph.authority}, {"client_secret": CLIENT_SECRET})
    target.waits = []
    target.sleep = target.waits.append
    return target


PLAN = [
    {"seq": 1, "op": "create_unit", "objectKey": "org:sch-1", "groupKind": "unit", "attributes": {"display_name": "Lincoln High"}},
    {"seq": 2, "op": "create_user", "objectKey": "stu-1", "attributes": {
        "user_principal_name": "s1@contoso.edu", "given_name": "Ann", "family_name": "Lee", "display_name": "Ann Lee",
        "enabled": True, "password": "Initial-Passw0rd"}},
    {"seq": 3, "op": "create_user", "objectKey": "stf-1", "attributes": {"user_principal_name": "t1@contoso.edu", "enabled": True}},
    {"seq": 4, "op": "create_group", "objectKey": "cls-1", "groupKind": "class", "attributes": {"display_name": "Math 1"}},
    {"seq": 5, "op": "create_group", "objectKey": "rolegroup:staff", "groupKind": "security", "attributes": {"display_name": "All staff"}},
]


def test_apply_creates_once_then_updates_disables_and_links(graph):
    target = _target(graph)
    graph.throttle(1, retry_after=3)
    first = apply(target, PLAN)
    assert [r["status"] for r in first] == ["done"] * 5 and target.waits == [3.0]
    again = apply(target, PLAN)
    assert [r["accountId"] for r in again] == [r["accountId"] for r in first]
    assert sum(r.startswith("POST /v1.0/") for r in graph.requests) == 5  # the rerun only looked them up
    ids = {r["seq"]: r["accountId"] for r in first}
    assert graph.users[ids[2]]["employeeId"] == "stu-1" and "passwordProfile" not in graph.users[ids[2]]
    assert graph.classes[ids[4]]["externalId"] == "cls-1" and graph.groups[ids[5]]["securityEnabled"] is True

    results = apply(target, [
        {"seq": 6, "op": "update_user", "accountId": ids[2], "objectKey": "stu-1", "attributes": {"display_name": "Ann Li"}},
        {"seq": 7, "op": "disable_user", "accountId": ids[3], "objectKey": "stf-1", "attributes": {"enabled": False}},
        {"seq": 8, "op": "add_member", "groupKind": "unit", "accountId": ids[1], "objectKey": "org:sch-1", "memberId": ids[2]},
        {"seq": 9, "op": "add_member", "groupKind": "class", "accountId": ids[4], "objectKey": "cls-1", "memberId": ids[2]},
        {"seq": 10, "op": "add_owner", "groupKind": "class", "accountId": ids[4], "objectKey": "cls-1", "memberId": ids[3]},
        {"seq": 11, "op": "add_member", "groupKind": "security", "accountId": ids[5], "objectKey": "rolegroup:staff", "memberId": ids[3]},
        {"seq": 12, "op": "remove_member", "groupKind": "security", "accountId": ids[5], "objectKey": "rolegroup:staff", "memberId": ids[3]},
        {"seq": 13, "op": "add_owner", "groupKind": "unit", "accountId": ids[1], "objectKey": "org:sch-1", "memberId": ids[3]},
        {"seq": 14, "op": "add_member", "groupKind": "class", "accountId": ids[4], "objectKey": "cls-1", "memberId": "no-such"},
    ])
    assert [r["status"] for r in results] == ["done"] * 7 + ["skipped", "failed"]
    assert results[-1]["error"].startswith(f"Entra target 'entra' (tenant {TENANT}): POST /education/classes/{ids[4]}/members/$ref failed (400")
    assert graph.users[ids[2]]["displayName"] == "Ann Li" and graph.users[ids[3]]["accountEnabled"] is False
    assert graph.links[("units", ids[1], "members")] == [ids[2]]
    assert (graph.links[("classes", ids[4], "members")], graph.links[("classes", ids[4], "teachers")]) == ([ids[2]], [ids[3]])
    assert graph.links[("groups", ids[5], "members")] == []
