"""The Entra target against the Graph fake (tests/targets/fake_graph.py): the planted directory, groups, classes and
units, delta snapshots, throttling and connection errors."""

from __future__ import annotations

from urllib.parse import unquote

import polars as pl
import pytest
from fake_graph import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph
from planted import expected_counts, planted_district, snapshot_and_match  # noqa: F401 - fixture

from homeroom.errors import PermanentError
from homeroom.lake import Lake
from homeroom.match.snapshot import snapshot_target
from homeroom.targets import kind_of


@pytest.fixture
def graph():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


def _target(graph: FakeGraph, secret: str = CLIENT_SECRET, **settings):
    target = kind_of("entra").connect("district-entra", {"tenant_id": TENANT, "client_id": CLIENT_ID, "graph_url": graph.base,
                                                         "authority_url": graph.authority, **settings}, {"client_secret": secret})
    target.waits = []
    target.sleep = target.waits.append  # record Retry-After waits instead of sleeping
    return target


def load_accounts(graph: FakeGraph, accounts: list[dict]) -> list[str]:
    """Each planted account as an Entra user (login as userPrincipalName)."""
    return [graph.add_user(userPrincipalName=a["user_principal_name"], mail=a["mail"], employeeId=a["employee_id"],
                           givenName=a["given_name"], surname=a["family_name"], displayName=a["display_name"],
                           accountEnabled=a["enabled"]) for a in accounts]


def test_planted_directory_gives_exactly_the_planted_counts(graph, planted_district, tmp_path):
    package, planted = planted_district
    load_accounts(graph, planted.accounts)
    snap, match, _lake = snapshot_and_match(_target(graph), package, tmp_path)
    assert snap.accounts.active == len(planted.accounts)
    assert match.counts() == expected_counts(planted)
    assert dict(match.outcomes.select("personSourcedId", "outcome").rows()) == planted.outcomes()
    assert all("$select=" in unquote(r) for r in graph.requests if r.startswith("/v1.0/users"))


def test_groups_classes_and_units_with_members_and_owners(graph, tmp_path):
    a, b, c = (graph.add_user(userPrincipalName=f"{n}@contoso.edu") for n in "abc")
    security = graph.add_group("groups", members=[a, b], owners=[c], displayName="All staff", mailNickname="staff",
                               securityEnabled=True, mailEnabled=False, groupTypes=[])
    klass = graph.add_group("classes", members=[a], owners=[c], displayName="Math 1", mailNickname="math1", externalId="cls-1")
    unit = graph.add_group("units", members=[a, b, c], displayName="Lincoln High")
    lake = Lake(str(tmp_path / "lake"), "t")
    snapshot_target(lake, _target(graph), work_dir=tmp_path / "w", page_size=2)
    groups = lake.read("directory_groups", {"target": "district-entra"}).sort("kind")
    assert groups.select("group_id", "name", "kind", "anchor", "members", "owners").rows() == [
        (klass, "math1", "class", "cls-1", [a], [c]),
        (security, "staff", "security", None, [a, b], [c]),
        (unit, "Lincoln High", "unit", None, [a, b, c], []),
    ]


def test_a_later_snapshot_reads_only_the_changes_by_users_delta(graph, tmp_path):
    ids = [graph.add_user(userPrincipalName=f"u{i}@contoso.edu", employeeId=f"e{i}", displayName=f"U{i}") for i in range(5)]
    lake = Lake(str(tmp_path / "lake"), "t")
    target = _target(graph)
    first = snapshot_target(lake, target, work_dir=tmp_path / "w", page_size=2)
    assert first.accounts.added == 5 and "usersDeltaLink" in target.state
    graph.update_user(ids[0], displayName="Renamed")
    graph.delete_user(ids[1])
    new = graph.add_user(userPrincipalName="new@contoso.edu", employeeId="e9")
    graph.requests.clear()
    second = snapshot_target(lake, target, work_dir=tmp_path / "w", page_size=2)
    assert (second.accounts.added, second.accounts.updated, second.accounts.deactivated) == (1, 1, 1)
    assert [r for r in graph.requests if r.startswith("/v1.0/users")] == [r for r in graph.requests if "deltatoken" in r and r.startswith("/v1.0/users")]
    accounts = lake.read("directory_accounts", {"target": "district-entra"})
    rows = {r["account_id"]: r for r in accounts.iter_rows(named=True)}
    assert rows[ids[0]]["display_name"] == "Renamed" and rows[ids[0]]["user_principal_name"] == "u0@contoso.edu"
    assert rows[ids[1]]["isActive"] is False and rows[new]["isActive"] is True
    assert accounts.filter(pl.col("isActive")).height == 5


def test_throttled_requests_wait_as_retry_after_says(graph, tmp_path):
    graph.add_user(userPrincipalName="a@contoso.edu")
    target = _target(graph)
    graph.throttle(2, retry_after=7)
    target.check()
    assert target.waits == [7.0, 7.0]


def test_wrong_secret_and_missing_permission_name_the_target_and_the_fix(graph):
    with pytest.raises(PermanentError) as refused:
        _target(graph, secret="nope").check()
    assert str(refused.value) == (
        f"Entra target 'district-entra' (tenant {TENANT}) refused the app's credentials (invalid_client: AADSTS7000215: "
        "Invalid client secret provided.); check client_id and set a valid client_secret")
    graph.deny.add("/education")
    with pytest.raises(PermanentError) as denied:
        _target(graph).check()
    assert str(denied.value) == (
        f"Entra target 'district-entra' (tenant {TENANT}) may not read /education/classes (Authorization_RequestDenied: "
        "Insufficient privileges to complete the operation.); grant the app the application permission EduRoster.Read.All "
        "with admin consent")
