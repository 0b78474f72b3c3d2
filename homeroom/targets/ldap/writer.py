"""Applying a plan's operations to a generic LDAP directory (and, through :class:`DirectoryWriter`, to AD).

Every operation first reads what is there and writes only what differs, so applying a plan twice writes
nothing the second time. A create first looks the object up by its anchor attribute (``employeeNumber`` for
accounts, ``businessCategory`` for groups and units; configurable), so a rerun after a crash between a write
and its record finds the object instead of adding a second one. Objects created earlier in the same apply are
remembered by their key, so membership operations may name a group or member created moments before.

The generic LDAP mapping: accounts are ``inetOrgPerson`` (``uid``, ``cn``, ``sn``, ``givenName``, ``mail``,
``displayName``, ``userPassword`` on create), groups ``groupOfNames`` (which must keep one member, so an empty
group holds ``placeholder_member``, by default the service account), units ``organizationalUnit``. LDAP has no
account flag for "disabled": a disabled account is moved into ``disabled_unit`` (and moved back when enabled).

A server that says it is busy or unavailable is retried with backoff; any other refusal fails that operation
(its message says which object and why) and the apply goes on with the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ldap3
import orjson
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from homeroom.errors import ExternalError, PermanentError, TransientError
from homeroom.targets.ldap.reader import dn_key, text, texts

#: Attempts of one write when the server is busy or unavailable, and the first wait between them (doubling).
ATTEMPTS, FIRST_WAIT = 4, 0.5
_ALREADY = {20, 68}  # attributeOrValueExists, entryAlreadyExists


class OperationFailed(Exception):
    """One operation cannot be applied (the message says which object and why); the apply goes on."""


@dataclass
class Entry:
    """An object as the directory has it now: its DN, its id, its raw attributes."""

    dn: str
    id: str
    raw: dict[str, list[bytes]]


def _json(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        return orjson.loads(value) if value else {}
    return dict(value)


def rdn_of(dn: str) -> tuple[str, str]:
    attribute, value, _ = parse_dn(dn, escape=False, strip=True)[0]
    return attribute, value


def parent_of(dn: str) -> str:
    parts = ldap3.utils.dn.to_dn(dn)
    return ",".join(parts[1:])


class DirectoryWriter:
    """The apply loop, lookups, membership and retries shared by the LDAP and AD writers; each says its classes,
    attribute names and how it finds an object by id (:meth:`get`)."""

    #: account shape column -> directory attribute, for users
    USER_ATTRIBUTES: Mapping[str, str] = {}
    USER_CLASS = ""
    USER_RDN = "cn"
    GROUP_CLASS = ""
    UNIT_CLASS = "organizationalUnit"

    def __init__(self, target: Any):
        self.target, self.client, self.config = target, target.client, target.config
        self.writes = 0
        self._known: dict[tuple[str, str], Entry] = {}  # (objectKind, objectKey) -> entry, this apply
        self._absent: set[tuple[str, str]] = set()  # keys looked up (in bulk) and not found
        self._containers: set[str] = set()  # DN keys of containers known to exist

    # ----------------------------------------------------------------------------------------- the loop

    def apply(self, ops: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Apply ``ops`` in ``seq`` order; one result per operation (``seq``, ``status``, ``accountId``,
        ``error``, and ``writes``: how many writes it took, 0 when the directory already agreed)."""
        ops = sorted(ops, key=lambda o: o["seq"])
        self.prefetch(ops)
        results = []
        for op in ops:
            before = self.writes
            try:
                entry = self._apply_one(op)
                results.append({"seq": op["seq"], "status": "done", "accountId": entry.id if entry else op.get("accountId"),
                                "error": None, "writes": self.writes - before})
            except (OperationFailed, ExternalError) as exc:
                results.append({"seq": op["seq"], "status": "failed", "accountId": op.get("accountId"),
                                "error": str(exc), "writes": self.writes - before})
        return results

    def _apply_one(self, op: Mapping[str, Any]) -> Entry | None:
        name = op["op"]
        handler: Callable[[Mapping[str, Any], dict[str, Any]], Entry | None] | None = getattr(self, f"op_{name}", None)
        if handler is None:
            raise OperationFailed(f"operation {name!r} is not one a directory target applies")
        return handler(op, _json(op.get("attributes")))

    # ----------------------------------------------------------------------------------------- reading

    def anchor_attribute(self, object_kind: str) -> str:
        return self.config.anchor_attribute if object_kind == "user" else self.config.group_anchor_attribute

    def object_filter(self, object_kind: str) -> str:
        c = self.config
        return {"user": self.user_filter(), "group": c.group_filter, "unit": c.unit_filter}[object_kind]

    def user_filter(self) -> str:
        return self.config.account_filter

    def id_of(self, raw: Mapping[str, list[bytes]]) -> str:
        return (text(raw, "entryUUID") or "").lower()

    def id_attribute(self) -> str:
        return "entryUUID"

    def _search(self, base: str, search_filter: str, scope: str = ldap3.SUBTREE) -> list[Entry]:
        connection = self.client.connection()
        self.client._call(connection.search, base, search_filter, search_scope=scope,
                          attributes=[ldap3.ALL_ATTRIBUTES, self.id_attribute()], controls=self.read_controls())
        if connection.result["result"] == 32:  # noSuchObject: the base (an id looked up as a DN) is gone
            return []
        if connection.result["result"] != 0:
            raise self.client._result_error(connection.result, f"searching {base!r} for {search_filter}")
        return [Entry(e["dn"], self.id_of(e["raw_attributes"]), e["raw_attributes"])
                for e in connection.response if e["type"] == "searchResEntry"]

    def _search_one(self, base: str, search_filter: str, scope: str = ldap3.SUBTREE) -> Entry | None:
        found = self._search(base, search_filter, scope)
        if len(found) > 1:
            raise OperationFailed(f"{len(found)} objects match {search_filter} under {base!r}: "
                                  f"{', '.join(e.dn for e in found[:3])}; make the anchor unique")
        return found[0] if found else None

    def read_controls(self) -> list | None:
        return None

    def prefetch(self, ops: list[Mapping[str, Any]], chunk: int = 50) -> None:
        """Look up every key the operations name by its anchor, ``chunk`` keys to a search, so that each create
        and membership does not search on its own."""
        keys: dict[str, set[str]] = {"user": set(), "group": set(), "unit": set()}
        for op in ops:
            if op.get("objectKey") and op.get("objectKind") in keys and not op.get("accountId"):
                keys[op["objectKind"]].add(op["objectKey"])
            if op.get("memberKey") and not op.get("memberId"):
                keys["user"].add(op["memberKey"])
                keys["group"].add(op["memberKey"])
        for kind, wanted in keys.items():
            anchor = self.anchor_attribute(kind)
            ordered = sorted(wanted)
            for start in range(0, len(ordered), chunk):
                part = ordered[start:start + chunk]
                either = "".join(f"({anchor}={escape_filter_chars(k)})" for k in part)
                for entry in self._search(self.config.base_dn, f"(&{self.object_filter(kind)}(|{either}))"):
                    for value in texts(entry.raw, anchor):
                        if value in part:
                            self._known.setdefault((kind, value), entry)
                self._absent.update((kind, k) for k in part if (kind, k) not in self._known)

    def find(self, object_kind: str, key: str) -> Entry | None:
        """The object whose anchor attribute is ``key`` (first those created or looked up in this apply)."""
        known = self._known.get((object_kind, key))
        if known is not None or (object_kind, key) in self._absent:
            return known
        search = f"(&{self.object_filter(object_kind)}({self.anchor_attribute(object_kind)}={escape_filter_chars(key)}))"
        found = self._search_one(self.config.base_dn, search)
        if found is not None:
            self._known[(object_kind, key)] = found
        return found

    def get(self, object_kind: str, object_id: str) -> Entry | None:
        """The object with the directory id ``object_id``."""
        return self._search_one(self.config.base_dn, f"(entryUUID={escape_filter_chars(object_id)})")

    def locate(self, op: Mapping[str, Any], object_kind: str | None = None) -> Entry:
        """The object an operation is about: by its id when the plan has it, else by its anchor."""
        kind = object_kind or op["objectKind"]
        entry = self.get(kind, op["accountId"]) if op.get("accountId") else None
        if entry is None and op.get("objectKey"):
            entry = self.find(kind, op["objectKey"])
        if entry is None:
            raise OperationFailed(f"no {kind} with id {op.get('accountId')!r} or {self.anchor_attribute(kind)} "
                                  f"{op.get('objectKey')!r} in {self.config.base_dn!r}")
        return entry

    def locate_member(self, op: Mapping[str, Any]) -> Entry:
        """The member of a membership operation: by id (an account, else a group), else by key (the same)."""
        for kind in ("user", "group"):
            if op.get("memberId") and (entry := self.get(kind, op["memberId"])) is not None:
                return entry
        for kind in ("user", "group"):
            if op.get("memberKey") and (entry := self.find(kind, op["memberKey"])) is not None:
                return entry
        raise OperationFailed(f"no account or group with id {op.get('memberId')!r} or anchor {op.get('memberKey')!r} "
                              f"to be a member of {op.get('objectKey') or op.get('accountId')!r}")

    # ----------------------------------------------------------------------------------------- writing

    def write(self, what: str, method: Callable[..., bool], *args: Any, **kwargs: Any) -> None:
        """One write, retried with backoff while the server is busy or unavailable; counted in ``writes``."""
        connection = self.client.connection()
        wait = FIRST_WAIT
        for attempt in range(1, ATTEMPTS + 1):
            self.writes += 1
            try:
                self.client._call(getattr(connection, method.__name__), *args, **kwargs)
            except TransientError:
                if attempt == ATTEMPTS:
                    raise
                time.sleep(wait)
                wait *= 2
                connection = self.client.connection()
                continue
            result = connection.result
            if result["result"] == 0:
                return
            if result["result"] in (51, 52) and attempt < ATTEMPTS:  # busy, unavailable
                time.sleep(wait)
                wait *= 2
                continue
            raise OperationFailed(f"{self.client.where} refused {what}: {result.get('description')} "
                                  f"({result.get('result')}): {(result.get('message') or '').strip()}".rstrip(": "))

    def add(self, dn: str, object_class: str | list[str], attributes: dict[str, Any]) -> None:
        self.write(f"adding {dn!r}", ldap3.Connection.add, dn, object_class, attributes)

    def modify(self, dn: str, changes: dict[str, list], entry: Entry | None = None) -> None:
        """Modify ``dn``; ``entry``'s cached attributes follow replaced and deleted values."""
        if not changes:
            return
        self.write(f"modifying {dn!r} ({', '.join(changes)})", ldap3.Connection.modify, dn, changes)
        if entry is not None:
            for attribute, [(operation, values)] in ((a, c) for a, c in changes.items() if len(c) == 1):
                if operation in (ldap3.MODIFY_REPLACE, ldap3.MODIFY_DELETE) and not (operation == ldap3.MODIFY_DELETE and values):
                    entry.raw[attribute] = [v if isinstance(v, bytes) else str(v).encode() for v in values]

    def changes(self, entry: Entry | None, desired: Mapping[str, Any]) -> dict[str, list]:
        """The modify changes that make ``entry``'s attributes equal ``desired`` (attribute -> value or None)."""
        changes: dict[str, list] = {}
        for attribute, value in desired.items():
            current = texts(entry.raw, attribute) if entry else []
            wanted = [] if value is None or value == "" else [str(value)] if not isinstance(value, list) else [str(v) for v in value]
            if current != wanted:
                changes[attribute] = [(ldap3.MODIFY_REPLACE, wanted)] if wanted else [(ldap3.MODIFY_DELETE, [])]
        return changes

    def ensure_container(self, dn: str) -> None:
        """Create the OUs above ``dn`` that are missing (within the base DN)."""
        base = dn_key(self.config.base_dn)
        missing = []
        container = parent_of(dn)
        while container and dn_key(container).endswith(base) and len(dn_key(container)) >= len(base):
            if dn_key(container) in self._containers or \
                    self._search_one(container, "(objectClass=*)", scope=ldap3.BASE) is not None:
                break
            missing.append(container)
            container = parent_of(container)
        if container:
            self._containers.add(dn_key(container))
        for ou in reversed(missing):
            attribute, value = rdn_of(ou)
            self.add(ou, self.UNIT_CLASS, {attribute: value})
            self._containers.add(dn_key(ou))

    def move(self, entry: Entry, new_dn: str) -> Entry:
        """Move or rename ``entry`` to ``new_dn`` when it is elsewhere."""
        if dn_key(entry.dn) == dn_key(new_dn):
            return entry
        self.ensure_container(new_dn)
        attribute, value = rdn_of(new_dn)
        self.write(f"moving {entry.dn!r} to {new_dn!r}", ldap3.Connection.modify_dn, entry.dn,
                   f"{attribute}={escape_rdn(value)}", new_superior=parent_of(new_dn))
        entry.dn = new_dn  # in place: the entry may be cached by its key
        return entry

    def created(self, object_kind: str, key: str, dn: str) -> Entry:
        """The entry just added at ``dn`` (read back for its id), remembered for the rest of the apply."""
        entry = self._search_one(dn, "(objectClass=*)", scope=ldap3.BASE)
        if entry is None:
            raise OperationFailed(f"{dn!r} was added but cannot be read back")
        self._known[(object_kind, key)] = entry
        return entry

    def object_dn(self, attributes: Mapping[str, Any], rdn_attribute: str, rdn_value: str, default: str) -> str:
        """Where an object goes: ``distinguished_name`` is its DN, or the container (an OU path) to put it in."""
        where = attributes.get("distinguished_name") or default
        first = rdn_of(where)[0].lower()
        if first in ("ou", "dc", "o", "c", "l"):  # a container: the object's own RDN goes in front
            return f"{rdn_attribute}={escape_rdn(rdn_value)},{where}"
        return where

    # ----------------------------------------------------------------------------------------- units

    def unit_attributes(self, attributes: Mapping[str, Any], key: str | None) -> dict[str, Any]:
        desired = {"description": attributes.get("display_name")} if "display_name" in attributes else {}
        if key:
            desired[self.config.group_anchor_attribute] = key
        return desired

    def op_create_unit(self, op, attributes) -> Entry:
        key = op["objectKey"]
        found = self.find("unit", key)
        if found is not None:
            return self._update(found, self.unit_attributes(attributes, key))
        name = attributes.get("name") or attributes.get("display_name") or key
        dn = attributes.get("distinguished_name") or f"ou={escape_rdn(name)},{self.config.base_dn}"  # the unit's own DN
        self.ensure_container(dn)
        self.add(dn, self.UNIT_CLASS, {"ou": rdn_of(dn)[1], **{k: v for k, v in self.unit_attributes(attributes, key).items() if v}})
        return self.created("unit", key, dn)

    def op_update_unit(self, op, attributes) -> Entry:
        entry = self.locate(op, "unit")
        return self._update(entry, self.unit_attributes(attributes, None))

    def _update(self, entry: Entry, desired: Mapping[str, Any]) -> Entry:
        self.modify(entry.dn, self.changes(entry, desired), entry)
        return entry

    # ----------------------------------------------------------------------------------------- users

    def user_attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        desired = {attr: attributes[column] for column, attr in self.USER_ATTRIBUTES.items() if column in attributes}
        desired.update(_json(attributes.get("extra")))
        return desired

    def op_create_user(self, op, attributes) -> Entry:
        key = op["objectKey"]
        found = self.find("user", key)
        if found is not None:
            return self.update_user(found, attributes)
        return self.create_user(key, attributes)

    def op_update_user(self, op, attributes) -> Entry:
        return self.update_user(self.locate(op, "user"), attributes)

    def op_disable_user(self, op, attributes) -> Entry:
        return self.set_enabled(self.locate(op, "user"), False, attributes)

    def create_user(self, key: str, attributes: Mapping[str, Any]) -> Entry:
        raise NotImplementedError

    def update_user(self, entry: Entry, attributes: Mapping[str, Any]) -> Entry:
        raise NotImplementedError

    def set_enabled(self, entry: Entry, enabled: bool, attributes: Mapping[str, Any]) -> Entry:
        raise NotImplementedError

    # ----------------------------------------------------------------------------------------- groups

    def op_create_group(self, op, attributes) -> Entry:
        key = op["objectKey"]
        found = self.find("group", key)
        if found is not None:
            return self._update(found, self.group_attributes(attributes, op, key, create=False))
        name = attributes.get("name") or key
        dn = self.object_dn(attributes, "cn", name, self.config.base_dn)
        self.ensure_container(dn)
        self.add(dn, self.GROUP_CLASS, {k: v for k, v in self.group_attributes(attributes, op, key, create=True).items()
                                        if v not in (None, "", [])})
        return self.created("group", key, dn)

    def op_update_group(self, op, attributes) -> Entry:
        entry = self.locate(op, "group")
        return self._update(entry, self.group_attributes(attributes, op, None, create=False))

    def group_attributes(self, attributes, op, key, *, create: bool) -> dict[str, Any]:
        raise NotImplementedError

    def member_values(self, group: Entry) -> list[str]:
        return texts(group.raw, "member")

    def op_add_member(self, op, attributes) -> Entry:
        group, member = self.locate(op, "group"), self.locate_member(op)
        self.add_value(group, "member", member.dn)
        return group

    def op_remove_member(self, op, attributes) -> Entry:
        group = self.locate(op, "group")
        try:
            member = self.locate_member(op)
        except OperationFailed:
            return group  # the member is gone from the directory, so it is in no group
        self.remove_value(group, "member", member.dn)
        return group

    def op_add_owner(self, op, attributes) -> Entry:
        group, owner = self.locate(op, "group"), self.locate_member(op)
        self.add_value(group, "owner", owner.dn)
        return group

    def op_remove_owner(self, op, attributes) -> Entry:
        group = self.locate(op, "group")
        try:
            owner = self.locate_member(op)
        except OperationFailed:
            return group
        self.remove_value(group, "owner", owner.dn)
        return group

    def add_value(self, group: Entry, attribute: str, dn: str) -> None:
        """Add the DN ``dn`` to ``group``'s ``attribute`` unless it is there."""
        current = {dn_key(v) for v in texts(group.raw, attribute)}
        if dn_key(dn) in current:
            return
        changes = {attribute: [(ldap3.MODIFY_ADD, [dn])]}
        self.write(f"adding {dn!r} to the {attribute} of {group.dn!r}", ldap3.Connection.modify, group.dn, changes)
        group.raw.setdefault(attribute, []).append(dn.encode())

    def remove_value(self, group: Entry, attribute: str, dn: str) -> None:
        values = texts(group.raw, attribute)
        present = [v for v in values if dn_key(v) == dn_key(dn)]
        if not present:
            return
        self.write(f"removing {dn!r} from the {attribute} of {group.dn!r}", ldap3.Connection.modify, group.dn,
                   {attribute: [(ldap3.MODIFY_DELETE, present)]})
        group.raw[attribute] = [v.encode() for v in values if v not in present]


