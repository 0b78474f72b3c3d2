"""Loading a planted directory into the real test servers (Samba AD, slapd) with plain ldap3 adds.

The input is the targets' own shape, so any planted directory can be loaded: accounts are dicts of
ACCOUNT_SCHEMA's columns (``account_id`` is ignored: the server assigns it), groups and units dicts of
GROUP_SCHEMA's (``members`` name accounts by ``user_name`` and groups by ``name``). ``distinguished_name`` says
where an entry goes; missing OUs above it are created. An account's ``extra`` (a JSON object) holds further
attributes to write as they are.

Each loader returns the server's ids (objectGUID / entryUUID, read back with a bare search, not through the
readers under test) by account ``user_name`` and by group/unit ``distinguished_name``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ldap3

AD_SECURITY_GLOBAL = -2147483646  # 0x80000002
AD_DISTRIBUTION_GLOBAL = 2
AD_NORMAL_ACCOUNT, AD_ACCOUNTDISABLE = 0x200, 0x2


@dataclass
class Loaded:
    """The server's ids of what was loaded."""

    accounts: dict[str, str] = field(default_factory=dict)  # user_name -> id
    dns: dict[str, str] = field(default_factory=dict)  # user_name -> the DN as the server spells it
    groups: dict[str, str] = field(default_factory=dict)  # distinguished_name -> id


def _ok(connection: ldap3.Connection, what: str) -> None:
    if connection.result["result"] not in (0, 68):  # 68: entryAlreadyExists (an OU two loads share)
        raise AssertionError(f"{what}: {connection.result}")


def _rdn_value(dn: str) -> tuple[str, str]:
    first = ldap3.utils.dn.parse_dn(dn, escape=False)[0]
    return first[0], first[1]


def _parents(dn: str) -> list[str]:
    """The DNs above ``dn`` and ``dn`` itself, farthest first."""
    parts = ldap3.utils.dn.to_dn(dn)
    return [",".join(parts[i:]) for i in range(len(parts) - 1, -1, -1)]


def _ensure_ous(connection: ldap3.Connection, dns: Iterable[str], base: str, object_class: str | list[str]) -> None:
    seen: set[str] = set()
    for dn in dns:
        for parent in _parents(dn):
            if parent.lower() in seen or not parent.lower().endswith(base.lower()) or len(parent) < len(base):
                continue
            attr, value = _rdn_value(parent)
            if attr.lower() == "ou":
                connection.add(parent, object_class, {"ou": value})
                _ok(connection, f"adding {parent}")
            seen.add(parent.lower())


def _load_units(connection: ldap3.Connection, units: list[dict], display: str, anchor: str) -> None:
    """Give each unit (an OU :func:`_ensure_ous` made) its display name and anchor."""
    for unit in units:
        changes = {attr: [(ldap3.MODIFY_REPLACE, [unit[column]])]
                   for column, attr in (("display_name", display), ("anchor", anchor)) if unit.get(column)}
        if changes:
            connection.modify(unit["distinguished_name"], changes)
            _ok(connection, f"describing unit {unit['distinguished_name']}")


