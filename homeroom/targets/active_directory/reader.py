"""Reading an Active Directory domain as rows of ACCOUNT_SCHEMA and GROUP_SCHEMA, one page at a time.

- accounts: users of ``user_filter``; ``objectGUID`` (as a lowercase GUID string) is the id, ``sAMAccountName``
  the user name; ``userAccountControl`` bit 0x2 (ACCOUNTDISABLE) makes an account disabled;
- groups: ``group`` objects, kind ``security`` when ``groupType`` has its security bit (0x80000000), else
  ``distribution``; members (users, and groups for nested groups) come as objectGUIDs through the extended DN
  control, in one pass; ldap3 follows AD's ranged answers (``member;range=0-1499``) of large groups; the owner
  is ``managedBy`` (AD has one);
- units: OUs, kind ``unit``, whose members are the accounts anywhere beneath them.

Pages are the server's pages (the paged results control, ``1.2.840.113556.1.4.319``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

from homeroom.targets.active_directory.client import EXTENDED_DN, AdClient
from homeroom.targets.active_directory.config import Config
from homeroom.targets.ldap.reader import dn_key, extra_of, text, units_with_members

ACCOUNT_ATTRIBUTES = ("objectGUID", "sAMAccountName", "userPrincipalName", "mail", "employeeID", "givenName", "sn",
                      "displayName", "userAccountControl")
ACCOUNTDISABLE = 0x2
SECURITY_ENABLED = 0x80000000
_GUID = re.compile(rb"<GUID=([0-9a-fA-F-]{36})>")
_EXTENDED_PREFIX = re.compile(r"^(<[^>]*>;)+")


def guid(raw: dict[str, list[bytes]]) -> str | None:
    """objectGUID (16 bytes, little-endian fields) as AD writes it: ``4ad0091c-5c59-4df9-97cb-dbc80a234cd2``."""
    values = raw.get("objectGUID")
    return str(uuid.UUID(bytes_le=values[0])) if values else None


def plain_dn(dn: str) -> str:
    """An entry's DN without the ``<GUID=...>;<SID=...>;`` the extended DN control puts before it."""
    return _EXTENDED_PREFIX.sub("", dn)


class AdReader:
    """Pages of accounts and groups of one AD domain."""

    def __init__(self, client: AdClient, config: Config):
        self.client, self.config = client, config

    def account_row(self, entry: dict[str, Any]) -> dict[str, Any]:
        raw = entry["raw_attributes"]
        control = text(raw, "userAccountControl")
        return {
            "account_id": guid(raw),
            "user_name": text(raw, "sAMAccountName"),
            "user_principal_name": text(raw, "userPrincipalName"),
            "mail": text(raw, "mail"),
            "employee_id": text(raw, "employeeID"),
            "external_id": None,
            "given_name": text(raw, "givenName"),
            "family_name": text(raw, "sn"),
            "display_name": text(raw, "displayName"),
            "enabled": not (int(control) & ACCOUNTDISABLE) if control else True,
            "distinguished_name": entry["dn"],
            "anchor": text(raw, self.config.anchor_attribute),
            "extra": extra_of(raw, self.config.extra_attributes),
        }

    def read_accounts(self, page_size: int) -> Iterator[list[dict[str, Any]]]:
        c = self.config
        attributes = list(dict.fromkeys([*ACCOUNT_ATTRIBUTES, c.anchor_attribute, *c.extra_attributes]))
        for page in self.client.pages(c.base_dn, c.user_filter, attributes, page_size):
            yield [self.account_row(entry) for entry in page]

    def read_groups(self, page_size: int) -> Iterator[list[dict[str, Any]]]:
        c = self.config
        anchor = c.group_anchor_attribute
        attributes = list(dict.fromkeys(["objectGUID", "sAMAccountName", "cn", "displayName", "groupType", "member",
                                         "managedBy", anchor]))
        for page in self.client.pages(c.base_dn, c.group_filter, attributes, page_size, controls=[EXTENDED_DN]):
            rows = []
            for entry in page:
                raw = entry["raw_attributes"]
                group_type = int(text(raw, "groupType") or 0)
                members, owners = ([str(uuid.UUID(found.group(1).decode())) for value in raw.get(name) or ()
                                    if (found := _GUID.match(value))] for name in ("member", "managedBy"))
                rows.append({"group_id": guid(raw), "name": text(raw, "sAMAccountName") or text(raw, "cn"),
                             "display_name": text(raw, "displayName"),
                             "kind": "security" if group_type & SECURITY_ENABLED else "distribution",
                             "distinguished_name": plain_dn(entry["dn"]), "anchor": text(raw, anchor),
                             "members": members, "owners": owners})
            yield rows
        units = [{"group_id": guid(e["raw_attributes"]), "name": text(e["raw_attributes"], "ou"),
                  "display_name": text(e["raw_attributes"], "displayName") or text(e["raw_attributes"], "description"),
                  "kind": "unit", "distinguished_name": e["dn"], "anchor": text(e["raw_attributes"], anchor),
                  "members": [], "owners": []}
                 for page in self.client.pages(c.base_dn, c.unit_filter,
                                               ["objectGUID", "ou", "displayName", "description", anchor], page_size)
                 for e in page]
        accounts = ((dn_key(e["dn"]), guid(e["raw_attributes"]))
                    for page in self.client.pages(c.base_dn, c.user_filter, ["objectGUID"], max(page_size, 1000))
                    for e in page)
        yield from units_with_members(units, accounts, page_size)
