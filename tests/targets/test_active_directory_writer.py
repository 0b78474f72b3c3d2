"""The Active Directory writer against a real Samba AD DC: a plan applied, applied again with zero writes (the
domain's highestCommittedUSN, which every write raises, does not move), then a churn of exactly its writes."""

from __future__ import annotations

import ssl

import ldap3
import pytest

from homeroom.targets import kind_of
from homeroom.targets.active_directory import writer
from tests.targets.ldap_loading import read_state
from tests.targets.ldap_plans import PASSWORD, op, small_plan
from tests.targets.servers import SambaDC

BASE = "OU=Provisioned,DC=homeroom,DC=test"
LINCOLN = f"OU=Lincoln High,OU=Schools,{BASE}"


def target(dc: SambaDC):
    return kind_of("active-directory").connect("District AD", dc.settings(base_dn=BASE), {"password": dc.admin_password})


def highest_usn(dc: SambaDC) -> int:
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(dc.tls.ca))
    server = ldap3.Server(dc.host, port=dc.ldaps_port, use_ssl=True, tls=tls, get_info=ldap3.NONE)  # no schema checks:
    connection = ldap3.Connection(server, dc.admin_user, dc.admin_password, auto_bind=True)  # a root DSE attribute
    connection.search("", "(objectClass=*)", search_scope=ldap3.BASE, attributes=["highestCommittedUSN"])
    usn = int(connection.response[0]["raw_attributes"]["highestCommittedUSN"][0])
    connection.unbind()
    return usn


def binds(dc: SambaDC, user: str, password: str) -> bool:
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(dc.tls.ca))
    connection = ldap3.Connection(ldap3.Server(dc.host, port=dc.ldaps_port, use_ssl=True, tls=tls), user, password)
    ok = connection.bind()
    connection.unbind()
    return ok


@pytest.fixture(scope="module")
def applied(samba_dc):
    t = target(samba_dc)
    results = writer.apply(t, small_plan(BASE))
    return t, {r["seq"]: r for r in results}


def test_the_plan_applies_with_one_add_per_user_and_the_exact_directory_results(samba_dc, applied):
    t, results = applied
    assert [s for s, r in results.items() if r["status"] != "done"] == [14]
    assert results[14]["error"] == ("user 'stu-4': sAMAccountName 'a.name.far.too.long.for.ad' must be 1 to 20 "
                                    "characters (set the naming template of sAMAccountName)")
    assert results[14]["writes"] == 0
    # A user is one add (password and userAccountControl in it); the first unit also made OU=Provisioned and
    # OU=Schools, the teacher OU=Staff; each membership is one modify.
    assert {s: r["writes"] for s, r in results.items()} == {
        1: 3, 2: 1, 10: 1, 11: 1, 12: 2, 13: 1, 14: 0, 20: 1, 21: 1, 22: 1,
        30: 1, 31: 1, 32: 1, 33: 1, 34: 1, 35: 1, 36: 1, 37: 1}
    ids = {s: r["accountId"] for s, r in results.items()}
    accounts, groups = read_state(t)
    assert accounts == {
        "ava.lee": account(ids[10], "ava.lee", "Ava", "Lee", "Ava Lee", True, f"CN=Ava Lee,{LINCOLN}", "stu-1"),
        "ben.ode": account(ids[11], "ben.ode", "Ben", "Ode", "Ben Ode", True, f"CN=Ben Ode,{LINCOLN}", "stu-2"),
        "t.cho": account(ids[12], "t.cho", "Carla", "Cho", "Carla Cho", True, f"CN=Carla Cho,OU=Staff,{BASE}", "tch-1"),
        "dee.ray": account(ids[13], "dee.ray", "Dee", "Ray", "Dee Ray", False,
                           f"CN=Dee Ray,OU=Roosevelt Middle,OU=Schools,{BASE}", "stu-3"),
    }
    students = sorted([ids[10], ids[11], ids[13]])
    assert {dn: (g["kind"], g["name"], g["display_name"], g["anchor"], g["members"], g["owners"])
            for dn, g in groups.items()} == {
        BASE: ("unit", "Provisioned", None, None, sorted(ids[s] for s in (10, 11, 12, 13)), []),
        f"OU=Schools,{BASE}": ("unit", "Schools", None, None, students, []),
        LINCOLN: ("unit", "Lincoln High", "Lincoln High School", "org-lincoln", sorted([ids[10], ids[11]]), []),
        f"OU=Roosevelt Middle,OU=Schools,{BASE}": ("unit", "Roosevelt Middle", "Roosevelt Middle School",
                                                   "org-roosevelt", [ids[13]], []),
        f"OU=Staff,{BASE}": ("unit", "Staff", None, None, [ids[12]], []),
        f"CN=algebra-1,{LINCOLN}": ("security", "algebra-1", "Algebra 1", "class-math", sorted([ids[10], ids[11]]), [ids[12]]),
        f"CN=all-students,OU=Staff,{BASE}": ("security", "all-students", "All students", "rolegroup:student", students, []),
        f"CN=staff-news,OU=Staff,{BASE}": ("distribution", "staff-news", "Staff news", "staff-news",
                                           sorted([ids[20], ids[12]]), []),
    }
    assert binds(samba_dc, "ava.lee@homeroom.test", PASSWORD)  # unicodePwd was set, the account enabled
    assert not binds(samba_dc, "dee.ray@homeroom.test", PASSWORD)  # created disabled


