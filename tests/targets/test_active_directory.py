"""The Active Directory target against a real Samba AD domain controller: reading in pages, and its checks."""

from __future__ import annotations

import ldap3
import pytest

from homeroom.errors import PermanentError, TransientError
from homeroom.targets import ACCOUNT_SCHEMA, GROUP_SCHEMA, kind_of
from tests.targets.ldap_loading import expected_accounts, expected_groups, load_samba, small_district
from tests.targets.servers import SambaDC, free_port

BASE = "OU=District,DC=homeroom,DC=test"
NAME = "District AD"
NOREAD = ("noread@homeroom.test", "No-Read-Passw0rd!")


@pytest.fixture(scope="module")
def district(samba_dc: SambaDC):
    """The small district loaded under OU=District (``all-teachers`` a distribution group), plus an account that
    may sign in but is denied reading OU=Hidden."""
    accounts, groups = small_district(BASE)
    for group in groups:
        if group["name"] == "all-teachers":
            group["kind"] = "distribution"
    connection = samba_dc.connection()
    loaded = load_samba(connection, BASE, accounts, groups)
    hidden = "OU=Hidden,DC=homeroom,DC=test"
    connection.add(hidden, "organizationalUnit")
    user = "CN=noread,CN=Users,DC=homeroom,DC=test"
    connection.add(user, "user", {"sAMAccountName": "noread", "userPrincipalName": NOREAD[0]})
    connection.modify(user, {"unicodePwd": [(ldap3.MODIFY_REPLACE, [f'"{NOREAD[1]}"'.encode("utf-16-le")])]})
    connection.modify(user, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [0x200])]})
    connection.search(user, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["objectSid"])
    sid = connection.entries[0].objectSid.value
    # Deny reading properties, listing and reading the security descriptor of OU=Hidden and all beneath it.
    samba_dc.samba_tool("dsacl", "set", f"--objectdn={hidden}", f"--sddl=(D;CI;RPLCLORC;;;{sid})",
                        "-H", str(samba_dc.root / "private" / "sam.ldb"))
    connection.unbind()
    return accounts, groups, loaded


def target(dc: SambaDC, password: str | None = None, **overrides):
    return kind_of("active-directory").connect(NAME, dc.settings(**{"base_dn": BASE, **overrides}),
                                               {"password": dc.admin_password if password is None else password})


def test_accounts_are_read_back_exactly_in_pages_smaller_than_the_directory(samba_dc, district):
    accounts, _, loaded = district
    t = target(samba_dc)
    pages = list(t.read_accounts(page_size=5))
    t.close()
    assert [len(p) for p in pages] == [5, 5, 5, 5, 2]
    rows = sorted((r for p in pages for r in p), key=lambda r: r["user_name"])
    assert [set(r) for r in rows] == [set(ACCOUNT_SCHEMA.names)] * 22
    assert rows == expected_accounts(accounts, loaded)
    assert [r["user_name"] for r in rows if not r["enabled"]] == ["t.gone"]
    assert next(r for r in rows if r["user_name"] == "zoe.nunez")["given_name"] == "Zoë"
    assert next(r for r in rows if r["user_name"] == "t.smith")["distinguished_name"] == "CN=Smith\\, Ann,OU=Staff," + BASE


def test_extra_attributes_are_read_into_a_json_object_with_lowercase_keys(samba_dc, district):
    connection = samba_dc.connection()
    connection.modify(f"CN=Bob Jones,OU=Staff,{BASE}", {"department": [(ldap3.MODIFY_REPLACE, ["Science"])]})
    rows = {r["user_name"]: r for p in target(samba_dc, extra_attributes=["department"]).read_accounts() for r in p}
    assert rows["t.jones"]["extra"] == '{"department":"Science"}'
    assert rows["t.smith"]["extra"] == '{"department":null}'


def test_groups_and_units_come_with_their_members_as_object_guids(samba_dc, district):
    accounts, groups, loaded = district
    pages = list(target(samba_dc).read_groups(page_size=2))
    rows = sorted(({**r, "members": sorted(r["members"])} for p in pages for r in p), key=lambda r: r["distinguished_name"])
    assert all(len(p) <= 2 for p in pages)
    assert [set(r) for r in rows] == [set(GROUP_SCHEMA.names)] * 11
    assert rows == expected_groups(accounts, groups, loaded)
    kinds = {r["name"]: r["kind"] for r in rows}
    assert (kinds["math-101"], kinds["all-teachers"], kinds["Lincoln High"]) == ("security", "distribution", "unit")
    nested = next(r for r in rows if r["name"] == "all-teachers")
    assert loaded.groups[f"CN=math-101,OU=Lincoln High,OU=Schools,{BASE}"] in nested["members"]