def _attributes(entry: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    out = {attr: entry[column] for column, attr in mapping.items() if entry.get(column) not in (None, "")}
    out.update(json.loads(entry.get("extra") or "{}"))
    return out


def _member_dns(group: Mapping[str, Any], account_dns: Mapping[str, str], group_dns: Mapping[str, str]) -> list[str]:
    return [account_dns.get(m) or group_dns[m] for m in group.get("members") or ()]


# ------------------------------------------------------------------------------------------------ Samba AD

AD_COLUMNS = {"user_name": "sAMAccountName", "user_principal_name": "userPrincipalName", "mail": "mail",
              "employee_id": "employeeID", "given_name": "givenName", "family_name": "sn",
              "display_name": "displayName"}


def load_samba(connection: ldap3.Connection, base: str, accounts: list[dict], groups: list[dict] = (),
               *, password: str = "Planted-Passw0rd!") -> Loaded:
    """Add ``accounts`` (users with a password, enabled or disabled) and ``groups`` (security/distribution
    groups, and units: OUs) under ``base`` through an Administrator connection over LDAPS."""
    units = [g for g in groups if g["kind"] == "unit"]
    plain = [g for g in groups if g["kind"] != "unit"]
    dns = [a["distinguished_name"] for a in accounts] + [g["distinguished_name"] for g in groups] + [base]
    _ensure_ous(connection, dns, base, "organizationalUnit")
    _load_units(connection, units, "displayName", "adminDescription")
    encoded = f'"{password}"'.encode("utf-16-le")
    for account in accounts:
        dn = account["distinguished_name"]
        connection.add(dn, "user", _attributes(account, AD_COLUMNS))
        _ok(connection, f"adding {dn}")
        connection.modify(dn, {"unicodePwd": [(ldap3.MODIFY_REPLACE, [encoded])]})
        _ok(connection, f"setting the password of {dn}")
        control = AD_NORMAL_ACCOUNT | (0 if account.get("enabled", True) else AD_ACCOUNTDISABLE)
        connection.modify(dn, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [control])]})
        _ok(connection, f"enabling {dn}")
    account_dns = {a["user_name"]: a["distinguished_name"] for a in accounts}
    group_dns = {g["name"]: g["distinguished_name"] for g in plain}
    for group in plain:  # every group first, members after: nested groups may name each other
        attributes = {"sAMAccountName": group["name"],
                      "groupType": AD_SECURITY_GLOBAL if group["kind"] == "security" else AD_DISTRIBUTION_GLOBAL}
        if group.get("display_name"):
            attributes["displayName"] = group["display_name"]
        if group.get("anchor"):
            attributes["adminDescription"] = group["anchor"]
        connection.add(group["distinguished_name"], "group", attributes)
        _ok(connection, f"adding group {group['distinguished_name']}")
    for group in plain:
        members = _member_dns(group, account_dns, group_dns)
        if members:
            connection.modify(group["distinguished_name"], {"member": [(ldap3.MODIFY_ADD, members)]})
            _ok(connection, f"adding members to {group['distinguished_name']}")
    loaded = Loaded()
    for account in accounts:
        loaded.accounts[account["user_name"]], loaded.dns[account["user_name"]] = _id(
            connection, account["distinguished_name"], "objectGUID")
    for group in groups:
        loaded.groups[group["distinguished_name"]] = _id(connection, group["distinguished_name"], "objectGUID")[0]
    return loaded


# ------------------------------------------------------------------------------------------------ slapd

LDAP_COLUMNS = {"user_name": "uid", "mail": "mail", "employee_id": "employeeNumber", "given_name": "givenName",
                "family_name": "sn", "display_name": "displayName"}


