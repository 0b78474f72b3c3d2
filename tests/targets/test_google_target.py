"""The Google target against the Directory API fake (tests/targets/fake_google.py), through google-api-python-client:
the planted directory, groups with owners, org units, and sign-in errors."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_google import ADMIN, FakeGoogle
from planted import expected_counts, planted_district, snapshot_and_match  # noqa: F401 - fixture

from homeroom.errors import PermanentError
from homeroom.lake import Lake
from homeroom.match.snapshot import snapshot_target
from homeroom.targets import kind_of


@pytest.fixture
def google():
    fake = FakeGoogle().start()
    yield fake
    fake.stop()


def _target(google: FakeGoogle, admin: str = ADMIN, key=None):
    return kind_of("google").connect("district-google", {"admin_email": admin, "api_endpoint": google.endpoint},
                                     {"service_account_json": json.dumps(google.service_account_info(key))})


def load_accounts(google: FakeGoogle, accounts: list[dict]) -> list[str]:
    """Each planted account as a Workspace user (login as primaryEmail, employee id as an organization externalId)."""
    return [google.add_user(a["user_principal_name"], employee_id=a["employee_id"], given=a["given_name"],
                            family=a["family_name"], suspended=not a["enabled"]) for a in accounts]


def test_planted_directory_gives_exactly_the_planted_counts(google, planted_district, tmp_path):
    package, planted = planted_district
    load_accounts(google, planted.accounts)
    snap, match, _lake = snapshot_and_match(_target(google), package, tmp_path)
    assert snap.accounts.active == len(planted.accounts)
    assert match.counts() == expected_counts(planted)
    assert dict(match.outcomes.select("personSourcedId", "outcome").rows()) == planted.outcomes()
    assert sum(r.startswith("/admin/directory/v1/users?") for r in google.requests) == -(-len(planted.accounts) // 50)


def test_groups_with_owners_and_org_units(google, tmp_path):
    a = google.add_user("a@district.example.edu", org_unit="/Schools/Lincoln")
    b = google.add_user("b@district.example.edu", employee_id="stf-1", suspended=True)
    group = google.add_group("math@district.example.edu", "Math", members=[a], owners=[b])
    unit = google.add_orgunit("/Schools/Lincoln")
    lake = Lake(str(tmp_path / "lake"), "t")
    snapshot_target(lake, _target(google), work_dir=tmp_path / "w", page_size=1)
    accounts = lake.read("directory_accounts", {"target": "district-google"}).sort("user_name")
    assert accounts.select("account_id", "employee_id", "enabled", "distinguished_name").rows() == [
        (a, None, True, "/Schools/Lincoln"), (b, "stf-1", False, "/")]
    groups = lake.read("directory_groups", {"target": "district-google"}).sort("kind")
    assert groups.select("group_id", "name", "kind", "members", "owners").rows() == [
        (group, "math@district.example.edu", "distribution", [a], [b]), (unit, "/Schools/Lincoln", "unit", [], [])]


def test_an_admin_without_delegation_names_the_target_and_the_fix(google):
    with pytest.raises(PermanentError) as refused:
        _target(google, admin="teacher@district.example.edu").check()
    assert str(refused.value).startswith(
        "Google target 'district-google' (customer my_customer): the service account cannot act for teacher@district.example.edu (")
    assert str(refused.value).endswith("); check the key and its domain-wide delegation of the directory read-only scopes")


def test_a_key_that_is_not_json_is_refused_plainly(google):
    target = kind_of("google").connect("district-google", {"admin_email": ADMIN}, {"service_account_json": "not json"})
    with pytest.raises(PermanentError) as refused:
        target.check()
    assert str(refused.value).startswith("Google target 'district-google' (customer my_customer): service_account_json is not a service account key (")


def test_a_forged_key_is_refused(google):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(PermanentError) as refused:
        _target(google, key=other).check()
    assert "Invalid JWT Signature" in str(refused.value)
