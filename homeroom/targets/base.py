"""What every directory target is: the shape of its accounts and groups, and the calls a target answers.

A target is a directory Homeroom reads (snapshots, for matching) and later writes (provisioning):
Active Directory, a generic LDAP server, a SCIM 2.0 service, Microsoft Entra ID, Google Workspace.
Each lives in a folder of its own under ``homeroom/targets/<kind>/`` with the same files:

- ``config.py``: the target's settings as a Pydantic model (``Config``), and the names of its secrets
  (``SECRETS``), which are kept write-only in the store and never logged;
- ``client.py``: opening a connection from a config and its secrets, and ``check()``;
- ``reader.py``: reading accounts and groups in pages, as rows of :data:`ACCOUNT_SCHEMA` and :data:`GROUP_SCHEMA`;
- ``writer.py`` (provisioning): applying a plan's operations with the target's natural calls.

Adding a target is copying that shape and registering a :class:`TargetKind` in ``homeroom/targets/__init__.py``.

Every target maps its own attributes onto one account shape, so that matching and planning are the same code
for all of them. ``account_id`` is the directory's own stable id (AD ``objectGUID`` as a lowercase GUID string,
LDAP ``entryUUID``, the SCIM ``id``, the Entra object id, the Google user id): it never changes when an account is
renamed, and it is what a match link and every later write point at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

#: One directory account. ``user_name`` is the target's own login name (AD ``sAMAccountName``, LDAP ``uid``,
#: SCIM ``userName``, Entra ``userPrincipalName``, Google ``primaryEmail``); ``anchor`` is the value of the
#: attribute Homeroom writes its own identifier into (``employeeID``, ``externalId``, an extension attribute),
#: null when the account has none; ``extra`` is a JSON object of further attributes read (lowercase keys), for
#: matching on an extension attribute; ``enabled`` is false for a disabled account.
ACCOUNT_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("user_name", pa.string()),
        ("user_principal_name", pa.string()),
        ("mail", pa.string()),
        ("employee_id", pa.string()),
        ("external_id", pa.string()),
        ("given_name", pa.string()),
        ("family_name", pa.string()),
        ("display_name", pa.string()),
        ("enabled", pa.bool_()),
        ("distinguished_name", pa.string()),
        ("anchor", pa.string()),
        ("extra", pa.string()),
    ]
)

#: The kinds of group a target holds: security and distribution groups, class groups (Entra education
#: classes, SCIM/Google groups made for a class), and units (AD/LDAP organizational units, Entra
#: administrative units, Google org units).
GROUP_KINDS = ("security", "distribution", "class", "unit")

#: One directory group or unit; ``members`` are the account ids (and group ids, for nested groups) in it;
#: ``owners`` those that own it where the target has owners (Entra, Google), else empty.
GROUP_SCHEMA = pa.schema(
    [
        ("group_id", pa.string()),
        ("name", pa.string()),
        ("display_name", pa.string()),
        ("kind", pa.string()),
        ("distinguished_name", pa.string()),
        ("anchor", pa.string()),
        ("members", pa.list_(pa.string())),
        ("owners", pa.list_(pa.string())),
    ]
)

#: Rows per page when reading a directory; each target's paging control asks for this many.
DEFAULT_PAGE_SIZE = 1000


class Target(Protocol):
    """An open connection to one directory."""

    kind: str
    name: str

    def check(self) -> None:
        """Connect and sign in; raise :class:`homeroom.errors.ExternalError` (or ``ConfigurationError``) whose
        message names the target and what to fix: unreachable host, bad credentials, missing permission."""

    def read_accounts(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        """Every account, one page at a time, as rows of :data:`ACCOUNT_SCHEMA`."""

    def read_groups(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        """Every group and unit, one page at a time, as rows of :data:`GROUP_SCHEMA`."""

    def close(self) -> None:
        """Release the connection."""


@dataclass(frozen=True)
class TargetKind:
    """A kind of target: its name (``active-directory``, ``ldap``, ``scim``, ``entra``, ``google``), its
    settings model, the names of its secrets, and how to open one."""

    name: str
    title: str
    config: type
    secrets: tuple[str, ...]
    open: Any  # (name: str, config: Config, secrets: Mapping[str, str]) -> Target

    def connect(self, name: str, config: Mapping[str, Any], secrets: Mapping[str, str]) -> Target:
        """A connection to the target ``name`` from its stored settings and secrets (settings validated)."""
        return self.open(name, self.config.model_validate(dict(config)), dict(secrets))