def load_slapd(connection: ldap3.Connection, base: str, accounts: list[dict], groups: list[dict] = (),
               *, placeholder: str | None = None) -> Loaded:
    """Add ``accounts`` (inetOrgPerson, ``cn`` from the DN) and ``groups`` (groupOfNames, units:
    organizationalUnit) under ``base``; an empty group gets ``placeholder`` as its one member."""
    units = [g for g in groups if g["kind"] == "unit"]
    plain = [g for g in groups if g["kind"] != "unit"]
    dns = [a["distinguished_name"] for a in accounts] + [g["distinguished_name"] for g in groups] + [base]
    _ensure_ous(connection, dns, base, "organizationalUnit")
    _load_units(connection, units, "description", "businessCategory")
    for account in accounts:
        dn = account["distinguished_name"]
        attributes = _attributes(account, LDAP_COLUMNS)
        attributes["cn"] = _rdn_value(dn)[1] if _rdn_value(dn)[0].lower() == "cn" else account["user_name"]
        attributes.setdefault("sn", account["user_name"])
        connection.add(dn, "inetOrgPerson", attributes)
        _ok(connection, f"adding {dn}")
    account_dns = {a["user_name"]: a["distinguished_name"] for a in accounts}
    group_dns = {g["name"]: g["distinguished_name"] for g in plain}
    for group in plain:
        attributes = {"cn": group["name"], "member": [placeholder or base]}
        if group.get("display_name"):
            attributes["description"] = group["display_name"]
        if group.get("anchor"):
            attributes["businessCategory"] = group["anchor"]
        connection.add(group["distinguished_name"], "groupOfNames", attributes)
        _ok(connection, f"adding group {group['distinguished_name']}")
    for group in plain:
        members = _member_dns(group, account_dns, group_dns)
        if members:
            connection.modify(group["distinguished_name"], {"member": [(ldap3.MODIFY_ADD, members)]})
            _ok(connection, f"adding members to {group['distinguished_name']}")
            connection.modify(group["distinguished_name"], {"member": [(ldap3.MODIFY_DELETE, [placeholder or base])]})
            _ok(connection, f"removing the placeholder of {group['distinguished_name']}")
    loaded = Loaded()
    for account in accounts:
        loaded.accounts[account["user_name"]], loaded.dns[account["user_name"]] = _id(
            connection, account["distinguished_name"], "entryUUID")
    for group in groups:
        loaded.groups[group["distinguished_name"]] = _id(connection, group["distinguished_name"], "entryUUID")[0]
    return loaded


def _id(connection: ldap3.Connection, dn: str, attribute: str) -> tuple[str, str]:
    """The entry's id and its DN as the server spells it."""
    connection.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=[attribute])
    entry = connection.response[0]
    value = entry["raw_attributes"][attribute][0]
    return (str(uuid.UUID(bytes_le=value)) if attribute == "objectGUID" else value.decode().lower()), entry["dn"]


# ------------------------------------------------------------------------------------------------ a small district


def small_district(base: str, *, upper: bool = True) -> tuple[list[dict], list[dict]]:
    """22 accounts (students in two schools, teachers, hand-made ones; one disabled, one without mail, one with a
    comma in its name, non-ASCII names) and their groups and units, under ``base`` (the district's own OU)."""
    cn, ou = ("CN", "OU") if upper else ("cn", "ou")
    schools = f"{ou}=Schools,{base}"
    lincoln, roosevelt = f"{ou}=Lincoln High,{schools}", f"{ou}=Roosevelt Middle,{schools}"
    staff, disabled = f"{ou}=Staff,{base}", f"{ou}=Disabled,{base}"
    accounts: list[dict] = []

    def account(user_name, given, family, container, *, employee_id=None, mail=True, enabled=True, name=None, extra=None):
        display = name or f"{given} {family}"
        rdn = display.replace(",", "\\,")
        accounts.append({"account_id": None, "user_name": user_name,
                         "user_principal_name": f"{user_name}@homeroom.test" if upper else None,
                         "mail": f"{user_name}@district.test" if mail else None, "employee_id": employee_id,
                         "external_id": None, "given_name": given, "family_name": family, "display_name": display,
                         "enabled": enabled, "distinguished_name": f"{cn}={rdn},{container}", "anchor": employee_id,
                         "extra": json.dumps(extra) if extra else None})

    for i in range(1, 10):
        account(f"lh.student{i}", f"Student{i}", "Lincoln", f"{ou}=Students,{lincoln}", employee_id=f"stu-{i:03}")
    for i in range(10, 18):
        account(f"rm.student{i}", f"Student{i}", "Roosevelt", f"{ou}=Students,{roosevelt}", employee_id=f"stu-{i:03}")
    account("zoe.nunez", "Zoë", "Ñúñez", f"{ou}=Students,{roosevelt}", employee_id="stu-018")
    account("t.smith", "Ann", "Smith", staff, employee_id="tch-001", name="Smith, Ann", extra={"title": "Teacher"})
    account("t.jones", "Bob", "Jones", staff, employee_id="tch-002", extra={"title": "Teacher"})
    account("t.gone", "Carl", "Gone", disabled, employee_id="tch-003", enabled=False)
    account("handmade1", "Hand", "Made", staff, mail=False)
    units = [
        {"name": "District", "display_name": None, "kind": "unit", "distinguished_name": base, "anchor": None},
        {"name": "Schools", "display_name": None, "kind": "unit", "distinguished_name": schools, "anchor": None},
        {"name": "Lincoln High", "display_name": "Lincoln High School", "kind": "unit", "distinguished_name": lincoln,
         "anchor": "org-lincoln"},
        {"name": "Roosevelt Middle", "display_name": "Roosevelt Middle School", "kind": "unit",
         "distinguished_name": roosevelt, "anchor": "org-roosevelt"},
        {"name": "Students", "display_name": None, "kind": "unit", "distinguished_name": f"{ou}=Students,{lincoln}",
         "anchor": None},
        {"name": "Students", "display_name": None, "kind": "unit", "distinguished_name": f"{ou}=Students,{roosevelt}",
         "anchor": None},
        {"name": "Staff", "display_name": None, "kind": "unit", "distinguished_name": staff, "anchor": None},
        {"name": "Disabled", "display_name": None, "kind": "unit", "distinguished_name": disabled, "anchor": None},
    ]
    groups = [
        {"name": "math-101", "display_name": "Math 101", "kind": "security", "distinguished_name": f"{cn}=math-101,{lincoln}",
         "anchor": "class-math-101", "members": ["t.smith", *[f"lh.student{i}" for i in range(1, 6)]]},
        {"name": "all-teachers", "display_name": "All teachers", "kind": "security",
         "distinguished_name": f"{cn}=all-teachers,{staff}", "anchor": "rolegroup:teacher",
         "members": ["t.smith", "t.jones", "math-101"]},
        {"name": "empty-club", "display_name": None, "kind": "security", "distinguished_name": f"{cn}=empty-club,{staff}",
         "anchor": None, "members": []},
    ]
    for unit in units:
        unit.update({"group_id": None, "members": [], "owners": []})
    for group in groups:
        group.update({"group_id": None, "owners": []})
    return accounts, units + groups