def test_check_passes_over_ldaps_and_starttls_and_both_read_the_same(samba_dc, district):
    target(samba_dc).check()
    starttls = target(samba_dc, security="starttls", port=samba_dc.port)
    starttls.check()
    ldaps_ids = sorted(r["account_id"] for p in target(samba_dc).read_accounts() for r in p)
    assert sorted(r["account_id"] for p in starttls.read_accounts(page_size=10) for r in p) == ldaps_ids


def test_an_unreachable_host_is_transient_and_names_the_target_and_what_to_fix(samba_dc):
    port = free_port()
    with pytest.raises(TransientError) as caught:
        target(samba_dc, port=port).check()
    assert str(caught.value) == (
        f"Active Directory target 'District AD' (ldaps://127.0.0.1:{port}) is unreachable (socket connection error "
        "while opening: [Errno 111] Connection refused); check `host` and `port` and that the directory accepts "
        "connections from this machine.")
    assert caught.value.system == NAME


def test_a_wrong_password_says_it_is_the_password(samba_dc):
    with pytest.raises(PermanentError) as caught:
        target(samba_dc, password="not-the-password").check()
    assert str(caught.value) == ("Active Directory target 'District AD' (ldaps://127.0.0.1:636) refused the bind of "
                                 "'Administrator@homeroom.test': the password is wrong; check the `password` secret.")


def test_an_unknown_account_says_it_does_not_exist(samba_dc):
    with pytest.raises(PermanentError, match=r"refused the bind of 'nobody@homeroom\.test': "):
        target(samba_dc, bind_user="nobody@homeroom.test").check()


def test_a_password_bind_without_tls_is_refused_with_the_fix(samba_dc):
    with pytest.raises(PermanentError) as caught:
        target(samba_dc, security="plain", port=samba_dc.port).check()
    assert str(caught.value) == (
        "Active Directory target 'District AD' (ldap://127.0.0.1:389) requires TLS for a password bind "
        "(strongerAuthRequired (8): BindSimple: Transport encryption required.); use `security: ldaps` or `starttls`.")


def test_a_certificate_from_an_unknown_ca_is_refused_with_the_fix(samba_dc):
    with pytest.raises(PermanentError) as caught:
        target(samba_dc, ca_file=None).check()
    assert str(caught.value) == (
        "Active Directory target 'District AD' (ldaps://127.0.0.1:636): the TLS handshake failed ([SSL: "
        "CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate); set `ca_file` "
        "to the CA that signed the server's certificate (and `tls_server_name` if the certificate names another host).")


def test_an_account_that_cannot_read_the_base_dn_is_told_to_get_read_access(samba_dc, district):
    hidden = "OU=Hidden,DC=homeroom,DC=test"
    with pytest.raises(PermanentError) as caught:
        target(samba_dc, password=NOREAD[1], bind_user=NOREAD[0], base_dn=hidden).check()
    assert str(caught.value) == (
        f"Active Directory target 'District AD' (ldaps://127.0.0.1:636): 'noread@homeroom.test' cannot read the base "
        f"DN '{hidden}' (no entry); check `base_dn`, or grant the service account read access to it.")
    target(samba_dc, password=NOREAD[1], bind_user=NOREAD[0]).check()  # the same account reads OU=District


def test_a_base_dn_that_does_not_exist_is_named(samba_dc):
    with pytest.raises(PermanentError, match=r"cannot read the base DN 'OU=Nowhere,DC=homeroom,DC=test' \(noSuchObject \(32\)"):
        target(samba_dc, base_dn="OU=Nowhere,DC=homeroom,DC=test").check()


def test_a_missing_password_secret_is_named_before_connecting(samba_dc):
    with pytest.raises(PermanentError, match=r"has no password secret for 'Administrator@homeroom\.test'; set the "
                                             r"target's `password` secret\."):
        target(samba_dc, password="").check()
