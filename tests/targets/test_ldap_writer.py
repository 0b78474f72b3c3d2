"""The generic LDAP writer against a real slapd: a plan applied, applied again with zero writes (no entry's
``entryCSN``, which slapd stamps on every write, changes), then a churn of exactly its writes."""

from __future__ import annotations

import ldap3
import pytest

from homeroom.targets import kind_of
from homeroom.targets.ldap import writer
from tests.targets.ldap_loading import read_state
from tests.targets.ldap_plans import PASSWORD, op, small_plan
from tests.targets.servers import Slapd

BASE = "ou=Provisioned,dc=district,dc=test"
LINCOLN = f"ou=Lincoln High,ou=Schools,{BASE}"
DISABLED = f"ou=Disabled,{BASE}"


def target(server: Slapd, **overrides):
    # The service account may write here: the admin (the root DN), as a provisioning account would be granted.
    settings = server.settings(**{"base_dn": BASE, "bind_dn": server.admin_dn, "disabled_unit": DISABLED,
                                  "placeholder_member": server.reader_dn, **overrides})
    return kind_of("ldap").connect("District LDAP", settings, {"password": server.admin_password})


def stamps(server: Slapd) -> dict[str, str]:
    """Every entry's DN and entryCSN under the base (slapd changes an entry's entryCSN on each write)."""
    connection = server.connection()
    connection.search(BASE, "(objectClass=*)", attributes=["entryCSN"])
    found = {e["dn"]: e["raw_attributes"]["entryCSN"][0].decode() for e in connection.response}
    connection.unbind()
    return found


@pytest.fixture(scope="module")
def applied(slapd_server):
    t = target(slapd_server)
    return t, {r["seq"]: r for r in writer.apply(t, small_plan(BASE, upper=False))}


def account(account_id, user_name, given, family, display, enabled, dn, key) -> dict:
    return {"account_id": account_id, "user_name": user_name, "user_principal_name": None,
            "mail": f"{user_name}@district.test", "employee_id": key, "external_id": None, "given_name": given,
            "family_name": family, "display_name": display, "enabled": enabled, "distinguished_name": dn,
            "anchor": key, "extra": None}


def test_the_plan_applies_and_the_directory_holds_exactly_it(slapd_server, applied):
    t, results = applied
    assert {s: (r["status"], r["writes"]) for s, r in results.items()} == {
        1: ("done", 3), 2: ("done", 1), 10: ("done", 1), 11: ("done", 1), 12: ("done", 2), 13: ("done", 2),
        14: ("done", 1), 20: ("done", 1), 21: ("done", 1), 22: ("done", 1),
        # the first member of a groupOfNames also removes its placeholder
        30: ("done", 2), 31: ("done", 1), 32: ("done", 1), 33: ("done", 2), 34: ("done", 1), 35: ("done", 1),
        36: ("done", 2), 37: ("done", 1)}
    ids = {s: r["accountId"] for s, r in results.items()}
    accounts, groups = read_state(t)
    roosevelt = f"ou=Roosevelt Middle,ou=Schools,{BASE}"
    assert accounts == {
        "ava.lee": account(ids[10], "ava.lee", "Ava", "Lee", "Ava Lee", True, f"cn=Ava Lee,{LINCOLN}", "stu-1"),
        "ben.ode": account(ids[11], "ben.ode", "Ben", "Ode", "Ben Ode", True, f"cn=Ben Ode,{LINCOLN}", "stu-2"),
        "t.cho": account(ids[12], "t.cho", "Carla", "Cho", "Carla Cho", True, f"cn=Carla Cho,ou=Staff,{BASE}", "tch-1"),
        "dee.ray": account(ids[13], "dee.ray", "Dee", "Ray", "Dee Ray", False, f"cn=Dee Ray,{DISABLED}", "stu-3"),
        "a.name.far.too.long.for.ad": account(ids[14], "a.name.far.too.long.for.ad", "Eve", "Long", "Eve Long", True,
                                              f"cn=Eve Long,{roosevelt}", "stu-4"),
    }
    students = sorted([ids[10], ids[11], ids[13]])
    assert {dn: (g["kind"], g["name"], g["display_name"], g["anchor"], g["members"], g["owners"])
            for dn, g in groups.items()} == {
        BASE: ("unit", "Provisioned", None, None, sorted(ids[s] for s in (10, 11, 12, 13, 14)), []),
        f"ou=Schools,{BASE}": ("unit", "Schools", None, None, sorted([ids[10], ids[11], ids[14]]), []),
        LINCOLN: ("unit", "Lincoln High", "Lincoln High School", "org-lincoln", sorted([ids[10], ids[11]]), []),
        roosevelt: ("unit", "Roosevelt Middle", "Roosevelt Middle School", "org-roosevelt", [ids[14]], []),
        f"ou=Staff,{BASE}": ("unit", "Staff", None, None, [ids[12]], []),
        DISABLED: ("unit", "Disabled", None, None, [ids[13]], []),
        f"cn=algebra-1,{LINCOLN}": ("security", "algebra-1", "Algebra 1", "class-math", sorted([ids[10], ids[11]]), [ids[12]]),
        f"cn=all-students,ou=Staff,{BASE}": ("security", "all-students", "All students", "rolegroup:student", students, []),
        f"cn=staff-news,ou=Staff,{BASE}": ("security", "staff-news", "Staff news", "staff-news",
                                           sorted([ids[20], ids[12]]), []),
    }
    connection = ldap3.Connection(ldap3.Server(slapd_server.host, port=slapd_server.port), f"cn=Ava Lee,{LINCOLN}", PASSWORD)
    assert connection.bind()  # userPassword was set
    connection.unbind()


