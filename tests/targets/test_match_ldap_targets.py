"""The planted directory (tests/targets/planted.py) in the two LDAP targets' real servers, a Samba AD domain controller
and OpenLDAP slapd: snapshotted through the targets' own readers, matched with settings that meet each directory's
attributes, it gives exactly the planted matched/unmatched/ambiguous/conflicting counts and each person's outcome;
and a Homeroom run whose source system uses the target gives the same counts in its statistics and match report.

Each planted account is mapped onto the server's attributes:

- Active Directory: ``sAMAccountName`` the login's local part (what AD keeps there), ``userPrincipalName`` and
  ``mail`` the login, ``employeeID`` the planted employee id; students match ``username`` against
  ``userPrincipalName``, staff ``username`` against ``mail`` (domain rewritten), both then ``sourcedId`` against
  ``employeeID``;
- LDAP: ``uid`` and ``mail`` the login, ``employeeNumber`` the employee id; students match ``username`` against
  ``uid``, staff ``username`` against ``mail`` (domain rewritten), both then ``sourcedId`` against ``employeeNumber``.

An entry's RDN is its login (display names repeat: the two accounts of one person share one).
"""

from __future__ import annotations

from pathlib import Path

import ldap3
import polars as pl
import pytest
from planted import (  # noqa: F401 - fixture
    SETTINGS,
    PlantedDirectory,
    assert_runs_match_and_statistics_equal_the_report,
    expected_counts,
    planted_district,
    snapshot_and_match,
)

from homeroom.targets import kind_of
from tests.targets.ldap_loading import load_samba, load_slapd

AD_BASE = "OU=Planted,DC=homeroom,DC=test"
LDAP_BASE = "ou=Planted,dc=district,dc=test"
AD_NAME, LDAP_NAME = "planted-ad", "planted-ldap"

#: The planted rules (username -> userPrincipalName, sourcedId -> employeeId) as each target's attributes.
AD_TARGETS = {("students", 0): "userPrincipalName", ("staff", 0): "mail", ("students", 1): "employeeID",
              ("staff", 1): "employeeID"}
LDAP_TARGETS = {("students", 0): "uid", ("staff", 0): "mail", ("students", 1): "employeeNumber",
                ("staff", 1): "employeeNumber"}


def retarget(targets: dict[tuple[str, int], str]) -> list[dict]:
    """SETTINGS with each (role group, priority) rule's matchTarget replaced by the target's attribute."""
    return [{**s, "matchTarget": {"code": targets[s["roleGroupId"], s["priorityOrder"]]}} for s in SETTINGS]


def expected_matched_by(planted: PlantedDirectory, targets: dict[tuple[str, int], str]) -> dict[str, str]:
    """personSourcedId -> the rule (as the target's settings name it) that matched each planted matched person."""
    rank = {"username->userPrincipalName": 0, "sourcedId->employeeId": 1}
    source = {0: "username", 1: "sourcedId"}
    return {p: f"{source[rank[by]]}->{targets[group, rank[by]]}"
            for p, (group, outcome, by, _login) in planted.people.items() if outcome == "matched"}


def _rdn(login: str) -> str:
    return ldap3.utils.dn.escape_rdn(login)


def ad_accounts(planted: PlantedDirectory) -> list[dict]:
    return [{**a, "user_name": a["user_principal_name"].partition("@")[0],
             "distinguished_name": f"CN={_rdn(a['user_principal_name'])},OU=Accounts,{AD_BASE}"} for a in planted.accounts]


def ldap_accounts(planted: PlantedDirectory) -> list[dict]:
    return [{**a, "distinguished_name": f"uid={_rdn(a['user_name'])},ou=Accounts,{LDAP_BASE}"} for a in planted.accounts]


@pytest.fixture(scope="module")
def planted_ad(samba_dc, planted_district):
    package, planted = planted_district
    connection = samba_dc.connection()
    accounts = ad_accounts(planted)
    loaded = load_samba(connection, AD_BASE, accounts)
    connection.unbind()
    return package, planted, accounts, loaded


@pytest.fixture(scope="module")
def planted_ldap(slapd_server, planted_district):
    package, planted = planted_district
    connection = slapd_server.connection()
    accounts = ldap_accounts(planted)
    loaded = load_slapd(connection, LDAP_BASE, accounts, placeholder=slapd_server.reader_dn)
    connection.unbind()
    return package, planted, accounts, loaded