# ------------------------------------------------------------------------------------------------ what a reader should give


def expected_accounts(accounts: list[dict], loaded: Loaded, **fixed: Any) -> list[dict]:
    """The account rows a reader should give for loaded ``accounts`` (sorted by user name); ``fixed`` columns
    the target does not have (``user_principal_name`` in LDAP) are set as given."""
    return sorted(({**a, "account_id": loaded.accounts[a["user_name"]], "distinguished_name": loaded.dns[a["user_name"]],
                    "extra": None, **fixed} for a in accounts), key=lambda r: r["user_name"])


def expected_groups(accounts: list[dict], groups: list[dict], loaded: Loaded) -> list[dict]:
    """The group and unit rows a reader should give (members sorted; a unit's: the accounts beneath it)."""
    ids = {**{a["user_name"]: loaded.accounts[a["user_name"]] for a in accounts},
           **{g["name"]: loaded.groups[g["distinguished_name"]] for g in groups if g["kind"] != "unit"}}
    rows = []
    for g in groups:
        if g["kind"] == "unit":
            members = [loaded.accounts[a["user_name"]] for a in accounts
                       if a["distinguished_name"].lower().endswith("," + g["distinguished_name"].lower())]
        else:
            members = [ids[m] for m in g["members"]]
        rows.append({**g, "group_id": loaded.groups[g["distinguished_name"]], "members": sorted(members)})
    return sorted(rows, key=lambda r: r["distinguished_name"])


def read_state(target: Any) -> tuple[dict, dict]:
    """Everything a target reads, in small pages: accounts by user name, groups by DN (members sorted)."""
    accounts = {r["user_name"]: r for p in target.read_accounts(page_size=3) for r in p}
    groups = {r["distinguished_name"]: {**r, "members": sorted(r["members"])} for p in target.read_groups(page_size=3)
              for r in p}
    return accounts, groups
