"""The Active Directory target: users keyed by ``objectGUID``, security and distribution groups, OUs as units,
read over LDAPS with a service account and the paged results control."""

from __future__ import annotations

from collections.abc import Mapping

from homeroom.targets import register_kind
from homeroom.targets.active_directory.client import open_client
from homeroom.targets.active_directory.config import SECRETS, Config
from homeroom.targets.active_directory.reader import AdReader
from homeroom.targets.base import TargetKind
from homeroom.targets.ldap.client import DirectoryTarget

KIND = "active-directory"


class ActiveDirectoryTarget(DirectoryTarget):
    """An open Active Directory target."""

    kind = KIND

    def __init__(self, name: str, config: Config, secrets: Mapping[str, str]):
        client = open_client(name, config, secrets)
        super().__init__(name, config, client, AdReader(client, config))


def open_target(name: str, config: Config, secrets: Mapping[str, str]) -> ActiveDirectoryTarget:
    return ActiveDirectoryTarget(name, config, secrets)


register_kind(TargetKind(name=KIND, title="Active Directory", config=Config, secrets=SECRETS, open=open_target))