def account(account_id, user_name, given, family, display, enabled, dn, key) -> dict:
    return {"account_id": account_id, "user_name": user_name, "user_principal_name": f"{user_name}@homeroom.test",
            "mail": f"{user_name}@district.test", "employee_id": key, "external_id": None, "given_name": given,
            "family_name": family, "display_name": display, "enabled": enabled, "distinguished_name": dn,
            "anchor": key, "extra": None}


def test_applying_the_same_plan_again_writes_nothing_and_finds_every_object_by_its_anchor(samba_dc, applied):
    t, first = applied
    usn = highest_usn(samba_dc)
    again = {r["seq"]: r for r in writer.apply(t, small_plan(BASE))}  # no accountIds: as after a lost record
    assert {s: (r["status"], r["writes"]) for s, r in again.items() if s != 14} == {
        s: ("done", 0) for s in first if s != 14}
    assert {s: r["accountId"] for s, r in again.items()} == {s: r["accountId"] for s, r in first.items()}
    assert highest_usn(samba_dc) == usn
    connection = samba_dc.connection()
    connection.search("DC=homeroom,DC=test", "(employeeID=stu-1)", attributes=["objectGUID"])
    assert len([e for e in connection.response if e["type"] == "searchResEntry"]) == 1  # never a duplicate
    connection.unbind()


def test_a_churn_makes_exactly_its_writes(samba_dc, applied):
    t, first = applied
    ids = {s: r["accountId"] for s, r in first.items()}
    churn = [
        op(1, "update_unit", "unit", "org-lincoln", {"display_name": "Lincoln High (renamed)"}, accountId=ids[1]),
        op(2, "disable_user", "user", "stu-1", {}, accountId=ids[10], reason="UserInactiveDisable"),
        op(3, "update_user", "user", "stu-3", {"enabled": True, "mail": None}, accountId=ids[13]),
        op(4, "update_user", "user", "stu-2", {"display_name": "Benjamin Ode", "given_name": "Benjamin"},
           accountId=ids[11], reason="UserAttributeChanged"),
        op(5, "update_user", "user", "tch-1", {"distinguished_name": LINCOLN}, accountId=ids[12]),
        op(6, "remove_member", "group", "class-math", accountId=ids[20], memberKey="stu-2", memberId=ids[11]),
        op(7, "remove_owner", "group", "class-math", accountId=ids[20], memberKey="tch-1", memberId=ids[12]),
        op(8, "update_group", "group", "class-math", {"display_name": "Algebra 1 (period 2)"}, accountId=ids[20]),
        op(9, "remove_member", "group", "class-math", accountId=ids[20], memberKey="nobody"),
    ]
    usn = highest_usn(samba_dc)
    results = writer.apply(t, churn)
    assert [(r["seq"], r["status"], r["writes"], r["error"]) for r in results] == [
        (1, "done", 1, None), (2, "done", 1, None), (3, "done", 2, None), (4, "done", 1, None), (5, "done", 1, None),
        (6, "done", 1, None), (7, "done", 1, None), (8, "done", 1, None), (9, "done", 0, None)]
    assert highest_usn(samba_dc) > usn
    accounts, groups = read_state(t)
    assert (accounts["ava.lee"]["enabled"], accounts["dee.ray"]["enabled"], accounts["dee.ray"]["mail"]) == (False, True, None)
    assert accounts["t.cho"]["distinguished_name"] == f"CN=Carla Cho,{LINCOLN}"
    assert (accounts["ben.ode"]["given_name"], accounts["ben.ode"]["display_name"]) == ("Benjamin", "Benjamin Ode")
    math = groups[f"CN=algebra-1,{LINCOLN}"]
    assert (math["display_name"], math["members"], math["owners"]) == ("Algebra 1 (period 2)", [ids[10]], [])
    assert groups[LINCOLN]["display_name"] == "Lincoln High (renamed)"
    assert [r["writes"] for r in writer.apply(t, churn)] == [0] * 9


def test_an_operation_on_an_object_that_is_gone_fails_with_its_key_and_the_rest_goes_on(samba_dc, applied):
    t, first = applied
    results = writer.apply(t, [
        op(1, "update_user", "user", "stu-404", {"mail": "x@district.test"}, accountId="00000000-0000-0000-0000-000000000404"),
        op(2, "add_member", "group", "class-math", memberKey="stu-404"),
        op(3, "frobnicate", "user", "stu-1", {}),
        op(4, "update_user", "user", "stu-1", {"mail": "ava.lee@district.test"}, accountId=first[10]["accountId"]),
    ])
    assert [(r["status"], r["error"]) for r in results] == [
        ("failed", "no user with id '00000000-0000-0000-0000-000000000404' or employeeID 'stu-404' in "
                   f"'{BASE}'"),
        ("failed", "no account or group with id None or anchor 'stu-404' to be a member of 'class-math'"),
        ("failed", "operation 'frobnicate' is not one a directory target applies"),
        ("done", None),
    ]
