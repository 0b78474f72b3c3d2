"""Naming, collisions and the policies of a plan, on small rosters built by hand (lake-shaped frames)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from directory_double import DirectoryDouble, LINK_SCHEMA

from homeroom.errors import ConfigurationError
from homeroom.outbound.config import flow_set_config
from homeroom.outbound.desired import desired_state
from homeroom.outbound.plan import make_plan
from homeroom.outbound.safety import plan_hold_reasons


def roster(people, *, classes=(), enrollments=(), inactive_users=(), inactive_classes=()):
    """Lake-shaped tables: people are (sourcedId, username, given, family, org, role)."""
    def frame(rows, columns, inactive=()):
        types = {c: pl.List(pl.String) if c == "sessionSourcedIds" else pl.Boolean if c == "isPrimary" else pl.String for c in columns}
        data = pl.DataFrame(list(rows), schema=types, orient="row")
        key = columns[0]
        return data.with_columns((~pl.col(key).is_in(list(inactive))).alias("isActive"),
                                 pl.lit(None, pl.Datetime("us", "UTC")).alias("lastSeenDateTime"))
    return {
        "orgs": frame([("sch-1", "North High"), ("sch-2", "South, Middle")], ["sourcedId", "name"]),
        "users": frame([(p[0], p[1], p[2], p[3], p[1]) for p in people], ["sourcedId", "username", "givenName", "familyName", "email"],
                       inactive_users),
        "roles": frame([(p[0], p[4], p[5], "09", True) for p in people if p[5] is not None],
                       ["userSourcedId", "orgSourcedId", "role", "grade", "isPrimary"], inactive_users),
        "classes": frame([(c[0], c[1], c[2], [], None, None) for c in classes],
                         ["sourcedId", "orgSourcedId", "title", "sessionSourcedIds", "courseSourcedId", "code"], inactive_classes)
        if classes else pl.DataFrame(),
        "enrollments": frame(list(enrollments), ["classSourcedId", "userSourcedId", "role"]),
        "courses": pl.DataFrame(), "academicSessions": pl.DataFrame(),
    }


USERS = ("u", "userProvisioningFlow", {"createUnmatchedUsers": True}, {})
CLASSES = ("c", "classGroupProvisioningFlow", {}, {})
UNITS = ("a", "administrativeUnitProvisioningFlow", {"creationOptions": {"createBasedOnOrg": True}}, {})


def config(*flows, orgs=None, **options):
    return flow_set_config(set_id="set", name="set", filter={"in": orgs} if orgs else None, options=options, flows=list(flows))


def plan(tables, cfg, directory=None, kind="entra", links=None):
    directory = directory or DirectoryDouble(kind)
    desired = desired_state(tables, cfg, target_kind=kind, year="2026")
    return make_plan(desired, directory.snapshot(links), cfg, target="t", target_kind=kind)


PEOPLE = [("p1", "jsmith@x.edu", "Jo", "Smith", "sch-1", "student"), ("p2", "jsmith@y.edu", "Jay", "Smith", "sch-1", "student"),
          ("p3", "averyveryverylongusername@x.edu", "Al", "Long", "sch-2", "teacher")]


def _created(ops, column="user_name"):
    return {op["objectKey"]: json.loads(op["attributes"]).get(column) for op in ops.filter(pl.col("op") == "create_user").to_dicts()}


def test_login_names_for_active_directory_are_unique_and_at_most_20_characters():
    result = plan(roster(PEOPLE), config(USERS, baseDn="DC=hr,DC=test"), kind="active-directory")
    assert _created(result.ops) == {"p1": "jsmith", "p2": "jsmith2", "p3": "averyveryverylonguse"}
    assert result.collisions.rows() == [("p2", "user_name", "jsmith", "jsmith2")]
    dns = _created(result.ops, "distinguished_name")
    assert dns == {"p1": "CN=jsmith,OU=North High,DC=hr,DC=test", "p2": "CN=jsmith2,OU=North High,DC=hr,DC=test",
                   "p3": "CN=averyveryverylonguse,OU=South\\, Middle,DC=hr,DC=test"}


def test_a_name_held_by_an_account_of_someone_else_gets_the_next_free_suffix():
    directory = DirectoryDouble("entra")
    directory.add_account(user_name="jsmith@x.edu", user_principal_name="jsmith@x.edu", mail="JSmith@x.edu")
    directory.add_account(user_name="other@x.edu", user_principal_name="other@x.edu", mail="jsmith2@x.edu")
    result = plan(roster(PEOPLE[:1]), config(USERS), directory)
    assert _created(result.ops) == {"p1": "jsmith2@x.edu"}
    assert _created(result.ops, "mail") == {"p1": "jsmith3@x.edu"}
    assert sorted(result.collisions.rows()) == [("p1", "mail", "jsmith@x.edu", "jsmith3@x.edu"),
                                                ("p1", "user_name", "jsmith@x.edu", "jsmith2@x.edu"),
                                                ("p1", "user_principal_name", "jsmith@x.edu", "jsmith2@x.edu")]


def test_an_unknown_placeholder_is_refused_with_the_ones_allowed():
    with pytest.raises(ConfigurationError, match=r"naming template displayName '\{nickname\}' uses \{nickname\}; a user template "
                                                 r"may use \{sourcedId\}, \{username\}"):
        plan(roster(PEOPLE), config(USERS, templates={"displayName": "{nickname}"}))


def _matched_directory(names=("jsmith@x.edu",)):
    directory = DirectoryDouble("entra")
    directory.add_account(account_id="acc-1", user_name=names[0], user_principal_name=names[0], mail="jsmith@x.edu",
                          given_name="Jo", family_name="Smith", display_name="Jo Smith", enabled=True)
    links = pl.DataFrame([{"personSourcedId": "p1", "outcome": "matched", "accountId": "acc-1", "isActive": True}], schema_overrides=LINK_SCHEMA)
    return directory, links


@pytest.mark.parametrize("policy, ops, held", [
    ("automatic", [("update_user", "UserRenamed", '{"user_name":"jsmith@x.edu","user_principal_name":"jsmith@x.edu"}')], False),
    ("approval", [("update_user", "UserRenamed", '{"user_name":"jsmith@x.edu","user_principal_name":"jsmith@x.edu"}')], True),
    ("never", [], False),
])
def test_a_changed_username_follows_the_rename_policy(policy, ops, held):
    directory, links = _matched_directory(("jo.smith@x.edu",))
    cfg = config(USERS, renames=policy)
    result = plan(roster(PEOPLE[:1]), cfg, directory, links=links)
    assert result.ops.select("op", "reason", "attributes").rows() == ops
    reasons = plan_hold_reasons(result, cfg.options)
    assert [r["code"] for r in reasons] == (["RenamePending"] if held else [])


def test_unmatched_people_are_not_created_without_create_unmatched_users_nor_ambiguous_ones_ever():
    links = pl.DataFrame([{"personSourcedId": "p2", "outcome": "ambiguous", "accountId": None, "isActive": True}], schema_overrides=LINK_SCHEMA)
    off = plan(roster(PEOPLE), config(("u", "userProvisioningFlow", {"createUnmatchedUsers": False}, {})), links=links)
    assert off.ops.height == 0 and (off.counts["unmatchedNotCreated"], off.counts["ambiguousNotCreated"]) == (2, 1)
    on = plan(roster(PEOPLE), config(USERS), links=links)
    assert sorted(on.ops["objectKey"]) == ["p1", "p3"] and on.counts["ambiguousNotCreated"] == 1


def test_a_person_no_longer_active_is_disabled_never_deleted_and_reenabled_when_back():
    directory, links = _matched_directory()
    result = plan(roster(PEOPLE[:1], inactive_users=("p1",)), config(USERS), directory, links=links)
    assert result.ops.select("op", "reason", "accountId", "attributes", "old").rows() == [
        ("disable_user", "UserInactiveDisable", "acc-1", '{"enabled":false}', '{"enabled":true}')]
    directory.accounts["acc-1"]["enabled"] = False
    back = plan(roster(PEOPLE[:1]), config(USERS), directory, links=links)
    assert back.ops.select("op", "reason", "attributes", "old").rows() == [
        ("update_user", "UserReenabled", '{"enabled":true}', '{"enabled":false}')]


def test_a_matched_contact_without_a_role_is_never_disabled():
    directory, links = _matched_directory()
    guardian = [("p1", "jsmith@x.edu", "Jo", "Smith", "sch-1", None)]
    assert plan(roster(guardian), config(USERS), directory, links=links).ops.height == 0


def test_the_org_filter_keeps_other_schools_people_out_and_leaves_them_alone():
    result = plan(roster(PEOPLE), config(USERS, UNITS, orgs=["sch-2"]))
    assert sorted(result.ops.select("op", "objectKey").rows()) == [("add_member", "sch-2"), ("create_unit", "sch-2"), ("create_user", "p3")]


def test_an_ended_class_is_marked_expired_and_keeps_its_members():
    classes = [("cls-1", "sch-1", "Algebra")]
    enrollments = [("cls-1", "p1", "student"), ("cls-1", "p3", "teacher")]
    people = [*PEOPLE[:1], ("p3", "t@x.edu", "Al", "Long", "sch-1", "teacher")]
    cfg = config(USERS, CLASSES)
    directory = DirectoryDouble("entra")
    first = plan(roster(people, classes=classes, enrollments=enrollments), cfg, directory)
    directory.apply(None, first.ops.to_dicts())
    ended = plan(roster(people, classes=classes, inactive_classes=("cls-1",)), cfg, directory)
    assert ended.ops.select("op", "reason", "attributes", "old").rows() == [
        ("update_group", "ClassEndedExpire", '{"display_name":"Exp2026 Algebra"}', '{"display_name":"Algebra"}')]
    directory.apply(None, ended.ops.to_dicts())
    assert plan(roster(people, classes=classes, inactive_classes=("cls-1",)), cfg, directory).ops.height == 0
    kept = plan(roster(people, classes=classes, inactive_classes=("cls-1",)), config(USERS, CLASSES, classEnd="keep"),
                DirectoryDouble("entra"))
    assert kept.ops.filter(pl.col("objectKind") == "group").height == 0  # an ended class never gets a new group


def test_targets_without_owners_make_owners_members_and_units_contain_by_placement():
    classes = [("cls-1", "sch-1", "Algebra")]
    enrollments = [("cls-1", "p1", "student"), ("cls-1", "p3", "teacher")]
    people = [*PEOPLE[:1], ("p3", "t@x.edu", "Al", "Long", "sch-1", "teacher")]
    tables = roster(people, classes=classes, enrollments=enrollments)
    entra = plan(tables, config(USERS, CLASSES, UNITS), kind="entra")
    ad = plan(tables, config(USERS, CLASSES, UNITS, baseDn="DC=hr,DC=test"), kind="active-directory")
    assert sorted(entra.ops.filter(pl.col("memberKey").is_not_null()).select("op", "objectKey", "memberKey").rows()) == [
        ("add_member", "cls-1", "p1"), ("add_member", "sch-1", "p1"), ("add_member", "sch-1", "p3"), ("add_owner", "cls-1", "p3")]
    assert sorted(ad.ops.filter(pl.col("memberKey").is_not_null()).select("op", "objectKey", "memberKey").rows()) == [
        ("add_member", "cls-1", "p1"), ("add_member", "cls-1", "p3")]


def test_write_display_name_on_create_only_keeps_a_renamed_class_name():
    classes = [("cls-1", "sch-1", "Algebra")]
    cfg = config(("c", "classGroupProvisioningFlow", {"configuration": {"additionalOptions": {"writeDisplayNameOnCreateOnly": True}}}, {}))
    directory = DirectoryDouble("entra")
    directory.apply(None, plan(roster(PEOPLE[:1], classes=classes), cfg, directory).ops.to_dicts())
    renamed = [("cls-1", "sch-1", "Algebra II")]
    assert plan(roster(PEOPLE[:1], classes=renamed), cfg, directory).ops.height == 0
    other = config(CLASSES)
    assert plan(roster(PEOPLE[:1], classes=renamed), other, directory).ops.select("op", "attributes").rows() == [
        ("update_group", '{"display_name":"Algebra II"}')]


def test_bad_options_name_the_option():
    with pytest.raises(ConfigurationError, match=r"the options of flow set 'set' are not valid: renames: Input should be "
                                                 r"'automatic', 'approval' or 'never'"):
        config(USERS, renames="sometimes")
