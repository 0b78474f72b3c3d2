"""Matching rules, outcomes and link history on small hand-made tables."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from homeroom.errors import ConfigurationError
from homeroom.lake import Lake
from homeroom.match.engine import match_people, role_groups
from homeroom.match.links import match_source
from homeroom.match.settings import rules_from_settings
from homeroom.match.snapshot import Journal, write_snapshot
from homeroom.lake.changes import diff_table
from homeroom.match.tables import DIRECTORY_ACCOUNTS
from homeroom.targets.base import ACCOUNT_SCHEMA

T1, T2, T3 = (datetime(2026, 1, d, tzinfo=timezone.utc) for d in (1, 2, 3))


def _accounts(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame([{c: r.get(c) for c in ACCOUNT_SCHEMA.names} for r in rows], schema=pl.Schema(ACCOUNT_SCHEMA))


def _people(*rows: tuple[str, str, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["personSourcedId", "roleGroup", "username", "email"], orient="row")


def _rule(source: str, target: str, group: str | None = None, **extra) -> dict:
    entry = {"sourceIdentifier": {"code": source}, "matchTarget": {"code": target}, **extra}
    return {**entry, "roleGroupId": group} if group else entry


def test_case_and_domain_rewrite_and_extension_attributes():
    people = _people(("s1", "students", "Ann@Old.Example", None), ("t1", "staff", "bob", "bob@x"), ("t2", "staff", "cy", None))
    accounts = _accounts(
        {"account_id": "a1", "user_principal_name": "ann@new.example"},
        {"account_id": "a2", "user_principal_name": "BOB@STAFF.EXAMPLE"},
        {"account_id": "a3", "extra": '{"extensionattribute1": "CY"}'},
    )
    rules = rules_from_settings([
        _rule("username", "userPrincipalName", "students", rewriteDomain="new.example"),
        _rule("username", "userPrincipalName", "staff", rewriteDomain="@staff.example", priorityOrder=0),
        _rule("username", "extension:extensionAttribute1", "staff", priorityOrder=1),
    ])
    out = match_people(people, accounts, rules).sort("personSourcedId")
    assert out.select("personSourcedId", "outcome", "accountId", "matchedBy").rows() == [
        ("s1", "matched", "a1", "username->userPrincipalName"),
        ("t1", "matched", "a2", "username->userPrincipalName"),
        ("t2", "matched", "a3", "username->extension:extensionAttribute1"),
    ]


def test_the_first_rule_that_matches_decides_and_lists_candidates():
    people = _people(("p1", "students", "p1@x", "p1@mail"), ("p2", "students", "p2@x", "p2@mail"), ("p3", "students", "p3@x", None))
    accounts = _accounts(
        {"account_id": "a1", "user_principal_name": "p1@x", "mail": "other@mail"},
        {"account_id": "a2", "mail": "p2@mail"}, {"account_id": "a3", "mail": "P2@MAIL"},
        {"account_id": "a4", "user_principal_name": "p3@x"}, {"account_id": "a5", "mail": "p1@mail"},
    )
    rules = rules_from_settings([_rule("username", "userPrincipalName", priorityOrder=0), _rule("email", "mail", priorityOrder=1)])
    out = match_people(people, accounts, rules).sort("personSourcedId")
    assert out.select("personSourcedId", "outcome", "accountId", "candidates").rows() == [
        ("p1", "matched", "a1", None),  # the second rule would also find a5: the first decides
        ("p2", "ambiguous", None, ["a2", "a3"]),
        ("p3", "matched", "a4", None),
    ]


def test_keys_are_trimmed_and_lowercased_in_any_script_and_empty_keys_never_match():
    people = _people(
        ("p1", "students", "  Élève@École.Example ", None), ("p2", "students", "", None), ("p3", "students", None, None),
        ("p4", "students", "ΣΟΦΙΑ@x", None), ("p5", "staff", "dup@x", None), ("p6", "staff", "dup2@x", None),
    )
    accounts = _accounts(
        {"account_id": "a1", "user_principal_name": "élève@école.example"},
        {"account_id": "a2", "user_principal_name": ""}, {"account_id": "a3", "user_principal_name": None},
        {"account_id": "a4", "user_principal_name": "σοφια@X"},
        {"account_id": "a5", "user_principal_name": "DUP@x", "mail": "dup2@x"},
    )
    rules = rules_from_settings([_rule("username", "userPrincipalName", priorityOrder=0),
                                 _rule("username", "mail", priorityOrder=1)])
    out = match_people(people, accounts, rules)
    assert out.select("personSourcedId", "outcome", "accountId", "candidates", "matchedBy").rows() == [
        ("p1", "matched", "a1", None, "username->userPrincipalName"),
        ("p2", "unmatched", None, None, None),  # an empty username meets no empty userPrincipalName
        ("p3", "unmatched", None, None, None),
        ("p4", "matched", "a4", None, "username->userPrincipalName"),
        # one account found for two people (by the first rule for p5, the second for p6): both conflicting
        ("p5", "conflicting", None, ["a5"], None),
        ("p6", "conflicting", None, ["a5"], None),
    ]


def test_no_rules_and_no_accounts_leave_everyone_unmatched():
    people = _people(("p1", "students", "p1@x", None), ("p2", "staff", "p2@x", None))
    for accounts, rules in ((_accounts(), rules_from_settings([])), (_accounts({"account_id": "a1"}), [])):
        out = match_people(people, accounts, rules)
        assert out.select("personSourcedId", "outcome", "accountId", "candidates").rows() == [
            ("p1", "unmatched", None, None), ("p2", "unmatched", None, None)]


def test_role_groups_follow_the_sds_rule_for_people_with_several_roles():
    roles = pl.DataFrame({"userSourcedId": ["a", "b", "b", "c", "c", "d"],
                          "role": ["student", "student", "teacher", "student", "aide", "teacher"],
                          "isPrimary": [True, True, False, False, False, False]})
    assert dict(role_groups(roles).rows()) == {"a": "students", "b": "students", "c": "staff", "d": "staff"}


def test_settings_naming_an_unknown_column_or_group_are_refused_with_the_setting():
    with pytest.raises(ConfigurationError) as unknown:
        rules_from_settings([_rule("stateId", "employeeId", "students")], ["sourcedId", "username"])
    assert str(unknown.value).startswith("userMatchingSettings[0]: source identifier 'stateId' is not a users column; use one of ")
    with pytest.raises(ConfigurationError) as group:
        rules_from_settings([_rule("username", "mail", "guardians")])
    assert str(group.value) == "userMatchingSettings[0] names role group 'guardians'; known: staff, students"


def _snapshot(lake: Lake, tmp_path, accounts: pl.DataFrame, when: datetime) -> None:
    previous = lake.read("directory_accounts", {"target": "d"})
    diff = diff_table(DIRECTORY_ACCOUNTS, previous, accounts, partition={"target": "d"}, run_id=f"s{when.day}", now=when)
    write_snapshot(lake, Journal(tmp_path / "j", "d"), [diff])


def test_links_keep_their_first_linked_time_and_say_why_they_ended(tmp_path):
    lake = Lake(str(tmp_path / "lake"), "t")
    users = pl.DataFrame({"sourcedId": ["p1", "p2", "p3", "p4"], "username": ["p1@x", "p2@x", "p3@x", "p4@x"],
                          "email": [None] * 4})
    roles = pl.DataFrame({"userSourcedId": ["p1", "p2", "p3", "p4"], "orgSourcedId": ["o"] * 4, "role": ["student"] * 4,
                          "isPrimary": [True] * 4})
    upn = [{"account_id": f"a{i}", "user_principal_name": f"p{i}@x"} for i in range(1, 5)]
    _snapshot(lake, tmp_path, _accounts(*upn), T1)
    first = match_source(lake, target="d", source_system_id="s", year="2026", settings=[], users=users, roles=roles, now=T1)
    assert first.counts() == {"students": {"ambiguous": 0, "conflicting": 0, "unmatched": 0, "matched": 4}}

    # a2 is deleted, a3 gets a twin, p4 leaves the source; p1 stays linked.
    _snapshot(lake, tmp_path, _accounts(upn[0], upn[2], upn[3], {"account_id": "a9", "user_principal_name": "P3@X"}), T2)
    second = match_source(lake, target="d", source_system_id="s", year="2026", settings=[], users=users.head(3),
                          roles=roles.head(3), now=T2)
    links = lake.read("match_links", {"target": "d"}).sort("personSourcedId")
    assert links.select("personSourcedId", "outcome", "accountId", "firstLinkedDateTime", "isActive", "unlinkReason").rows() == [
        ("p1", "matched", "a1", T1, True, None),
        ("p2", "unmatched", None, None, True, "AccountGone"),
        ("p3", "ambiguous", None, None, True, "NowAmbiguous"),
        ("p4", "matched", "a4", T1, False, "PersonInactive"),
    ]
    assert sorted(second.ended.select("personSourcedId", "accountId", "reason").rows()) == [
        ("p2", "a2", "AccountGone"), ("p3", "a3", "NowAmbiguous"), ("p4", "a4", "PersonInactive")]
    assert second.findings.filter(pl.col("rule") == "PersonLinkEnded").sort("recordId").get_column("message").to_list() == [
        "The link to account a2 ended: AccountGone.", "The link to account a3 ended: NowAmbiguous.",
        "The link to account a4 ended: PersonInactive."]

    # Relinking p2 to a new account starts a new link.
    _snapshot(lake, tmp_path, _accounts(upn[0], upn[2], {"account_id": "a7", "user_principal_name": "p2@x"}), T3)
    match_source(lake, target="d", source_system_id="s", year="2026", settings=[], users=users.head(3), roles=roles.head(3), now=T3)
    links = lake.read("match_links", {"target": "d"}).sort("personSourcedId")
    assert links.select("personSourcedId", "outcome", "accountId", "firstLinkedDateTime", "unlinkReason").rows()[:3] == [
        ("p1", "matched", "a1", T1, None), ("p2", "matched", "a7", T3, None), ("p3", "matched", "a3", T3, None)]


def test_matching_a_target_never_snapshotted_says_what_to_do(tmp_path):
    with pytest.raises(ConfigurationError) as missing:
        match_source(Lake(str(tmp_path), "t"), target="d", source_system_id="s", year="2026", settings=[],
                     users=pl.DataFrame({"sourcedId": ["p"], "username": ["p"]}),
                     roles=pl.DataFrame({"userSourcedId": ["p"], "role": ["student"], "isPrimary": [True]}))
    assert str(missing.value) == "target 'd' has no snapshot yet; run `homeroom targets snapshot d` first"
