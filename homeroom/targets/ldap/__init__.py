"""The generic LDAP target (OpenLDAP, 389 Directory Server...): ``inetOrgPerson`` accounts keyed by ``entryUUID``,
``groupOfNames`` groups and ``organizationalUnit`` units, read over LDAPS (or StartTLS) with a service account."""

from __future__ import annotations

from collections.abc import Mapping

from homeroom.targets import register_kind
from homeroom.targets.base import TargetKind
from homeroom.targets.ldap.client import DirectoryTarget, LdapClient
from homeroom.targets.ldap.config import SECRETS, Config
from homeroom.targets.ldap.reader import LdapReader

KIND = "ldap"


class LdapTarget(DirectoryTarget):
    """An open generic LDAP target."""

    kind = KIND

    def __init__(self, name: str, config: Config, secrets: Mapping[str, str]):
        client = LdapClient(name, "LDAP", config, config.bind_dn, secrets.get("password", ""))
        super().__init__(name, config, client, LdapReader(client, config))


def open_target(name: str, config: Config, secrets: Mapping[str, str]) -> LdapTarget:
    return LdapTarget(name, config, secrets)


register_kind(TargetKind(name=KIND, title="LDAP directory", config=Config, secrets=SECRETS, open=open_target))
