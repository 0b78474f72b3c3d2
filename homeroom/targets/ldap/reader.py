"""Reading a generic LDAP directory as rows of ACCOUNT_SCHEMA and GROUP_SCHEMA, one page at a time.

- accounts: entries of ``account_filter`` (``inetOrgPerson``): ``entryUUID`` is the id, ``uid`` the user name,
  ``employeeNumber`` the employee id, ``cn``/``sn``/``givenName``/``displayName`` the names; an account beneath
  ``disabled_unit``, or locked by the password policy (``pwdAccountLockedTime``), is disabled;
- groups: entries of ``group_filter`` (``groupOfNames``), kind ``security``, whose ``member`` DNs become the
  members' ``entryUUID`` (members outside the base, or the placeholder an empty ``groupOfNames`` needs, are left out),
  and whose ``owner`` DNs become its owners the same way;
- units: entries of ``unit_filter`` (``organizationalUnit``), kind ``unit``, whose members are the accounts
  anywhere beneath them.

The helpers here (values of raw attributes, DNs, units with their members) serve the Active Directory reader too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from ldap3.utils.dn import parse_dn

from homeroom.targets.ldap.client import LdapClient
from homeroom.targets.ldap.config import Config

ACCOUNT_ATTRIBUTES = ("entryUUID", "uid", "mail", "employeeNumber", "givenName", "sn", "cn", "displayName",
                      "pwdAccountLockedTime")


def text(raw: dict[str, list[bytes]], name: str) -> str | None:
    """The first value of the raw attribute ``name`` as text, or None."""
    values = raw.get(name)
    return values[0].decode("utf-8", "replace") if values else None


def texts(raw: dict[str, list[bytes]], name: str) -> list[str]:
    return [v.decode("utf-8", "replace") for v in raw.get(name) or ()]


def extra_of(raw: dict[str, list[bytes]], names: Iterable[str]) -> str | None:
    """The ``extra`` column: a JSON object of the configured further attributes (lowercase keys), None if none.

    A single value is a string, several are a list, an absent attribute is null."""
    names = list(names)
    if not names:
        return None
    values: dict[str, Any] = {}
    for name in names:
        found = texts(raw, name)
        values[name.lower()] = found[0] if len(found) == 1 else (found or None)
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS).decode()


def dn_key(dn: str) -> str:
    """A DN in one spelling, for comparing DNs: lowercase, no spaces around separators, every value unescaped
    and then only ``\\``, ``,``, ``+`` escaped (as hex), so ``cn=Smith\\, Ann`` and ``CN=Smith\\2C Ann`` are one."""
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except Exception:  # noqa: BLE001 - a DN ldap3 cannot parse is compared as written
        return dn.lower()
    return "".join(f"{attr.lower()}={_canonical(value)}{separator}" for attr, value, separator in parts)


def _canonical(value: str) -> str:
    out, i = bytearray(), 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            pair = value[i + 1:i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                i += 3
                continue
            char, i = value[i + 1], i + 1
        out += char.encode()
        i += 1
    text = out.decode("utf-8", "replace").lower()
    return text.replace("\\", "\\5c").replace(",", "\\2c").replace("+", "\\2b")


def ancestors(key: str) -> Iterator[str]:
    """The keys (see :func:`dn_key`) of every entry above the one with ``key``, nearest first."""
    rdns = key.split(",")  # a key has no unescaped comma inside a value
    for start in range(1, len(rdns)):
        yield ",".join(rdns[start:])


def beneath(key: str, container: str | None) -> bool:
    return container is not None and key.endswith("," + container)


def units_with_members(units: list[dict[str, Any]], accounts: Iterable[tuple[str, str]],
                       page_size: int) -> Iterator[list[dict[str, Any]]]:
    """Unit rows (``members`` to fill) in pages, each given the ids of the accounts anywhere beneath it.

    ``accounts`` is (account DN key, account id) of every account; one pass over them."""
    by_key = {dn_key(unit["distinguished_name"]): unit for unit in units}
    for key, account_id in accounts:
        for above in ancestors(key):
            unit = by_key.get(above)
            if unit is not None:
                unit["members"].append(account_id)
    for start in range(0, len(units), page_size):
        yield units[start:start + page_size]


class LdapReader:
    """Pages of accounts and groups of one generic LDAP directory."""

    def __init__(self, client: LdapClient, config: Config):
        self.client, self.config = client, config
        self._disabled = dn_key(config.disabled_unit) if config.disabled_unit else None

    def _account_attributes(self) -> list[str]:
        return list(dict.fromkeys([*ACCOUNT_ATTRIBUTES, self.config.anchor_attribute, *self.config.extra_attributes]))

    def account_row(self, entry: dict[str, Any]) -> dict[str, Any]:
        raw, dn = entry["raw_attributes"], entry["dn"]
        return {
            "account_id": (text(raw, "entryUUID") or "").lower() or None,
            "user_name": text(raw, "uid"),
            "user_principal_name": None,
            "mail": text(raw, "mail"),
            "employee_id": text(raw, "employeeNumber"),
            "external_id": None,
            "given_name": text(raw, "givenName"),
            "family_name": text(raw, "sn"),
            "display_name": text(raw, "displayName") or text(raw, "cn"),
            "enabled": not (raw.get("pwdAccountLockedTime") or beneath(dn_key(dn), self._disabled)),
            "distinguished_name": dn,
            "anchor": text(raw, self.config.anchor_attribute),
            "extra": extra_of(raw, self.config.extra_attributes),
        }

    def read_accounts(self, page_size: int) -> Iterator[list[dict[str, Any]]]:
        attributes = self._account_attributes()
        for page in self.client.pages(self.config.base_dn, self.config.account_filter, attributes, page_size):
            yield [self.account_row(entry) for entry in page]

    def _ids_by_dn(self, search_filter: str, page_size: int) -> dict[str, str]:
        return {dn_key(e["dn"]): text(e["raw_attributes"], "entryUUID").lower()
                for page in self.client.pages(self.config.base_dn, search_filter, ["entryUUID"], max(page_size, 1000))
                for e in page if e["raw_attributes"].get("entryUUID")}

    def read_groups(self, page_size: int) -> Iterator[list[dict[str, Any]]]:
        c = self.config
        accounts = self._ids_by_dn(c.account_filter, page_size)
        groups = self._ids_by_dn(c.group_filter, page_size)
        members_by_dn = {**groups, **accounts}
        anchor = c.group_anchor_attribute
        attributes = list(dict.fromkeys(["entryUUID", "cn", "description", "displayName", "member", "owner", anchor]))
        for page in self.client.pages(c.base_dn, c.group_filter, attributes, page_size):
            rows = []
            for entry in page:
                raw = entry["raw_attributes"]
                members = [members_by_dn[k] for k in (dn_key(m) for m in texts(raw, "member")) if k in members_by_dn]
                owners = [members_by_dn[k] for k in (dn_key(m) for m in texts(raw, "owner")) if k in members_by_dn]
                rows.append({"group_id": text(raw, "entryUUID").lower(), "name": text(raw, "cn"),
                             "display_name": text(raw, "displayName") or text(raw, "description"), "kind": "security",
                             "distinguished_name": entry["dn"], "anchor": text(raw, anchor),
                             "members": list(dict.fromkeys(members)), "owners": list(dict.fromkeys(owners))})
            yield rows
        units = [{"group_id": text(e["raw_attributes"], "entryUUID").lower(), "name": text(e["raw_attributes"], "ou"),
                  "display_name": text(e["raw_attributes"], "description"), "kind": "unit",
                  "distinguished_name": e["dn"], "anchor": text(e["raw_attributes"], anchor), "members": [],
                  "owners": []}
                 for page in self.client.pages(c.base_dn, c.unit_filter, ["entryUUID", "ou", "description", anchor],
                                               page_size)
                 for e in page]
        yield from units_with_members(units, accounts.items(), page_size)
