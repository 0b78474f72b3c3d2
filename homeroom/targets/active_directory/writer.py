"""Applying a plan's operations to Active Directory with its natural calls (see :mod:`homeroom.targets.ldap.writer`
for what every directory writer does: read first, write only what differs, find a create's object by its anchor).

- users: objectClass ``user`` with ``sAMAccountName`` (at most 20 characters), ``userPrincipalName``, ``mail``,
  names and ``employeeID`` (the anchor); created in one add with the password in ``unicodePwd`` (the quoted
  password in UTF-16-LE, which AD accepts only over an encrypted connection) and ``userAccountControl`` 512
  (an enabled normal account; 514, disabled, when the plan gives no password); disabling sets the
  ACCOUNTDISABLE bit (0x2) of ``userAccountControl`` and enabling clears it;
- groups: objectClass ``group`` with ``groupType`` -2147483646 (a global security group: security and class
  groups) or 2 (a global distribution group); members are ``member`` DNs; the one owner AD has is ``managedBy``;
- units: ``organizationalUnit`` (AD's counterpart of administrative units, one per school), ``displayName`` and
  the anchor in ``adminDescription``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import ldap3
from ldap3.utils.conv import escape_filter_chars

from homeroom.targets.active_directory.reader import ACCOUNTDISABLE, guid
from homeroom.targets.ldap.reader import dn_key, text, texts
from homeroom.targets.ldap.writer import DirectoryWriter, Entry, OperationFailed

GLOBAL_SECURITY, GLOBAL_DISTRIBUTION = -2147483646, 2
NORMAL_ACCOUNT = 0x200
MAX_SAM_ACCOUNT_NAME = 20


def encoded_password(password: str) -> bytes:
    """``unicodePwd``'s value: the password in double quotes, UTF-16-LE."""
    return f'"{password}"'.encode("utf-16-le")


class AdWriter(DirectoryWriter):
    """Writes to one Active Directory domain."""

    USER_ATTRIBUTES = {"user_name": "sAMAccountName", "user_principal_name": "userPrincipalName", "mail": "mail",
                       "given_name": "givenName", "family_name": "sn", "display_name": "displayName"}
    USER_CLASS = "user"
    GROUP_CLASS = "group"

    def user_filter(self) -> str:
        return self.config.user_filter

    def id_of(self, raw) -> str:
        return guid(raw) or ""

    def id_attribute(self) -> str:
        return "objectGUID"

    def get(self, object_kind: str, object_id: str) -> Entry | None:
        # AD takes <GUID=...> as a search base: one base-scope read, wherever the object has moved.
        entry = self._search_one(f"<GUID={escape_filter_chars(object_id)}>", "(objectClass=*)", scope=ldap3.BASE)
        if entry is None or not dn_key(entry.dn).endswith(dn_key(self.config.base_dn)):
            return None
        classes = {c.lower() for c in texts(entry.raw, "objectClass")}
        wanted = {"user": "user", "group": "group", "unit": "organizationalunit"}[object_kind]
        return entry if wanted in classes else None

    def unit_attributes(self, attributes, key) -> dict[str, Any]:
        desired = {"displayName": attributes.get("display_name")} if "display_name" in attributes else {}
        if key:
            desired[self.config.group_anchor_attribute] = key
        return desired

    # ----------------------------------------------------------------------------------------- users

    def create_user(self, key: str, attributes: Mapping[str, Any]) -> Entry:
        user_name = attributes.get("user_name")
        if not user_name or len(user_name) > MAX_SAM_ACCOUNT_NAME:
            raise OperationFailed(f"user {key!r}: sAMAccountName {user_name!r} must be 1 to {MAX_SAM_ACCOUNT_NAME} "
                                  "characters (set the naming template of sAMAccountName)")
        dn = self.object_dn(attributes, "CN", attributes.get("display_name") or user_name, self.config.base_dn)
        values = {k: v for k, v in self.user_attributes(attributes).items() if v not in (None, "")}
        values[self.config.anchor_attribute] = key
        password = attributes.get("password")
        enabled = attributes.get("enabled", True) and bool(password)
        if password:
            values["unicodePwd"] = encoded_password(password)
        values["userAccountControl"] = NORMAL_ACCOUNT | (0 if enabled else ACCOUNTDISABLE)
        self.ensure_container(dn)
        self.add(dn, self.USER_CLASS, values)
        return self.created("user", key, dn)

    def update_user(self, entry: Entry, attributes: Mapping[str, Any]) -> Entry:
        self.modify(entry.dn, self.changes(entry, self.user_attributes(attributes)), entry)
        if "enabled" in attributes:
            entry = self.set_enabled(entry, bool(attributes["enabled"]), attributes)
        if attributes.get("distinguished_name"):
            entry = self.move(entry, self.object_dn(attributes, "CN", text(entry.raw, "cn") or "", entry.dn))
        return entry

    def set_enabled(self, entry: Entry, enabled: bool, attributes) -> Entry:
        control = int(text(entry.raw, "userAccountControl") or NORMAL_ACCOUNT)
        wanted = control & ~ACCOUNTDISABLE if enabled else control | ACCOUNTDISABLE
        if wanted != control:
            self.modify(entry.dn, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [str(wanted)])]})
            entry.raw["userAccountControl"] = [str(wanted).encode()]
        return entry

    # ----------------------------------------------------------------------------------------- groups

    def group_attributes(self, attributes, op, key, *, create: bool) -> dict[str, Any]:
        desired: dict[str, Any] = {}
        if create or "name" in attributes:
            desired["sAMAccountName"] = attributes.get("name") or key
        if "display_name" in attributes:
            desired["displayName"] = attributes["display_name"]
        kind = op.get("groupKind")
        if create or kind:
            desired["groupType"] = GLOBAL_DISTRIBUTION if kind == "distribution" else GLOBAL_SECURITY
        if key:
            desired[self.config.group_anchor_attribute] = key
        return desired

    def add_value(self, group: Entry, attribute: str, dn: str) -> None:
        if attribute != "owner":
            return super().add_value(group, attribute, dn)
        current = text(group.raw, "managedBy")
        if current and dn_key(current) == dn_key(dn):
            return
        if current:
            raise OperationFailed(f"{group.dn!r} is already managed by {current!r}; an AD group has one owner "
                                  "(managedBy)")
        self.modify(group.dn, {"managedBy": [(ldap3.MODIFY_REPLACE, [dn])]})
        group.raw["managedBy"] = [dn.encode()]

    def remove_value(self, group: Entry, attribute: str, dn: str) -> None:
        if attribute != "owner":
            return super().remove_value(group, attribute, dn)
        current = text(group.raw, "managedBy")
        if current and dn_key(current) == dn_key(dn):
            self.modify(group.dn, {"managedBy": [(ldap3.MODIFY_DELETE, [])]})
            group.raw["managedBy"] = []


def apply(target: Any, ops: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Apply a plan's operations to an Active Directory target (the contract: ``homeroom/targets/base.py``)."""
    return AdWriter(target).apply(ops)