class LdapWriter(DirectoryWriter):
    """Writes to a generic LDAP directory (inetOrgPerson, groupOfNames, organizationalUnit)."""

    USER_ATTRIBUTES = {"user_name": "uid", "mail": "mail", "given_name": "givenName", "family_name": "sn",
                       "display_name": "displayName"}
    USER_CLASS = "inetOrgPerson"
    GROUP_CLASS = "groupOfNames"

    @property
    def placeholder(self) -> str:
        return self.config.placeholder_member or self.config.bind_dn

    def create_user(self, key, attributes) -> Entry:
        user_name = attributes.get("user_name") or key
        enabled = attributes.get("enabled", True)
        where = attributes.get("distinguished_name") or self.config.base_dn
        if not enabled:
            where = self._disabled_unit("create a disabled account")
        cn = attributes.get("display_name") or user_name
        dn = self.object_dn({"distinguished_name": where}, "cn", cn, self.config.base_dn)
        values = {k: v for k, v in self.user_attributes(attributes).items() if v not in (None, "")}
        values.setdefault("sn", user_name)  # inetOrgPerson needs a surname
        values["cn"] = rdn_of(dn)[1] if rdn_of(dn)[0].lower() == "cn" else cn
        values[self.config.anchor_attribute] = key
        if attributes.get("password"):
            values["userPassword"] = attributes["password"]
        self.ensure_container(dn)
        self.add(dn, self.USER_CLASS, values)
        return self.created("user", key, dn)

    def update_user(self, entry, attributes) -> Entry:
        desired = self.user_attributes(attributes)
        if "family_name" in attributes and not desired.get("sn"):
            desired["sn"] = text(entry.raw, "uid") or text(entry.raw, "cn")  # sn is required
        self.modify(entry.dn, self.changes(entry, desired), entry)
        if "enabled" in attributes:
            entry = self.set_enabled(entry, bool(attributes["enabled"]), attributes)
        if attributes.get("distinguished_name") and self._is_enabled(entry):
            entry = self.move(entry, self.object_dn(attributes, "cn", text(entry.raw, "cn") or "", entry.dn))
        return entry

    def _disabled_unit(self, doing: str) -> str:
        if not self.config.disabled_unit:
            raise OperationFailed(f"{self.client.where} has no `disabled_unit` to {doing} in (LDAP has no "
                                  "disabled flag); set `disabled_unit` to the DN of an OU for disabled accounts")
        return self.config.disabled_unit

    def _is_enabled(self, entry: Entry) -> bool:
        return not (self.config.disabled_unit and dn_key(entry.dn).endswith("," + dn_key(self.config.disabled_unit)))

    def set_enabled(self, entry, enabled, attributes) -> Entry:
        if enabled == self._is_enabled(entry):
            return entry
        rdn = f"{rdn_of(entry.dn)[0]}={escape_rdn(rdn_of(entry.dn)[1])}"
        if enabled:
            home = attributes.get("distinguished_name")
            if not home:
                raise OperationFailed(f"enabling {entry.dn!r} needs its `distinguished_name` (where to move it back "
                                      "from the disabled unit)")
            return self.move(entry, self.object_dn(attributes, rdn_of(entry.dn)[0], rdn_of(entry.dn)[1], entry.dn))
        return self.move(entry, f"{rdn},{self._disabled_unit('disable an account')}")

    def group_attributes(self, attributes, op, key, *, create: bool) -> dict[str, Any]:
        desired: dict[str, Any] = {}
        if "display_name" in attributes:
            desired["description"] = attributes["display_name"]
        if create:
            desired["cn"] = rdn_of(self.object_dn(attributes, "cn", attributes.get("name") or key, self.config.base_dn))[1]
            desired["member"] = [self.placeholder]
        if key:
            desired[self.config.group_anchor_attribute] = key
        return desired

    def add_value(self, group, attribute, dn) -> None:
        super().add_value(group, attribute, dn)
        if attribute == "member":  # the placeholder's work is done once the group has a real member
            if any(dn_key(v) == dn_key(self.placeholder) for v in texts(group.raw, "member")) and \
                    len(texts(group.raw, "member")) > 1:
                self.remove_value(group, "member", self.placeholder)

    def remove_value(self, group, attribute, dn) -> None:
        values = texts(group.raw, attribute)
        if attribute == "member" and [dn_key(v) for v in values] == [dn_key(dn)]:
            super().add_value(group, "member", self.placeholder)  # groupOfNames may not be left empty
        super().remove_value(group, attribute, dn)


def apply(target: Any, ops: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Apply a plan's operations to an LDAP target (see the contract in ``homeroom/targets/base.py``)."""
    return LdapWriter(target).apply(ops)