def test_applying_the_same_plan_again_writes_nothing(slapd_server, applied):
    t, first = applied
    before = stamps(slapd_server)
    again = {r["seq"]: r for r in writer.apply(t, small_plan(BASE, upper=False))}
    assert {s: (r["status"], r["writes"], r["accountId"]) for s, r in again.items()} == {
        s: ("done", 0, r["accountId"]) for s, r in first.items()}
    assert stamps(slapd_server) == before


def test_a_churn_makes_exactly_its_writes_and_a_group_emptied_keeps_its_placeholder(slapd_server, applied):
    t, first = applied
    ids = {s: r["accountId"] for s, r in first.items()}
    churn = [
        op(1, "disable_user", "user", "stu-1", {}, accountId=ids[10], reason="UserInactiveDisable"),
        op(2, "update_user", "user", "stu-3", {"enabled": True, "distinguished_name": LINCOLN}, accountId=ids[13]),
        op(3, "update_user", "user", "stu-2", {"given_name": "Benjamin", "mail": None}, accountId=ids[11]),
        op(4, "remove_member", "group", "class-math", accountId=ids[20], memberId=ids[10]),
        op(5, "remove_member", "group", "class-math", accountId=ids[20], memberId=ids[11]),
        op(6, "remove_owner", "group", "class-math", accountId=ids[20], memberId=ids[12]),
    ]
    results = writer.apply(t, churn)
    # emptying the group adds the placeholder back in the same step (a groupOfNames keeps one member)
    assert [(r["seq"], r["status"], r["writes"]) for r in results] == [
        (1, "done", 1), (2, "done", 1), (3, "done", 1), (4, "done", 1), (5, "done", 2), (6, "done", 1)]
    accounts, groups = read_state(t)
    assert (accounts["ava.lee"]["enabled"], accounts["ava.lee"]["distinguished_name"]) == (False, f"cn=Ava Lee,{DISABLED}")
    assert (accounts["dee.ray"]["enabled"], accounts["dee.ray"]["distinguished_name"]) == (True, f"cn=Dee Ray,{LINCOLN}")
    assert (accounts["ben.ode"]["given_name"], accounts["ben.ode"]["mail"]) == ("Benjamin", None)
    math = groups[f"cn=algebra-1,{LINCOLN}"]
    assert (math["members"], math["owners"]) == ([], [])
    connection = slapd_server.connection()
    connection.search(f"cn=algebra-1,{LINCOLN}", "(objectClass=*)", search_scope=ldap3.BASE, attributes=["member"])
    assert connection.response[0]["raw_attributes"]["member"] == [slapd_server.reader_dn.encode()]
    connection.unbind()
    assert [r["writes"] for r in writer.apply(t, churn)] == [0] * 6


def test_disabling_without_a_disabled_unit_fails_with_the_setting_to_add(slapd_server, applied):
    t, first = applied
    no_unit = target(slapd_server, disabled_unit=None)
    [result] = writer.apply(no_unit, [op(1, "disable_user", "user", "stu-4", {}, accountId=first[14]["accountId"])])
    assert (result["status"], result["error"]) == ("failed", (
        f"LDAP target 'District LDAP' (ldaps://127.0.0.1:{slapd_server.ldaps_port}) has no `disabled_unit` to disable "
        "an account in (LDAP has no disabled flag); set `disabled_unit` to the DN of an OU for disabled accounts"))
