"""The SCIM target against the real scim2-server: snapshots, the planted disagreements, connection errors."""

from __future__ import annotations

import httpx
import polars as pl
import pytest
from planted import expected_counts, planted_district, snapshot_and_match  # noqa: F401 - fixture
from scimserver import TOKEN, free_port, load_accounts, scim_server  # noqa: F401 - fixture

from homeroom.errors import PermanentError, TransientError
from homeroom.targets import kind_of


def _target(base: str, token: str = TOKEN):
    return kind_of("scim").connect("district-scim", {"base_url": base}, {"bearer_token": token})


def test_planted_directory_gives_exactly_the_planted_counts(scim_server, planted_district, tmp_path):
    package, planted = planted_district
    load_accounts(scim_server, planted.accounts)
    target = _target(scim_server)
    snap, match, lake = snapshot_and_match(target, package, tmp_path)
    assert snap.accounts.added == len(planted.accounts) and snap.accounts.active == len(planted.accounts)
    assert match.counts() == expected_counts(planted)
    got = dict(match.outcomes.select("personSourcedId", "outcome").rows())
    assert got == planted.outcomes()
    logins = dict(lake.read("directory_accounts", {"target": "district-scim"}).select("account_id", "user_name").rows())
    matched = match.outcomes.filter(pl.col("outcome") == "matched")
    assert {p: logins[a] for p, a in matched.select("personSourcedId", "accountId").rows()} == {
        p: login for p, (_g, o, _by, login) in planted.people.items() if o == "matched"}
    assert dict(matched.select("personSourcedId", "matchedBy").rows()) == {
        p: by for p, (_g, o, by, _l) in planted.people.items() if o == "matched"}


def test_groups_and_a_second_snapshot_deactivate_what_is_gone(scim_server, tmp_path):
    from homeroom.lake import Lake
    from homeroom.match.snapshot import snapshot_target

    ids = load_accounts(scim_server, [
        {"user_principal_name": f"u{i}@example.edu", "mail": f"u{i}@example.edu", "enabled": i != 2, "display_name": f"U {i}",
         "given_name": "U", "family_name": str(i), "employee_id": f"e{i}"} for i in range(3)])
    headers = {"Authorization": f"Bearer {TOKEN}"}
    created = httpx.post(f"{scim_server}/Groups", headers=headers, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Staff", "members": [{"value": ids[0]}, {"value": ids[1]}]})
    assert created.status_code == 201
    lake = Lake(str(tmp_path / "lake"), "t")
    first = snapshot_target(lake, _target(scim_server), work_dir=tmp_path / "w", page_size=2)
    assert (first.accounts.added, first.groups.added) == (3, 1)
    accounts = lake.read("directory_accounts", {"target": "district-scim"}).sort("user_name")
    assert accounts.select("user_name", "employee_id", "enabled").rows() == [
        ("u0@example.edu", "e0", True), ("u1@example.edu", "e1", True), ("u2@example.edu", "e2", False)]
    groups = lake.read("directory_groups", {"target": "district-scim"})
    assert [(n, k, sorted(m)) for n, k, m in groups.select("name", "kind", "members").rows()] == [
        ("Staff", "security", sorted([ids[0], ids[1]]))]
    assert httpx.delete(f"{scim_server}/Users/{ids[1]}", headers=headers).status_code == 204
    second = snapshot_target(lake, _target(scim_server), work_dir=tmp_path / "w")
    assert (second.accounts.deactivated, second.accounts.active, second.accounts.total) == (1, 2, 3)
    gone = lake.read("directory_accounts", {"target": "district-scim"}).filter(pl.col("account_id") == ids[1])
    assert gone.get_column("isActive").to_list() == [False]


def test_a_wrong_token_names_the_target_and_the_secret_to_fix(scim_server):
    with pytest.raises(PermanentError) as refused:
        _target(scim_server, "wrong").check()
    assert str(refused.value) == (
        f"SCIM target 'district-scim' ({scim_server}) refused the bearer token (401) when asked to read its schemas; "
        "set a valid bearer_token (homeroom targets add ... --secret bearer_token)")


def test_an_unreachable_service_says_so():
    base = f"http://127.0.0.1:{free_port()}/v2"
    with pytest.raises(TransientError) as unreachable:
        _target(base).check()
    assert str(unreachable.value).startswith(f"SCIM target 'district-scim' ({base}) cannot be reached to read its schemas (")
    assert str(unreachable.value).endswith("); check base_url and that the service is up")
