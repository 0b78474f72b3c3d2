"""The generic LDAP target (OpenLDAP, 389 Directory Server...): ``inetOrgPerson`` accounts keyed by ``entryUUID``,
``groupOfNames`` groups and ``organizationalUnit`` units, read over LDAPS (or StartTLS) with a service account."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from homeroom.targets import register_kind
from homeroom.targets.base import DEFAULT_PAGE_SIZE, TargetKind
from homeroom.targets.ldap.client import LdapClient
from homeroom.targets.ldap.config import SECRETS, Config
from homeroom.targets.ldap.reader import LdapReader

KIND = "ldap"


class LdapTarget:
    """An open generic LDAP target (see :class:`homeroom.targets.base.Target`)."""

    kind = KIND

    def __init__(self, name: str, config: Config, secrets: Mapping[str, str]):
        self.name, self.config = name, config
        self.client = LdapClient(name, "LDAP", config, config.bind_dn, secrets.get("password", ""))
        self.reader = LdapReader(self.client, config)

    def check(self) -> None:
        self.client.check()

    def read_accounts(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        return self.reader.read_accounts(page_size)

    def read_groups(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        return self.reader.read_groups(page_size)

    def close(self) -> None:
        self.client.close()


def open_target(name: str, config: Config, secrets: Mapping[str, str]) -> LdapTarget:
    return LdapTarget(name, config, secrets)


register_kind(TargetKind(name=KIND, title="LDAP directory", config=Config, secrets=SECRETS, open=open_target))
