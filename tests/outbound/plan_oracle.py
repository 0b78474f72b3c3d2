"""What a plan must contain, computed straight from a package's CSV files (independently of homeroom.outbound),
for the flow set of the tests: users, class groups (teachers own, students are members), a unit per school and
per school x role group, a security group per role group and per school x role group."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from homeroom.model.reference import DEFAULT_ROLE_GROUPS

STAFF_ROLES = {r.lower() for g in DEFAULT_ROLE_GROUPS if g.id == "staff" for r in g.roles}


def _read(package: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(package / name, infer_schema=False)


def people(package: Path, orgs: list[str] | None = None) -> pl.DataFrame:
    """(person, roleGroup) of everyone provisioned; and their roles as (person, org, roleGroup of the role)."""
    roles = _read(package, "roles.csv").with_columns(pl.col("role").str.to_lowercase())
    if orgs is not None:
        roles = roles.filter(pl.col("orgSourcedId").is_in(orgs))
    roles = roles.with_columns(
        pl.when(pl.col("role").is_in(list(STAFF_ROLES))).then(pl.lit("staff"))
        .when(pl.col("role") == "student").then(pl.lit("students")).alias("group")).filter(pl.col("group").is_not_null())
    return roles.select(pl.col("userSourcedId").alias("person"), pl.col("orgSourcedId").alias("org"), "group")


def users(package: Path, orgs: list[str] | None = None) -> pl.DataFrame:
    roles = people(package, orgs)
    return roles.group_by("person").agg((pl.col("group") == "staff").any().alias("staff")).select(
        "person", pl.when("staff").then(pl.lit("staff")).otherwise(pl.lit("students")).alias("group"))


def memberships(package: Path, orgs: list[str] | None = None) -> set[tuple[str, str, str]]:
    """Every (group key, person, relation) the directory should hold (for a target with owners and unit members)."""
    roles = people(package, orgs)
    who = users(package, orgs)
    enrollments = _read(package, "enrollments.csv").with_columns(pl.col("role").str.to_lowercase()).join(
        who.select(pl.col("person").alias("userSourcedId")), on="userSourcedId", how="semi")
    classes = _read(package, "classes.csv")
    if orgs is not None:
        enrollments = enrollments.join(classes.filter(pl.col("orgSourcedId").is_in(orgs)).select(
            pl.col("sourcedId").alias("classSourcedId")), on="classSourcedId", how="semi")
    out: set[tuple[str, str, str]] = set()
    for cls, person, role in enrollments.select("classSourcedId", "userSourcedId", "role").iter_rows():
        if role == "teacher":
            out.add((cls, person, "owner"))
        if role == "student":
            out.add((cls, person, "member"))
    for person, org, group in roles.iter_rows():
        out.add((org, person, "member"))
        out.add((f"unit:{org}:rolegroup:{group}", person, "member"))
        out.add((f"org:{org}:rolegroup:{group}", person, "member"))
    for person, group in who.iter_rows():
        out.add((f"rolegroup:{group}", person, "member"))
    return out


def groups(package: Path) -> dict[str, int]:
    """How many of each kind of group the plan creates."""
    roles = people(package)
    pairs = roles.select("org", "group").unique().height
    return {"class": _read(package, "classes.csv").height, "unit": roles["org"].n_unique() + pairs,
            "security": users(package)["group"].n_unique() + pairs}


def plan_memberships(ops: pl.DataFrame, op: str) -> set[tuple[str, str, str]]:
    """The (group key, person, relation) of the plan's ops of one kind (``add`` or ``remove``)."""
    rows = ops.filter(pl.col("op").str.starts_with(op + "_")).select("objectKey", "memberKey", "op").iter_rows()
    return {(g, m, "owner" if o.endswith("owner") else "member") for g, m, o in rows}
