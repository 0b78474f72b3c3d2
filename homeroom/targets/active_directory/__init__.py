"""The Active Directory target: users keyed by ``objectGUID``, security and distribution groups, OUs as units,
read over LDAPS with a service account and the paged results control."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from homeroom.targets import register_kind
from homeroom.targets.active_directory.client import open_client
from homeroom.targets.active_directory.config import SECRETS, Config
from homeroom.targets.active_directory.reader import AdReader
from homeroom.targets.base import DEFAULT_PAGE_SIZE, TargetKind

KIND = "active-directory"


class ActiveDirectoryTarget:
    """An open Active Directory target (see :class:`homeroom.targets.base.Target`)."""

    kind = KIND

    def __init__(self, name: str, config: Config, secrets: Mapping[str, str]):
        self.name, self.config = name, config
        self.client = open_client(name, config, secrets)
        self.reader = AdReader(self.client, config)

    def check(self) -> None:
        self.client.check()

    def read_accounts(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        return self.reader.read_accounts(page_size)

    def read_groups(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        return self.reader.read_groups(page_size)

    def close(self) -> None:
        self.client.close()


def open_target(name: str, config: Config, secrets: Mapping[str, str]) -> ActiveDirectoryTarget:
    return ActiveDirectoryTarget(name, config, secrets)


register_kind(TargetKind(name=KIND, title="Active Directory", config=Config, secrets=SECRETS, open=open_target))
