"""A small plan in the contract's operation shape (``docs``: CONTRACT plan operations), for the LDAP and AD writers.

Two schools (units), four people (one created disabled), a class group with two students and a teacher as
owner, a role-group security group, a distribution group holding the class group (nested), and one create
that must fail (a sAMAccountName over 20 characters, for AD).
"""

from __future__ import annotations

import json

PASSWORD = "Pupil-Passw0rd!"


def op(seq: int, name: str, kind: str, key: str, attributes: dict | None = None, **more) -> dict:
    return {"target": "district", "seq": seq, "op": name, "objectKind": kind, "groupKind": more.pop("groupKind", None),
            "objectKey": key, "accountId": more.pop("accountId", None), "memberKey": more.pop("memberKey", None),
            "memberId": more.pop("memberId", None), "attributes": json.dumps(attributes) if attributes is not None else None,
            "old": None, "reason": more.pop("reason", "Test")}


def small_plan(base: str, *, upper: bool = True) -> list[dict]:
    ou = "OU" if upper else "ou"
    lincoln = f"{ou}=Lincoln High,{ou}=Schools,{base}"
    roosevelt = f"{ou}=Roosevelt Middle,{ou}=Schools,{base}"
    staff = f"{ou}=Staff,{base}"

    def person(user_name, given, family, where, enabled=True, password=PASSWORD):
        return {"user_name": user_name, "user_principal_name": f"{user_name}@homeroom.test",
                "mail": f"{user_name}@district.test", "given_name": given, "family_name": family,
                "display_name": f"{given} {family}", "enabled": enabled, "distinguished_name": where,
                "password": password}

    return [
        op(1, "create_unit", "unit", "org-lincoln", {"name": "Lincoln High", "display_name": "Lincoln High School",
                                                     "distinguished_name": lincoln}, groupKind="unit"),
        op(2, "create_unit", "unit", "org-roosevelt", {"name": "Roosevelt Middle", "display_name": "Roosevelt Middle School",
                                                       "distinguished_name": roosevelt}, groupKind="unit"),
        op(10, "create_user", "user", "stu-1", person("ava.lee", "Ava", "Lee", lincoln), reason="UserUnmatchedCreate"),
        op(11, "create_user", "user", "stu-2", person("ben.ode", "Ben", "Ode", lincoln), reason="UserUnmatchedCreate"),
        op(12, "create_user", "user", "tch-1", person("t.cho", "Carla", "Cho", staff), reason="UserUnmatchedCreate"),
        op(13, "create_user", "user", "stu-3", person("dee.ray", "Dee", "Ray", roosevelt, enabled=False)),
        op(14, "create_user", "user", "stu-4", person("a.name.far.too.long.for.ad", "Eve", "Long", roosevelt)),
        op(20, "create_group", "group", "class-math", {"name": "algebra-1", "display_name": "Algebra 1",
                                                       "distinguished_name": lincoln}, groupKind="class"),
        op(21, "create_group", "group", "rolegroup:student", {"name": "all-students", "display_name": "All students",
                                                              "distinguished_name": staff}, groupKind="security"),
        op(22, "create_group", "group", "staff-news", {"name": "staff-news", "display_name": "Staff news",
                                                       "distinguished_name": staff}, groupKind="distribution"),
        op(30, "add_member", "group", "class-math", memberKey="stu-1", reason="ClassMemberAdded"),
        op(31, "add_member", "group", "class-math", memberKey="stu-2", reason="ClassMemberAdded"),
        op(32, "add_owner", "group", "class-math", memberKey="tch-1", reason="ClassOwnerAdded"),
        op(33, "add_member", "group", "rolegroup:student", memberKey="stu-1"),
        op(34, "add_member", "group", "rolegroup:student", memberKey="stu-2"),
        op(35, "add_member", "group", "rolegroup:student", memberKey="stu-3"),
        op(36, "add_member", "group", "staff-news", memberKey="class-math"),
        op(37, "add_member", "group", "staff-news", memberKey="tch-1"),
    ]