def assert_planted_outcomes(target, package: Path, planted: PlantedDirectory, accounts: list[dict], loaded,
                            targets: dict[tuple[str, int], str], work: Path, login_column: str) -> None:
    """Snapshot and match ``target``; exactly the planted counts, outcomes, accounts and rules, and what the
    snapshot read of the people named below."""
    snap, match, lake = snapshot_and_match(target, package, work, retarget(targets))
    assert (snap.accounts.added, snap.accounts.active) == (len(planted.accounts), len(planted.accounts))
    assert match.counts() == expected_counts(planted)
    outcomes = match.outcomes
    assert dict(outcomes.select("personSourcedId", "outcome").rows()) == planted.outcomes()
    # Every matched person is linked to the account the server gave its planted login, by the planted rule.
    ids = {a["user_name"]: loaded.accounts[a["user_name"]] for a in accounts}
    login_of = {a["user_principal_name"]: a["user_name"] for a in accounts}
    matched = outcomes.filter(pl.col("outcome") == "matched")
    assert dict(matched.select("personSourcedId", "accountId").rows()) == {
        p: ids[login_of[login]] for p, (_g, o, _by, login) in planted.people.items() if o == "matched"}
    assert dict(matched.select("personSourcedId", "matchedBy").rows()) == expected_matched_by(planted, targets)

    # A few named people: the first of each planted disagreement among the students, as the directory holds them.
    snapshot = lake.read("directory_accounts", {"target": target.name})
    logins = dict(snapshot.select("account_id", login_column).rows())
    by_person = {row["personSourcedId"]: row for row in outcomes.iter_rows(named=True)}
    students = sorted(p for p, (g, _o, _b, _l) in planted.people.items() if g == "students")
    case, renamed, missing, ambiguous, conflicting_a, conflicting_b = (students[i] for i in (0, 3, 6, 9, 11, 12))
    case_login = planted.people[case][3]
    assert case_login != case_login.lower() and by_person[case]["matchedBy"] == f"username->{targets['students', 0]}"
    assert logins[by_person[case]["accountId"]] == case_login  # the directory keeps the case; matching ignores it
    assert logins[by_person[renamed]["accountId"]].startswith("renamed-")
    assert by_person[renamed]["matchedBy"] == f"sourcedId->{targets['students', 1]}"
    assert (by_person[missing]["outcome"], by_person[missing]["accountId"]) == ("unmatched", None)
    assert by_person[ambiguous]["outcome"] == "ambiguous"
    assert sorted(logins[a].partition("-")[0] for a in by_person[ambiguous]["candidates"]) == ["dup1", "dup2"]
    assert by_person[conflicting_a]["outcome"] == by_person[conflicting_b]["outcome"] == "conflicting"
    assert by_person[conflicting_a]["candidates"] == by_person[conflicting_b]["candidates"]  # the one account they share
    shared = snapshot.filter(pl.col("account_id") == by_person[conflicting_a]["candidates"][0])
    assert shared.get_column("employee_id").to_list() == [conflicting_b]
    # The hand-made accounts are in the snapshot and nobody's.
    hand = snapshot.filter(pl.col("mail").str.starts_with("hand-")).get_column("account_id").to_list()
    linked = {a for a in outcomes.get_column("accountId").to_list() if a} | {
        a for c in outcomes.get_column("candidates").to_list() if c for a in c}
    assert len(hand) == planted.hand_made and not set(hand) & linked


def test_active_directory_gives_exactly_the_planted_counts(samba_dc, planted_ad, tmp_path):
    package, planted, accounts, loaded = planted_ad
    target = kind_of("active-directory").connect(AD_NAME, samba_dc.settings(base_dn=AD_BASE),
                                                 {"password": samba_dc.admin_password})
    assert_planted_outcomes(target, package, planted, accounts, loaded, AD_TARGETS, tmp_path, "user_principal_name")


def test_ldap_gives_exactly_the_planted_counts(slapd_server, planted_ldap, tmp_path):
    package, planted, accounts, loaded = planted_ldap
    target = kind_of("ldap").connect(LDAP_NAME, slapd_server.settings(base_dn=LDAP_BASE),
                                     {"password": slapd_server.reader_password})
    assert_planted_outcomes(target, package, planted, accounts, loaded, LDAP_TARGETS, tmp_path, "user_name")


def test_a_run_with_the_active_directory_target_gives_statistics_equal_to_the_match_report(samba_dc, planted_ad, tmp_path):
    package, planted, _accounts, _loaded = planted_ad
    assert_runs_match_and_statistics_equal_the_report(
        package, planted, tmp_path / "data", tenant="district-ad", name=AD_NAME, kind="active-directory",
        settings=samba_dc.settings(base_dn=AD_BASE), secrets={"password": samba_dc.admin_password},
        matching=retarget(AD_TARGETS))


def test_a_run_with_the_ldap_target_gives_statistics_equal_to_the_match_report(slapd_server, planted_ldap, tmp_path):
    package, planted, _accounts, _loaded = planted_ldap
    assert_runs_match_and_statistics_equal_the_report(
        package, planted, tmp_path / "data", tenant="district-ldap", name=LDAP_NAME, kind="ldap",
        settings=slapd_server.settings(base_dn=LDAP_BASE), secrets={"password": slapd_server.reader_password},
        matching=retarget(LDAP_TARGETS))
