"""The generic LDAP target against a real OpenLDAP slapd: reading in pages, and its checks."""

from __future__ import annotations

import pytest

from homeroom.errors import PermanentError, TransientError
from homeroom.targets import ACCOUNT_SCHEMA, GROUP_SCHEMA, kind_of
from tests.targets.ldap_loading import expected_accounts, expected_groups, load_slapd, small_district
from tests.targets.servers import Slapd, free_port

BASE = "ou=District,dc=district,dc=test"
NAME = "District LDAP"


@pytest.fixture(scope="module")
def district(slapd_server: Slapd):
    accounts, groups = small_district(BASE, upper=False)
    connection = slapd_server.connection()
    loaded = load_slapd(connection, BASE, accounts, groups, placeholder=slapd_server.reader_dn)
    connection.unbind()
    return accounts, groups, loaded


def target(server: Slapd, password: str | None = None, **overrides):
    settings = server.settings(**{"base_dn": BASE, "disabled_unit": f"ou=Disabled,{BASE}", **overrides})
    return kind_of("ldap").connect(NAME, settings, {"password": server.reader_password if password is None else password})


def test_accounts_are_read_back_exactly_in_pages_smaller_than_the_directory(slapd_server, district):
    accounts, _, loaded = district
    pages = list(target(slapd_server).read_accounts(page_size=5))
    assert [len(p) for p in pages] == [5, 5, 5, 5, 2]
    rows = sorted((r for p in pages for r in p), key=lambda r: r["user_name"])
    assert [set(r) for r in rows] == [set(ACCOUNT_SCHEMA.names)] * 22
    assert rows == expected_accounts(accounts, loaded, user_principal_name=None)
    assert [r["user_name"] for r in rows if not r["enabled"]] == ["t.gone"]  # beneath disabled_unit


def test_extra_attributes_are_read_into_a_json_object(slapd_server, district):
    rows = {r["user_name"]: r for p in target(slapd_server, extra_attributes=["title"]).read_accounts() for r in p}
    assert rows["t.jones"]["extra"] == '{"title":"Teacher"}'
    assert rows["lh.student1"]["extra"] == '{"title":null}'


def test_groups_and_units_come_with_their_members_as_entry_uuids(slapd_server, district):
    accounts, groups, loaded = district
    pages = list(target(slapd_server).read_groups(page_size=2))
    rows = sorted(({**r, "members": sorted(r["members"])} for p in pages for r in p),
                  key=lambda r: r["distinguished_name"])
    assert all(len(p) <= 2 for p in pages)
    assert [set(r) for r in rows] == [set(GROUP_SCHEMA.names)] * 11
    assert rows == expected_groups(accounts, groups, loaded)
    empty = next(r for r in rows if r["name"] == "empty-club")
    assert empty["members"] == []  # its placeholder member (the service account) is not an account


def test_check_passes_over_ldaps_starttls_and_plain_and_all_read_the_same(slapd_server, district):
    ids = []
    for overrides in ({}, {"security": "starttls", "port": slapd_server.port},
                      {"security": "plain", "port": slapd_server.port}):
        t = target(slapd_server, **overrides)
        t.check()
        ids.append(sorted(r["account_id"] for p in t.read_accounts(page_size=7) for r in p))
        t.close()
    assert ids[0] == ids[1] == ids[2] and len(ids[0]) == 22


def test_an_unreachable_host_is_transient_and_names_the_target_and_what_to_fix(slapd_server):
    port = free_port()
    with pytest.raises(TransientError) as caught:
        target(slapd_server, port=port).check()
    assert str(caught.value) == (
        f"LDAP target 'District LDAP' (ldaps://127.0.0.1:{port}) is unreachable (socket connection error while "
        "opening: [Errno 111] Connection refused); check `host` and `port` and that the directory accepts "
        "connections from this machine.")


def test_a_refused_bind_names_the_account_and_the_secret(slapd_server):
    with pytest.raises(PermanentError) as caught:
        target(slapd_server, password="wrong").check()
    assert str(caught.value) == (
        "LDAP target 'District LDAP' (ldaps://127.0.0.1:%d) refused the bind of 'cn=homeroom,dc=district,dc=test' "
        "(invalidCredentials (49)): the account does not exist or the password is wrong; check the bind account and "
        "the `password` secret." % slapd_server.ldaps_port)


def test_an_account_that_cannot_read_the_base_dn_is_told_to_get_read_access(slapd_server, district):
    with pytest.raises(PermanentError) as caught:
        target(slapd_server, password=slapd_server.noread_password, bind_dn=slapd_server.noread_dn).check()
    assert str(caught.value) == (
        f"LDAP target 'District LDAP' (ldaps://127.0.0.1:{slapd_server.ldaps_port}): 'cn=noread,dc=district,dc=test' "
        f"cannot read the base DN '{BASE}' (noSuchObject (32)); check `base_dn`, or grant the service account read "
        "access to it.")


def test_a_certificate_from_an_unknown_ca_is_refused_with_the_fix(slapd_server):
    with pytest.raises(PermanentError, match=r"the TLS handshake failed \(\[SSL: CERTIFICATE_VERIFY_FAILED\] "
                                             r"certificate verify failed: .*\); set `ca_file`"):
        target(slapd_server, ca_file=None).check()


def test_a_timeout_in_fractions_of_a_second_connects(slapd_server, district):
    # A stored target's settings come back from JSON with a float timeout (15.0), which ldap3 could not pack.
    t = target(slapd_server, timeout_seconds=2.5)
    t.check()
    assert sum(len(p) for p in t.read_accounts(page_size=50)) == 22
