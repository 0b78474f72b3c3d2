"""The LDAP and AD kinds without a server: registration, settings, DN comparison, and the servers' skip reason."""

from __future__ import annotations

import pydantic
import pytest

from homeroom.targets import kind_of
from homeroom.targets.active_directory.reader import plain_dn
from homeroom.targets.ldap.reader import ancestors, dn_key
from tests.targets import servers


def test_both_kinds_are_registered_with_a_password_secret():
    assert (kind_of("active-directory").title, kind_of("active-directory").secrets) == ("Active Directory", ("password",))
    assert (kind_of("ldap").title, kind_of("ldap").secrets) == ("LDAP directory", ("password",))


def test_settings_default_to_ldaps_on_636_and_refuse_unknown_names():
    config = kind_of("ldap").config.model_validate({"host": "ldap.district.org", "bind_dn": "cn=svc", "base_dn": "dc=d"})
    assert (config.url, config.security, config.verify_certificate) == ("ldaps://ldap.district.org:636", "ldaps", True)
    starttls = kind_of("active-directory").config.model_validate(
        {"host": "dc1", "bind_user": "svc@d", "base_dn": "DC=d", "security": "starttls"})
    assert starttls.url == "ldap://dc1:389"
    with pytest.raises(pydantic.ValidationError, match="bind_dnn"):
        kind_of("ldap").config.model_validate({"host": "h", "bind_dnn": "cn=svc", "base_dn": "dc=d"})


def test_one_dn_in_its_spellings_has_one_key():
    assert dn_key("cn=Smith\\2C Ann, ou=Staff,DC=x") == dn_key("CN=Smith\\, Ann,OU=Staff,DC=x") == "cn=smith\\2c ann,ou=staff,dc=x"
    assert dn_key("CN=Zo\\C3\\AB,OU=a") == dn_key("cn=zoë,ou=A") == "cn=zoë,ou=a"
    assert list(ancestors(dn_key("CN=Smith\\, Ann,OU=Staff,DC=x"))) == ["ou=staff,dc=x", "dc=x"]


def test_the_extended_dn_prefix_is_taken_off_an_entry_dn():
    assert plain_dn("<GUID=4ad0091c-5c59-4df9-97cb-dbc80a234cd2>;<SID=S-1-5-21-1-2-3-500>;CN=A,DC=x") == "CN=A,DC=x"


def test_a_missing_server_program_is_a_one_line_reason():
    with pytest.raises(servers.ServerUnavailable) as caught:
        servers._need("slapd", "no-such-directory-server")
    assert str(caught.value) == "no-such-directory-server not installed (Debian packages samba, slapd, ldap-utils)"
