"""A test double of a directory target's writer: an in-memory directory that applies plan operations.

NOT a real target and never in the product path. It follows the writer contract of
``/work/notes/CONTRACT-directory.md``: ``apply(target, ops)`` returns per op ``{seq, status, accountId, error}``;
a create first looks the object up by its anchor (so a rerun after a crash never duplicates); membership ops find
a group or member by id, else by anchor. It records every call, and can be told to raise a
``TransientError(retry_after=...)`` or to fail an op, to exercise the apply loop. ``snapshot()`` gives its state as
the lake's directory tables would hold it (ACCOUNT_SCHEMA / GROUP_SCHEMA rows), for planning again.
"""

from __future__ import annotations

import json

import polars as pl

from homeroom.errors import TransientError
from homeroom.outbound.plan import Actual
from homeroom.targets.base import ACCOUNT_SCHEMA, GROUP_SCHEMA

LINK_SCHEMA = {"target": pl.String, "sourceSystemId": pl.String, "year": pl.String, "personSourcedId": pl.String,
               "roleGroup": pl.String, "outcome": pl.String, "accountId": pl.String, "candidates": pl.List(pl.String),
               "matchedBy": pl.String, "isActive": pl.Boolean}
USER_FIELDS = ("user_name", "user_principal_name", "mail", "given_name", "family_name", "display_name", "enabled",
               "distinguished_name")
EXTRAS = ("grade", "user_number", "age_group")


class DirectoryDouble:
    """An in-memory directory whose ``apply`` is a writer."""

    def __init__(self, kind: str = "entra", *, reports_extras: bool = True):
        self.kind = kind
        self.reports_extras = reports_extras
        self.accounts: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.calls: list[list[int]] = []  # the seqs of each apply call
        self.writes: list[tuple[int, str]] = []  # (seq, op) of every op written
        self.transient: dict[int, float] = {}  # seq -> retry_after: raise once before applying this op
        self.failing: set[int] = set()  # seqs that fail permanently
        self.crash_after: int | None = None  # raise KeyboardInterrupt after writing this many ops (a crash)
        self._next = 0

    def _id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}-{self._next:06d}"

    def _user_by_anchor(self, key: str) -> str | None:
        return next((i for i, a in self.accounts.items() if a["anchor"] == key), None)

    def _group_by_anchor(self, key: str, unit: bool) -> str | None:
        return next((i for i, g in self.groups.items() if g["anchor"] == key and (g["kind"] == "unit") == unit), None)

    def add_account(self, **values) -> str:
        """An account made outside Homeroom (by hand, or matched)."""
        account_id = values.pop("account_id", None) or self._id("acc")
        self.accounts[account_id] = {**{c: None for c in ACCOUNT_SCHEMA.names}, "enabled": True, **values, "account_id": account_id}
        return account_id

    def apply(self, target, ops: list[dict]) -> list[dict]:
        self.calls.append([op["seq"] for op in ops])
        results = []
        for op in ops:
            seq = op["seq"]
            if seq in self.transient:
                raise TransientError(f"throttled at op {seq}", retry_after=self.transient.pop(seq))
            if seq in self.failing:
                results.append({"seq": seq, "status": "failed", "accountId": None, "error": f"refused op {seq}"})
                continue
            try:
                results.append({"seq": seq, "status": "done", "accountId": self._write(op), "error": None})
            except KeyError:  # the group or member is not there (its create failed)
                results.append({"seq": seq, "status": "failed", "accountId": None, "error": f"no object for op {seq}"})
                continue
            self.writes.append((seq, op["op"]))
            if self.crash_after is not None and len(self.writes) >= self.crash_after:
                self.crash_after = None
                raise KeyboardInterrupt("crash")
        return results

    def _write(self, op: dict) -> str | None:
        kind, attrs = op["op"], op["attributes"] or {}
        if isinstance(attrs, str):  # a plan row as stored (tests that hand plan rows straight to the double)
            attrs = json.loads(attrs)
        unit = op["objectKind"] == "unit"
        if kind == "create_user":
            found = self._user_by_anchor(op["objectKey"])
            if found:
                return found
            extra = {k: attrs.get(k) for k in EXTRAS if attrs.get(k) is not None} if self.reports_extras else {}
            return self.add_account(**{c: attrs.get(c) for c in USER_FIELDS}, anchor=op["objectKey"],
                                    extra=json.dumps(extra) if extra else None)
        if kind in ("update_user", "disable_user"):
            account = self.accounts[op["accountId"] or self._user_by_anchor(op["objectKey"])]
            for c in USER_FIELDS:
                if c in attrs:
                    account[c] = attrs[c]
            extra = {**json.loads(account["extra"] or "{}"), **{k: attrs[k] for k in EXTRAS if k in attrs}}
            account["extra"] = json.dumps(extra) if extra else None
            return account["account_id"]
        if kind in ("create_group", "create_unit"):
            found = self._group_by_anchor(op["objectKey"], unit)
            if found:
                return found
            group_id = self._id("grp")
            self.groups[group_id] = {"group_id": group_id, "name": attrs.get("name"), "display_name": attrs.get("display_name"),
                                     "kind": attrs.get("kind"), "distinguished_name": attrs.get("distinguished_name"),
                                     "anchor": op["objectKey"], "members": [], "owners": []}
            return group_id
        group_id = op["accountId"] or self._group_by_anchor(op["objectKey"], unit)
        group = self.groups[group_id] if group_id else self.groups[None]
        if kind in ("update_group", "update_unit"):
            for c in ("name", "display_name"):
                if c in attrs:
                    group[c] = attrs[c]
            return group_id
        member = op["memberId"] or self._user_by_anchor(op["memberKey"])
        if member is None:
            raise KeyError(op["memberKey"])
        relation = "owners" if kind.endswith("owner") else "members"
        if kind.startswith("add_") and member not in group[relation]:
            group[relation].append(member)
        if kind.startswith("remove_") and member in group[relation]:
            group[relation].remove(member)
        return group_id

    def snapshot(self, links: pl.DataFrame | None = None) -> Actual:
        """The directory as a snapshot would read it (and the given match links, else none)."""
        accounts = pl.DataFrame(list(self.accounts.values()) or None, schema=pl.Schema(ACCOUNT_SCHEMA))
        groups = pl.DataFrame([{**g, "members": list(g["members"]), "owners": list(g["owners"])} for g in self.groups.values()] or None,
                              schema=pl.Schema(GROUP_SCHEMA))
        return Actual(accounts, groups, links if links is not None else pl.DataFrame(schema=LINK_SCHEMA))
